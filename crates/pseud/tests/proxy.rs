//! `ServerBuilder::proxy_to`: names a server does not serve go to another server.

use std::time::Duration;

use pseud::{Client, ClientSecurity, Context, Error, Fault, Function, Server, ServerSecurity};

fn upstream() -> Server {
    let server = Server::builder("upstream")
        .bind("tcp://127.0.0.1:0")
        .security(ServerSecurity::TrustedPeer)
        .start()
        .unwrap();
    server.register("add", |a: i64, b: i64| a + b).unwrap();
    server
        .register(
            "kw",
            Function::new(|a: i64, b: i64| vec![a, b])
                .params(["a", "b"])
                .default("b", 2),
        )
        .unwrap();
    server
        .register("fail", || -> Result<i64, Fault> {
            Err(Fault::new("ValueError", "boom"))
        })
        .unwrap();
    server
        .register("whoami", |ctx: Context| {
            String::from_utf8_lossy(ctx.user_id()).into_owned()
        })
        .unwrap();
    // Served in both places: the front's own wins.
    server.register("where", || "upstream").unwrap();
    server
}

/// A front server proxying to `upstream`, logged in there as "front".
fn front(upstream_endpoint: &str) -> Server {
    let to_upstream = Client::builder()
        .server_name("upstream")
        .security(ClientSecurity::plain("front", "x"))
        .timeout(Duration::from_millis(500))
        .connect(upstream_endpoint)
        .unwrap();
    let server = Server::builder("server")
        .bind("tcp://127.0.0.1:0")
        .security(ServerSecurity::TrustedPeer)
        .proxy_to(to_upstream)
        .start()
        .unwrap();
    server.register("where", || "front").unwrap();
    server
}

fn caller(front: &Server) -> Client {
    Client::builder()
        .security(ClientSecurity::plain("alice", "x"))
        .connect(&front.endpoints()[0])
        .unwrap()
}

#[tokio::test]
async fn unknown_names_are_served_by_the_upstream_server() {
    let up = upstream();
    let front = front(&up.endpoints()[0]);
    let alice = caller(&front);
    assert_eq!(alice.call::<String>("where", ()).await.unwrap(), "front");
    assert_eq!(alice.call::<i64>("add", (2, 5)).await.unwrap(), 7);
    let pair: Vec<i64> = alice
        .request("kw")
        .arg(1)
        .kwarg("b", 3)
        .send()
        .await
        .unwrap();
    assert_eq!(pair, [1, 3]);
    let pair: Vec<i64> = alice.request("kw").arg(1).send().await.unwrap();
    assert_eq!(pair, [1, 2]);
    // The upstream server knows the call as the front's.
    assert_eq!(alice.call::<String>("whoami", ()).await.unwrap(), "front");
}

#[tokio::test]
async fn the_upstream_servers_errors_reach_the_caller_as_it_gave_them() {
    let up = upstream();
    let front = front(&up.endpoints()[0]);
    let alice = caller(&front);
    match alice.call::<i64>("fail", ()).await {
        Err(Error::Remote(e)) => assert_eq!(
            (e.class.as_str(), e.message.as_str()),
            ("ValueError", "boom")
        ),
        other => panic!("{other:?}"),
    }
    match alice.call::<i64>("nowhere", ()).await {
        Err(Error::Remote(e)) => {
            assert!(e.is_service_not_found(), "{e:?}");
            assert_eq!(e.message, "nowhere");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_upstream_server_that_is_gone_is_a_clear_error() {
    let up = upstream();
    let endpoint = up.endpoints()[0].clone();
    up.stop().await;
    drop(up);
    let front = front(&endpoint);
    let alice = caller(&front);
    match alice.call::<i64>("add", (1, 2)).await {
        Err(Error::Remote(e)) => {
            assert_eq!(e.class, pseud::SERVICE_UNAVAILABLE, "{e:?}");
            assert!(e.message.contains("proxies to"), "{e:?}");
        }
        other => panic!("{other:?}"),
    }
    // What the front serves itself still works.
    assert_eq!(alice.call::<String>("where", ()).await.unwrap(), "front");
}
