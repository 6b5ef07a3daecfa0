//! Scenario 1, slow-consumer: does one client that never reads its replies
//! hurt everyone else?
//!
//! The server is `pseud-demo serve` in its own process. An in-process server
//! would share this process's CPU scheduling and allocator with the clients
//! being timed; a child process is what users deploy, and timing calls to
//! another process over tcp://127.0.0.1 is as practical as timing them
//! in-process (engine-bench does the same).
//!
//! * Phase A (unloaded): a pseud client calls `add(1, 2)` sequentially.
//! * Phase B (loaded): a raw ZMTP client (`zmtp.rs`) completes the handshake,
//!   then only writes WORK `echo(<1 KiB of bytes>)` as fast as the server takes
//!   them and never reads a reply (its SO_RCVBUF is set small, so its kernel
//!   buffers little on its behalf). Once it has written past the server's
//!   per-peer high-water mark, the same pseud client repeats phase A's calls.
//! * Recovery: the hostile client closes; a few more calls show whether the
//!   server serves normally again.
//!
//! The figure is p99(B) / p99(A). Calls that time out (2 s) count as failures,
//! and in the percentiles at the time they waited, which makes a p99 that
//! falls among them a lower bound (printed with `>=`).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

use crate::server::{Memory, Served, mib};
use crate::zmtp::{self, Dealer};
use crate::{Plan, Res, Sample, sequential, us};

/// The target: p99 loaded / p99 unloaded.
const TARGET: f64 = 2.0;
/// Bytes of the `echo` argument each hostile WORK carries (its reply is as
/// big, so the server's queue toward the hostile peer fills quickly).
const HOSTILE_PAYLOAD: usize = 1024;
/// Messages per hostile write.
const HOSTILE_BATCH: usize = 64;
/// The hostile client's SO_RCVBUF (the kernel may round it up).
const HOSTILE_RCVBUF: usize = 4096;
/// A hostile write that takes this long counts as blocked.
const HOSTILE_WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// Runs the scenario and prints its table and RESULT line.
pub fn run(rt: &Runtime, bin: &Path, plan: &Plan) -> Res<()> {
    println!();
    println!(
        "== slow-consumer: {} sequential add(1, 2) per phase, {:?} per-call timeout; \
         hostile client: non-reading, echo({HOSTILE_PAYLOAD} B) WORK, SO_RCVBUF {HOSTILE_RCVBUF}, \
         at most {} MiB",
        plan.calls,
        plan.call_timeout,
        plan.hostile_cap >> 20
    );
    let mut server = Served::start(bin)?;
    let client = rt.block_on(async {
        pseud::Client::builder()
            .timeout(plan.call_timeout)
            .connect(&server.endpoint)
    })?;
    let remote = client.server().clone();
    let budget = plan.call_timeout * 4 + Duration::from_secs(10);

    // Phase A. The warm-up must succeed, or nothing after means anything.
    let warm = rt.block_on(sequential(&remote, plan.warmup, budget, plan.call_timeout));
    if warm.failures > 0 {
        return Err(format!(
            "warm-up calls failed on an idle server: {}",
            warm.first_failure.unwrap_or_default()
        )
        .into());
    }
    let unloaded = rt.block_on(sequential(
        &remote,
        plan.calls,
        Duration::from_secs(60),
        plan.call_timeout,
    ));
    let mem_unloaded = server.memory();

    // Phase B.
    let hostile = Hostile::start(server.addr, plan.hostile_cap)?;
    let fill_start = Instant::now();
    while hostile.written() < plan.fill_bytes
        && !hostile.stalled()
        && fill_start.elapsed() < plan.fill_wait
    {
        std::thread::sleep(Duration::from_millis(10));
    }
    let filled = (hostile.written(), fill_start.elapsed());
    let loaded = rt.block_on(sequential(
        &remote,
        plan.calls,
        plan.loaded_budget,
        plan.call_timeout,
    ));
    let mem_loaded = server.memory();
    let report = hostile.stop();

    // Recovery: the hostile connection is closed; its queued replies have
    // nowhere to go.
    std::thread::sleep(Duration::from_millis(200));
    let recovery = rt.block_on(sequential(
        &remote,
        plan.recovery_calls,
        Duration::from_secs(10),
        plan.call_timeout,
    ));
    let mem_after = server.memory();
    rt.block_on(client.stop());

    println!(
        "hostile client: {:.1} MiB written when measuring began ({:.2?} after it connected); {}",
        filled.0 as f64 / 1048576.0,
        filled.1,
        report.describe()
    );
    println!(
        "{:<34} {:>6} {:>8} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "phase", "calls", "failed", "p50 us", "p99 us", "max us", "RSS MiB", "HWM MiB"
    );
    for (label, sample, mem) in [
        ("A unloaded", &unloaded, mem_unloaded),
        ("B loaded (non-reading client)", &loaded, mem_loaded),
        ("after the hostile client left", &recovery, mem_after),
    ] {
        let bound = |p: f64| if sample.censored(p) { ">=" } else { "" };
        println!(
            "{label:<34} {:>6} {:>8} {:>10} {:>10} {:>10} {:>10} {:>10}",
            sample.attempts(),
            sample.failures,
            format!("{}{}", bound(50.0), us(sample.percentile(50.0))),
            format!("{}{}", bound(99.0), us(sample.percentile(99.0))),
            us(sample.max()),
            mem.map_or("-".into(), |m| format!("{:.1}", mib(m.rss_kib))),
            mem.map_or("-".into(), |m| format!("{:.1}", mib(m.hwm_kib))),
        );
    }
    for (label, sample) in [("A", &unloaded), ("B", &loaded), ("after", &recovery)] {
        if let Some(why) = &sample.first_failure {
            println!("  {label}: first failure: {why}");
        }
    }
    if loaded.attempts() < plan.calls {
        println!(
            "  B stopped after its {:?} budget: {} of {} calls made",
            plan.loaded_budget,
            loaded.attempts(),
            plan.calls
        );
    }
    if let Some(status) = server.exited() {
        println!("  the server exited: {status}");
    }
    println!("  server log: {}", server.log_summary());
    result_line(&unloaded, &loaded, mem_loaded);
    Ok(())
}

