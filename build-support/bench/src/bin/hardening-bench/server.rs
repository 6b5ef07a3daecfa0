//! The server under test: the real `pseud-demo serve` binary as a child process
//! (what the README and docs/transport.md start), so that its memory figures
//! (`/proc/<pid>/status`) are its own and its socket thread competes with the
//! bench only for CPU, as a deployed server would.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use crate::Res;

/// How long the child may take to print its ready line.
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// Where `pseud-demo` is: `--server-bin`, or next to this binary (cargo puts
/// every binary of one profile in the same directory).
pub fn locate(given: Option<PathBuf>) -> Res<PathBuf> {
    if let Some(path) = given {
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!("--server-bin {}: no such file", path.display()).into())
        };
    }
    let me = std::env::current_exe()?;
    let dir = me.parent().ok_or("this binary has no directory")?;
    let path = dir.join(format!("pseud-demo{}", std::env::consts::EXE_SUFFIX));
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "{} not found; build it first with the same profile and target directory \
             (cargo build --release -p cara-examples --bin pseud-demo), or pass --server-bin PATH",
            path.display()
        )
        .into())
    }
}

/// A running `pseud-demo serve`, killed (and reaped) when dropped.
pub struct Served {
    child: Child,
    /// The endpoint it printed, e.g. `tcp://127.0.0.1:41234`.
    pub endpoint: String,
    /// The same as a socket address, for the raw clients.
    pub addr: SocketAddr,
    /// Its stderr (tracing at `warn`, its default) goes to this file.
    log: PathBuf,
}

/// Tells log files of one run apart.
static NEXT_LOG: AtomicU32 = AtomicU32::new(0);

impl Served {
    /// Starts `pseud-demo serve --endpoint tcp://127.0.0.1:0` (noop security) and
    /// waits for its `{"event":"ready","endpoint":...}` line.
    pub fn start(bin: &Path) -> Res<Served> {
        let log = std::env::temp_dir().join(format!(
            "hardening-bench-{}-{}.log",
            std::process::id(),
            NEXT_LOG.fetch_add(1, Ordering::Relaxed)
        ));
        let mut child = Command::new(bin)
            .args(["serve", "--endpoint", "tcp://127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .map_err(|e| format!("{}: {e}", bin.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        // Read the ready line on a thread, so that a child that never prints
        // one cannot hang the bench.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = BufReader::new(stdout).read_line(&mut line).map(|_| line);
            let _ = tx.send(read);
        });
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => return Err(kill(child, format!("reading its stdout: {e}"))),
            Err(_) => return Err(kill(child, format!("no ready line in {START_TIMEOUT:?}"))),
        };
        let endpoint = match ready_endpoint(&line) {
            Some(e) => e.to_string(),
            None => return Err(kill(child, format!("unexpected first line {line:?}"))),
        };
        let addr = match endpoint.trim_start_matches("tcp://").parse() {
            Ok(addr) => addr,
            Err(e) => return Err(kill(child, format!("endpoint {endpoint}: {e}"))),
        };
        Ok(Served {
            child,
            endpoint,
            addr,
            log,
        })
    }

    /// Its process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its memory now; `None` once it has exited.
    pub fn memory(&mut self) -> Option<Memory> {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return None;
        }
        Memory::of(self.pid())
    }

    /// How it ended, if it has.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(status.to_string()),
            _ => None,
        }
    }

    /// A summary of what it logged: line count and the first line (shortened).
    pub fn log_summary(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines = text.lines().count();
        match text.lines().next() {
            None => "nothing".into(),
            Some(first) => {
                let first: String = first.chars().take(160).collect();
                format!("{lines} lines; first: {first}")
            }
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Kills a child that failed to start and says why.
fn kill(mut child: Child, why: String) -> Box<dyn std::error::Error + Send + Sync> {
    let _ = child.kill();
    let _ = child.wait();
    format!("pseud-demo serve did not start: {why}").into()
}

/// The endpoint of `{"event": "ready", "endpoint": "tcp://..."}` (compact JSON,
/// as `pseud-demo` prints it).
fn ready_endpoint(line: &str) -> Option<&str> {
    if !line.contains(r#""event":"ready""#) {
        return None;
    }
    let rest = line.split(r#""endpoint":""#).nth(1)?;
    rest.split('"').next()
}

/// A process's resident memory: now (VmRSS) and its peak so far (VmHWM), in KiB.
#[derive(Clone, Copy, Debug)]
pub struct Memory {
    /// Resident set size now.
    pub rss_kib: u64,
    /// The peak resident set size since the process started.
    pub hwm_kib: u64,
}

impl Memory {
    /// Reads `/proc/<pid>/status`; `None` if it cannot (gone, or not Linux).
    pub fn of(pid: u32) -> Option<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))?
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        };
        Some(Memory {
            rss_kib: field("VmRSS:")?,
            hwm_kib: field("VmHWM:")?,
        })
    }
}

/// KiB as MiB for tables.
pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}
