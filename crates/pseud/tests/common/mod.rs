//! Helpers shared by the integration tests: real sockets on 127.0.0.1.
#![allow(dead_code)]

use std::time::Duration;

use pseud::{Client, ClientBuilder, Server, ServerBuilder};

/// Logs to the test output when `RUST_LOG` is set.
pub fn trace() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// A server on an ephemeral loopback port.
pub fn server(builder: ServerBuilder) -> Server {
    trace();
    builder
        .bind("tcp://127.0.0.1:0")
        .start()
        .expect("server starts")
}

/// A client of `server`.
pub fn client(server: &Server, builder: ClientBuilder) -> Client {
    builder
        .server_name(server.name())
        .connect(&server.endpoints()[0])
        .expect("client connects")
}

/// A noop server with the demo functions and a client connected to it.
pub async fn pair() -> (Server, Client) {
    let s = server(Server::builder("server"));
    let c = client(&s, Client::builder().timeout(Duration::from_secs(5)));
    // Wait for the connection by a real round trip.
    s.register("__ping", || true).unwrap();
    let ok: bool = c.call("__ping", ()).await.expect("first call");
    assert!(ok);
    (s, c)
}

/// A raw DEALER connected to `server`, for sending hand-made frames.
pub fn dealer(server: &Server) -> zmq::Socket {
    let ctx = zmq::Context::new();
    let d = ctx.socket(zmq::DEALER).unwrap();
    d.set_rcvtimeo(5000).unwrap();
    d.set_linger(0).unwrap();
    d.connect(&server.endpoints()[0]).unwrap();
    // Keep the context alive with the socket.
    std::mem::forget(ctx);
    d
}

/// Sends `frames` from the dealer and returns the reply frames (blocking, 5 s limit).
pub fn exchange(d: &zmq::Socket, frames: &[&[u8]]) -> Vec<Vec<u8>> {
    d.send_multipart(frames.iter().copied(), 0).unwrap();
    d.recv_multipart(0).expect("a reply within 5 s")
}

/// msgpack bytes of a value.
pub fn pack<T: serde::Serialize>(v: &T) -> Vec<u8> {
    pseud::value::to_msgpack(v).unwrap()
}

/// Waits up to `limit` for one message on a raw socket; `None` if nothing came.
/// Used to show that no reply arrives: a bounded poll, since "nothing" has no event.
pub fn recv_within(s: &zmq::Socket, limit: Duration) -> Option<Vec<Vec<u8>>> {
    let ms = i32::try_from(limit.as_millis()).unwrap_or(i32::MAX);
    s.set_rcvtimeo(ms).unwrap();
    let got = match s.recv_multipart(0) {
        Ok(frames) => Some(frames),
        Err(zmq::Error::EAGAIN) => None,
        Err(e) => panic!("recv failed: {e}"),
    };
    s.set_rcvtimeo(5000).unwrap();
    got
}

/// A raw ROUTER client (`ZMQ_PROBE_ROUTER`, `ZMQ_ROUTER_MANDATORY`) connected to
/// `server`; address the server by its name in frame 0.
pub fn router_client(server: &Server) -> zmq::Socket {
    let ctx = zmq::Context::new();
    let r = ctx.socket(zmq::ROUTER).unwrap();
    r.set_rcvtimeo(5000).unwrap();
    r.set_linger(0).unwrap();
    r.set_probe_router(true).unwrap();
    r.set_router_mandatory(true).unwrap();
    r.connect(&server.endpoints()[0]).unwrap();
    std::mem::forget(ctx);
    r
}

/// Sends `frames` from a ROUTER socket; frame 0 is the peer's routing id. Until the
/// handshake is done the peer is unknown (EHOSTUNREACH), so this retries briefly
/// (bounded: 5 s).
pub fn router_send(r: &zmq::Socket, frames: &[&[u8]]) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        match r.send_multipart(frames.iter().copied(), 0) {
            Ok(()) => return,
            Err(zmq::Error::EHOSTUNREACH) if std::time::Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(e) => panic!("router send failed: {e}"),
        }
    }
}

/// A raw ROUTER that plays a pseud server named `name`, bound to a loopback port.
/// Returns the socket and its endpoint.
pub fn fake_server(name: &str) -> (zmq::Socket, String) {
    trace();
    let ctx = zmq::Context::new();
    let r = ctx.socket(zmq::ROUTER).unwrap();
    r.set_identity(name.as_bytes()).unwrap();
    r.set_rcvtimeo(5000).unwrap();
    r.set_linger(0).unwrap();
    r.set_router_mandatory(true).unwrap();
    r.bind("tcp://127.0.0.1:0").unwrap();
    let endpoint = r.get_last_endpoint().unwrap().unwrap();
    std::mem::forget(ctx);
    (r, endpoint)
}

/// A raw DEALER like [`dealer`], plus a libzmq monitor (a PAIR socket) of its
/// connection events, attached before it connects; read it with [`next_event`].
pub fn monitored_dealer(server: &Server) -> (zmq::Socket, zmq::Socket) {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let ctx = zmq::Context::new();
    let d = ctx.socket(zmq::DEALER).unwrap();
    d.set_rcvtimeo(5000).unwrap();
    d.set_linger(0).unwrap();
    let endpoint = format!(
        "inproc://test-monitor-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    d.monitor(&endpoint, zmq::SocketEvent::ALL as i32).unwrap();
    let pair = ctx.socket(zmq::PAIR).unwrap();
    pair.set_linger(0).unwrap();
    pair.connect(&endpoint).unwrap();
    d.connect(&server.endpoints()[0]).unwrap();
    std::mem::forget(ctx);
    (d, pair)
}

/// Waits (at most `limit`) for the monitor event `code`, skipping others.
pub fn wait_event(pair: &zmq::Socket, code: zmq::SocketEvent, limit: Duration) -> bool {
    let deadline = std::time::Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return false;
        }
        match recv_within(pair, left) {
            Some(frames) if u16::from_le_bytes([frames[0][0], frames[0][1]]) == code.to_raw() => {
                return true;
            }
            Some(_) => {}
            None => return false,
        }
    }
}
