//! Connection problems fail calls promptly with their own error, not with the
//! call's timeout: nothing listening, an unresolvable host, a server of another
//! name. (Refused credentials and mismatched security: tests/security.rs.)

mod common;

use std::time::{Duration, Instant};

use pseud::{Client, Error, Server};

/// Far above what a prompt failure takes, so a timeout shows as one.
const TIMEOUT: Duration = Duration::from_secs(5);
/// What the issue asks: "well under a second".
const PROMPT: Duration = Duration::from_millis(900);

fn free_endpoint() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    format!("tcp://127.0.0.1:{port}")
}

async fn timed_call(client: &Client) -> (Result<i64, Error>, Duration) {
    let start = Instant::now();
    let r = client.call::<i64>("add", (2, 5)).await;
    (r, start.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_is_connection_refused_at_once() {
    let endpoint = free_endpoint();
    let client = Client::builder()
        .timeout(TIMEOUT)
        .connect(&endpoint)
        .unwrap();
    let (r, took) = timed_call(&client).await;
    assert!(
        matches!(&r, Err(Error::ConnectionRefused { endpoint: e }) if *e == endpoint),
        "{r:?}"
    );
    assert!(took < PROMPT, "took {took:?}");
    let text = r.unwrap_err().to_string();
    assert!(text.contains("is the server running"), "{text}");
    // Later calls do not wait again.
    let (r, took) = timed_call(&client).await;
    assert!(matches!(r, Err(Error::ConnectionRefused { .. })), "{r:?}");
    assert!(took < Duration::from_millis(100), "took {took:?}");
    client.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unresolvable_host_fails_promptly_too() {
    let client = Client::builder()
        .timeout(TIMEOUT)
        .connect("tcp://no-such-host.invalid:5555")
        .unwrap();
    let (r, took) = timed_call(&client).await;
    assert!(matches!(r, Err(Error::ConnectionRefused { .. })), "{r:?}");
    assert!(took < PROMPT, "took {took:?}");
    client.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_of_another_name_is_no_such_server() {
    let server = common::server(Server::builder("calculator"));
    server.register("add", |a: i64, b: i64| a + b).unwrap();
    let client = Client::builder()
        .timeout(TIMEOUT)
        .connect(&server.endpoints()[0])
        .unwrap();
    let (r, took) = timed_call(&client).await;
    match &r {
        Err(Error::NoSuchServer { name, endpoint }) => {
            assert_eq!(name, "server");
            assert_eq!(endpoint, &server.endpoints()[0]);
        }
        other => panic!("{other:?}"),
    }
    assert!(took < PROMPT, "took {took:?}");
    let text = r.unwrap_err().to_string();
    assert!(text.contains("server_name"), "{text}");
    // The right name works on the same server.
    let right = Client::builder()
        .server_name("calculator")
        .connect(&server.endpoints()[0])
        .unwrap();
    assert_eq!(right.call::<i64>("add", (2, 5)).await.unwrap(), 7);
    client.stop().await;
    right.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_started_within_the_connect_grace_is_reached() {
    // A client started together with its server (a script, the README's `&`).
    let endpoint = free_endpoint();
    let client = Client::builder()
        .timeout(TIMEOUT)
        .connect_grace(Duration::from_secs(3))
        .connect(&endpoint)
        .unwrap();
    let call = tokio::spawn({
        let remote = client.server().clone();
        async move { remote.call::<i64>("add", (2, 5)).await }
    });
    // Let the client fail to connect at least once before the server binds.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let server = Server::builder("server").bind(&endpoint).start().unwrap();
    server.register("add", |a: i64, b: i64| a + b).unwrap();
    assert_eq!(call.await.unwrap().unwrap(), 7);
    client.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_comes_back_is_reached_again() {
    let endpoint = free_endpoint();
    let client = Client::builder()
        .timeout(TIMEOUT)
        .connect(&endpoint)
        .unwrap();
    let (r, _) = timed_call(&client).await;
    assert!(matches!(r, Err(Error::ConnectionRefused { .. })), "{r:?}");
    let server = Server::builder("server").bind(&endpoint).start().unwrap();
    server.register("add", |a: i64, b: i64| a + b).unwrap();
    // libzmq reconnects within its retry interval (100 ms, growing); until then
    // each call fails at once. Bounded: 5 s of attempts.
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match client.call::<i64>("add", (2, 5)).await {
            Ok(v) => {
                assert_eq!(v, 7);
                break;
            }
            Err(Error::ConnectionRefused { .. }) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
    client.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_names_work_for_bind_and_connect() {
    let server = Server::builder("server")
        .bind("tcp://localhost:0")
        .start()
        .unwrap();
    server.register("add", |a: i64, b: i64| a + b).unwrap();
    let port = server.endpoints()[0]
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    let client = Client::builder()
        .connect(&format!("tcp://localhost:{port}"))
        .unwrap();
    assert_eq!(client.call::<i64>("add", (2, 5)).await.unwrap(), 7);
    client.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoint_mistakes_are_clear_errors() {
    let err = Client::builder().connect("localhost:5555").unwrap_err();
    assert!(matches!(err, Error::BadEndpoint { .. }), "{err:?}");
    assert!(
        err.to_string().contains("expected tcp://host:port"),
        "{err}"
    );
    let err = Server::builder("server")
        .bind("tcp://no-such-host.invalid:5601")
        .start()
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("neither an address, a network interface nor a host name"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_security_mismatch_says_so_once() {
    let server =
        common::server(Server::builder("server").security(pseud::ServerSecurity::TrustedPeer));
    let client = Client::builder()
        .timeout(TIMEOUT)
        .connect(&server.endpoints()[0])
        .unwrap();
    for attempt in 0..2 {
        let (r, took) = timed_call(&client).await;
        let err = r.unwrap_err();
        assert!(matches!(err, Error::Handshake(_)), "{err:?}");
        let text = err.to_string();
        assert_eq!(
            text.matches("handshake failed").count(),
            1,
            "attempt {attempt}: {text}"
        );
        assert!(text.contains("security mode"), "{text}");
        assert!(took < PROMPT, "took {took:?}");
    }
    client.stop().await;
    server.stop().await;
}