fn result_line(unloaded: &Sample, loaded: &Sample, mem: Option<Memory>) {
    let (Some(a), Some(b)) = (unloaded.percentile(99.0), loaded.percentile(99.0)) else {
        println!("RESULT slow-consumer: no calls measured");
        return;
    };
    let ratio = b.as_secs_f64() / a.as_secs_f64().max(1e-9);
    let bound = if loaded.censored(99.0) { ">=" } else { "" };
    let met = ratio <= TARGET;
    println!(
        "RESULT slow-consumer: p99 loaded/unloaded = {bound}{ratio:.2} (p99 {} us -> {bound}{} us; \
         {} of {} loaded calls failed; server RSS {} MiB) -> target <= {TARGET}: {}",
        us(Some(a)),
        us(Some(b)),
        loaded.failures,
        loaded.attempts(),
        mem.map_or("-".into(), |m| format!("{:.1}", mib(m.rss_kib))),
        if met { "met" } else { "MISSED" }
    );
}

/// The non-reading client, writing on a thread of its own.
struct Hostile {
    written: Arc<AtomicU64>,
    stalled: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<HostileReport>,
}

/// What the hostile client saw.
#[derive(Default)]
struct HostileReport {
    written: u64,
    /// When a write first blocked for `HOSTILE_WRITE_TIMEOUT` (after connecting).
    first_blocked: Option<Duration>,
    /// It reached its byte cap.
    capped: Option<Duration>,
    /// A write failed: the server dropped the connection.
    failed: Option<(Duration, String)>,
    /// How long it stayed attached in all.
    attached: Duration,
}

