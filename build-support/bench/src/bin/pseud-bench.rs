//! `pseud-bench`: pseud's Rust client → Rust server against a raw libzmq floor,
//! measured in one run on `tcp://127.0.0.1`.
//!
//! * **raw**: a ROUTER named `"server"` (its own thread) answers every
//!   pseud-shaped WORK `["", "v1", id, 0x03, ["add", [1, 2], {}]]` with an
//!   OK-shaped `["", "v1", id, 0x01, 3]`; the caller is a DEALER on the main
//!   thread. Plain blocking libzmq (the `zmq` crate, so the same libzmq as
//!   pseud), one context with one I/O thread, like pseud's.
//! * **pseud**: `client.call::<i64>("add", (1, 2))` against
//!   `server.register("add", |a, b| a + b)`, both started in this process on
//!   one multi-threaded tokio runtime (default: one worker per CPU), with the
//!   defaults a user gets: the server's socket loop on its own thread (sync
//!   handlers inline there), the client's socket loop and the calling code as
//!   tasks on the runtime's workers.
//!
//! Each side gets sequential calls (one at a time) and windowed calls (100 in
//! flight: the DEALER keeps 100 requests outstanding; pseud keeps a
//! `FuturesUnordered` window of 100 calls in one task, the same shape). As an
//! extra figure, pseud also runs 100 tasks, each making its share of the calls
//! one at a time. Every measurement runs in 5 slices that alternate with the
//! other side's (raw, pseud, raw, pseud, ...), so both see the same machine
//! load; a figure is all its calls over the sum of its slices' times, and the
//! slowest and fastest slice are printed beside it to show the noise.
//!
//! Nothing is pinned: the OS places both sides by the same rules. Sequential
//! figures depend strongly on that placement (a round trip between threads on
//! different CPUs costs ~40 µs more on a small VM); to compare both sides on
//! one CPU, run the whole process under `taskset -c 0`.
//!
//! The last output line is one JSON object: calls/s of the four measurements,
//! then the pseud/raw ratios. `--quick` uses small counts for CI smoke runs.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use pseud::value::{Value, to_msgpack};
use pseud::{Client, Remote, Server};
use tokio::runtime::Runtime;

/// In-flight requests in the windowed measurements.
const WINDOW: usize = 100;
// The measurement labels say 100.
const _: () = assert!(WINDOW == 100);
/// Longest wait for any single reply; a stalled peer fails the run instead of hanging it.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest time one pseud measurement may take.
const PHASE_DEADLINE: Duration = Duration::from_secs(120);
/// Target ratios (pseud / raw) from the issue.
const SEQ_TARGET: f64 = 0.8;
const WINDOW_TARGET: f64 = 0.6;

/// What to run: call counts, and which sides.
#[derive(Clone, Copy, Debug)]
struct Plan {
    warmup: usize,
    seq: usize,
    window: usize,
    raw: bool,
    pseud: bool,
}

const FULL: Plan = Plan {
    warmup: 2_000,
    seq: 20_000,
    window: 200_000,
    raw: true,
    pseud: true,
};
const QUICK: Plan = Plan {
    warmup: 200,
    seq: 2_000,
    window: 20_000,
    ..FULL
};

type Res<T> = Result<T, String>;

fn main() {
    let plan = match parse_args() {
        Ok(plan) => plan,
        Err(msg) => {
            eprintln!("pseud-bench: {msg}");
            std::process::exit(2);
        }
    };
    let cpus = thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "pseud-bench: tcp://127.0.0.1, {cpus} CPUs, {} sequential / {} windowed calls (window {WINDOW}), warm-up {}",
        plan.seq, plan.window, plan.warmup
    );
    match run(plan) {
        Ok(json) => println!("{json}"),
        Err(e) => {
            eprintln!("pseud-bench: {e}");
            std::process::exit(1);
        }
    }
}

/// Command line (clap: the standard parser, with generated --help).
#[derive(clap::Parser)]
#[command(
    name = "pseud-bench",
    about = "pseud vs raw libzmq, sequential and 100 in flight"
)]
struct Cli {
    /// Small counts for a CI smoke run.
    #[arg(long)]
    quick: bool,
    /// Sequential calls (0 skips the measurement).
    #[arg(long)]
    seq: Option<usize>,
    /// Windowed calls (0 skips the measurement).
    #[arg(long)]
    window: Option<usize>,
    /// Measure one side only (for profiling).
    #[arg(long, value_parser = ["raw", "pseud"])]
    only: Option<String>,
}

