//! How the example servers wait for the end: SIGTERM or SIGINT only.
//!
//! They never read standard input: a server must keep running with stdin closed
//! or redirected from /dev/null (a script, systemd, `docker run` without `-i`),
//! and a backgrounded job that reads the terminal gets stopped by the shell.
//! (Reading stdin through tokio would also keep the runtime from shutting down
//! on a signal: its blocking read thread is waited for.)

use std::time::Duration;

/// How long running calls may take to finish once a signal arrived; the servers
/// stop well within a second either way.
pub const STOP_GRACE: Duration = Duration::from_millis(250);

/// SIGTERM and SIGINT, caught from the moment this is made: make it before the
/// server says it is ready, so that a signal sent as soon as it does is not met
/// by the default action (death by signal).
pub struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers. Fails only if they cannot be set up.
    pub fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// Waits for SIGTERM or SIGINT; says which.
    pub async fn wait(mut self) -> &'static str {
        tokio::select! {
            _ = self.term.recv() => "SIGTERM",
            _ = self.int.recv() => "SIGINT",
        }
    }
}
