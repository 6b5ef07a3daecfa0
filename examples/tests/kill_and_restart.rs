//! kill -9 of either side mid-call, and a server restarted on the same endpoint:
//! calls fail fast with a clear error (never a wait for the timeout), the other
//! side keeps serving, and a client carries on once its server is back. The real
//! `pseud-demo` binary is started the way the README shows.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use support::{Process, Stdin};

fn serve_at(endpoint: &str) -> (Process, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pseud-demo"));
    cmd.args(["serve", "--endpoint", endpoint]);
    let mut p = Process::start(cmd, Stdin::Null);
    let bound = p.ready_endpoint();
    (p, bound)
}

fn kill_9(p: &mut Process) {
    let status = p
        .signal_and_wait(Signal::SIGKILL, Duration::from_secs(5))
        .expect("killed");
    assert!(!status.0.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_call_fails_the_call_fast_and_a_restart_is_picked_up() {
    let (mut server, endpoint) = serve_at("tcp://127.0.0.1:0");
    let client = pseud::Client::builder()
        .timeout(Duration::from_secs(20))
        .connect(&endpoint)
        .unwrap();
    let sum: i64 = client.call("add", (2, 5)).await.unwrap();
    assert_eq!(sum, 7);
    let remote = client.server().clone();
    let mut in_flight = Box::pin(async move { remote.call::<f64>("sleep", (10.0,)).await });
    // One poll queues the call. Calls leave a connection in the order they are
    // queued, so once a later call is answered the server has read this one:
    // kill -9 lands mid-call, not before the call was sent (which would fail it
    // as ConnectionRefused while the client redials).
    tokio::select! {
        biased;
        early = &mut in_flight => panic!("sleep(10) answered at once: {early:?}"),
        () = std::future::ready(()) => {}
    }
    let sum: i64 = client.call("add", (3, 4)).await.unwrap();
    assert_eq!(sum, 7);
    assert_eq!(client.server().calls_in_flight(), 1, "sleep is in flight");
    // The call fails now, not after its 20 s timeout.
    let sent = Instant::now();
    kill_9(&mut server);
    let result = in_flight.await;
    assert!(
        matches!(result, Err(pseud::Error::Disconnected { .. })),
        "{result:?}"
    );
    assert!(
        sent.elapsed() < Duration::from_secs(5),
        "{:?}",
        sent.elapsed()
    );
    // Restarted on the same endpoint: the client reconnects by itself.
    let (_server, again) = serve_at(&endpoint);
    assert_eq!(again, endpoint);
    let sum: i64 = client
        .call("add", (1, 1))
        .await
        .expect("served after the restart");
    assert_eq!(sum, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_killed_mid_call_leaves_the_server_serving_others() {
    let (_server, endpoint) = serve_at("tcp://127.0.0.1:0");
    for _ in 0..3 {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pseud-demo"));
        cmd.args(["call", "--endpoint", &endpoint, "sleep", "[30]"]);
        let mut caller = Process::start(cmd, Stdin::Null);
        // Once another client is served, the caller has had time to connect; its
        // call may or may not have arrived: the server must cope either way.
        let other = pseud::Client::builder()
            .timeout(Duration::from_secs(5))
            .connect(&endpoint)
            .unwrap();
        let sum: i64 = other.call("add", (2, 3)).await.unwrap();
        assert_eq!(sum, 5);
        kill_9(&mut caller);
        let started = Instant::now();
        let sum: i64 = other.call("add", (3, 4)).await.unwrap();
        assert_eq!(sum, 7);
        assert!(started.elapsed() < Duration::from_secs(1));
        other.stop().await;
    }
}