fn parse_args() -> Res<Plan> {
    let cli = <Cli as clap::Parser>::parse();
    let mut plan = if cli.quick { QUICK } else { FULL };
    plan.seq = cli.seq.unwrap_or(plan.seq);
    plan.window = cli.window.unwrap_or(plan.window);
    match cli.only.as_deref() {
        Some("raw") => plan.pseud = false,
        Some("pseud") => plan.raw = false,
        _ => {}
    }
    Ok(plan)
}

/// Runs the measurements in alternation and returns the JSON summary line.
fn run(plan: Plan) -> Res<String> {
    let mut raw = plan.raw.then(RawPair::start).transpose()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let pseud = if plan.pseud {
        Some(on_runtime(&rt, PseudPair::start())?)
    } else {
        None
    };
    let result = measure(plan, raw.as_mut(), pseud.as_ref(), &rt);
    if let Some(pseud) = pseud
        && let Err(e) = on_runtime(&rt, pseud.stop())
    {
        eprintln!("pseud-bench: {e}");
    }
    if let Some(raw) = raw {
        raw.stop()?;
    }
    result
}

/// Which implementation a measurement exercises.
#[derive(Clone, Copy, Debug)]
enum Side {
    Raw,
    Pseud,
}

/// The measurements, in the order they alternate: (JSON key, label, side, phase).
const SEQ_SET: &[(&str, &str, Side, Phase)] = &[
    ("raw_seq", "raw sequential", Side::Raw, Phase::Seq),
    ("pseud_seq", "pseud sequential", Side::Pseud, Phase::Seq),
];
const WINDOW_SET: &[(&str, &str, Side, Phase)] = &[
    (
        "raw_window",
        "raw windowed (100 in flight)",
        Side::Raw,
        Phase::Window,
    ),
    (
        "pseud_window",
        "pseud windowed (100 in flight)",
        Side::Pseud,
        Phase::Window,
    ),
    (
        "pseud_tasks",
        "pseud 100 tasks x sequential",
        Side::Pseud,
        Phase::Tasks,
    ),
];
/// Each measurement runs in this many slices, alternating with the others, so
/// that a burst of load from other processes hits raw and pseud alike.
const ROUNDS: usize = 5;

fn measure(
    plan: Plan,
    mut raw: Option<&mut RawPair>,
    pseud: Option<&PseudPair>,
    rt: &Runtime,
) -> Res<String> {
    // Runs one slice; `None` when that side is not being measured.
    let mut run_one = |side: Side, phase: Phase, n: usize| -> Res<Option<Duration>> {
        match side {
            Side::Raw => match raw.as_deref_mut() {
                Some(raw) => phase.raw(raw, n).map(Some),
                None => Ok(None),
            },
            Side::Pseud => match pseud {
                Some(p) => on_runtime(rt, phase.pseud(p.remote.clone(), n)).map(Some),
                None => Ok(None),
            },
        }
    };
    for (_, _, side, phase) in SEQ_SET.iter().chain(WINDOW_SET) {
        if !matches!(phase, Phase::Tasks) {
            run_one(*side, *phase, plan.warmup)?;
        }
    }

    let mut results: Vec<(&str, f64)> = Vec::new();
    for (set, calls) in [(SEQ_SET, plan.seq), (WINDOW_SET, plan.window)] {
        // Per measurement: total time, and the slowest and fastest slice (calls/s).
        let mut acc = vec![(Duration::ZERO, f64::INFINITY, 0.0_f64); set.len()];
        for round in 0..ROUNDS {
            let n = calls / ROUNDS + usize::from(round < calls % ROUNDS);
            if n == 0 {
                continue;
            }
            for ((_, _, side, phase), (total, lo, hi)) in set.iter().zip(&mut acc) {
                if let Some(elapsed) = run_one(*side, *phase, n)? {
                    *total += elapsed;
                    let rate = n as f64 / elapsed.as_secs_f64();
                    *lo = lo.min(rate);
                    *hi = hi.max(rate);
                }
            }
        }
        for ((key, label, _, _), (total, lo, hi)) in set.iter().zip(acc) {
            if total > Duration::ZERO {
                results.push((key, report(label, calls, total, (lo, hi))));
            }
        }
    }

    let get = |key: &str| results.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let ratios = [
        ("seq_ratio", "pseud_seq", "raw_seq", Some(SEQ_TARGET)),
        (
            "window_ratio",
            "pseud_window",
            "raw_window",
            Some(WINDOW_TARGET),
        ),
        ("tasks_ratio", "pseud_tasks", "raw_window", None),
    ];
    let mut json: Vec<String> = results
        .iter()
        .map(|(k, v)| format!("\"{k}\":{v:.1}"))
        .collect();
    for (key, pseud_key, raw_key, target) in ratios {
        let (Some(p), Some(r)) = (get(pseud_key), get(raw_key)) else {
            continue;
        };
        let ratio = p / r;
        json.push(format!("\"{key}\":{ratio:.4}"));
        let verdict = match target {
            Some(t) if ratio >= t => format!("target >= {t}: met"),
            Some(t) => format!("target >= {t}: MISSED"),
            None => "no target".into(),
        };
        println!("{key:<31} {ratio:.3} ({verdict})");
    }
    Ok(format!("{{{}}}", json.join(",")))
}

