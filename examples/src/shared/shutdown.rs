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

/// Waits for SIGTERM or SIGINT. Fails only if the signal handlers cannot be set up.
pub async fn signalled() -> std::io::Result<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}
