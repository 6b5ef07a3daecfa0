//! CURVE between our server and client: who the peer is, refusals, and calls
//! both ways. (Against libzmq: `src/zmtp/curve/interop.rs` and the Python
//! interop tests; what the wire shows: `confidentiality.rs`.)

mod common;

use std::time::{Duration, Instant};

use pseud::{Client, ClientSecurity, Context, Error, KeyPair, Server, ServerSecurity};
use serde_bytes::ByteBuf;

fn whoami(ctx: Context) -> ByteBuf {
    ByteBuf::from(ctx.user_id().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_client_is_known_by_its_public_key() {
    let server_keys = KeyPair::generate();
    let server = common::server(
        Server::builder("server").security(ServerSecurity::curve(server_keys.clone())),
    );
    server.register("whoami", whoami).unwrap();
    server.register("add", |a: i64, b: i64| a + b).unwrap();
    let ours = KeyPair::generate();
    let client = common::client(
        &server,
        Client::builder().security(ClientSecurity::curve(server_keys.public, ours.clone())),
    );
    assert_eq!(client.call::<i64>("add", (2, 5)).await.unwrap(), 7);
    let who: ByteBuf = client.call("whoami", ()).await.unwrap();
    assert_eq!(who.as_ref(), ours.public.to_z85().as_bytes());
    // Large messages cross in several TCP segments, all boxed.
    let big = "x".repeat(300_000);
    server.register("len", |s: String| s.len()).unwrap();
    assert_eq!(client.call::<usize>("len", (big,)).await.unwrap(), 300_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_clients_get_their_names_and_others_are_refused_fast() {
    let server_keys = KeyPair::generate();
    let alice = KeyPair::generate();
    let server = common::server(Server::builder("server").security(
        ServerSecurity::curve_allowing(server_keys.clone(), [(alice.public, "alice".into())]),
    ));
    server.register("whoami", whoami).unwrap();
    let good = common::client(
        &server,
        Client::builder().security(ClientSecurity::curve(server_keys.public, alice)),
    );
    let who: ByteBuf = good.call("whoami", ()).await.unwrap();
    assert_eq!(who.as_ref(), b"alice");
    // The server calls alice back by her name.
    good.register("client.ping", || "pong").unwrap();
    let pong: String = server
        .send_to("alice")
        .call("client.ping", ())
        .await
        .unwrap();
    assert_eq!(pong, "pong");

    let started = Instant::now();
    let stranger = common::client(
        &server,
        Client::builder().security(ClientSecurity::curve(
            server_keys.public,
            KeyPair::generate(),
        )),
    );
    let err = stranger.call::<ByteBuf>("whoami", ()).await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized(_)), "{err}");
    assert!(err.to_string().contains("400"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "refused fast, not by timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_server_key_or_mode_is_a_handshake_error() {
    let server = common::server(
        Server::builder("server").security(ServerSecurity::curve(KeyPair::generate())),
    );
    let impostor = KeyPair::generate().public;
    let client = common::client(
        &server,
        Client::builder().security(ClientSecurity::curve(impostor, KeyPair::generate())),
    );
    let started = Instant::now();
    let err = client.call::<i64>("add", (1, 2)).await.unwrap_err();
    assert!(matches!(err, Error::Handshake(_)), "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));

    let plain = common::client(&server, Client::builder());
    let err = plain.call::<i64>("add", (1, 2)).await.unwrap_err();
    assert!(matches!(err, Error::Handshake(_)), "{err}");
    assert!(err.to_string().contains("CURVE"), "{err}");
}
