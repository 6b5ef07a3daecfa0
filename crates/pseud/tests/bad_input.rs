//! No input stops the receiver: hand-made frames from a raw DEALER (it sees
//! `["", "v1", id, type, body]`, without the routing id), a raw ROUTER client, and a
//! fake server feeding garbage to a real client, all over loopback TCP.
//!
//! Frame counts in names and messages are as the server's ROUTER socket sees them:
//! the DEALER's frames plus the routing id libzmq prepends.

mod common;

use std::time::{Duration, Instant};

use pseud::{Client, Error, Server, Value};

const OK: u8 = 0x01;
const HELLO: u8 = 0x02;
const WORK: u8 = 0x03;
const AUTHENTICATED: u8 = 0x04;
const HEARTBEAT: u8 = 0x06;
const ERROR: u8 = 0x10;
const UNAUTHORIZED: u8 = 0x11;

/// How long we wait to be sure that no reply comes. Replies to bad input are sent
/// inline by the socket task, so they take well under a millisecond on loopback.
const QUIET: Duration = Duration::from_millis(150);

/// `["add", [2, 5], {}]`, the WORK body of the Python vectors.
const ADD_2_5: &[u8] = &[0x93, 0xa3, b'a', b'd', b'd', 0x92, 0x02, 0x05, 0x80];

fn id(n: u8) -> Vec<u8> {
    let mut id = vec![0u8; 16];
    id[6] = 0x40;
    id[8] = 0x80;
    id[15] = n;
    id
}

fn server() -> Server {
    let s = common::server(Server::builder("server").without_global_registry());
    s.register("add", |a: i64, b: i64| a + b).unwrap();
    s
}

/// Checks a DEALER-side ERROR reply `["", "v1", id, 0x10, body]` and returns its
/// `[class, message, traceback]`.
fn error_reply(reply: &[Vec<u8>], id: &[u8]) -> (String, String, String) {
    assert_eq!(reply.len(), 5, "reply frames: {reply:?}");
    assert_eq!(reply[0], b"", "delimiter");
    assert_eq!(reply[1], b"v1", "version");
    assert_eq!(reply[2], id, "the reply echoes the id byte for byte");
    assert_eq!(reply[3], [ERROR], "type byte");
    decode_error_body(&reply[4])
}

fn decode_error_body(body: &[u8]) -> (String, String, String) {
    let value = pseud::value::read_value(body).expect("ERROR body is msgpack");
    let Value::Array(items) = value else {
        panic!("ERROR body is not an array: {value}");
    };
    assert_eq!(items.len(), 3, "ERROR body is [class, message, traceback]");
    let s = |v: &Value| v.as_str().expect("ERROR items are str").to_string();
    (s(&items[0]), s(&items[1]), s(&items[2]))
}

/// Sends `frames`, expects an ERROR echoing `id`, checks its class and that the
/// message contains `needle`.
fn expect_error(d: &zmq::Socket, frames: &[&[u8]], id: &[u8], class: &str, needle: &str) {
    let reply = common::exchange(d, frames);
    let (got_class, message, _) = error_reply(&reply, id);
    assert_eq!(got_class, class, "for {frames:02x?}: {message}");
    assert!(
        message.contains(needle),
        "for {frames:02x?}: {message:?} lacks {needle:?}"
    );
}

/// Sends `frames` and checks that nothing comes back within [`QUIET`].
fn expect_silence(d: &zmq::Socket, frames: &[&[u8]]) {
    d.send_multipart(frames.iter().copied(), 0).unwrap();
    if let Some(reply) = common::recv_within(d, QUIET) {
        panic!("no reply expected for {frames:02x?}, got {reply:02x?}");
    }
}

