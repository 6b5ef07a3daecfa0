//! Security modes: noop, client plain, server trusted_peer and plain (in-process ZAP).

mod common;

use std::time::{Duration, Instant};

use pseud::{Client, ClientSecurity, Context, Error, Server, ServerSecurity};
use serde_bytes::ByteBuf;

fn whoami(ctx: Context) -> ByteBuf {
    ByteBuf::from(ctx.user_id().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusted_peer_takes_the_username_as_user_id() {
    let server = common::server(Server::builder("server").security(ServerSecurity::TrustedPeer));
    server.register("whoami", whoami).unwrap();
    let client = common::client(
        &server,
        Client::builder().security(ClientSecurity::plain("alice", "any password")),
    );
    let who: ByteBuf = client.call("whoami", ()).await.unwrap();
    assert_eq!(who.as_ref(), b"alice");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_server_checks_passwords() {
    let server = common::server(Server::builder("server").security(ServerSecurity::plain(
        |user, pass| user == "alice" && pass == b"secret",
    )));
    server.register("whoami", whoami).unwrap();
    let good = common::client(
        &server,
        Client::builder().security(ClientSecurity::plain("alice", "secret")),
    );
    let who: ByteBuf = good.call("whoami", ()).await.unwrap();
    assert_eq!(who.as_ref(), b"alice");

    let started = Instant::now();
    let bad = common::client(
        &server,
        Client::builder().security(ClientSecurity::plain("alice", "wrong")),
    );
    let err = bad.call::<ByteBuf>("whoami", ()).await.unwrap_err();
    assert!(matches!(err, Error::Unauthorized(_)), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "a refused login fails fast, not by timeout"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mismatched_security_is_a_handshake_error_not_a_hang() {
    let server = common::server(Server::builder("server").security(ServerSecurity::TrustedPeer));
    let client = common::client(&server, Client::builder());
    let started = Instant::now();
    let err = client.call::<i64>("anything", ()).await.unwrap_err();
    assert!(
        matches!(err, Error::Handshake(_) | Error::Unauthorized(_)),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_secured_servers_keep_their_own_verifiers() {
    let a = common::server(Server::builder("a").security(ServerSecurity::plain(|u, _| u == "ann")));
    let b = common::server(Server::builder("b").security(ServerSecurity::plain(|u, _| u == "bob")));
    a.register("whoami", whoami).unwrap();
    b.register("whoami", whoami).unwrap();
    let ann_a = common::client(
        &a,
        Client::builder().security(ClientSecurity::plain("ann", "pw")),
    );
    let ann_b = common::client(
        &b,
        Client::builder().security(ClientSecurity::plain("ann", "pw")),
    );
    let bob_b = common::client(
        &b,
        Client::builder().security(ClientSecurity::plain("bob", "pw")),
    );
    assert_eq!(
        ann_a.call::<ByteBuf>("whoami", ()).await.unwrap().as_ref(),
        b"ann"
    );
    assert_eq!(
        bob_b.call::<ByteBuf>("whoami", ()).await.unwrap().as_ref(),
        b"bob"
    );
    assert!(matches!(
        ann_b.call::<ByteBuf>("whoami", ()).await.unwrap_err(),
        Error::Unauthorized(_)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn domains_pick_the_registration_per_caller() {
    let server = common::server(
        Server::builder("server")
            .security(ServerSecurity::TrustedPeer)
            .domain("admin", |user| user == b"root"),
    );
    server.register("role", || "user").unwrap();
    server
        .register("role", pseud::Function::new(|| "admin").domain("admin"))
        .unwrap();
    server
        .register(
            "reboot",
            pseud::Function::new(|| "rebooting").domain("admin"),
        )
        .unwrap();
    let root = common::client(
        &server,
        Client::builder().security(ClientSecurity::plain("root", "pw")),
    );
    let joe = common::client(
        &server,
        Client::builder().security(ClientSecurity::plain("joe", "pw")),
    );
    assert_eq!(root.call::<String>("role", ()).await.unwrap(), "admin");
    assert_eq!(joe.call::<String>("role", ()).await.unwrap(), "user");
    assert_eq!(
        root.call::<String>("reboot", ()).await.unwrap(),
        "rebooting"
    );
    let err = joe.call::<String>("reboot", ()).await.unwrap_err();
    assert!(err.remote().unwrap().is_service_not_found(), "{err}");
}