/// Prints one measurement and returns its calls/s; `range` is the slowest and
/// fastest slice.
fn report(label: &str, calls: usize, elapsed: Duration, range: (f64, f64)) -> f64 {
    let rate = calls as f64 / elapsed.as_secs_f64();
    let us = elapsed.as_secs_f64() * 1e6 / calls as f64;
    println!(
        "{label:<31} {calls:>7} calls in {elapsed:>9.3?}: {rate:>8.0} calls/s ({us:6.2} us/call; slices {:.0}..{:.0})",
        range.0, range.1
    );
    rate
}

/// The WORK body `["add", [1, 2], {}]`, packed by pseud's own encoder.
fn work_body() -> Res<Vec<u8>> {
    let body = Value::Array(vec![
        Value::from("add"),
        Value::Array(vec![Value::from(1), Value::from(2)]),
        Value::Map(Vec::new()),
    ]);
    to_msgpack(&body).map_err(|e| e.to_string())
}

/// The kinds of measurement.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// One call at a time.
    Seq,
    /// `WINDOW` calls in flight from one caller.
    Window,
    /// pseud only: `WINDOW` tasks, each making sequential calls.
    Tasks,
}

impl Phase {
    fn raw(self, raw: &mut RawPair, n: usize) -> Res<Duration> {
        match self {
            Phase::Seq => raw.sequential(n),
            Phase::Window => raw.windowed(n),
            Phase::Tasks => Err("raw has no tasks measurement".into()),
        }
    }

    async fn pseud(self, remote: Remote, n: usize) -> Res<Duration> {
        match self {
            Phase::Seq => sequential(&remote, n).await,
            Phase::Window => windowed(&remote, n).await,
            Phase::Tasks => tasks(&remote, n).await,
        }
    }
}

// ---- raw libzmq -------------------------------------------------------------

/// The raw ROUTER (in its own thread) and the DEALER that calls it.
struct RawPair {
    dealer: zmq::Socket,
    router: JoinHandle<Res<()>>,
    stop: Arc<AtomicBool>,
    body: Vec<u8>,
    next_id: u128,
    /// Reply frames, reused.
    frames: Vec<zmq::Message>,
}

impl RawPair {
    fn start() -> Res<Self> {
        let zerr = |what: &'static str| move |e: zmq::Error| format!("raw {what}: {e}");
        // One context, one I/O thread for both ends, as pseud has.
        let ctx = zmq::Context::new();
        let router = ctx.socket(zmq::ROUTER).map_err(zerr("socket"))?;
        router.set_identity(b"server").map_err(zerr("identity"))?;
        router.set_linger(0).map_err(zerr("linger"))?;
        // Wake up now and then to notice the stop flag.
        router.set_rcvtimeo(100).map_err(zerr("rcvtimeo"))?;
        router.bind("tcp://127.0.0.1:0").map_err(zerr("bind"))?;
        let endpoint = router
            .get_last_endpoint()
            .map_err(zerr("last endpoint"))?
            .map_err(|_| "raw: endpoint is not UTF-8".to_string())?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let router = thread::Builder::new()
            .name("raw-router".into())
            .spawn(move || raw_server(&router, &flag))
            .map_err(|e| format!("raw: spawn: {e}"))?;
        let dealer = ctx.socket(zmq::DEALER).map_err(zerr("socket"))?;
        dealer.set_linger(0).map_err(zerr("linger"))?;
        let timeout = i32::try_from(REPLY_TIMEOUT.as_millis()).unwrap_or(i32::MAX);
        dealer.set_rcvtimeo(timeout).map_err(zerr("rcvtimeo"))?;
        dealer.connect(&endpoint).map_err(zerr("connect"))?;
        Ok(RawPair {
            dealer,
            router,
            stop,
            body: work_body()?,
            next_id: 0,
            frames: (0..5).map(|_| zmq::Message::new()).collect(),
        })
    }

