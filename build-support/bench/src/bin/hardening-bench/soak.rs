//! **soak**: minutes of mixed load against one `pseud-demo serve`, bounded by
//! time: idle clients that stay connected, a churn of clients that connect, call
//! once and leave, and a windowed caller pushing millions of calls. Every window
//! prints the rates and the server's memory, so that a leak (memory that grows
//! with connections or calls served) or a slowdown shows as drift.
//!
//! Run from `build-support/soak.sh`, not in CI: it is long by design.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tokio::runtime::Runtime;

use crate::Res;
use crate::server::{Memory, Served, mib};

/// Idle clients connected throughout.
const IDLE: usize = 200;
/// Calls the windowed caller keeps in flight.
const WINDOW: usize = 100;
/// How often a line is printed.
const EVERY: Duration = Duration::from_secs(10);

/// What the load tasks count.
#[derive(Default)]
struct Counts {
    calls: AtomicU64,
    cycles: AtomicU64,
    failures: AtomicU64,
}

pub fn run(rt: &Runtime, bin: &Path, duration: Duration) -> Res<()> {
    println!(
        "\n== soak: {duration:?} against one server: {IDLE} idle clients, a connect/call/close churn, {WINDOW} calls in flight"
    );
    let mut served = Served::start(bin)?;
    let endpoint = served.endpoint.clone();
    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));
    let connect = move |endpoint: &str| {
        pseud::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect(endpoint)
    };
    let idle = rt.block_on(async {
        let mut idle = Vec::with_capacity(IDLE);
        for _ in 0..IDLE {
            let client = connect(&endpoint)?;
            let _: i64 = client.call("add", (0, 0)).await?;
            idle.push(client);
        }
        Res::Ok(idle)
    })?;
    let churn = rt.spawn({
        let (endpoint, counts, stop) = (endpoint.clone(), counts.clone(), stop.clone());
        async move {
            while !stop.load(Ordering::Relaxed) {
                let ok = match connect(&endpoint) {
                    Ok(client) => {
                        let ok = matches!(client.call::<i64>("add", (1, 2)).await, Ok(3));
                        client.stop().await;
                        ok
                    }
                    Err(_) => false,
                };
                let counter = if ok { &counts.cycles } else { &counts.failures };
                counter.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let windowed = rt.spawn({
        let (endpoint, counts, stop) = (endpoint.clone(), counts.clone(), stop.clone());
        async move {
            let Ok(client) = connect(&endpoint) else {
                counts.failures.fetch_add(1, Ordering::Relaxed);
                return;
            };
            let remote = client.server().clone();
            let mut in_flight = FuturesUnordered::new();
            loop {
                while in_flight.len() < WINDOW && !stop.load(Ordering::Relaxed) {
                    let remote = remote.clone();
                    in_flight.push(async move { remote.call::<i64>("add", (2, 3)).await });
                }
                match in_flight.next().await {
                    Some(Ok(5)) => counts.calls.fetch_add(1, Ordering::Relaxed),
                    Some(_) => counts.failures.fetch_add(1, Ordering::Relaxed),
                    None => break,
                };
            }
            client.stop().await;
        }
    });
    println!(
        "{:>6} {:>12} {:>10} {:>12} {:>10} {:>9} {:>9}",
        "t s", "calls", "calls/s", "churn cycles", "cycles/s", "RSS MiB", "HWM MiB"
    );
    let started = Instant::now();
    let mut last = (0u64, 0u64, Instant::now());
    let mut first: Option<Memory> = None;
    let mut end: Option<Memory> = None;
    while started.elapsed() < duration {
        std::thread::sleep(EVERY.min(duration.saturating_sub(started.elapsed())));
        let (calls, cycles) = (
            counts.calls.load(Ordering::Relaxed),
            counts.cycles.load(Ordering::Relaxed),
        );
        let secs = last.2.elapsed().as_secs_f64();
        let memory = served.memory();
        first = first.or(memory);
        end = memory.or(end);
        println!(
            "{:>6.0} {:>12} {:>10.0} {:>12} {:>10.0} {:>9} {:>9}",
            started.elapsed().as_secs_f64(),
            calls,
            (calls - last.0) as f64 / secs,
            cycles,
            (cycles - last.1) as f64 / secs,
            memory.map_or("-".into(), |m| format!("{:.1}", mib(m.rss_kib))),
            memory.map_or("-".into(), |m| format!("{:.1}", mib(m.hwm_kib))),
        );
        last = (calls, cycles, Instant::now());
        if let Some(why) = served.exited() {
            return Err(format!("the server exited during the soak: {why}").into());
        }
    }
    stop.store(true, Ordering::Relaxed);
    rt.block_on(async {
        let _ = tokio::time::timeout(Duration::from_secs(15), churn).await;
        let _ = tokio::time::timeout(Duration::from_secs(15), windowed).await;
        for client in idle {
            client.stop().await;
        }
    });
    let calls = counts.calls.load(Ordering::Relaxed);
    let cycles = counts.cycles.load(Ordering::Relaxed);
    let failures = counts.failures.load(Ordering::Relaxed);
    let drift = match (first, end) {
        (Some(a), Some(b)) => format!(
            "{:+.1} MiB RSS from the first window to the last",
            mib(b.rss_kib) - mib(a.rss_kib)
        ),
        _ => "memory not readable".into(),
    };
    println!(
        "RESULT soak: {calls} calls ({:.0}/s), {cycles} connect/call/close cycles ({:.0}/s), {failures} failed; {drift}",
        calls as f64 / started.elapsed().as_secs_f64(),
        cycles as f64 / started.elapsed().as_secs_f64(),
    );
    Ok(())
}
