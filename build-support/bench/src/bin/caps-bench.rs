//! `caps-bench`: what live capabilities cost, measured in one run on
//! `tcp://127.0.0.1`, with the calculator of `schemas/calculator.capnp` served
//! and called in this process on one multi-threaded tokio runtime (default: one
//! worker per CPU). The calling code runs as tasks on that runtime.
//!
//! 1. **Calls on a returned capability vs plain calls**: sequential
//!    `adder.add(1)` on the `AdderClient` that `calc.get_adder(0)` returned,
//!    against sequential `calc.add(1, 2)` (the registered `Calculator.add`), on
//!    the same connection; then both again with 100 calls in flight (a
//!    `FuturesUnordered` window in one task). Each measurement runs in 20 slices
//!    that alternate with the other's (plain, capability, plain, ...), so a burst
//!    of machine load hits both alike. The ratio is capability time / plain time
//!    per call over all slices (target <= 1.2); the median of the per-round
//!    ratios (`*_median`) is printed beside it, as it is less sensitive to one
//!    slice hit by a burst.
//! 2. **getAdder + add round trips**: `calc.get_adder(i)`, `adder.add(1)`, drop
//!    the adder (which sends `cara.release` in the background), in a loop; and
//!    the same chain with `add` pipelined (`calc.get_adder_pipelined(i).add(1)`),
//!    in slices alternating with the first. `pipeline_speedup` is awaited time /
//!    pipelined time.
//! 3. **Memory**: the cycle of 2, from 100 tasks at once, 1,000,000 times:
//!    resident memory (`VmRSS`) after the first 100,000 cycles and after all
//!    (target: growth <= 10%), and the objects the server still exports after a
//!    bounded wait for the releases to drain (must be 0).
//!
//! Every reply wait, every step and every drain is bounded in time: a stalled
//! run fails instead of hanging. The last output line is one JSON object
//! (`rss_after_100k_kib` is the reading at the checkpoint, a tenth of the
//! cycles, whatever the count). `--quick` uses small counts for CI smoke runs;
//! `--only plain|cap` measures one side of part 1 (for profiling).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cara::Fault;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;

/// Code generated from `schemas/calculator.capnp` (the path is relative to this
/// package's manifest directory).
mod schemas {
    cara::schema!("../../schemas/calculator.capnp");
}

use schemas::calculator_capnp::{
    Adder, AdderClient, Calculator, CalculatorClient, CalculatorServer, Stats, ValueClient,
    calculator,
};

/// Calls in flight in the windowed measurements, and concurrent tasks in the
/// memory measurement.
const WINDOW: usize = 100;
// The labels say 100.
const _: () = assert!(WINDOW == 100);
/// Longest wait for any single reply.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest time one measurement step may take.
const STEP_DEADLINE: Duration = Duration::from_secs(120);
/// Longest time the whole memory measurement may take.
const MEMORY_DEADLINE: Duration = Duration::from_secs(900);
/// Longest wait for asynchronous releases to drain.
const DRAIN_DEADLINE: Duration = Duration::from_secs(30);
/// Slices per measurement in part 1, alternating plain and capability: many
/// short slices, so that a burst of load from other processes hits both alike.
const ROUNDS: usize = 20;
/// Targets from the issue.
const RATIO_TARGET: f64 = 1.2;
const RSS_GROWTH_TARGET: f64 = 0.10;

/// Counts of each measurement (0 skips it).
#[derive(Clone, Copy, Debug)]
struct Plan {
    warmup: usize,
    seq: usize,
    window: usize,
    trips: usize,
    memory: usize,
    checkpoint: usize,
    /// Part 1 measures plain calls / capability calls (both by default).
    plain: bool,
    cap: bool,
}

const FULL: Plan = Plan {
    warmup: 2_000,
    seq: 50_000,
    window: 200_000,
    trips: 50_000,
    memory: 1_000_000,
    checkpoint: 100_000,
    plain: true,
    cap: true,
};
const QUICK: Plan = Plan {
    warmup: 200,
    seq: 2_000,
    window: 2_000,
    trips: 2_000,
    memory: 20_000,
    checkpoint: 2_000,
    ..FULL
};

type Res<T> = Result<T, String>;

