//! Scenario 2, amplification: how much memory does the server need for one
//! message, relative to its size?
//!
//! Per shape, a fresh `pseud-demo serve` child (so that its VmHWM, the peak
//! resident set since it started, belongs to that one message): after a
//! warm-up its VmHWM is the baseline; a raw ZMTP client (`zmtp.rs`) sends one
//! WORK `["echo", [VALUE], {}]` just below the server's message size limit and
//! waits for the reply (an ERROR is as good as an OK) or the timeout; then the
//! VmHWM again. The figure is (peak after - baseline) / message size.
//!
//! The shapes (VALUE):
//! * `nils`: one array32 (0xdd) of nils (0xc0), one byte per element;
//! * `fixints`: one array32 of positive fixints (0x01);
//! * `nested`: one array32 of `[{0: [nil]}]` (5 bytes: 3 containers, 2 scalars);
//! * `binary`: one bin32 (0xc6) of the same size: the benign case, whatever a
//!   server needs to hold and echo a message of that size.
//!
//! `echo` returns its argument, so every shape is answered with a reply of
//! about the message's size: that copy is part of every figure, and `binary`
//! shows what it costs. Meanwhile a pseud client calls `add(1, 2)` one at a
//! time (1 ms apart); the longest of its calls that overlap the big message
//! (sent until answered) shows how long the server stalled everyone else.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::runtime::Runtime;

use crate::server::{Memory, Served, mib};
use crate::zmtp::{self, Dealer, Reply};
use crate::{Plan, Res, one_call, sequential};

/// The target: peak growth / message size.
const TARGET: f64 = 10.0;

/// The big message's id (the warm-up's is another).
const BIG_ID: [u8; 16] = [0x42; 16];

/// The message shapes.
#[derive(Clone, Copy, Debug)]
enum Shape {
    Nils,
    Fixints,
    Nested,
    Binary,
}

const SHAPES: [Shape; 4] = [Shape::Nils, Shape::Fixints, Shape::Nested, Shape::Binary];

/// `[{0: [nil]}]`: fixarray 1, fixmap 1, key 0, fixarray 1, nil.
const NESTED_ITEM: [u8; 5] = [0x91, 0x81, 0x00, 0x91, 0xc0];

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::Nils => "nils",
            Shape::Fixints => "fixints",
            Shape::Nested => "nested",
            Shape::Binary => "binary",
        }
    }

    /// The WORK body `["echo", [VALUE], {}]`, `body_len` bytes or a few less.
    fn body(self, body_len: usize) -> Vec<u8> {
        let head = [0x93, 0xa4, b'e', b'c', b'h', b'o', 0x91];
        let tail = 0x80; // {}
        // 5 bytes of array32 or bin32 header.
        let room = body_len.saturating_sub(head.len() + 1 + 5);
        let mut body = Vec::with_capacity(body_len);
        body.extend_from_slice(&head);
        let (marker, count, unit): (u8, usize, &[u8]) = match self {
            Shape::Nils => (0xdd, room, &[0xc0]),
            Shape::Fixints => (0xdd, room, &[0x01]),
            Shape::Nested => (0xdd, room / NESTED_ITEM.len(), &NESTED_ITEM),
            Shape::Binary => (0xc6, room, &[0xab]),
        };
        body.push(marker);
        body.extend_from_slice(&u32::try_from(count).unwrap_or(u32::MAX).to_be_bytes());
        for _ in 0..count {
            body.extend_from_slice(unit);
        }
        body.push(tail);
        body
    }

    /// The whole message as a DEALER sends it, `size` bytes on the wire or a
    /// few less.
    fn message(self, size: usize) -> Vec<u8> {
        // Frames "", "v1", id, type: 2 + 4 + 18 + 3 bytes; the body's 9-byte header.
        let body = self.body(size.saturating_sub(27 + 9));
        let mut out = Vec::with_capacity(size);
        zmtp::push_message(&mut out, &BIG_ID, zmtp::WORK, &body);
        out
    }
}

/// One shape's figures.
struct Row {
    shape: Shape,
    size: usize,
    reply: String,
    /// The reply came: the peak is the whole message's, not a lower bound.
    complete: bool,
    answered_after: Duration,
    base: Option<Memory>,
    peak: Option<Memory>,
    /// The longest concurrent call overlapping the message, how many overlapped,
    /// how many of those failed; and the caller's median before the message.
    stall: Option<Duration>,
    overlapping: usize,
    overlapping_failed: usize,
    /// Why the first overlapping call failed.
    failure: Option<String>,
    before_p50: Option<Duration>,
    died: Option<String>,
    /// What the server logged.
    log: String,
}

