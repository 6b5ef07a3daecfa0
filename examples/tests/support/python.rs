//! The real Python pseud 1.0.1 peer (build-support/interop/pseud_peer.py) and our
//! pseud-demo, started as processes; results as JSON lines.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc::channel;

use serde_json::Value as Json;

use super::{Process, Stdin, WAIT};

pub fn python() -> PathBuf {
    match std::env::var_os("CARA_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => panic!(
            "CARA_PYTHON is not set: it must name a python with pseud==1.0.1 installed. \
             Run the tests with build-support/test.sh, or create the venv with \
             build-support/interop/setup-venv.sh and export CARA_PYTHON=<its last output line>"
        ),
    }
}

pub fn peer_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../build-support/interop/pseud_peer.py")
}

pub fn demo() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pseud-demo"))
}

pub fn py() -> Command {
    let mut c = Command::new(python());
    c.arg(peer_script());
    c
}

/// A running server process (stdin stays open: EOF stops the Python peer) and the
/// endpoint its ready line names.
pub struct Served {
    pub process: Process,
    pub endpoint: String,
}

impl Served {
    pub fn start(cmd: Command) -> Served {
        let mut process = Process::start(cmd, Stdin::Open);
        let endpoint = process.ready_endpoint();
        Served { process, endpoint }
    }

    /// The next stdout event of this kind (other lines are skipped).
    pub fn next_event(&mut self, kind: &str) -> Json {
        self.process.wait_for(kind, |line| {
            let event: Json = serde_json::from_str(line).ok()?;
            (event["event"] == kind).then_some(event)
        })
    }
}

/// Runs a command to completion (bounded) and returns (success, stdout lines as JSON).
pub fn run(mut cmd: Command, stdin: &str) -> (bool, Vec<Json>) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("process starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = rx
        .recv_timeout(WAIT)
        .expect("process finishes within 30 s")
        .unwrap();
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect();
    (out.status.success(), lines)
}

/// The Python pseud peer serving on a free port with `--security security` (and `extra`).
pub fn python_server(security: &str, extra: &[&str]) -> Served {
    let mut serve = py();
    serve.args([
        "serve",
        "--endpoint",
        "tcp://127.0.0.1:*",
        "--security",
        security,
    ]);
    serve.args(extra);
    Served::start(serve)
}