fn main() {
    let plan = match parse_args() {
        Ok(plan) => plan,
        Err(msg) => {
            eprintln!("caps-bench: {msg}");
            std::process::exit(2);
        }
    };
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "caps-bench: tcp://127.0.0.1, {cpus} CPUs; {} sequential / {} windowed calls per side (window {WINDOW}), \
         {} getAdder+add round trips, {} memory cycles (checkpoint {}), warm-up {}",
        plan.seq, plan.window, plan.trips, plan.memory, plan.checkpoint, plan.warmup
    );
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("caps-bench: tokio runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = rt.block_on(async {
        match tokio::spawn(run(plan)).await {
            Ok(result) => result,
            Err(e) => Err(format!("benchmark task failed: {e}")),
        }
    });
    // Anything still running (a stalled step) must not keep the process alive.
    rt.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(json) => println!("{json}"),
        Err(e) => {
            eprintln!("caps-bench: {e}");
            std::process::exit(1);
        }
    }
}

/// Command line (clap: the standard parser, with generated --help).
#[derive(clap::Parser)]
#[command(
    name = "caps-bench",
    about = "capability calls vs plain calls, round trips, memory"
)]
struct Cli {
    /// Small counts for a CI smoke run.
    #[arg(long)]
    quick: bool,
    /// Sequential calls per side (0 skips).
    #[arg(long)]
    seq: Option<usize>,
    /// Windowed calls per side (0 skips).
    #[arg(long)]
    window: Option<usize>,
    /// getAdder+add round trips (0 skips).
    #[arg(long)]
    trips: Option<usize>,
    /// Create/call/drop cycles for the memory check; the checkpoint is a tenth (0 skips).
    #[arg(long)]
    memory: Option<usize>,
    /// Part 1 measures plain or capability calls only (for profiling).
    #[arg(long, value_parser = ["plain", "cap"])]
    only: Option<String>,
}

fn parse_args() -> Res<Plan> {
    let cli = <Cli as clap::Parser>::parse();
    let mut plan = if cli.quick { QUICK } else { FULL };
    plan.seq = cli.seq.unwrap_or(plan.seq);
    plan.window = cli.window.unwrap_or(plan.window);
    plan.trips = cli.trips.unwrap_or(plan.trips);
    if let Some(memory) = cli.memory {
        plan.memory = memory;
        plan.checkpoint = memory / 10;
    }
    match cli.only.as_deref() {
        Some("plain") => plan.cap = false,
        Some("cap") => plan.plain = false,
        _ => {}
    }
    Ok(plan)
}

// ---- the server objects -----------------------------------------------------

/// The calculator: stateless, so the plain call costs only the transport and cara.
struct Calc;

impl Calculator for Calc {
    async fn add(&self, first: i32, second: i32) -> Result<i32, Fault> {
        first
            .checked_add(second)
            .ok_or_else(|| Fault::new("OverflowError", "the sum overflows Int32"))
    }

    async fn divide(
        &self,
        numerator: f64,
        denominator: f64,
    ) -> Result<calculator::DivideResults, Fault> {
        if denominator == 0.0 {
            return Err(Fault::new("ZeroDivisionError", "division by zero"));
        }
        let quotient = (numerator / denominator).trunc();
        Ok(calculator::DivideResults {
            quotient,
            remainder: numerator - quotient * denominator,
        })
    }

    async fn stats(&self) -> Result<Stats, Fault> {
        Ok(Stats::default())
    }

    async fn get_adder(&self, offset: i32) -> Result<AdderClient, Fault> {
        Ok(AdderClient::from_server(Total(AtomicI32::new(offset))))
    }

    async fn evaluate(&self, value: ValueClient) -> Result<f64, Fault> {
        Ok(value.read().await? * 2.0)
    }
}

/// An adder: a running total that lives on the server.
struct Total(AtomicI32);

impl Adder for Total {
    async fn add(&self, x: i32) -> Result<i32, Fault> {
        Ok(self.0.fetch_add(x, Ordering::Relaxed).wrapping_add(x))
    }
}

/// The server, a client connected to it, and the typed stub of its calculator.
struct Pair {
    server: cara::Server,
    client: cara::Client,
    calc: CalculatorClient,
}

impl Pair {
    fn start() -> Res<Self> {
        let server = cara::Server::builder("server")
            .bind("tcp://127.0.0.1:0")
            .timeout(REPLY_TIMEOUT)
            .start()
            .map_err(|e| format!("server: {e}"))?;
        cara::serve(server.registry(), CalculatorServer::new(Calc))
            .map_err(|e| format!("serve: {e}"))?;
        let endpoint = server
            .endpoints()
            .first()
            .cloned()
            .ok_or("the server has no endpoint")?;
        let client = cara::Client::builder()
            .server_name("server")
            .timeout(REPLY_TIMEOUT)
            .connect(&endpoint)
            .map_err(|e| format!("connect: {e}"))?;
        let calc = CalculatorClient::new(client.server().clone());
        Ok(Pair {
            server,
            client,
            calc,
        })
    }