impl Row {
    /// Peak growth / size, if the server lived to be measured.
    fn ratio(&self) -> Option<f64> {
        let (base, peak) = (self.base?, self.peak?);
        let growth = peak.hwm_kib.saturating_sub(base.hwm_kib) as f64 * 1024.0;
        Some(growth / self.size as f64)
    }
}

/// Runs the scenario and prints its table and RESULT line.
pub fn run(rt: &Runtime, bin: &Path, plan: &Plan) -> Res<()> {
    println!();
    println!(
        "== amplification: one WORK echo(VALUE) of {:.2} MiB per fresh server (limit {} MiB), \
         reply timeout {:?}; a concurrent add(1, 2) caller",
        plan.message_size as f64 / 1048576.0,
        pseud::DEFAULT_MAX_MESSAGE_SIZE >> 20,
        plan.reply_timeout
    );
    let mut rows = Vec::new();
    for shape in SHAPES {
        rows.push(one_shape(rt, bin, plan, shape)?);
    }
    println!(
        "{:<8} {:>8} {:>9} {:>9} {:>10} {:>7} {:>9} {:>9} {:>13}  reply",
        "shape",
        "msg MiB",
        "base MiB",
        "peak MiB",
        "growth MiB",
        "x size",
        "answer s",
        "stall ms",
        "calls/failed"
    );
    for r in &rows {
        let (base, peak) = (r.base.map(|m| m.hwm_kib), r.peak.map(|m| m.hwm_kib));
        let growth = match (base, peak) {
            (Some(b), Some(p)) => format!("{:.1}", mib(p.saturating_sub(b))),
            _ => "-".into(),
        };
        println!(
            "{:<8} {:>8.2} {:>9} {:>9} {:>10} {:>7} {:>9.2} {:>9} {:>13}  {}",
            r.shape.name(),
            r.size as f64 / 1048576.0,
            base.map_or("-".into(), |k| format!("{:.1}", mib(k))),
            peak.map_or("-".into(), |k| format!("{:.1}", mib(k))),
            growth,
            r.ratio().map_or("-".into(), |x| {
                format!("{}{x:.1}", if r.complete { "" } else { ">=" })
            }),
            r.answered_after.as_secs_f64(),
            r.stall
                .map_or("-".into(), |d| format!("{:.1}", d.as_secs_f64() * 1e3)),
            format!("{}/{}", r.overlapping, r.overlapping_failed),
            r.reply
        );
    }
    println!(
        "  (base/peak: the server's VmHWM before and after the message; answer s: from \
         sending it to its reply; stall ms: the longest concurrent add(1, 2) overlapping \
         that, and calls/failed: how many overlapped)"
    );
    for r in &rows {
        if let Some(why) = &r.failure {
            println!("  {}: a concurrent call failed: {why}", r.shape.name());
        }
        if let Some(status) = &r.died {
            println!("  {}: the server died ({status})", r.shape.name());
        }
        if r.log != "nothing" {
            println!("  {}: server log: {}", r.shape.name(), r.log);
        }
    }
    let before: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r.shape.name(),
                r.before_p50
                    .map_or("-".into(), |d| format!("{:.0} us", d.as_secs_f64() * 1e6))
            )
        })
        .collect();
    println!(
        "  concurrent caller's median before each message: {}",
        before.join(", ")
    );

    // The worst shape decides; a server that died counts as missed.
    let died: Vec<&str> = rows
        .iter()
        .filter(|r| r.ratio().is_none())
        .map(|r| r.shape.name())
        .collect();
    let worst = rows
        .iter()
        .filter_map(|r| r.ratio().map(|x| (x, r.shape.name())))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let met = died.is_empty() && worst.is_some_and(|(x, _)| x <= TARGET);
    let stall = rows.iter().filter_map(|r| r.stall).max();
    println!(
        "RESULT amplification: worst peak growth/message size = {} ({}){}; \
         longest concurrent call {} ms -> target <= {TARGET}: {}",
        worst.map_or("-".into(), |(x, _)| format!("{x:.1}")),
        worst.map_or("-", |(_, n)| n),
        if died.is_empty() {
            String::new()
        } else {
            format!("; not measured (server died): {}", died.join(", "))
        },
        stall.map_or("-".into(), |d| format!("{:.1}", d.as_secs_f64() * 1e3)),
        if met { "met" } else { "MISSED" }
    );
    Ok(())
}

/// One call of the concurrent caller: when it started, how long it took, and
/// why it failed if it did.
type Timed = (Instant, Duration, Option<String>);

