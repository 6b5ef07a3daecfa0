//! `cara broker`: starts, brokers a call to a replica with the caller's user id,
//! refuses bad arguments, and stops on SIGTERM with stdin closed.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `cara broker` with these arguments, started as a user would (stdin closed,
/// the replica secret in the environment); the process and its ready line.
fn start_broker(args: &[&str]) -> (Child, String) {
    let mut broker = Command::new(env!("CARGO_BIN_EXE_cara"))
        .arg("broker")
        .args(args)
        .env("CARA_REPLICA_SECRET", "cli secret")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(broker.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (broker, line.trim().to_string())
}

/// A tcp endpoint on 127.0.0.1 that nothing listens on (bound, then closed).
fn free_endpoint() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("tcp://{}", l.local_addr().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_broker_pairs_a_client_with_a_replica_and_stops_on_sigterm() {
    let replica = cara::Server::builder("server")
        .bind("tcp://127.0.0.1:0")
        .security(cara::ServerSecurity::plain(|_, p| p == b"cli secret"))
        .start()
        .unwrap();
    replica
        .register("whoami", |ctx: cara::Context| {
            String::from_utf8_lossy(ctx.user_id()).into_owned()
        })
        .unwrap();
    let endpoint = free_endpoint();
    let (mut broker, line) = start_broker(&[
        "--bind",
        &endpoint,
        "--security",
        "trusted-peer",
        "--replica",
        &replica.endpoints()[0],
    ]);
    assert_eq!(
        line,
        format!(
            "broker server listening on {endpoint}; replicas {}",
            replica.endpoints()[0]
        )
    );
    let client = cara::Client::builder()
        .security(cara::ClientSecurity::plain("alice", "x"))
        .connect(&endpoint)
        .unwrap();
    assert_eq!(client.call::<String>("whoami", ()).await.unwrap(), "alice");
    client.stop().await;
    let term = Command::new("kill")
        .args(["-TERM", &broker.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let sent = Instant::now();
    loop {
        if let Some(status) = broker.try_wait().unwrap() {
            assert!(status.success(), "{status}");
            break;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(2),
            "the broker did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn bad_broker_arguments_are_usage_errors() {
    let one = [
        "--bind",
        "tcp://127.0.0.1:0",
        "--replica",
        "tcp://127.0.0.1:1",
    ];
    let cases: [(&[&str], &str); 4] = [
        (&one[..2], "--replica"),
        (&[&one[..], &["--security", "curve"]].concat(), "--key"),
        (
            &[&one[..], &["--down-for=-1"]].concat(),
            "--down-for must be a number of seconds",
        ),
        (
            &[&one[..], &["--wait-for-replica", "nan"]].concat(),
            "--wait-for-replica must be a number of seconds",
        ),
    ];
    for (args, says) in cases {
        let out = Command::new(env!("CARGO_BIN_EXE_cara"))
            .arg("broker")
            .args(args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
}

/// `--wait-for-replica 0`: with no replica up, a call is answered
/// ServiceUnavailableError at once instead of after the default 1 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_replica_sets_how_long_calls_wait_with_no_replica_up() {
    let dead = free_endpoint();
    let (mut broker, line) = start_broker(&[
        "--bind",
        "tcp://127.0.0.1:0",
        "--replica",
        &dead,
        "--wait-for-replica",
        "0",
        "--down-for",
        "5",
    ]);
    let endpoint = line
        .split_whitespace()
        .nth(4)
        .and_then(|e| e.strip_suffix(';'))
        .unwrap_or_else(|| panic!("no endpoint in {line:?}"))
        .to_string();
    let client = cara::Client::builder().connect(&endpoint).unwrap();
    let started = Instant::now();
    let err = client
        .request("whoami")
        .timeout(Duration::from_secs(5))
        .send::<String>()
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    let _ = broker.kill();
    let _ = broker.wait();
    match err {
        cara::pseud::Error::Remote(e) => {
            assert_eq!(e.class, cara::pseud::SERVICE_UNAVAILABLE, "{e:?}")
        }
        other => panic!("{other:?}"),
    }
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");
}
