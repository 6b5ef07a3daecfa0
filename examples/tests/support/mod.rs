//! Running the real binaries and peers as separate processes, as a user would.

#![allow(dead_code)] // each test binary uses its own part

pub mod python;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

/// How long a process may take to print what a test waits for.
pub const WAIT: Duration = Duration::from_secs(30);

/// A running process whose stdout lines a thread collects; killed when dropped.
pub struct Process {
    pub child: Child,
    lines: Receiver<String>,
    /// Everything read so far (for failure messages).
    seen: Vec<String>,
}

/// What the process's standard input is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stdin {
    /// `/dev/null`, as for a background job, systemd or `docker run` without `-i`.
    Null,
    /// A pipe that stays open (a terminal that never types).
    Open,
}

impl Process {
    pub fn start(cmd: Command, stdin: Stdin) -> Process {
        Process::start_with_stderr(cmd, stdin, Stdio::inherit())
    }

    /// [`Process::start`] with stderr going to `stderr` (a file to read later).
    pub fn start_with_stderr(mut cmd: Command, stdin: Stdin, stderr: Stdio) -> Process {
        cmd.stdin(match stdin {
            Stdin::Null => Stdio::null(),
            Stdin::Open => Stdio::piped(),
        })
        .stdout(Stdio::piped())
        .stderr(stderr);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Process {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first line (from now on) for which `pick` gives something, within [`WAIT`].
    pub fn wait_for<T>(&mut self, what: &str, mut pick: impl FnMut(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let picked = pick(&line);
                    self.seen.push(line);
                    if let Some(t) = picked {
                        return t;
                    }
                }
                Err(_) => panic!(
                    "no {what} within {WAIT:?} from the process; its output:\n{}",
                    self.seen.join("\n")
                ),
            }
        }
    }

    /// The endpoint of a `{"event":"ready","endpoint":...}` line.
    pub fn ready_endpoint(&mut self) -> String {
        self.wait_for("ready line", |line| {
            let event: serde_json::Value = serde_json::from_str(line).ok()?;
            (event["event"] == "ready").then(|| event["endpoint"].as_str().map(str::to_string))?
        })
    }

    /// Sends `signal` and waits up to `within` for the process to exit.
    pub fn signal_and_wait(
        &mut self,
        signal: nix::sys::signal::Signal,
        within: Duration,
    ) -> Option<(ExitStatus, Duration)> {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, signal).expect("signal sent");
        let sent = Instant::now();
        self.wait_exit(within)
            .map(|status| (status, sent.elapsed()))
    }

    /// Waits up to `within` for the process to exit on its own.
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            // Polling a child's exit status: std has no timed wait.
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a command to completion within [`WAIT`]: (success, stdout, stderr).
pub fn run(mut cmd: Command) -> (bool, String, String) {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx
        .recv_timeout(WAIT)
        .unwrap_or_else(|_| panic!("{cmd:?} did not finish within {WAIT:?}"))
        .expect("output");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A loopback TCP port that was free a moment ago (for peers that cannot bind port 0
/// and say which port they got).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The next stdout event (a JSON line with `"event": kind`) of `p`, waited for
/// off the async workers.
pub fn event(p: &mut Process, kind: &str) -> serde_json::Value {
    tokio::task::block_in_place(|| {
        p.wait_for(kind, |line| {
            let event: serde_json::Value = serde_json::from_str(line).ok()?;
            (event["event"] == kind).then_some(event)
        })
    })
}

/// A Python client's `evaluated` event: bob, naming the object exported to
/// alice, was refused with `CapabilityError`.
pub fn assert_refused_to_bob(evaluated: &serde_json::Value) {
    assert_eq!(
        evaluated["other"]["class"], "CapabilityError",
        "{evaluated}"
    );
    assert!(
        evaluated["other"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("was exported to this peer")),
        "{evaluated}"
    );
}

/// A server named `server` under `trusted_peer` (any password), on a free port.
pub fn trusted_peer_server() -> cara::Server {
    cara::Server::builder("server")
        .security(cara::ServerSecurity::TrustedPeer)
        .bind("tcp://127.0.0.1:0")
        .start()
        .unwrap()
}

/// Waits (up to [`WAIT`] per event) until every one of `users` has connected.
pub async fn until_connected(
    events: &mut tokio::sync::broadcast::Receiver<cara::PeerEvent>,
    users: &[&str],
) {
    let mut waiting: Vec<&str> = users.to_vec();
    while !waiting.is_empty() {
        match tokio::time::timeout(WAIT, events.recv()).await {
            Ok(Ok(cara::PeerEvent::Connected { user_id, .. })) => {
                waiting.retain(|u| u.as_bytes() != user_id.as_slice())
            }
            Ok(Ok(_)) => {}
            other => panic!("still waiting for {waiting:?} to connect: {other:?}"),
        }
    }
}