fn one_shape(rt: &Runtime, bin: &Path, plan: &Plan, shape: Shape) -> Res<Row> {
    let message = shape.message(plan.message_size);
    let mut server = Served::start(bin)?;
    // The concurrent caller waits as long as the big message may take, so
    // that its longest call is measured rather than cut at a timeout.
    let call_timeout = plan.reply_timeout + Duration::from_secs(5);
    let client = rt.block_on(async {
        pseud::Client::builder()
            .timeout(call_timeout)
            .connect(&server.endpoint)
    })?;
    let remote = client.server().clone();
    let warm = rt.block_on(sequential(
        &remote,
        plan.warmup,
        Duration::from_secs(20),
        Duration::from_secs(2),
    ));
    if warm.failures > 0 {
        return Err(format!(
            "{}: warm-up calls failed: {}",
            shape.name(),
            warm.first_failure.unwrap_or_default()
        )
        .into());
    }
    let mut dealer = Dealer::connect(server.addr, None)?;
    dealer.stream.set_write_timeout(Some(plan.reply_timeout))?;
    // Warm the raw connection's path too: one small echo.
    let mut small = Vec::new();
    zmtp::push_message(&mut small, &[1; 16], zmtp::WORK, &Shape::Binary.body(64));
    dealer.write_all(&small)?;
    match dealer.read_reply(Instant::now() + Duration::from_secs(5)) {
        Reply::Message(zmtp::OK, _, _) => {}
        _ => return Err(format!("{}: the warm-up echo got no OK", shape.name()).into()),
    }
    // Let the warm-up's allocations settle before the baseline.
    std::thread::sleep(Duration::from_millis(100));
    let base = server.memory();

    let stop = Arc::new(AtomicBool::new(false));
    let caller = {
        let stop = stop.clone();
        rt.spawn(async move {
            let mut calls: Vec<Timed> = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let start = Instant::now();
                let (latency, failure) = one_call(&remote, call_timeout).await;
                calls.push((start, latency, failure));
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            calls
        })
    };
    std::thread::sleep(Duration::from_millis(200));

    let sent = Instant::now();
    let (reply, complete) = match dealer.write_all(&message) {
        Ok(()) => {
            let reply = dealer.read_reply(sent + plan.reply_timeout);
            let complete = matches!(&reply, Reply::Message(_, id, _) if *id == BIG_ID);
            (describe(reply), complete)
        }
        Err(e) => (format!("send failed: {e}"), false),
    };
    let answered = Instant::now();
    let peak = server.memory();
    let answered_after = answered - sent;
    // Give the caller's call in flight time to finish, then stop it.
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    let calls = rt
        .block_on(async { tokio::time::timeout(call_timeout * 2, caller).await })
        .map_err(|_| "the concurrent caller did not stop")??;
    rt.block_on(client.stop());

    let overlapping: Vec<&Timed> = calls
        .iter()
        .filter(|(start, took, _)| *start < answered && *start + *took > sent)
        .collect();
    let mut before: Vec<Duration> = calls
        .iter()
        .filter(|(start, took, _)| *start + *took <= sent)
        .map(|(_, took, _)| *took)
        .collect();
    before.sort_unstable();
    let died = server.exited();
    let row = Row {
        shape,
        size: message.len(),
        reply,
        complete,
        answered_after,
        base,
        peak: if died.is_some() { None } else { peak },
        stall: overlapping.iter().map(|(_, took, _)| *took).max(),
        overlapping: overlapping.len(),
        overlapping_failed: overlapping.iter().filter(|(_, _, f)| f.is_some()).count(),
        failure: overlapping.iter().find_map(|(_, _, f)| f.clone()),
        before_p50: before.get(before.len() / 2).copied(),
        died,
        log: server.log_summary(),
    };
    Ok(row)
}

/// A reply, in a few words.
fn describe(reply: Reply) -> String {
    match reply {
        Reply::Message(_, id, _) if id != BIG_ID => "a reply with another id".into(),
        Reply::Message(zmtp::OK, _, body) => {
            format!("OK ({:.2} MiB)", body.len() as f64 / 1048576.0)
        }
        Reply::Message(zmtp::ERROR, _, body) => match pseud::value::read_value(&body) {
            Ok(pseud::Value::Array(items)) => {
                let text = |i: usize| items.get(i).and_then(|v| v.as_str()).unwrap_or("?");
                let message: String = text(1).chars().take(80).collect();
                format!("ERROR {}: {message}", text(0))
            }
            _ => "ERROR (undecodable body)".into(),
        },
        Reply::Message(kind, _, _) => format!("type {kind:#04x}"),
        Reply::TimedOut => "no reply (timed out)".into(),
        Reply::Closed(why) => format!("connection closed: {why}"),
    }
}