/// A normal call on the same connection still works, and its reply is the very
/// next message (so nothing answered the bad input late either).
fn expect_alive(d: &zmq::Socket) {
    let call_id = id(0xee);
    let reply = common::exchange(d, &[b"", b"v1", &call_id, &[WORK], ADD_2_5]);
    assert_eq!(
        reply,
        vec![b"".to_vec(), b"v1".to_vec(), call_id, vec![OK], vec![0x07]],
        "a normal call after bad input"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_frame_counts() {
    let server = server();
    let d = common::dealer(&server);
    let i = id(1);
    // 2 frames, non-empty second: not a probe, not answerable.
    expect_silence(&d, &[b"x"]);
    // 2 frames, empty second: the libzmq probe shape; recorded, never answered.
    expect_silence(&d, &[b""]);
    // 3 and 4 frames carry no type byte: nothing to answer.
    expect_silence(&d, &[b"", b"v1"]);
    expect_silence(&d, &[b"", b"v1", &i]);
    // 5 frames: answerable only when frame 4 is the WORK byte.
    expect_error(
        &d,
        &[b"", b"v1", &i, &[WORK]],
        &i,
        "ProtocolError",
        "expected 6 frames, got 5",
    );
    expect_silence(&d, &[b"", b"v1", &i, &[OK]]);
    // 7 and 8 frames: same rule.
    expect_error(
        &d,
        &[b"", b"v1", &i, &[WORK], ADD_2_5, b"extra"],
        &i,
        "ProtocolError",
        "expected 6 frames, got 7",
    );
    expect_error(
        &d,
        &[b"", b"v1", &i, &[WORK], ADD_2_5, b"", b""],
        &i,
        "ProtocolError",
        "expected 6 frames, got 8",
    );
    expect_silence(&d, &[b"", b"v1", &i, &[OK], &[0x07], b"extra"]);
    // A missing delimiter shifts every frame: 5 frames, no WORK byte at frame 4.
    expect_silence(&d, &[b"v1", &i, &[WORK], ADD_2_5]);
    expect_alive(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_empty_delimiter() {
    let server = server();
    let d = common::dealer(&server);
    let i = id(2);
    expect_error(
        &d,
        &[b"x", b"v1", &i, &[WORK], ADD_2_5],
        &i,
        "ProtocolError",
        "delimiter",
    );
    expect_silence(&d, &[b"x", b"v1", &i, &[OK], &[0x07]]);
    expect_alive(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_protocol_versions() {
    let server = server();
    let d = common::dealer(&server);
    let i = id(3);
    expect_error(
        &d,
        &[b"", b"v2", &i, &[WORK], ADD_2_5],
        &i,
        "ProtocolError",
        "\"v2\"",
    );
    expect_error(
        &d,
        &[b"", b"", &i, &[WORK], ADD_2_5],
        &i,
        "ProtocolError",
        "version",
    );
    // A reply is never answered, whatever its version.
    expect_silence(&d, &[b"", b"v2", &i, &[OK], &[0x07]]);
    expect_silence(&d, &[b"", b"v2", &i, &[ERROR], &[0x90]]);
    expect_alive(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_type_frames_are_dropped() {
    let server = server();
    let d = common::dealer(&server);
    let i = id(4);
    for kind in [
        &[0x07][..],
        &[0x05],
        &[0xff],
        &[WORK, 0x00],
        &[0x00, WORK],
        &[],
    ] {
        expect_silence(&d, &[b"", b"v1", &i, kind, ADD_2_5]);
    }
    expect_alive(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_work_bodies_are_answered() {
    let server = server();
    let d = common::dealer(&server);
    let mut nested_args = vec![0x93, 0xa3, b'a', b'd', b'd', 0x91];
    nested_args.extend(std::iter::repeat_n(0x91, 1000));
    nested_args.extend([0xc0, 0x80]);
    let cases: &[(&str, Vec<u8>, &str, &str)] = &[
        // 0xc1 alone: see `reserved_byte_0xc1_is_not_msgpack` for its message.
        ("0xc1", vec![0xc1], "ProtocolError", ""),
        (
            "str8 without its length",
            vec![0xd9],
            "ProtocolError",
            "undecodable msgpack",
        ),
        ("empty body", vec![], "ProtocolError", "undecodable msgpack"),
        (
            "truncated",
            ADD_2_5[..5].to_vec(),
            "ProtocolError",
            "undecodable msgpack",
        ),
        (
            "not an array",
            common::pack(&"add"),
            "ProtocolError",
            "must be an array",
        ),
        ("a map", vec![0x80], "ProtocolError", "must be an array"),
        (
            "array of 2",
            vec![0x92, 0xa3, b'a', b'd', b'd', 0x90],
            "ProtocolError",
            "got 2",
        ),
        (
            "array of 4",
            vec![0x94, 0xa3, b'a', b'd', b'd', 0x90, 0x80, 0xc0],
            "ProtocolError",
            "got 4",
        ),
        (
            "name not a string",
            vec![0x93, 0x01, 0x90, 0x80],
            "ProtocolError",
            "name must be a string",
        ),
        (
            "name not UTF-8",
            vec![0x93, 0xa2, 0xff, 0xfe, 0x90, 0x80],
            "ProtocolError",
            "UTF-8",
        ),
        (
            "args not an array",
            vec![0x93, 0xa3, b'a', b'd', b'd', 0x01, 0x80],
            "ProtocolError",
            "args must be an array, got int",
        ),
        (
            "kwargs not a map",
            vec![0x93, 0xa3, b'a', b'd', b'd', 0x90, 0x90],
            "ProtocolError",
            "kwargs must be a map, got array",
        ),
        (
            "kwargs with int key",
            vec![0x93, 0xa3, b'a', b'd', b'd', 0x90, 0x81, 0x01, 0x02],
            "TypeError",
            "keywords must be strings",
        ),
        (
            "kwargs with bin key",
            vec![
                0x93, 0xa3, b'a', b'd', b'd', 0x90, 0x81, 0xc4, 0x01, b'a', 0x02,
            ],
            "TypeError",
            "keywords must be strings",
        ),
        (
            "trailing bytes",
            [ADD_2_5, &[0x00, 0x01]].concat(),
            "ProtocolError",
            "2 trailing bytes",
        ),
        (
            "unknown name",
            vec![0x93, 0xa4, b'n', b'o', b'p', b'e', 0x90, 0x80],
            "ServiceNotFoundError",
            "nope",
        ),
        (
            "1000 nested arrays in args",
            nested_args,
            "ProtocolError",
            "undecodable msgpack",
        ),
    ];
    for (n, (what, body, class, needle)) in cases.iter().enumerate() {
        let i = id(n as u8);
        let reply = common::exchange(&d, &[b"", b"v1", &i, &[WORK], body]);
        let (got, message, _) = error_reply(&reply, &i);
        assert_eq!(&got, class, "{what}: {message}");
        assert!(
            message.contains(needle),
            "{what}: {message:?} lacks {needle:?}"
        );
    }
    // The unknown name is the whole message, as Python pseud sends it.
    let i = id(0x40);
    let reply = common::exchange(
        &d,
        &[b"", b"v1", &i, &[WORK], &[0x93, 0xa1, b'x', 0x90, 0x80]],
    );
    assert_eq!(error_reply(&reply, &i).1, "x");
    // nil args and kwargs are accepted (Python pseud sends None for "no kwargs").
    let i = id(0x41);
    let reply = common::exchange(
        &d,
        &[
            b"",
            b"v1",
            &i,
            &[WORK],
            &[0x93, 0xa3, b'a', b'd', b'd', 0x92, 0x02, 0x05, 0xc0],
        ],
    );
    assert_eq!(reply[3], [OK]);
    assert_eq!(reply[4], [0x07]);
    expect_alive(&d);
}

/// 0xc1 is the one byte msgpack never uses ("never used" in the spec; Python's
/// msgpack refuses it). A body containing it is not msgpack and must not be served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_byte_0xc1_is_not_msgpack() {
    let server = server();
    let d = common::dealer(&server);
    let i = id(0x42);
    // ["add", [2, 5], <0xc1>] where the kwargs map should be.
    let body = [&ADD_2_5[..8], &[0xc1]].concat();
    let reply = common::exchange(&d, &[b"", b"v1", &i, &[WORK], &body]);
    assert_eq!(
        reply[3],
        [ERROR],
        "a body with 0xc1 was served: {reply:02x?}"
    );
    let (class, message, _) = error_reply(&reply, &i);
    assert_eq!(class, "ProtocolError", "{message}");
    assert!(message.contains("undecodable msgpack"), "{message}");
    expect_alive(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_bodies_do_not_crash() {
    let server = server();
    let d = common::dealer(&server);
    let deep_arrays = [vec![0x91; 100_000], vec![0xc0]].concat();
    // {0: {0: {0: ... nil}}}
    let deep_maps = [[0x81, 0x00].repeat(100_000), vec![0xc0]].concat();
    let mut deep_in_args = vec![0x93, 0xa3, b'a', b'd', b'd', 0x92, 0x01];
    deep_in_args.extend(&deep_arrays);
    deep_in_args.push(0x80);
    let mut deep_in_kwargs = vec![0x93, 0xa3, b'a', b'd', b'd', 0x90, 0x81, 0xa1, b'a'];
    deep_in_kwargs.extend(&deep_maps);
    for (n, body) in [deep_arrays, deep_maps, deep_in_args, deep_in_kwargs]
        .iter()
        .enumerate()
    {
        let i = id(n as u8);
        let started = Instant::now();
        let reply = common::exchange(&d, &[b"", b"v1", &i, &[WORK], body]);
        let (class, message, _) = error_reply(&reply, &i);
        assert_eq!(class, "ProtocolError", "case {n}: {message}");
        assert!(
            message.contains("undecodable msgpack"),
            "case {n}: {message}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "case {n} was slow"
        );
    }
    expect_alive(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_ids_are_echoed_unchanged() {
    let server = server();
    let d = common::dealer(&server);
    let long: Vec<u8> = (0..=255).collect();
    for odd in [&b""[..], b"\x00", b"abc", &[0xff; 17], &long] {
        // An OK reply ...
        let reply = common::exchange(&d, &[b"", b"v1", odd, &[WORK], ADD_2_5]);
        assert_eq!(
            reply,
            vec![
                b"".to_vec(),
                b"v1".to_vec(),
                odd.to_vec(),
                vec![OK],
                vec![0x07]
            ],
            "id {odd:02x?}"
        );
        // ... and ERROR replies, from the function lookup and from the frame rules.
        expect_error(
            &d,
            &[b"", b"v1", odd, &[WORK], &[0x93, 0xa1, b'x', 0x90, 0x80]],
            odd,
            "ServiceNotFoundError",
            "x",
        );
        expect_error(
            &d,
            &[b"", b"v2", odd, &[WORK], ADD_2_5],
            odd,
            "ProtocolError",
            "v2",
        );
    }
    expect_alive(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stray_replies_are_dropped() {
    let server = server();
    let d = common::dealer(&server);
    let unknown = id(0x77);
    expect_silence(&d, &[b"", b"v1", &unknown, &[OK], &[0x07]]);
    expect_silence(
        &d,
        &[
            b"",
            b"v1",
            &unknown,
            &[ERROR],
            &common::pack(&("ValueError", "x", "")),
        ],
    );
    expect_silence(&d, &[b"", b"v1", &unknown, &[ERROR], &[0xc1]]);
    expect_silence(&d, &[b"", b"v1", b"", &[OK], b""]);
    expect_silence(&d, &[b"", b"v1", b"short", &[ERROR], &[0x90]]);
    expect_silence(&d, &[b"", b"v1", &unknown, &[UNAUTHORIZED], b"no"]);
    expect_silence(&d, &[b"", b"v1", &unknown, &[AUTHENTICATED], b"yes"]);
    expect_alive(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_not_answered() {
    let server = server();
    let d = common::dealer(&server);
    expect_silence(&d, &[b"", b"v1", b"", &[HEARTBEAT], b""]);
    expect_silence(&d, &[b"", b"v1", &id(5), &[HEARTBEAT], b"anything"]);
    expect_alive(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_gets_unauthorized_with_a_raw_body() {
    let server = server();
    let d = common::dealer(&server);
    let i = id(6);
    let reply = common::exchange(
        &d,
        &[
            b"",
            b"v1",
            &i,
            &[HELLO],
            &common::pack(&("alice", "secret")),
        ],
    );
    assert_eq!(reply.len(), 5, "{reply:02x?}");
    assert_eq!(reply[..3], [b"".to_vec(), b"v1".to_vec(), i.clone()]);
    assert_eq!(reply[3], [UNAUTHORIZED]);
    // Raw bytes, not msgpack (pseud sends UNAUTHORIZED bodies as they are).
    assert_eq!(reply[4], b"Authentication not supported");
    expect_alive(&d);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_work_gets_message_too_large() {
    let s = common::server(Server::builder("server").max_message_size(1024));
    s.register("len", |s: String| s.len()).unwrap();
    let d = common::dealer(&s);
    let i = id(7);
    let body = common::pack(&(
        "len",
        ("x".repeat(2000),),
        std::collections::HashMap::<String, i64>::new(),
    ));
    assert!(body.len() > 2000 && body.len() < 2048);
    let reply = common::exchange(&d, &[b"", b"v1", &i, &[WORK], &body]);
    let (class, message, _) = error_reply(&reply, &i);
    assert_eq!(class, "MessageTooLarge");
    assert!(message.contains("limit of 1024 bytes"), "{message}");
    // Under the hard limit, the connection stays: the same DEALER calls again.
    let small = common::pack(&(
        "len",
        ("x".repeat(100),),
        std::collections::HashMap::<String, i64>::new(),
    ));
    let reply = common::exchange(&d, &[b"", b"v1", &i, &[WORK], &small]);
    assert_eq!(reply[3], [OK]);
    assert_eq!(reply[4], common::pack(&100));
    // The hard limit (twice ours) applies per frame: a message over twice the
    // limit in total, made of frames under it, reaches pseud and is answered.
    let big_id = vec![0xab; 1500];
    let reply = common::exchange(&d, &[b"", b"v1", &big_id, &[WORK], &body[..1500]]);
    let (class, _, _) = error_reply(&reply, &big_id);
    assert_eq!(class, "MessageTooLarge");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_over_twice_the_limit_drops_only_that_connection() {
    let s = common::server(Server::builder("server").max_message_size(1024));
    s.register("add", |a: i64, b: i64| a + b).unwrap();
    let other = common::client(&s, Client::builder().timeout(Duration::from_secs(5)));
    let r: i64 = other.call("add", (1, 2)).await.unwrap();
    assert_eq!(r, 3);

    let (d, events) = common::monitored_dealer(&s);
    assert!(
        common::wait_event(
            &events,
            zmq::SocketEvent::HANDSHAKE_SUCCEEDED,
            Duration::from_secs(5)
        ),
        "the DEALER connects"
    );
    let i = id(8);
    let huge = vec![0x00; 5000];
    d.send_multipart([&b""[..], b"v1", &i, &[WORK], &huge], 0)
        .unwrap();
    // libzmq (ZMQ_MAXMSGSIZE = 2 × 1024) closes the connection instead of delivering.
    assert!(
        common::wait_event(
            &events,
            zmq::SocketEvent::DISCONNECTED,
            Duration::from_secs(5)
        ),
        "the server drops the connection of the oversized message"
    );
    assert!(
        common::recv_within(&d, QUIET).is_none(),
        "no reply to the oversized message"
    );
    // Other clients are served as before, and so are new connections.
    let r: i64 = other.call("add", (2, 3)).await.unwrap();
    assert_eq!(r, 5);
    let fresh = common::dealer(&s);
    expect_alive(&fresh);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raw_router_client_gets_the_same_answers() {
    let server = server();
    let r = common::router_client(&server);
    let i = id(9);
    // Bad version: the ERROR comes back from the peer named "server".
    common::router_send(&r, &[b"server", b"", b"v2", &i, &[WORK], ADD_2_5]);
    let reply = r.recv_multipart(0).expect("an ERROR within 5 s");
    assert_eq!(reply[0], b"server");
    let (class, message, _) = error_reply(&reply[1..], &i);
    assert_eq!(class, "ProtocolError", "{message}");
    // Undecodable body, then a stray OK and a HEARTBEAT that are not answered.
    common::router_send(&r, &[b"server", b"", b"v1", &i, &[WORK], &[0xc1]]);
    let reply = r.recv_multipart(0).expect("an ERROR within 5 s");
    assert_eq!(error_reply(&reply[1..], &i).0, "ProtocolError");
    common::router_send(&r, &[b"server", b"", b"v1", &id(10), &[OK], &[0x07]]);
    common::router_send(&r, &[b"server", b"", b"v1", b"", &[HEARTBEAT], b""]);
    assert!(
        common::recv_within(&r, QUIET).is_none(),
        "stray OK and HEARTBEAT are not answered"
    );
    // And a normal call works.
    common::router_send(&r, &[b"server", b"", b"v1", &i, &[WORK], ADD_2_5]);
    let reply = r.recv_multipart(0).expect("an OK within 5 s");
    assert_eq!(
        reply,
        vec![
            b"server".to_vec(),
            b"".to_vec(),
            b"v1".to_vec(),
            i,
            vec![OK],
            vec![0x07]
        ]
    );
}

// ---- a real client against a fake server that sends garbage ----------------------

/// Receives the client's next WORK on the fake server (skipping its greeting):
/// returns (routing id, message id, body).
fn next_work(fake: &zmq::Socket) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    loop {
        let frames = fake
            .recv_multipart(0)
            .expect("a WORK from the client within 5 s");
        assert_eq!(frames.len(), 6, "{frames:02x?}");
        if frames[4] == [HEARTBEAT] {
            continue; // the client's greeting
        }
        assert_eq!(frames[2], b"v1");
        assert_eq!(frames[4], [WORK]);
        return (frames[0].clone(), frames[3].clone(), frames[5].clone());
    }
}

fn fake_client(endpoint: &str, timeout: Duration) -> Client {
    Client::builder()
        .timeout(timeout)
        .connect(endpoint)
        .expect("client connects")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_skips_malformed_replies_and_takes_the_right_one() {
    let (fake, endpoint) = common::fake_server("server");
    let client = fake_client(&endpoint, Duration::from_secs(3));
    let started = Instant::now();
    let call = tokio::spawn({
        let remote = client.server().clone();
        async move { remote.call::<i64>("add", (2, 5)).await }
    });
    let (rid, i, body) = next_work(&fake);
    assert_eq!(body, ADD_2_5);
    let other = id(0x99);
    let garbage: &[&[&[u8]]] = &[
        &[b"", b"v2", &i, &[OK], &[0x01]],           // wrong version
        &[b"", b"", &i, &[OK], &[0x01]],             // empty version
        &[b"x", b"v1", &i, &[OK], &[0x01]],          // non-empty delimiter
        &[b"", b"v1", &i, &[OK]],                    // 5 frames
        &[b"", b"v1", &i, &[OK], &[0x01], b"extra"], // 7 frames
        &[b"", b"v1", &i, &[0x07], &[0x01]],         // unknown type
        &[b"", b"v1", &i, &[OK, OK], &[0x01]],       // 2-byte type
        &[b"", b"v1", &other, &[OK], &[0x01]],       // OK for another id
        &[b"", b"v1", &other, &[ERROR], &[0xc1]],    // ERROR for another id
        &[b"", b"v1", &i[..15], &[OK], &[0x01]],     // truncated id
        &[b"", b"v1", b"", &[HEARTBEAT], b""],       // heartbeat
        &[b"", b"v1", &i, &[AUTHENTICATED], b"yes"], // stray AUTHENTICATED
    ];
    for frames in garbage {
        let mut all: Vec<&[u8]> = vec![&rid];
        all.extend_from_slice(frames);
        fake.send_multipart(all, 0).unwrap();
    }
    fake.send_multipart([&rid[..], b"", b"v1", &i, &[OK], &[0x07]], 0)
        .unwrap();
    let result = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .expect("the call ends within its timeout")
        .unwrap();
    assert_eq!(result.unwrap(), 7);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_turns_bad_reply_bodies_into_clear_errors() {
    let (fake, endpoint) = common::fake_server("server");
    let client = fake_client(&endpoint, Duration::from_secs(3));
    type Check = fn(&Error) -> bool;
    let cases: &[(&str, u8, Vec<u8>, Check)] = &[
        ("ERROR body a str", ERROR, common::pack(&"oops"), |e| {
            e.remote()
                .is_some_and(|r| r.class == "ProtocolError" && r.message.contains("oops"))
        }),
        ("ERROR body undecodable", ERROR, vec![0xc1], |e| {
            e.remote().is_some_and(|r| r.class == "ProtocolError")
        }),
        ("ERROR body an empty array", ERROR, vec![0x90], |e| {
            e.remote().is_some_and(|r| r.class == "ProtocolError")
        }),
        (
            "ERROR body of 1 item",
            ERROR,
            common::pack(&("ValueError",)),
            |e| {
                e.remote()
                    .is_some_and(|r| r.class == "ValueError" && r.message.is_empty())
            },
        ),
        ("OK body undecodable", OK, vec![0xc1], |e| {
            matches!(e, Error::Decode { .. })
        }),
        ("OK body with trailing bytes", OK, vec![0x07, 0x07], |e| {
            matches!(e, Error::Decode { .. })
        }),
        (
            "OK body of the wrong type",
            OK,
            common::pack(&"seven"),
            |e| matches!(e, Error::Decode { .. }),
        ),
        (
            "UNAUTHORIZED",
            UNAUTHORIZED,
            b"go away".to_vec(),
            |e| matches!(e, Error::Unauthorized(m) if m == "go away"),
        ),
    ];
    for (what, kind, body, check) in cases {
        let call = tokio::spawn({
            let remote = client.server().clone();
            async move { remote.call::<i64>("add", (2, 5)).await }
        });
        let (rid, i, _) = next_work(&fake);
        fake.send_multipart([&rid[..], b"", b"v1", &i, &[*kind], body], 0)
            .unwrap();
        // A correct reply after the bad one is late: dropped quietly.
        fake.send_multipart([&rid[..], b"", b"v1", &i, &[OK], &[0x07]], 0)
            .unwrap();
        let err = tokio::time::timeout(Duration::from_secs(5), call)
            .await
            .expect("the call ends within its timeout")
            .unwrap()
            .expect_err(what);
        assert!(check(&err), "{what}: {err:?}");
    }
    // The client still works.
    let call = tokio::spawn({
        let remote = client.server().clone();
        async move { remote.call::<i64>("add", (2, 5)).await }
    });
    let (rid, i, _) = next_work(&fake);
    fake.send_multipart([&rid[..], b"", b"v1", &i, &[OK], &[0x07]], 0)
        .unwrap();
    assert_eq!(call.await.unwrap().unwrap(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_answers_bad_work_from_its_server() {
    let (fake, endpoint) = common::fake_server("server");
    let client = fake_client(&endpoint, Duration::from_secs(3));
    client.register("ping", || "pong").unwrap();
    // The greeting tells the fake server the client's routing id: a pseud
    // HEARTBEAT, never libzmq's two-frame probe (which the original cara's pseud
    // cannot parse).
    let greeting = fake.recv_multipart(0).expect("the client's greeting");
    assert_eq!(greeting.len(), 6, "{greeting:02x?}");
    assert_eq!(
        (
            &greeting[1][..],
            &greeting[2][..],
            &greeting[4][..],
            &greeting[5][..]
        ),
        (&b""[..], &b"v1"[..], &[HEARTBEAT][..], &b""[..])
    );
    assert_eq!(greeting[3].len(), 16, "a uuid-sized message id");
    let rid = greeting[0].clone();
    let i = id(11);
    let send = |frames: &[&[u8]]| {
        let mut all: Vec<&[u8]> = vec![&rid];
        all.extend_from_slice(frames);
        fake.send_multipart(all, 0).unwrap();
    };
    let expect = |class: &str| {
        let reply = fake.recv_multipart(0).expect("an ERROR within 5 s");
        assert_eq!(reply[0], rid);
        let (got, message, _) = error_reply(&reply[1..], &i);
        assert_eq!(got, class, "{message}");
    };
    send(&[b"", b"v1", &i, &[WORK], &[0xc1]]);
    expect("ProtocolError");
    send(&[b"", b"v9", &i, &[WORK], ADD_2_5]);
    expect("ProtocolError");
    send(&[b"", b"v1", &i, &[WORK]]);
    expect("ProtocolError");
    send(&[b"", b"v1", &i, &[WORK], &[0x93, 0xa1, b'x', 0x90, 0x80]]);
    expect("ServiceNotFoundError");
    send(&[b"", b"v1", &i, &[0x07], b""]);
    send(&[b"", b"v1", &i, &[OK], &[0x07]]);
    send(&[
        b"",
        b"v1",
        &i,
        &[WORK],
        &[0x93, 0xa4, b'p', b'i', b'n', b'g', 0x90, 0x80],
    ]);
    let reply = fake.recv_multipart(0).expect("an OK within 5 s");
    assert_eq!(
        reply,
        vec![
            rid.clone(),
            b"".to_vec(),
            b"v1".to_vec(),
            i.clone(),
            vec![OK],
            common::pack(&"pong")
        ],
        "only the good WORK is answered after the unanswerable ones"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_refuses_an_oversized_reply() {
    let (fake, endpoint) = common::fake_server("server");
    let client = Client::builder()
        .timeout(Duration::from_secs(3))
        .max_message_size(1024)
        .connect(&endpoint)
        .unwrap();
    let call = tokio::spawn({
        let remote = client.server().clone();
        async move { remote.call::<String>("big", ()).await }
    });
    let (rid, i, _) = next_work(&fake);
    let big = common::pack(&"x".repeat(1500));
    fake.send_multipart([&rid[..], b"", b"v1", &i, &[OK], &big], 0)
        .unwrap();
    let err = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .expect("the call ends within its timeout")
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { limit: 1024, .. }),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_of_a_silent_server_times_out() {
    let (fake, endpoint) = common::fake_server("server");
    let client = fake_client(&endpoint, Duration::from_millis(300));
    let started = Instant::now();
    let call = tokio::spawn({
        let remote = client.server().clone();
        async move { remote.call::<i64>("add", (2, 5)).await }
    });
    // The WORK arrives but the fake server never answers it.
    let _ = next_work(&fake);
    let err = tokio::time::timeout(Duration::from_secs(5), call)
        .await
        .expect("the call ends within its timeout")
        .unwrap()
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout { timeout, .. } if timeout == Duration::from_millis(300)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}
