//! Hostile and unlucky peers (issue 14): a peer that never reads, messages that
//! decode to far more than their size, peers claiming another's routing id,
//! quotas, cancellation, and churn next to idle peers. Real sockets on 127.0.0.1;
//! the hostile peers are raw libzmq DEALERs.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use pseud::{
    Client, ClientSecurity, Context, Error, Limits, PeerEvent, RESOURCE_EXHAUSTED, SecondLogin,
    Server, ServerSecurity,
};
use serde_bytes::ByteBuf;

const WORK: u8 = 0x03;
const OK: u8 = 0x01;
const ERROR: u8 = 0x10;

/// A raw DEALER set up by `setup` (security, identity), then connected to `server`.
fn dealer_with(server: &Server, setup: impl FnOnce(&zmq::Socket)) -> zmq::Socket {
    let ctx = zmq::Context::new();
    let d = ctx.socket(zmq::DEALER).unwrap();
    d.set_rcvtimeo(5000).unwrap();
    d.set_linger(0).unwrap();
    setup(&d);
    d.connect(&server.endpoints()[0]).unwrap();
    // The context lives as long as the test process.
    std::mem::forget(ctx);
    d
}

/// msgpack WORK body `[name, args, {}]` with `args` already encoded as an array.
fn work_body(name: &str, args: &[u8]) -> Vec<u8> {
    let mut body = vec![0x93];
    body.extend(common::pack(&name));
    body.extend_from_slice(args);
    body.push(0x80);
    body
}

fn blob_server(limits: Limits) -> Server {
    let server = common::server(Server::builder("server").limits(limits));
    // 64 KiB per reply: a client that does not read fills its queue fast.
    server
        .register("blob", || ByteBuf::from(vec![7u8; 64 * 1024]))
        .unwrap();
    server.register("add", |a: i64, b: i64| a + b).unwrap();
    server
}

