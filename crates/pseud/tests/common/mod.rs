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
    builder.bind("tcp://127.0.0.1:0").start().expect("server starts")
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