impl HostileReport {
    fn describe(&self) -> String {
        let mut parts = vec![format!(
            "{:.1} MiB written in all, attached {:.1?}",
            self.written as f64 / 1048576.0,
            self.attached
        )];
        if let Some(t) = self.first_blocked {
            parts.push(format!(
                "its writes first blocked (1 s without progress) {:.2?} after connecting",
                t
            ));
        }
        if let Some(t) = self.capped {
            parts.push(format!(
                "it reached its cap {:.2?} after connecting without ever blocking (the server read everything)",
                t
            ));
        }
        if let Some((t, why)) = &self.failed {
            parts.push(format!(
                "a write failed {:.2?} after connecting ({why}): the server dropped it",
                t
            ));
        }
        parts.join("; ")
    }
}

impl Hostile {
    fn start(addr: SocketAddr, cap: u64) -> Res<Hostile> {
        let dealer = Dealer::connect(addr, Some(HOSTILE_RCVBUF))?;
        dealer
            .stream
            .set_write_timeout(Some(HOSTILE_WRITE_TIMEOUT))?;
        let written = Arc::new(AtomicU64::new(0));
        let stalled = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let (w, s, st) = (written.clone(), stalled.clone(), stop.clone());
        let thread = std::thread::Builder::new()
            .name("hostile".into())
            .spawn(move || hostile_loop(&dealer, cap, &w, &s, &st))?;
        Ok(Hostile {
            written,
            stalled,
            stop,
            thread,
        })
    }

    fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// A write blocked, or the hostile client stopped writing for good.
    fn stalled(&self) -> bool {
        self.stalled.load(Ordering::Relaxed)
    }

    /// Stops it (within a write timeout) and closes its connection.
    fn stop(self) -> HostileReport {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap_or_default()
    }
}

/// Writes until told to stop, up to `cap` bytes. A write that blocks for a
/// second is recorded and tried again: while the server is not reading, the
/// kernel takes nothing, so the thread only waits; a server that drops the
/// connection shows as a failed write. It never reads.
fn hostile_loop(
    dealer: &Dealer,
    cap: u64,
    written: &AtomicU64,
    stalled: &AtomicBool,
    stop: &AtomicBool,
) -> HostileReport {
    let start = Instant::now();
    let mut report = HostileReport::default();
    let payload = vec![0x5a_u8; HOSTILE_PAYLOAD];
    // ["echo", [bin32 payload], {}]
    let mut body = vec![0x93, 0xa4, b'e', b'c', b'h', b'o', 0x91, 0xc6];
    body.extend_from_slice(&(HOSTILE_PAYLOAD as u32).to_be_bytes());
    body.extend_from_slice(&payload);
    body.push(0x80);
    let mut next_id: u128 = 0;
    let mut chunk = Vec::new();
    let mut offset = 0;
    let mut total = 0u64;
    while !stop.load(Ordering::Relaxed) {
        if total >= cap || report.failed.is_some() {
            if report.failed.is_none() {
                report.capped.get_or_insert(start.elapsed());
            }
            stalled.store(true, Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(10));
            continue;
        }
        if offset == chunk.len() {
            chunk.clear();
            offset = 0;
            for _ in 0..HOSTILE_BATCH {
                next_id += 1;
                zmtp::push_message(&mut chunk, &next_id.to_le_bytes(), zmtp::WORK, &body);
            }
        }
        match std::io::Write::write(&mut &dealer.stream, &chunk[offset..]) {
            Ok(0) => report.failed = Some((start.elapsed(), "wrote 0 bytes".into())),
            Ok(n) => {
                offset += n;
                total += n as u64;
                written.store(total, Ordering::Relaxed);
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                report.first_blocked.get_or_insert(start.elapsed());
                stalled.store(true, Ordering::Relaxed);
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => report.failed = Some((start.elapsed(), e.to_string())),
        }
    }
    // The server may have reset the connection after we stopped writing.
    if report.failed.is_none()
        && let Ok(Some(e)) = dealer.stream.take_error()
    {
        report.failed = Some((start.elapsed(), format!("{e} (noticed at the end)")));
    }
    report.written = total;
    report.attached = start.elapsed();
    report
}