/// Waits for the next `Disconnected` event (bounded).
async fn next_disconnect(
    events: &mut tokio::sync::broadcast::Receiver<PeerEvent>,
    within: Duration,
) -> Vec<u8> {
    tokio::time::timeout(within, async {
        loop {
            if let Ok(PeerEvent::Disconnected { routing_id, .. }) = events.recv().await {
                return routing_id;
            }
        }
    })
    .await
    .expect("a peer was disconnected in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_never_reads_delays_nobody_and_is_dropped() {
    let mut limits = Limits::default();
    limits.max_queued_bytes = 256 * 1024;
    limits.write_timeout = Duration::from_secs(2);
    let server = blob_server(limits);
    let mut events = server.events();
    // The hostile peer: asks for 64 KiB replies as fast as it can and reads none
    // (a one-message receive queue and a small kernel buffer).
    let hog = common::dealer(&server);
    hog.set_rcvhwm(1).unwrap();
    hog.set_rcvbuf(4096).unwrap();
    hog.set_sndtimeo(100).unwrap();
    let body = work_body("blob", &[0x90]);
    let mut sent = 0;
    for i in 0u32..2000 {
        let id = [&i.to_be_bytes()[..], &[0; 12]].concat();
        if hog
            .send_multipart([&b""[..], b"v1", &id, &[WORK], &body], 0)
            .is_err()
        {
            break; // the server stopped reading from it: back-pressure
        }
        sent += 1;
    }
    assert!(sent > 20, "the hog got {sent} calls out");
    // Meanwhile a well-behaved client is served at once, every time.
    let client = common::client(&server, Client::builder().timeout(Duration::from_secs(2)));
    for _ in 0..20 {
        let started = Instant::now();
        let sum: i64 = client
            .call("add", (2, 3))
            .await
            .expect("served despite the hog");
        assert_eq!(sum, 5);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
    }
    // The hog is dropped once it has read nothing for the write timeout.
    next_disconnect(&mut events, Duration::from_secs(10)).await;
    let sum: i64 = client.call("add", (1, 1)).await.unwrap();
    assert_eq!(sum, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_decodes_to_far_more_than_its_size_is_refused_without_stalling_others() {
    let server = blob_server(Limits::default());
    let client = common::client(&server, Client::builder().timeout(Duration::from_secs(5)));
    let _: i64 = client.call("add", (0, 0)).await.unwrap();
    // [name, [4 M nils], {}]: 4 MiB on the wire, ~190 MiB as values.
    let n: u32 = 4 * 1024 * 1024;
    let mut args = vec![0x91, 0xdd];
    args.extend(n.to_be_bytes());
    args.extend(std::iter::repeat_n(0xc0, n as usize));
    let body = work_body("add", &args);
    let d = common::dealer(&server);
    let id = [1u8; 16];
    let started = Instant::now();
    d.send_multipart([&b""[..], b"v1", &id, &[WORK], &body], 0)
        .unwrap();
    // Others are served while it is judged.
    for _ in 0..10 {
        let sum: i64 = client.call("add", (2, 2)).await.unwrap();
        assert_eq!(sum, 4);
    }
    let reply = d.recv_multipart(0).expect("an answer within 5 s");
    assert_eq!(reply[3], vec![ERROR], "an ERROR reply");
    let text = String::from_utf8_lossy(&reply[4]).into_owned();
    assert!(
        text.contains("ProtocolError") && text.contains("budget"),
        "{text}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // A big message of big values is fine: 4 MiB of bytes in one argument.
    let big = ByteBuf::from(vec![1u8; 4 * 1024 * 1024]);
    server.register("len", |b: ByteBuf| b.len()).unwrap();
    let len: usize = client.call("len", (big,)).await.unwrap();
    assert_eq!(len, 4 * 1024 * 1024);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_claiming_another_peers_routing_id_gets_nothing_of_its() {
    let server = common::server(Server::builder("server").security(ServerSecurity::TrustedPeer));
    server
        .register("slow_whoami", async |ctx: Context| {
            tokio::time::sleep(Duration::from_millis(300)).await;
            ByteBuf::from(ctx.user_id().to_vec())
        })
        .unwrap();
    let login = |user: &str| {
        dealer_with(&server, |d| {
            d.set_plain_username(Some(user)).unwrap();
            d.set_plain_password(Some("pw")).unwrap();
            // Both claim the same routing id (what libzmq hands out first, less
            // the zero byte peers may not choose).
            d.set_identity(b"\x6b\x8b\x45\x67").unwrap();
        })
    };
    let alice = login("alice");
    let call = work_body("slow_whoami", &[0x90]);
    alice
        .send_multipart([&b""[..], b"v1", &[1; 16], &[WORK], &call], 0)
        .unwrap();
    let bob = login("bob");
    bob.send_multipart([&b""[..], b"v1", &[2; 16], &[WORK], &call], 0)
        .unwrap();
    let to_alice = alice.recv_multipart(0).expect("alice's reply");
    assert_eq!(to_alice[2], vec![1; 16], "alice gets her own reply");
    assert_eq!(to_alice[3], vec![OK]);
    assert_eq!(to_alice[4], common::pack(&ByteBuf::from(b"alice".to_vec())));
    let to_bob = bob.recv_multipart(0).expect("bob's reply");
    assert_eq!(to_bob[2], vec![2; 16], "bob gets only his own");
    assert!(common::recv_within(&bob, Duration::from_millis(300)).is_none());
    assert!(common::recv_within(&alice, Duration::from_millis(100)).is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_texts_never_name_a_peers_routing_id() {
    let server = common::server(Server::builder("server"));
    let (tx, rx) = tokio::sync::oneshot::channel();
    let tx = std::sync::Mutex::new(Some(tx));
    server
        .register("remember_me", move |ctx: Context| {
            if let Some(tx) = tx.lock().unwrap().take() {
                let _ = tx.send((ctx.caller(), ctx.routing_id().to_vec()));
            }
        })
        .unwrap();
    let client = common::client(&server, Client::builder());
    let mut events = server.events();
    client.call::<()>("remember_me", ()).await.unwrap();
    let (caller, routing_id) = rx.await.unwrap();
    client.stop().await;
    next_disconnect(&mut events, Duration::from_secs(5)).await;
    let err = caller.call::<()>("anything", ()).await.unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err:?}");
    let text = err.to_string();
    let hex: String = routing_id.iter().map(|b| format!("{b:02x}")).collect();
    assert!(!text.contains(&hex) && !text.contains(&hex[2..]), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_login_may_replace_the_first() {
    let server = common::server(
        Server::builder("server")
            .security(ServerSecurity::TrustedPeer)
            .second_login(SecondLogin::ReplaceFirst),
    );
    server.register("ping", || true).unwrap();
    let mut events = server.events();
    // The first login: a raw DEALER that does not reconnect once closed.
    let first = dealer_with(&server, |d| {
        d.set_reconnect_ivl(-1).unwrap();
        d.set_plain_username(Some("alice")).unwrap();
        d.set_plain_password(Some("x")).unwrap();
    });
    let ping = work_body("ping", &[0x90]);
    let reply = common::exchange(&first, &[b"", b"v1", &[1; 16], &[WORK], &ping]);
    assert_eq!(reply[3], vec![OK]);
    let second = common::client(
        &server,
        Client::builder().security(ClientSecurity::plain("alice", "x")),
    );
    second.register("where", || "second").unwrap();
    assert!(second.call::<bool>("ping", ()).await.unwrap());
    // The first connection was closed when the second logged in.
    next_disconnect(&mut events, Duration::from_secs(5)).await;
    let at: String = server.send_to("alice").call("where", ()).await.unwrap();
    assert_eq!(at, "second");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_in_flight_per_peer_are_capped() {
    let mut limits = Limits::default();
    limits.max_calls_in_flight = 4;
    let server = common::server(Server::builder("server").limits(limits));
    let release = Arc::new(tokio::sync::Notify::new());
    let r = release.clone();
    server
        .register("wait", move || {
            let r = r.clone();
            async move { r.notified().await }
        })
        .unwrap();
    let d = common::dealer(&server);
    let body = work_body("wait", &[0x90]);
    for i in 0u8..10 {
        d.send_multipart([&b""[..], b"v1", &[i; 16], &[WORK], &body], 0)
            .unwrap();
    }
    // Calls 4..9 are refused at once, while 0..3 wait.
    for i in 4u8..10 {
        let reply = d.recv_multipart(0).expect("a refusal");
        assert_eq!(
            (reply[2].clone(), reply[3].clone()),
            (vec![i; 16], vec![ERROR])
        );
        let text = String::from_utf8_lossy(&reply[4]).into_owned();
        assert!(text.contains(RESOURCE_EXHAUSTED), "{text}");
    }
    release.notify_waiters();
    let mut done: Vec<u8> = (0..4)
        .map(|_| {
            let reply = d.recv_multipart(0).expect("an admitted call's reply");
            assert_eq!(reply[3], vec![OK], "{}", String::from_utf8_lossy(&reply[4]));
            reply[2][0]
        })
        .collect();
    done.sort();
    assert_eq!(done, [0, 1, 2, 3]);
}

/// Counts live handler futures; the count drops when one is dropped.
struct Alive(tokio::sync::watch::Sender<usize>);

impl Drop for Alive {
    fn drop(&mut self) {
        self.0.send_modify(|n| *n -= 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_of_a_caller_that_left_is_cancelled() {
    let server = common::server(Server::builder("server"));
    let (alive, mut count) = tokio::sync::watch::channel(0usize);
    let started = Arc::new(tokio::sync::Semaphore::new(0));
    let s = started.clone();
    server
        .register("forever", move || {
            alive.send_modify(|n| *n += 1);
            let guard = Alive(alive.clone());
            s.add_permits(1);
            async move {
                let _guard = guard;
                std::future::pending::<()>().await
            }
        })
        .unwrap();
    // Fifty callers, a hundred calls each that never finish; then all vanish at once.
    let mut callers = Vec::new();
    for _ in 0..50 {
        let client = common::client(&server, Client::builder());
        let calls: Vec<_> = (0..100)
            .map(|_| {
                let remote = client.server().clone();
                tokio::spawn(async move { remote.call::<()>("forever", ()).await })
            })
            .collect();
        callers.push((client, calls));
    }
    started.acquire_many(5000).await.unwrap().forget();
    assert_eq!(*count.borrow(), 5000, "every call runs");
    let leaving: Vec<_> = callers
        .into_iter()
        .map(|(client, calls)| {
            tokio::spawn(async move {
                client.stop().await;
                for call in calls {
                    let result = call.await.unwrap();
                    assert!(result.is_err(), "{result:?}");
                }
            })
        })
        .collect();
    for caller in leaving {
        caller.await.unwrap();
    }
    tokio::time::timeout(Duration::from_secs(10), count.wait_for(|n| *n == 0))
        .await
        .expect("every abandoned handler was dropped")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn churn_sends_nothing_to_idle_peers_and_stays_fast() {
    let server = common::server(Server::builder("server"));
    server.register("add", |a: i64, b: i64| a + b).unwrap();
    let idle: Vec<zmq::Socket> = (0..100).map(|_| common::dealer(&server)).collect();
    let started = Instant::now();
    for _ in 0..300 {
        let client = common::client(&server, Client::builder());
        let sum: i64 = client.call("add", (1, 2)).await.unwrap();
        assert_eq!(sum, 3);
        client.stop().await;
    }
    let per_cycle = started.elapsed() / 300;
    for d in &idle {
        assert!(
            common::recv_within(d, Duration::from_millis(1)).is_none(),
            "an idle peer got a message"
        );
    }
    assert!(
        per_cycle < Duration::from_millis(50),
        "{per_cycle:?} per connect, call and close"
    );
}