    /// Sends one WORK `["", "v1", id, 0x03, body]` with a fresh 16-byte id.
    fn send(&mut self) -> Res<()> {
        self.next_id += 1;
        let id = self.next_id.to_le_bytes();
        let d = &self.dealer;
        d.send(&b""[..], zmq::SNDMORE)
            .and_then(|()| d.send(&b"v1"[..], zmq::SNDMORE))
            .and_then(|()| d.send(&id[..], zmq::SNDMORE))
            .and_then(|()| d.send(&[0x03][..], zmq::SNDMORE))
            .and_then(|()| d.send(&self.body[..], 0))
            .map_err(|e| format!("raw send: {e}"))
    }

    /// Receives one reply (within `REPLY_TIMEOUT`) and checks it is an OK `3`.
    fn recv(&mut self) -> Res<()> {
        let mut n = 0;
        loop {
            let mut spare = zmq::Message::new();
            let slot = self.frames.get_mut(n).unwrap_or(&mut spare);
            self.dealer.recv(slot, 0).map_err(|e| match e {
                zmq::Error::EAGAIN => format!("raw: no reply within {REPLY_TIMEOUT:?}"),
                e => format!("raw recv: {e}"),
            })?;
            n += 1;
            if !self
                .dealer
                .get_rcvmore()
                .map_err(|e| format!("raw recv: {e}"))?
            {
                break;
            }
        }
        let f = &self.frames;
        if n != 5 || &f[1][..] != b"v1" || f[3][..] != [0x01] || f[4][..] != [0x03] {
            return Err(format!("raw: unexpected {n}-frame reply"));
        }
        Ok(())
    }

    fn sequential(&mut self, n: usize) -> Res<Duration> {
        let start = Instant::now();
        for _ in 0..n {
            self.send()?;
            self.recv()?;
        }
        Ok(start.elapsed())
    }

    fn windowed(&mut self, n: usize) -> Res<Duration> {
        let start = Instant::now();
        let mut sent = 0;
        while sent < n.min(WINDOW) {
            self.send()?;
            sent += 1;
        }
        for _ in 0..n {
            self.recv()?;
            if sent < n {
                self.send()?;
                sent += 1;
            }
        }
        Ok(start.elapsed())
    }

    fn stop(self) -> Res<()> {
        self.stop.store(true, Ordering::Relaxed);
        self.router
            .join()
            .unwrap_or_else(|_| Err("raw router panicked".into()))
    }
}

/// The ROUTER loop: answers each WORK with an OK carrying msgpack `3`.
fn raw_server(router: &zmq::Socket, stop: &AtomicBool) -> Res<()> {
    let mut frames: Vec<zmq::Message> = (0..6).map(|_| zmq::Message::new()).collect();
    while !stop.load(Ordering::Relaxed) {
        // One whole message into reused frames; EAGAIN means the 100 ms timeout passed.
        let mut n = 0;
        loop {
            let mut spare = zmq::Message::new();
            let slot = frames.get_mut(n).unwrap_or(&mut spare);
            match router.recv(slot, 0) {
                Ok(()) => n += 1,
                Err(zmq::Error::EAGAIN) if n == 0 => break,
                Err(e) => return Err(format!("raw router recv: {e}")),
            }
            if !router
                .get_rcvmore()
                .map_err(|e| format!("raw router: {e}"))?
            {
                break;
            }
        }
        if n == 0 {
            continue;
        }
        // [peer] [""] ["v1"] [id] [0x03] [body]
        if n != 6 || &frames[2][..] != b"v1" || frames[4][..] != [0x03] {
            eprintln!("raw router: unexpected {n}-frame message dropped");
            continue;
        }
        router
            .send(&frames[0][..], zmq::SNDMORE)
            .and_then(|()| router.send(&b""[..], zmq::SNDMORE))
            .and_then(|()| router.send(&b"v1"[..], zmq::SNDMORE))
            .and_then(|()| router.send(&frames[3][..], zmq::SNDMORE))
            .and_then(|()| router.send(&[0x01][..], zmq::SNDMORE))
            .and_then(|()| router.send(&[0x03][..], 0)) // msgpack 3
            .map_err(|e| format!("raw router send: {e}"))?;
    }
    Ok(())
}

