//! `hardening-bench`: the two measurable targets of the hardening issue, each
//! as a ratio measured within one run against the real `pseud-demo serve`
//! binary (a child process; see `server.rs`):
//!
//! 1. **slow-consumer**: a well-behaved client's p99 latency with one
//!    non-reading client attached, over its p99 with none (target ≤ 2.0).
//! 2. **amplification**: the server's peak memory growth for one message, over
//!    the message's size, for several message shapes (target ≤ 10).
//!
//! Both are measurements: the targets are reported as met or missed, and the
//! exit status is 0 either way (non-zero only when the bench itself cannot run:
//! no server binary, a server that does not start, a failed handshake).
//! `--quick` is the CI smoke run (well under 20 s); the normal run takes about
//! one to three minutes. Every wait is bounded, so both stop by themselves.
//!
//! Needs `pseud-demo` built with the same profile and target directory
//! (`cargo build --release -p cara-examples --bin pseud-demo`), or
//! `--server-bin PATH`.
//!
//! Nothing is pinned. Sequential latencies between two processes depend on
//! whether the OS runs them on one CPU or two (p50 ~20 us or ~100 us on the
//! 2-core VM), and that can change between runs; both phases of a ratio are
//! measured back to back on the same connection to keep them comparable. To
//! fix the placement, run the whole bench under `taskset` (its children
//! inherit it).

mod amplify;
mod server;
mod slow;
mod soak;
mod zmtp;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};

/// Errors of a bench binary: anything with a message.
pub type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

#[derive(Parser)]
#[command(
    name = "hardening-bench",
    about = "Slow-consumer latency ratio and per-message memory amplification of pseud-demo serve"
)]
struct Cli {
    /// Small counts and messages for a CI smoke run (under 20 s).
    #[arg(long)]
    quick: bool,
    /// The `pseud-demo` binary to serve with (default: next to this binary).
    #[arg(long, value_name = "PATH")]
    server_bin: Option<PathBuf>,
    /// Run one scenario only (`soak` runs only when asked for).
    #[arg(long, value_enum)]
    only: Option<Scenario>,
    /// How long `--only soak` runs.
    #[arg(long, default_value_t = 120)]
    seconds: u64,
}

/// The scenarios.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// p99 latency with a non-reading client attached, over p99 without.
    SlowConsumer,
    /// Peak memory growth for one message, over its size.
    Amplification,
    /// Minutes of idle clients, churn and windowed calls; rates and memory drift.
    Soak,
}

/// Counts, sizes and time bounds of one run.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    /// Calls made (and discarded) before each measurement.
    pub warmup: usize,
    /// Sequential calls per slow-consumer phase.
    pub calls: usize,
    /// Per-call timeout of the well-behaved client; a call that takes longer
    /// is a failure, counted in the percentiles at this value.
    pub call_timeout: Duration,
    /// The loaded phase stops after this long even if not all its calls were
    /// made (with every call timing out, 2,000 calls would take over an hour).
    pub loaded_budget: Duration,
    /// The hostile client's bytes written before the loaded phase starts
    /// measuring: past the server's 16 MiB per-peer high-water mark, so that
    /// whatever the engine does about a full peer is already happening...
    pub fill_bytes: u64,
    /// ... or this long, whichever comes first.
    pub fill_wait: Duration,
    /// The hostile client stops writing after this many bytes.
    pub hostile_cap: u64,
    /// Calls after the hostile client is gone (does the server recover?).
    pub recovery_calls: usize,
    /// Bytes of each amplification message on the wire.
    pub message_size: usize,
    /// How long to wait for the reply to an amplification message.
    pub reply_timeout: Duration,
}

impl Plan {
    fn new(quick: bool) -> Plan {
        // The server's limit counts every frame, the routing id (16 bytes)
        // included; stay a little below it so the messages are legal.
        let below_limit = pseud::DEFAULT_MAX_MESSAGE_SIZE - 4096;
        if quick {
            Plan {
                warmup: 50,
                // Enough calls that p99 is not the 3rd-worst one (CPU placement noise).
                calls: 1_000,
                call_timeout: Duration::from_secs(2),
                loaded_budget: Duration::from_secs(5),
                fill_bytes: 32 << 20,
                fill_wait: Duration::from_secs(2),
                hostile_cap: 64 << 20,
                recovery_calls: 50,
                message_size: (4 << 20).min(below_limit),
                reply_timeout: Duration::from_secs(5),
            }
        } else {
            Plan {
                warmup: 200,
                calls: 2_000,
                call_timeout: Duration::from_secs(2),
                loaded_budget: Duration::from_secs(30),
                fill_bytes: 32 << 20,
                fill_wait: Duration::from_secs(3),
                hostile_cap: 200 << 20,
                recovery_calls: 200,
                message_size: below_limit,
                reply_timeout: Duration::from_secs(30),
            }
        }
    }
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(&cli) {
        eprintln!("hardening-bench: {e}");
        std::process::exit(1);
    }
}

