//! Findings: what failed on which input, saved for replay; and the watchdog that
//! catches inputs that never return.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::corpus::{fingerprint, hex};

/// Where an input came from: how to get it again without the saved file.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    /// A corpus file (or a replayed file), run as it is.
    File(Arc<str>),
    /// The n-th mutated input of this target's stream for the seed.
    Iteration(u64),
}

/// What one failing input did, as the test's panic message prints it.
pub(crate) struct Finding<'a> {
    pub target: &'a str,
    pub seed: u64,
    pub origin: &'a Origin,
    /// `panic`, `slow` or `hang`: also the saved file's prefix.
    pub kind: &'static str,
    pub detail: String,
    pub input: &'a [u8],
    /// The input as generated, when `input` is a smaller one that fails too.
    pub original_len: Option<usize>,
}

impl Finding<'_> {
    /// Saves the input under `dir` and returns the report, replay command included.
    pub(crate) fn report(&self, dir: &Path) -> String {
        let origin = match self.origin {
            Origin::File(name) => format!("corpus file {name}"),
            Origin::Iteration(i) => format!("FUZZ_SEED={:#x}, iteration {i}", self.seed),
        };
        let shown = if self.input.len() <= 4096 {
            hex(self.input)
        } else {
            format!(
                "{}… (first 4096 of {} bytes)",
                hex(&self.input[..4096]),
                self.input.len()
            )
        };
        let minimized = match self.original_len {
            Some(n) if n != self.input.len() => format!(", reduced from {n}"),
            _ => String::new(),
        };
        let saved = match save(dir, self.kind, self.input) {
            Ok(path) => {
                let test = crate::settings::test_name().unwrap_or_else(|| "<test name>".into());
                let package =
                    std::env::var("CARGO_PKG_NAME").unwrap_or_else(|_| "<package>".into());
                let target = test_target(&package);
                format!(
                    "saved to {p}\nreplay: FUZZ_REPLAY={p} cargo test -p {package} {target} -- --exact {test}",
                    p = path.display()
                )
            }
            Err(e) => format!("could not save it under {}: {e}", dir.display()),
        };
        format!(
            "fuzz target `{target}`: {kind} ({detail})\nfrom {origin}\ninput ({len} bytes{minimized}): {shown}\n{saved}",
            target = self.target,
            kind = self.kind,
            detail = self.detail,
            len = self.input.len(),
        )
    }
}

/// `--lib` or `--test <name>`: which of the package's test binaries this is (cargo
/// names them `<crate>-<hash>` and `<test>-<hash>`).
fn test_target(package: &str) -> String {
    let exe = std::env::current_exe().ok();
    let stem = exe
        .as_deref()
        .and_then(Path::file_stem)
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = stem
        .rsplit_once('-')
        .map_or(stem.as_str(), |(name, _)| name);
    if name == package.replace('-', "_") {
        "--lib".to_string()
    } else {
        format!("--test {name}")
    }
}

fn save(dir: &Path, kind: &str, input: &[u8]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(format!("{kind}-{:016x}", fingerprint(input)));
    std::fs::write(&path, input)?;
    Ok(path)
}

/// The input being run and since when.
struct Armed {
    since: Option<Instant>,
    input: Vec<u8>,
    origin: Origin,
}

/// A thread that ends the process when one input runs longer than the hang limit,
/// after printing and saving it: a hang never returns to the runner, and a test
/// harness waits for it forever.
pub(crate) struct Watchdog {
    armed: Arc<Mutex<Armed>>,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    pub(crate) fn start(target: String, seed: u64, hang: Duration, dir: PathBuf) -> Self {
        let armed = Arc::new(Mutex::new(Armed {
            since: None,
            input: Vec::new(),
            origin: Origin::Iteration(0),
        }));
        let (stop, stopped) = mpsc::channel::<()>();
        let watched = armed.clone();
        let thread = std::thread::spawn(move || {
            loop {
                match stopped.recv_timeout(Duration::from_millis(100)) {
                    Err(RecvTimeoutError::Timeout) => {}
                    Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
                }
                let armed = watched.lock().unwrap_or_else(PoisonError::into_inner);
                let Some(since) = armed.since else { continue };
                if since.elapsed() < hang {
                    continue;
                }
                let finding = Finding {
                    target: &target,
                    seed,
                    origin: &armed.origin,
                    kind: "hang",
                    detail: format!("still running after {:.1} s", since.elapsed().as_secs_f64()),
                    input: &armed.input,
                    original_len: None,
                };
                eprintln!("{}", finding.report(&dir));
                std::process::exit(1);
            }
        });
        Watchdog {
            armed,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Marks `input` as running from now on.
    pub(crate) fn arm(&self, input: &[u8], origin: &Origin) {
        let mut armed = self.armed.lock().unwrap_or_else(PoisonError::into_inner);
        armed.since = Some(Instant::now());
        armed.input.clear();
        armed.input.extend_from_slice(input);
        armed.origin.clone_from(origin);
    }

    /// Marks that no input is running.
    pub(crate) fn disarm(&self) {
        self.armed
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .since = None;
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_names_the_input_and_where_it_is_saved() {
        let dir = std::env::temp_dir().join(format!("fuzzkit-finding-{}", std::process::id()));
        let origin = Origin::Iteration(12);
        let report = Finding {
            target: "frames",
            seed: 0x2a,
            origin: &origin,
            kind: "panic",
            detail: "index out of bounds".into(),
            input: &[0x04, 0xff],
            original_len: Some(9),
        }
        .report(&dir);
        assert!(report.contains("FUZZ_SEED=0x2a, iteration 12"), "{report}");
        assert!(
            report.contains("input (2 bytes, reduced from 9): 04ff"),
            "{report}"
        );
        let saved = dir.join(format!("panic-{:016x}", fingerprint(&[0x04, 0xff])));
        assert_eq!(std::fs::read(&saved).unwrap(), [0x04, 0xff]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