// ---- pseud ------------------------------------------------------------------

/// Runs `fut` as a task on the runtime (not on the calling thread), bounded in time.
fn on_runtime<T: Send + 'static>(
    rt: &Runtime,
    fut: impl Future<Output = Res<T>> + Send + 'static,
) -> Res<T> {
    rt.block_on(async {
        match tokio::time::timeout(PHASE_DEADLINE, tokio::spawn(fut)).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => Err(format!("pseud task failed: {e}")),
            Err(_) => Err(format!("pseud step took over {PHASE_DEADLINE:?}")),
        }
    })
}

/// A pseud server serving `add` and a client connected to it.
struct PseudPair {
    server: Server,
    client: Client,
    remote: Remote,
}

impl PseudPair {
    async fn start() -> Res<Self> {
        let perr = |what: &'static str| move |e: pseud::Error| format!("pseud {what}: {e}");
        let server = Server::builder("server")
            .bind("tcp://127.0.0.1:0")
            .timeout(REPLY_TIMEOUT)
            .start()
            .map_err(perr("server"))?;
        server
            .register("add", |a: i64, b: i64| a + b)
            .map_err(perr("register"))?;
        let endpoint = server
            .endpoints()
            .first()
            .cloned()
            .ok_or("pseud server has no endpoint")?;
        let client = Client::builder()
            .server_name("server")
            .timeout(REPLY_TIMEOUT)
            .connect(&endpoint)
            .map_err(perr("connect"))?;
        let remote = client.server().clone();
        Ok(PseudPair {
            server,
            client,
            remote,
        })
    }

    /// Stops both ends (their stop waits only for handlers in flight).
    async fn stop(self) -> Res<()> {
        self.client.stop().await;
        self.server.stop().await;
        Ok(())
    }
}

/// One `add(1, 2)` call, checked.
async fn add(remote: &Remote) -> Res<()> {
    match remote.call::<i64>("add", (1, 2)).await {
        Ok(3) => Ok(()),
        Ok(other) => Err(format!("add(1, 2) returned {other}")),
        Err(e) => Err(format!("add(1, 2) failed: {e}")),
    }
}

async fn sequential(remote: &Remote, n: usize) -> Res<Duration> {
    let start = Instant::now();
    for _ in 0..n {
        add(remote).await?;
    }
    Ok(start.elapsed())
}

/// `n` calls from one task, keeping `WINDOW` in flight.
async fn windowed(remote: &Remote, n: usize) -> Res<Duration> {
    let start = Instant::now();
    let mut in_flight = FuturesUnordered::new();
    let mut sent = 0;
    while sent < n.min(WINDOW) {
        in_flight.push(add(remote));
        sent += 1;
    }
    while let Some(done) = in_flight.next().await {
        done?;
        if sent < n {
            in_flight.push(add(remote));
            sent += 1;
        }
    }
    Ok(start.elapsed())
}

/// `n` calls from `WINDOW` tasks, each making its share one at a time.
async fn tasks(remote: &Remote, n: usize) -> Res<Duration> {
    let start = Instant::now();
    let handles: Vec<_> = (0..WINDOW)
        .map(|i| {
            let remote = remote.clone();
            let share = n / WINDOW + usize::from(i < n % WINDOW);
            tokio::spawn(async move { sequential(&remote, share).await })
        })
        .collect();
    for handle in handles {
        handle
            .await
            .map_err(|e| format!("pseud task failed: {e}"))??;
    }
    Ok(start.elapsed())
}