    /// Objects the server exports to its peers right now.
    fn exports(&self) -> usize {
        cara::exported_objects(&self.server.send_to(""))
    }

    /// Waits (bounded) until the server exports nothing; returns what is left.
    async fn drain(&self) -> usize {
        let started = Instant::now();
        loop {
            let left = self.exports();
            if left == 0 || started.elapsed() >= DRAIN_DEADLINE {
                return left;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Stops both ends, bounded.
    async fn stop(self) {
        let stopping = async {
            self.client.stop().await;
            self.server.stop().await;
        };
        if tokio::time::timeout(Duration::from_secs(10), stopping)
            .await
            .is_err()
        {
            eprintln!("caps-bench: stopping took over 10 s; left running");
        }
    }
}

/// Runs `fut` as its own task, bounded by `deadline`.
async fn step<T: Send + 'static>(
    what: &str,
    deadline: Duration,
    fut: impl Future<Output = Res<T>> + Send + 'static,
) -> Res<T> {
    let task = tokio::spawn(fut);
    let abort = task.abort_handle();
    match tokio::time::timeout(deadline, task).await {
        Ok(Ok(result)) => result.map_err(|e| format!("{what}: {e}")),
        Ok(Err(e)) => Err(format!("{what}: task failed: {e}")),
        Err(_) => {
            abort.abort();
            Err(format!("{what}: took over {deadline:?}"))
        }
    }
}

// ---- the measurements --------------------------------------------------------

/// The JSON summary, in output order.
#[derive(Default)]
struct Summary(Vec<(&'static str, String)>);

impl Summary {
    fn push(&mut self, key: &'static str, value: impl std::fmt::Display) {
        self.0.push((key, value.to_string()));
    }

    fn json(&self) -> String {
        let fields: Vec<String> = self.0.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", fields.join(","))
    }
}

async fn run(plan: Plan) -> Res<String> {
    let pair = Pair::start()?;
    let result = measure(plan, &pair).await;
    pair.stop().await;
    result
}

async fn measure(plan: Plan, pair: &Pair) -> Res<String> {
    let mut summary = Summary::default();
    let calc = pair.calc.clone();

    // The adder of part 1, and the warm-up of every path measured.
    let adder = step("getAdder(0)", STEP_DEADLINE, {
        let calc = calc.clone();
        async move { calc.get_adder(0).await.map_err(|e| e.to_string()) }
    })
    .await?;
    if adder.stub().is_local() || adder.stub().is_null() {
        return Err("getAdder returned a local or null adder, not a remote capability".into());
    }
    let sides: Vec<Side> = [(Side::Plain, plan.plain), (Side::Cap, plan.cap)]
        .into_iter()
        .filter_map(|(side, on)| on.then_some(side))
        .collect();
    for &side in &sides {
        for phase in [Phase::Seq, Phase::Window] {
            slice(side, phase, &calc, &adder, plan.warmup).await?;
        }
    }
    step(
        "warm-up round trips",
        STEP_DEADLINE,
        round_trips(calc.clone(), plan.warmup.min(plan.trips.max(1))),
    )
    .await?;

    // 1. Capability calls vs plain calls, alternating slices.
    for (phase, calls, plain_key, cap_key, ratio_key, median_key) in [
        (
            Phase::Seq,
            plan.seq,
            "plain_seq",
            "cap_seq",
            "cap_ratio",
            "cap_ratio_median",
        ),
        (
            Phase::Window,
            plan.window,
            "plain_window",
            "cap_window",
            "window_ratio",
            "window_ratio_median",
        ),
    ] {
        if calls == 0 {
            continue;
        }
        // Per side: total time, slowest and fastest slice (calls/s).
        let mut acc = [(Duration::ZERO, f64::INFINITY, 0.0_f64); 2];
        // Per round: capability time / plain time of its two slices.
        let mut paired: Vec<f64> = Vec::new();
        for round in 0..ROUNDS {
            let n = calls / ROUNDS + usize::from(round < calls % ROUNDS);
            if n == 0 {
                continue;
            }
            let mut pair_times = [None, None];
            for (side, (total, lo, hi)) in [Side::Plain, Side::Cap].into_iter().zip(&mut acc) {
                if !sides.contains(&side) {
                    continue;
                }
                let elapsed = slice(side, phase, &calc, &adder, n).await?;
                pair_times[side as usize] = Some(elapsed);
                *total += elapsed;
                let rate = n as f64 / elapsed.as_secs_f64();
                *lo = lo.min(rate);
                *hi = hi.max(rate);
            }
            if let [Some(plain), Some(cap)] = pair_times {
                paired.push(cap.as_secs_f64() / plain.as_secs_f64());
            }
        }
        let mut times = [None, None];
        for ((side, key), ((total, lo, hi), time)) in
            [(Side::Plain, plain_key), (Side::Cap, cap_key)]
                .into_iter()
                .zip(acc.into_iter().zip(&mut times))
        {
            if total > Duration::ZERO {
                let rate = report(&phase.label(side), calls, total, (lo, hi));
                summary.push(key, format!("{rate:.1}"));
                *time = Some(total);
            }
        }
        if let [Some(plain), Some(cap)] = times {
            let ratio = cap.as_secs_f64() / plain.as_secs_f64();
            paired.sort_by(f64::total_cmp);
            let median = paired.get(paired.len() / 2).copied().unwrap_or(f64::NAN);
            println!(
                "{:<44} {ratio:.3} (target <= {RATIO_TARGET}: {}; median of {} paired slices {median:.3}, range {:.3}..{:.3})",
                format!("{ratio_key} (capability / plain time per call)"),
                verdict(ratio <= RATIO_TARGET),
                paired.len(),
                paired.first().copied().unwrap_or(f64::NAN),
                paired.last().copied().unwrap_or(f64::NAN),
            );
            summary.push(ratio_key, format!("{ratio:.4}"));
            summary.push(median_key, format!("{median:.4}"));
        }
    }
    drop(adder);

    // 2. getAdder + add + drop, one at a time: awaiting the adder, then with
    // `add` pipelined on it, in alternating slices.
    if plan.trips > 0 {
        step(
            "pipelined warm-up",
            STEP_DEADLINE,
            chains(calc.clone(), plan.warmup.min(plan.trips), true),
        )
        .await?;
        let (mut plain, mut piped) = (Duration::ZERO, Duration::ZERO);
        let mut paired = Vec::new();
        for round in 0..ROUNDS {
            let n = plan.trips / ROUNDS + usize::from(round < plan.trips % ROUNDS);
            if n == 0 {
                continue;
            }
            let a = step("round trips", STEP_DEADLINE, chains(calc.clone(), n, false)).await?;
            let b = step("pipelined", STEP_DEADLINE, chains(calc.clone(), n, true)).await?;
            plain += a;
            piped += b;
            paired.push(a.as_secs_f64() / b.as_secs_f64());
        }
        let rate = report(
            "getAdder+add+drop, sequential",
            plan.trips,
            plain,
            (f64::NAN, f64::NAN),
        );
        let piped_rate = report(
            "getAdder+add+drop, add pipelined",
            plan.trips,
            piped,
            (f64::NAN, f64::NAN),
        );
        let speedup = plain.as_secs_f64() / piped.as_secs_f64();
        paired.sort_by(f64::total_cmp);
        let median = paired.get(paired.len() / 2).copied().unwrap_or(f64::NAN);
        println!(
            "{:<44} {speedup:.3} (median of {} paired slices {median:.3})",
            "pipeline_speedup (awaited / pipelined time)",
            paired.len(),
        );
        summary.push("get_adder_add_per_s", format!("{rate:.1}"));
        summary.push("pipelined_chain_per_s", format!("{piped_rate:.1}"));
        summary.push("pipeline_speedup", format!("{speedup:.4}"));
        summary.push("pipeline_speedup_median", format!("{median:.4}"));
    }

    // 3. Memory across create/call/drop cycles.
    if plan.memory > 0 {
        let memory = step(
            "memory",
            MEMORY_DEADLINE,
            memory(
                calc.clone(),
                pair.server.send_to(""),
                plan.memory,
                plan.checkpoint,
            ),
        )
        .await?;
        let growth = memory.after_all as f64 / memory.after_checkpoint as f64 - 1.0;
        println!(
            "{:<44} {} KiB after {} cycles, {} KiB after {} ({:+.1}%; target <= {:.0}%: {})",
            "resident memory (VmRSS)",
            memory.after_checkpoint,
            plan.checkpoint,
            memory.after_all,
            plan.memory,
            growth * 100.0,
            RSS_GROWTH_TARGET * 100.0,
            verdict(growth <= RSS_GROWTH_TARGET)
        );
        println!(
            "{:<44} {} KiB before, {:.0} cycles/s ({} tasks); peak exports {}",
            "",
            memory.before,
            plan.memory as f64 / memory.elapsed.as_secs_f64(),
            WINDOW,
            memory.peak_exports
        );
        summary.push("rss_after_100k_kib", memory.after_checkpoint);
        summary.push("rss_after_1m_kib", memory.after_all);
        summary.push("rss_growth", format!("{growth:.4}"));
        summary.push(
            "memory_cycles_per_s",
            format!("{:.1}", plan.memory as f64 / memory.elapsed.as_secs_f64()),
        );
    }

    // Everything this run created must be released.
    let started = Instant::now();
    let left = pair.drain().await;
    println!(
        "{:<44} {left} after {:.0?} (must be 0: {})",
        "exported objects left",
        started.elapsed(),
        verdict(left == 0)
    );
    summary.push("exports_left", left);
    Ok(summary.json())
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// Prints one measurement and returns its calls/s; `range` is the slowest and
/// fastest slice (NaN: not sliced).
fn report(label: &str, calls: usize, elapsed: Duration, range: (f64, f64)) -> f64 {
    let rate = calls as f64 / elapsed.as_secs_f64();
    let us = elapsed.as_secs_f64() * 1e6 / calls as f64;
    let slices = if range.0.is_nan() {
        String::new()
    } else {
        format!("; slices {:.0}..{:.0}", range.0, range.1)
    };
    println!("{label:<44} {calls:>7} in {elapsed:>9.3?}: {rate:>8.0}/s ({us:6.2} us each{slices})");
    rate
}

/// Which call part 1 makes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Side {
    /// `calc.add(1, 2)`: the registered `Calculator.add`.
    Plain = 0,
    /// `adder.add(1)`: a call on the returned capability.
    Cap = 1,
}

/// How part 1 makes its calls.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// One at a time.
    Seq,
    /// `WINDOW` in flight from one task.
    Window,
}

impl Phase {
    fn label(self, side: Side) -> String {
        let call = match side {
            Side::Plain => "plain calc.add(1, 2)",
            Side::Cap => "capability adder.add(1)",
        };
        match self {
            Phase::Seq => format!("{call}, sequential"),
            Phase::Window => format!("{call}, 100 in flight"),
        }
    }
}

/// One slice of part 1, as its own bounded task.
async fn slice(
    side: Side,
    phase: Phase,
    calc: &CalculatorClient,
    adder: &AdderClient,
    n: usize,
) -> Res<Duration> {
    let what = phase.label(side);
    match side {
        Side::Plain => {
            let calc = calc.clone();
            step(&what, STEP_DEADLINE, async move {
                let call = || async {
                    match calc.add(1, 2).await {
                        Ok(3) => Ok(()),
                        Ok(other) => Err(format!("add(1, 2) returned {other}")),
                        Err(e) => Err(format!("add(1, 2) failed: {e}")),
                    }
                };
                calls(phase, n, call).await
            })
            .await
        }
        Side::Cap => {
            let adder = adder.clone();
            step(&what, STEP_DEADLINE, async move {
                let call = || async {
                    adder
                        .add(1)
                        .await
                        .map(drop)
                        .map_err(|e| format!("adder.add(1) failed: {e}"))
                };
                calls(phase, n, call).await
            })
            .await
        }
    }
}

/// `n` calls of `call`, one at a time or `WINDOW` in flight.
async fn calls<F, Fut>(phase: Phase, n: usize, call: F) -> Res<Duration>
where
    F: Fn() -> Fut,
    Fut: Future<Output = Res<()>>,
{
    let start = Instant::now();
    match phase {
        Phase::Seq => {
            for _ in 0..n {
                call().await?;
            }
        }
        Phase::Window => {
            let mut in_flight = FuturesUnordered::new();
            let mut sent = 0;
            while sent < n.min(WINDOW) {
                in_flight.push(call());
                sent += 1;
            }
            while let Some(done) = in_flight.next().await {
                done?;
                if sent < n {
                    in_flight.push(call());
                    sent += 1;
                }
            }
        }
    }
    Ok(start.elapsed())
}

/// One create/call/drop cycle: `getAdder(offset)`, `add(1)`, drop (→ release).
async fn cycle(calc: &CalculatorClient, offset: i32) -> Res<()> {
    let adder = calc
        .get_adder(offset)
        .await
        .map_err(|e| format!("getAdder({offset}) failed: {e}"))?;
    let sum = adder
        .add(1)
        .await
        .map_err(|e| format!("adder.add(1) failed: {e}"))?;
    if sum != offset.wrapping_add(1) {
        return Err(format!("getAdder({offset}).add(1) returned {sum}"));
    }
    drop(adder);
    Ok(())
}

/// `n` cycles one at a time.
async fn round_trips(calc: CalculatorClient, n: usize) -> Res<Duration> {
    let start = Instant::now();
    for i in 0..n {
        cycle(&calc, (i % 1_000_000) as i32).await?;
    }
    Ok(start.elapsed())
}

/// [`cycle`] with `add` pipelined on the not-yet-returned adder.
async fn pipelined_cycle(calc: &CalculatorClient, offset: i32) -> Res<()> {
    let adder = calc.get_adder_pipelined(offset);
    let sum = adder
        .add(1)
        .await
        .map_err(|e| format!("getAdder({offset}) pipelined add(1) failed: {e}"))?;
    if sum != offset.wrapping_add(1) {
        return Err(format!(
            "getAdder({offset}) pipelined add(1) returned {sum}"
        ));
    }
    drop(adder);
    Ok(())
}

/// `n` chains, one at a time, pipelined or not.
async fn chains(calc: CalculatorClient, n: usize, pipelined: bool) -> Res<Duration> {
    let start = Instant::now();
    for i in 0..n {
        let offset = (i % 1_000_000) as i32;
        if pipelined {
            pipelined_cycle(&calc, offset).await?;
        } else {
            cycle(&calc, offset).await?;
        }
    }
    Ok(start.elapsed())
}

/// Part 3's figures.
struct Memory {
    before: u64,
    after_checkpoint: u64,
    after_all: u64,
    peak_exports: usize,
    elapsed: Duration,
}

/// `total` cycles from `WINDOW` tasks, with an RSS reading once the first
/// `checkpoint` cycles are done (all tasks stop there, then go on) and at the
/// end. A sampler watches how many objects the server exports meanwhile.
async fn memory(
    calc: CalculatorClient,
    probe: cara::Remote,
    total: usize,
    checkpoint: usize,
) -> Res<Memory> {
    let before = rss_kib()?;
    let peak = Arc::new(AtomicUsize::new(0));
    let sampler = tokio::spawn({
        let peak = peak.clone();
        async move {
            loop {
                peak.fetch_max(cara::exported_objects(&probe), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });
    let start = Instant::now();
    let mut result = run_tasks(&calc, checkpoint).await;
    let after_checkpoint = rss_kib();
    if result.is_ok() {
        result = run_tasks(&calc, total - checkpoint).await;
    }
    let elapsed = start.elapsed();
    let after_all = rss_kib();
    sampler.abort();
    result?;
    Ok(Memory {
        before,
        after_checkpoint: after_checkpoint?,
        after_all: after_all?,
        peak_exports: peak.load(Ordering::Relaxed),
        elapsed,
    })
}

/// `n` cycles shared among `WINDOW` concurrent tasks.
async fn run_tasks(calc: &CalculatorClient, n: usize) -> Res<()> {
    let handles: Vec<_> = (0..WINDOW)
        .map(|t| {
            let calc = calc.clone();
            let share = n / WINDOW + usize::from(t < n % WINDOW);
            tokio::spawn(async move {
                for i in 0..share {
                    cycle(&calc, (t * 10_000 + i % 10_000) as i32).await?;
                }
                Ok::<(), String>(())
            })
        })
        .collect();
    let mut result = Ok(());
    for handle in handles {
        let done = match handle.await {
            Ok(done) => done,
            Err(e) => Err(format!("memory task failed: {e}")),
        };
        if result.is_ok() {
            result = done;
        }
    }
    result
}

/// This process's resident memory, from `/proc/self/status`.
fn rss_kib() -> Res<u64> {
    let status = std::fs::read_to_string("/proc/self/status")
        .map_err(|e| format!("/proc/self/status: {e}"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| "no VmRSS in /proc/self/status".to_string())
}
