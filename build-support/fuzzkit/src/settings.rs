//! What the environment asks of a run: seed, budget, limits, where findings go.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The seed when `FUZZ_SEED` is unset: fixed, so that CI runs the same inputs each
/// time and a red build reproduces locally with plain `cargo test`.
pub const DEFAULT_SEED: u64 = 0x5eed_f0c5_ca4a_0001;

/// A run's settings, read from the environment (see the crate docs).
#[derive(Debug, Clone)]
pub struct Settings {
    /// Seed of the mutation RNG (`FUZZ_SEED`).
    pub seed: u64,
    /// Mutated inputs per target (`FUZZ_ITERS`); `None` means the target's default.
    pub iterations: Option<u64>,
    /// Time budget per target (`FUZZ_SECS`).
    pub budget: Option<Duration>,
    /// An input slower than this is a finding (`FUZZ_SLOW_MS`).
    pub slow: Duration,
    /// Inputs to replay instead of fuzzing (`FUZZ_REPLAY`).
    pub replay: Option<PathBuf>,
    /// Where findings are saved, one directory per target (`FUZZ_FINDINGS`).
    pub findings: PathBuf,
    /// A file each input is written to before it runs (`FUZZ_LAST_INPUT`): what an
    /// abort (a failed allocation, a stack overflow) leaves no other trace of.
    pub last_input: Option<PathBuf>,
}

impl Default for Settings {
    /// The settings of a run with none of the variables set.
    fn default() -> Self {
        Settings {
            seed: DEFAULT_SEED,
            iterations: None,
            budget: None,
            slow: Duration::from_millis(2000),
            replay: None,
            findings: default_findings_dir(),
            last_input: None,
        }
    }
}

impl Settings {
    /// Reads the settings.
    ///
    /// # Panics
    /// On a variable that is set but malformed: a fuzz run that silently ignored
    /// `FUZZ_ITERS=1e6` would report a budget it did not spend.
    pub fn from_env() -> Self {
        let default = Settings::default();
        Settings {
            seed: var("FUZZ_SEED", parse_u64).unwrap_or(default.seed),
            iterations: var("FUZZ_ITERS", parse_u64),
            budget: var("FUZZ_SECS", |s| {
                s.parse::<f64>()
                    .ok()
                    .filter(|secs| secs.is_finite() && *secs >= 0.0)
                    .map(Duration::from_secs_f64)
            }),
            slow: var("FUZZ_SLOW_MS", parse_u64).map_or(default.slow, Duration::from_millis),
            replay: std::env::var_os("FUZZ_REPLAY").map(PathBuf::from),
            findings: std::env::var_os("FUZZ_FINDINGS").map_or(default.findings, PathBuf::from),
            last_input: std::env::var_os("FUZZ_LAST_INPUT").map(PathBuf::from),
        }
    }

    /// How long one input may run before the watchdog ends the process: a hang never
    /// returns to the slow-input check, so it needs a second clock.
    pub fn hang(&self) -> Duration {
        (self.slow * 5).max(Duration::from_secs(10))
    }
}

fn var<T>(name: &str, parse: impl Fn(&str) -> Option<T>) -> Option<T> {
    let raw = std::env::var(name).ok()?;
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match parse(raw) {
        Some(value) => Some(value),
        None => panic!("{name}={raw:?} is not valid (see build-support/fuzzkit docs)"),
    }
}

/// A decimal or `0x`-prefixed hexadecimal u64, `_` separators allowed.
pub(crate) fn parse_u64(raw: &str) -> Option<u64> {
    let raw = raw.replace('_', "");
    match raw.strip_prefix("0x").or_else(|| raw.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => raw.parse().ok(),
    }
}

/// `<target dir>/fuzz-findings`: the test binary lives in `<target dir>/<profile>/deps`,
/// and cargo does not tell a test where its target directory is. Falls back to the
/// system's temporary directory.
fn default_findings_dir() -> PathBuf {
    let exe = std::env::current_exe().ok();
    exe.as_deref()
        .and_then(Path::parent)
        .filter(|deps| deps.file_name().is_some_and(|n| n == "deps"))
        .and_then(Path::parent)
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir)
        .join("fuzz-findings")
}

/// The running test's name (libtest names each test's thread after it), for the
/// replay command a finding prints.
pub(crate) fn test_name() -> Option<String> {
    std::thread::current()
        .name()
        .filter(|n| *n != "main")
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_parse_in_both_bases() {
        assert_eq!(parse_u64("42"), Some(42));
        assert_eq!(parse_u64("0x2a"), Some(42));
        assert_eq!(parse_u64("1_000"), Some(1000));
        assert_eq!(parse_u64("0xzz"), None);
        assert_eq!(parse_u64("-1"), None);
    }

    #[test]
    fn the_hang_limit_exceeds_the_slow_limit() {
        let slow = |ms| Settings {
            slow: Duration::from_millis(ms),
            ..Settings::default()
        };
        assert_eq!(slow(4000).hang(), Duration::from_secs(20));
        assert_eq!(slow(10).hang(), Duration::from_secs(10));
    }
}
