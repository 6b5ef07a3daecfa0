//! What the socket tests of this crate share.

use std::time::{Duration, Instant};

/// A client of `server` (its first endpoint) whose calls time out after 5 s.
pub fn connect(server: &cara::Server) -> cara::Client {
    cara::Client::builder()
        .timeout(Duration::from_secs(5))
        .connect(&server.endpoints()[0])
        .unwrap()
}

/// Waits (bounded) until `f` holds: for what happens on the other side of a
/// socket (a release, a queued call), which nothing here can await.
pub async fn eventually(what: &str, f: impl Fn() -> bool) {
    let started = Instant::now();
    while !f() {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// A server named `server` under `trusted_peer` (any password), on a free port.
pub fn trusted_peer_server() -> cara::Server {
    cara::Server::builder("server")
        .security(cara::ServerSecurity::TrustedPeer)
        .bind("tcp://127.0.0.1:0")
        .start()
        .unwrap()
}

/// A client of `server` logged in as `user`, once the server has registered it
/// under that user id (so `server.send_to(user)` reaches it).
pub async fn logged_in(server: &cara::Server, user: &str) -> cara::Client {
    let mut events = server.events();
    let client = cara::Client::builder()
        .security(cara::ClientSecurity::plain(user, "x"))
        .connect(&server.endpoints()[0])
        .unwrap();
    let connected = async {
        loop {
            match events.recv().await.unwrap() {
                cara::PeerEvent::Connected { user_id, .. } if user_id == user.as_bytes() => break,
                _ => {}
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), connected)
        .await
        .unwrap_or_else(|_| panic!("{user} did not connect within 5 s"));
    client
}
