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