fn run(cli: &Cli) -> Res<()> {
    let plan = Plan::new(cli.quick);
    let bin = server::locate(cli.server_bin.clone())?;
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "hardening-bench{}: server {} (a child process per scenario / shape), {cpus} CPUs",
        if cli.quick { " --quick" } else { "" },
        bin.display()
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let started = Instant::now();
    match cli.only {
        None => {
            slow::run(&rt, &bin, &plan)?;
            amplify::run(&rt, &bin, &plan)?;
        }
        Some(Scenario::SlowConsumer) => slow::run(&rt, &bin, &plan)?,
        Some(Scenario::Amplification) => amplify::run(&rt, &bin, &plan)?,
        Some(Scenario::Soak) => soak::run(&rt, &bin, Duration::from_secs(cli.seconds))?,
    }
    println!("hardening-bench: done in {:.1?}", started.elapsed());
    Ok(())
}

/// The latencies of a series of sequential calls.
#[derive(Default)]
pub struct Sample {
    /// Every call's latency; a failed call counts as the time it waited (its
    /// timeout, for a timeout), so percentiles past the failures are lower bounds.
    pub latencies: Vec<Duration>,
    /// Calls that failed (timed out or otherwise).
    pub failures: usize,
    /// Why the first one failed.
    pub first_failure: Option<String>,
}

impl Sample {
    /// The calls attempted.
    pub fn attempts(&self) -> usize {
        self.latencies.len()
    }

    /// The nearest-rank percentile `p` (0..=100); `None` for no calls.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        sorted.get(rank(p, sorted.len())? - 1).copied()
    }

    /// Whether percentile `p` is only a lower bound: its rank falls among the
    /// failed calls. (Those are the top ranks when they timed out: a timeout
    /// waits longer than any answered call.)
    pub fn censored(&self, p: f64) -> bool {
        rank(p, self.attempts()).is_some_and(|r| r > self.attempts() - self.failures)
    }

    /// The largest latency.
    pub fn max(&self) -> Option<Duration> {
        self.latencies.iter().max().copied()
    }

    fn record(&mut self, latency: Duration, failure: Option<String>) {
        self.latencies.push(latency);
        if let Some(why) = failure {
            self.failures += 1;
            self.first_failure.get_or_insert(why);
        }
    }
}

/// The 1-based nearest rank of percentile `p` among `n` values.
fn rank(p: f64, n: usize) -> Option<usize> {
    (n > 0).then(|| (((p / 100.0) * n as f64).ceil() as usize).clamp(1, n))
}

/// One `add(1, 2)` through `remote`: its latency, and why it failed if it did.
/// The client's own timeout is `timeout`; a second, slightly longer one here
/// keeps a stuck client from stalling the bench.
pub async fn one_call(remote: &pseud::Remote, timeout: Duration) -> (Duration, Option<String>) {
    let start = Instant::now();
    let outcome = tokio::time::timeout(
        timeout + Duration::from_secs(1),
        remote.call::<i64>("add", (1, 2)),
    )
    .await;
    let failure = match outcome {
        Ok(Ok(3)) => None,
        Ok(Ok(other)) => Some(format!("add(1, 2) returned {other}")),
        Ok(Err(pseud::Error::Timeout { .. })) => Some(format!("timed out ({timeout:?})")),
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some(format!(
            "no answer, not even a timeout, in {timeout:?} + 1 s"
        )),
    };
    (start.elapsed(), failure)
}

/// Up to `n` sequential `add(1, 2)` calls, stopping early once `budget` is spent.
pub async fn sequential(
    remote: &pseud::Remote,
    n: usize,
    budget: Duration,
    timeout: Duration,
) -> Sample {
    let start = Instant::now();
    let mut sample = Sample::default();
    for _ in 0..n {
        if start.elapsed() >= budget {
            break;
        }
        let (latency, failure) = one_call(remote, timeout).await;
        sample.record(latency, failure);
    }
    sample
}

/// A duration in microseconds, or "-".
pub fn us(d: Option<Duration>) -> String {
    d.map_or("-".into(), |d| format!("{:.0}", d.as_secs_f64() * 1e6))
}
