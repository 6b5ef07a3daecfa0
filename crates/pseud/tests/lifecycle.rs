//! Starting and stopping: graceful stop, calls across a stop, peers that are gone,
//! servers that are not there (yet), over loopback TCP.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use pseud::{Client, Error, PeerEvent, Registry, Server};
use tokio::sync::{Notify, oneshot};
use tokio::time::timeout;

/// A loopback endpoint nobody listens on (the port was free a moment ago).
fn unused_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("tcp://127.0.0.1:{port}")
}

/// Waits (at most 5 s) for the next event matching `pred`.
async fn next_event(
    events: &mut tokio::sync::broadcast::Receiver<PeerEvent>,
    pred: impl Fn(&PeerEvent) -> bool,
) -> PeerEvent {
    timeout(Duration::from_secs(5), async {
        loop {
            let e = events.recv().await.expect("event channel open");
            if pred(&e) {
                return e;
            }
        }
    })
    .await
    .expect("the event within 5 s")
}

/// A handler that signals `started`, then waits until `release` fires (or forever
/// if it never does) and returns `value`.
fn held_handler(
    server: &Server,
    name: &str,
    started: Arc<Notify>,
    release: Option<oneshot::Receiver<()>>,
    value: &'static str,
) {
    let release = Arc::new(Mutex::new(release));
    server
        .register(name, move || {
            let started = started.clone();
            let release = release.lock().unwrap().take();
            async move {
                started.notify_one();
                match release {
                    Some(rx) => {
                        let _ = rx.await;
                    }
                    None => std::future::pending::<()>().await,
                }
                value
            }
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_stop_waits_for_a_running_handler() {
    let server = common::server(Server::builder("server"));
    let started = Arc::new(Notify::new());
    let s = started.clone();
    server
        .register("slow", move |x: i64| {
            let s = s.clone();
            async move {
                s.notify_one();
                tokio::time::sleep(Duration::from_millis(200)).await;
                x * 2
            }
        })
        .unwrap();
    let client = common::client(&server, Client::builder().timeout(Duration::from_secs(5)));
    let call = tokio::spawn({
        let remote = client.server().clone();
        async move { remote.call::<i64>("slow", (21,)).await }
    });
    timeout(Duration::from_secs(5), started.notified())
        .await
        .expect("the handler starts");
    let t = Instant::now();
    timeout(Duration::from_secs(5), server.stop())
        .await
        .expect("stop finishes once the handler has answered");
    let stop_took = t.elapsed();
    assert!(
        stop_took >= Duration::from_millis(150),
        "stop() returned after {stop_took:?}, before the 200 ms handler finished"
    );
    let r = timeout(Duration::from_secs(2), call)
        .await
        .expect("the reply arrives after the stop")
        .unwrap();
    assert_eq!(
        r.unwrap(),
        42,
        "the client still receives the computed reply"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_arriving_while_stopping_gets_service_unavailable() {
    let server = common::server(Server::builder("server"));
    let started = Arc::new(Notify::new());
    let (release, rx) = oneshot::channel();
    held_handler(&server, "hold", started.clone(), Some(rx), "held");
    server.register("fast", || "served").unwrap();
    let client = common::client(&server, Client::builder().timeout(Duration::from_secs(5)));
    let held = tokio::spawn({
        let remote = client.server().clone();
        async move { remote.call::<String>("hold", ()).await }
    });
    timeout(Duration::from_secs(5), started.notified())
        .await
        .expect("the handler starts");

    // The first poll of stop() queues the stop command; it then waits for "hold".
    let mut stop = std::pin::pin!(server.stop());
    assert!(
        stop.as_mut().now_or_never().is_none(),
        "stop waits for the running handler"
    );

    // New calls are refused fast with ServiceUnavailableError. The socket task reads
    // the socket before its command queue within one loop turn, so a call whose
    // WORK raced the stop command may still be served: retry, bounded.
    let deadline = Instant::now() + Duration::from_secs(2);
    let refused = loop {
        let t = Instant::now();
        match client.call::<String>("fast", ()).await {
            Ok(s) => {
                assert_eq!(s, "served");
                assert!(
                    Instant::now() < deadline,
                    "calls are still served 2 s into the stop"
                );
            }
            Err(e) => {
                assert!(
                    t.elapsed() < Duration::from_secs(1),
                    "refused fast, not by timeout: {e:?}"
                );
                break e;
            }
        }
    };
    let remote = refused
        .remote()
        .unwrap_or_else(|| panic!("an ERROR reply, got {refused:?}"));
    assert_eq!(remote.class, "ServiceUnavailableError", "{remote}");
    assert_eq!(remote.message, "the server is stopping");

    release.send(()).unwrap();
    timeout(Duration::from_secs(5), stop)
        .await
        .expect("stop finishes once the handler answered");
    let r = timeout(Duration::from_secs(2), held)
        .await
        .expect("held reply")
        .unwrap();
    assert_eq!(r.unwrap(), "held");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stop_is_idempotent() {
    let (server, client) = common::pair().await;
    for _ in 0..2 {
        timeout(Duration::from_secs(3), server.stop())
            .await
            .expect("server stop returns");
        timeout(Duration::from_secs(3), client.stop())
            .await
            .expect("client stop returns");
    }
    // Stopped for real: the port is closed, so a raw DEALER gets no answer
    // (a bounded wait, since "no answer" has no event).
    let d = common::dealer(&server);
    d.send_multipart(
        [
            &b""[..],
            b"v1",
            b"id",
            &[0x03],
            &[0x93, 0xa6, b'_', b'_', b'p', b'i', b'n', b'g', 0x90, 0x80],
        ],
        0,
    )
    .unwrap();
    assert!(common::recv_within(&d, Duration::from_millis(300)).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_on_a_stopped_endpoint_fail_at_once_with_closed() {
    // Once stop() has returned, the endpoint's own handles must fail with Closed at
    // once, not wait for a reply that can never come. (The call is made right after
    // stop() returns; a few rounds, since a wrong answer here depends on timing.)
    let short = Duration::from_millis(300);
    let mut wrong = Vec::new();
    for round in 0..5 {
        let (server, client) = common::pair().await;
        client.stop().await;
        let t = Instant::now();
        let r = client.request("__ping").timeout(short).send::<bool>().await;
        if !matches!(r, Err(Error::Closed)) || t.elapsed() >= short {
            wrong.push(format!(
                "round {round}: client call after stop: {r:?} after {:?}",
                t.elapsed()
            ));
        }
        server.stop().await;
        let t = Instant::now();
        let r = server
            .send_to(b"")
            .request("x")
            .timeout(short)
            .send::<bool>()
            .await;
        if !matches!(r, Err(Error::Closed)) || t.elapsed() >= short {
            wrong.push(format!(
                "round {round}: server call after stop: {r:?} after {:?}",
                t.elapsed()
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_concurrent_stop_waits_for_the_first() {
    let server = common::server(Server::builder("server"));
    let started = Arc::new(Notify::new());
    let (release, rx) = oneshot::channel();
    held_handler(&server, "hold", started.clone(), Some(rx), "held");
    let client = common::client(&server, Client::builder().timeout(Duration::from_secs(5)));
    let held = tokio::spawn({
        let remote = client.server().clone();
        async move { remote.call::<String>("hold", ()).await }
    });
    timeout(Duration::from_secs(5), started.notified())
        .await
        .expect("the handler starts");
    let mut first = std::pin::pin!(server.stop());
    assert!(first.as_mut().now_or_never().is_none());
    // "Stops gracefully: running handlers finish and their replies are sent" must
    // hold when any stop() returns, not only the first caller's.
    let second = timeout(Duration::from_millis(300), server.stop()).await;
    let handler_still_running = !held.is_finished();
    release.send(()).unwrap();
    timeout(Duration::from_secs(5), first)
        .await
        .expect("first stop returns");
    assert!(handler_still_running);
    assert!(
        second.is_err(),
        "a second stop() returned while a handler was still running"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_the_server_fails_an_in_flight_call_with_disconnected() {
    let server = common::server(Server::builder("server").stop_grace(Duration::from_millis(100)));
    let started = Arc::new(Notify::new());
    held_handler(&server, "never", started.clone(), None, "unreachable");
    server.register("__ping", || true).unwrap();
    let client = common::client(&server, Client::builder().timeout(Duration::from_secs(5)));
    let t = Instant::now();
    let call = tokio::spawn({
        let remote = client.server().clone();
        async move { remote.call::<String>("never", ()).await }
    });
    timeout(Duration::from_secs(5), started.notified())
        .await
        .expect("the handler starts");
    timeout(Duration::from_secs(2), server.stop())
        .await
        .expect("stop gives up on the handler after its 100 ms grace");
    let err = timeout(Duration::from_secs(5), call)
        .await
        .expect("the call ends within its timeout")
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, Error::Disconnected { .. }), "{err:?}");
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "Disconnected came after {:?}, not well before the 5 s timeout",
        t.elapsed()
    );
    // The client saw the connection go: later calls wait for the server to come
    // back (as a client started before its server does) and time out.
    let t = Instant::now();
    let err = client
        .request("__ping")
        .timeout(Duration::from_millis(300))
        .send::<bool>()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout { timeout, .. } if timeout == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_right_after_the_server_stopped_fail_within_their_timeout() {
    let (server, client) = common::pair().await;
    server.stop().await;
    // Depending on whether the client has seen the disconnect yet, the call is lost
    // with the connection (Disconnected) or waits for a server (Timeout); either way
    // it ends within its timeout.
    let t = Instant::now();
    let err = client
        .request("__ping")
        .timeout(Duration::from_millis(300))
        .send::<bool>()
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout { .. } | Error::Disconnected { .. }),
        "{err:?}"
    );
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_to_an_unknown_user_is_unreachable_at_once() {
    let (server, _client) = common::pair().await;
    let t = Instant::now();
    let err = server
        .send_to(b"nobody")
        .call::<bool>("ping", ())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Unreachable { peer } if peer.contains("nobody")),
        "{err:?}"
    );
    assert!(
        t.elapsed() < Duration::from_millis(500),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_during_a_callback_fails_the_servers_call_quickly() {
    let server = common::server(Server::builder("server"));
    let mut events = server.events();
    let client = common::client(
        &server,
        Client::builder().stop_grace(Duration::from_millis(100)),
    );
    let started = Arc::new(Notify::new());
    let s = started.clone();
    client
        .register("never", move || {
            let s = s.clone();
            async move {
                s.notify_one();
                std::future::pending::<i64>().await
            }
        })
        .unwrap();
    let connected = next_event(&mut events, |e| matches!(e, PeerEvent::Connected { .. })).await;
    let PeerEvent::Connected {
        user_id,
        routing_id,
    } = connected
    else {
        unreachable!()
    };
    assert!(user_id.is_empty(), "noop peers have an empty user id");

    let t = Instant::now();
    let callback = tokio::spawn({
        let remote = server.send_to(b"");
        async move { remote.call::<i64>("never", ()).await }
    });
    timeout(Duration::from_secs(5), started.notified())
        .await
        .expect("the client's handler starts");
    timeout(Duration::from_secs(2), client.stop())
        .await
        .expect("client stop gives up on its handler after 100 ms");
    let gone = next_event(&mut events, |e| matches!(e, PeerEvent::Disconnected { .. })).await;
    assert_eq!(
        gone,
        PeerEvent::Disconnected {
            user_id: vec![],
            routing_id
        }
    );
    let err = timeout(Duration::from_secs(5), callback)
        .await
        .expect("the server's call ends")
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, Error::Disconnected { .. }), "{err:?}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    // The peer is forgotten: a new call to it fails at once.
    let t = Instant::now();
    let err = server
        .send_to(b"")
        .call::<i64>("never", ())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    assert!(t.elapsed() < Duration::from_millis(500));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_started_before_its_server_waits_for_it() {
    common::trace();
    let endpoint = unused_endpoint();
    let client = Client::builder()
        .timeout(Duration::from_secs(5))
        .connect(&endpoint)
        .unwrap();
    let t = Instant::now();
    let mut call = std::pin::pin!(client.call::<i64>("add", (2, 5)));
    // The first poll hands the call to the socket task; no server exists yet.
    assert!(call.as_mut().now_or_never().is_none());
    // Registered before the server starts, so the parked call finds "add".
    let registry = Registry::new();
    registry.register("add", |a: i64, b: i64| a + b).unwrap();
    let server = Server::builder("server")
        .registry(registry)
        .bind(&endpoint)
        .start()
        .unwrap();
    let r = timeout(Duration::from_secs(6), call)
        .await
        .expect("the call ends within its timeout");
    assert_eq!(r.unwrap(), 7);
    assert!(t.elapsed() < Duration::from_secs(5));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_appears_times_out() {
    common::trace();
    let client = Client::builder()
        .timeout(Duration::from_millis(300))
        .connect(&unused_endpoint())
        .unwrap();
    let t = Instant::now();
    let err = client.call::<i64>("add", (2, 5)).await.unwrap_err();
    let took = t.elapsed();
    assert!(
        matches!(&err, Error::Timeout { name, timeout } if name == "add" && *timeout == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "{took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_a_client_fails_its_own_waiting_calls_with_closed() {
    let server = common::server(Server::builder("server"));
    let started = Arc::new(Notify::new());
    held_handler(&server, "never", started.clone(), None, "unreachable");
    let client = common::client(&server, Client::builder().timeout(Duration::from_secs(5)));
    let t = Instant::now();
    let call = tokio::spawn({
        let remote = client.server().clone();
        async move { remote.call::<String>("never", ()).await }
    });
    timeout(Duration::from_secs(5), started.notified())
        .await
        .expect("the handler starts");
    timeout(Duration::from_secs(2), client.stop())
        .await
        .expect("a client with no running handler stops at once");
    let err = timeout(Duration::from_secs(5), call)
        .await
        .expect("the call ends")
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, Error::Closed), "{err:?}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_server_stops_it() {
    let server = common::server(Server::builder("server").stop_grace(Duration::from_millis(100)));
    let started = Arc::new(Notify::new());
    held_handler(&server, "never", started.clone(), None, "unreachable");
    let client = common::client(&server, Client::builder().timeout(Duration::from_secs(5)));
    let t = Instant::now();
    let call = tokio::spawn({
        let remote = client.server().clone();
        async move { remote.call::<String>("never", ()).await }
    });
    timeout(Duration::from_secs(5), started.notified())
        .await
        .expect("the handler starts");
    drop(server);
    // Drop stops the socket task like stop() (after the 100 ms grace): the
    // connection goes and the client's call fails with Disconnected.
    let err = timeout(Duration::from_secs(5), call)
        .await
        .expect("the call ends within its timeout")
        .unwrap()
        .unwrap_err();
    assert!(matches!(err, Error::Disconnected { .. }), "{err:?}");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

/// A reply that reached the client before the connection dropped belongs to its
/// call: the client must deliver it, not fail the call with Disconnected.
///
/// The current-thread runtime makes the order deterministic: while the test holds
/// the only runtime thread, the client's libzmq I/O thread receives the reply and
/// then the connection's end, so both are pending when the client's socket task
/// runs next. (The short blocking sleep creates that state; there is no event of
/// the client's libzmq socket a test could await instead.)
#[tokio::test(flavor = "current_thread")]
async fn a_reply_received_before_the_disconnect_is_delivered() {
    let (fake, endpoint) = common::fake_server("server");
    let client = Client::builder()
        .timeout(Duration::from_secs(3))
        .connect(&endpoint)
        .unwrap();
    let call = tokio::spawn({
        let remote = client.server().clone();
        async move { remote.call::<i64>("add", (2, 5)).await }
    });
    // The runtime runs the client while another thread waits for its WORK.
    let (fake, rid, id) = tokio::task::spawn_blocking(move || {
        loop {
            let frames = fake.recv_multipart(0).expect("a WORK within 5 s");
            // (Skips the client's greeting, a HEARTBEAT.)
            if frames.len() == 6 && frames[4] == [0x03] {
                return (fake, frames[0].clone(), frames[3].clone());
            }
        }
    })
    .await
    .unwrap();
    // Reply, then go away (linger lets libzmq flush the reply before closing).
    fake.send_multipart([&rid[..], b"", b"v1", &id, &[0x01], &[0x07]], 0)
        .unwrap();
    fake.set_linger(1000).unwrap();
    drop(fake);
    std::thread::sleep(Duration::from_millis(200));
    let r = timeout(Duration::from_secs(5), call)
        .await
        .expect("the call ends within its timeout")
        .unwrap();
    assert_eq!(
        r.unwrap(),
        7,
        "the reply that arrived first is the call's result"
    );
}

/// The same on the server side: a server → client call whose reply arrived before
/// the client left must get that reply, not Disconnected. (Deterministic order as
/// in `a_reply_received_before_the_disconnect_is_delivered`.)
#[tokio::test(flavor = "current_thread")]
async fn a_callback_reply_received_before_the_client_left_is_delivered() {
    let server = common::server(Server::builder("server"));
    let mut events = server.events();
    let d = common::dealer(&server);
    // Any message registers the DEALER as the peer of user id "" (noop security).
    d.send_multipart([&b""[..], b"v1", b"", &[0x06], b""], 0)
        .unwrap();
    next_event(&mut events, |e| matches!(e, PeerEvent::Connected { .. })).await;
    let call = tokio::spawn({
        let remote = server.send_to(b"");
        async move { remote.call::<i64>("ping", ()).await }
    });
    // The runtime runs the server while another thread waits for its WORK.
    let (d, work) = tokio::task::spawn_blocking(move || {
        let work = d.recv_multipart(0).expect("the server's WORK within 5 s");
        (d, work)
    })
    .await
    .unwrap();
    assert_eq!(work[3], [0x03], "{work:02x?}");
    // Reply, then leave (linger lets libzmq flush the reply before closing), while
    // this test holds the only runtime thread.
    d.send_multipart([&b""[..], b"v1", &work[2], &[0x01], &[0x07]], 0)
        .unwrap();
    d.set_linger(1000).unwrap();
    drop(d);
    std::thread::sleep(Duration::from_millis(200));
    let r = timeout(Duration::from_secs(5), call)
        .await
        .expect("the call ends within its timeout")
        .unwrap();
    assert_eq!(
        r.unwrap(),
        7,
        "the reply that arrived first is the call's result"
    );
}
