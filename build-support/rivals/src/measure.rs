//! The measuring loops every client shares: a warm-up, then a timed span in which
//! completed calls are counted.
//!
//! Calls start as soon as the connection is up. The first quarter of the given
//! duration (at most a second) is warm-up: connection set-up, first allocations,
//! the kernel's TCP state. Then completions are counted for `duration`; calls still
//! in flight when it ends are awaited, uncounted, so the connection closes cleanly.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{Result, bail, ensure};
use futures::StreamExt;
use futures::stream::FuturesUnordered;

use crate::sides::{Mode, SUM, WINDOW};

/// Counts completed calls inside the measured span.
pub struct Clock {
    from: Instant,
    until: Instant,
    last: Instant,
    counted: u64,
}

impl Clock {
    /// Starts the warm-up now; the measured span of `duration` follows it.
    pub fn start(duration: Duration) -> Self {
        let now = Instant::now();
        let from = now + warm_up(duration);
        Clock {
            from,
            until: from + duration,
            last: now,
            counted: 0,
        }
    }

    /// One call completed; false once the measured span is over.
    pub fn done(&mut self) -> bool {
        let now = Instant::now();
        if now >= self.from {
            self.counted += 1;
            self.last = now;
        }
        now < self.until
    }

    /// Calls per second over the measured span.
    pub fn rate(&self) -> Result<f64> {
        if self.counted == 0 {
            bail!("no call completed in the measured span");
        }
        let span = self.last.saturating_duration_since(self.from);
        Ok(self.counted as f64 / span.as_secs_f64().max(1e-9))
    }
}

/// The warm-up before a measured span of `duration`.
pub fn warm_up(duration: Duration) -> Duration {
    (duration / 4).min(Duration::from_secs(1))
}

/// Fails unless a reply is `add(1, 2)`'s.
pub fn check(value: i64) -> Result<()> {
    ensure!(value == SUM, "add(1, 2) answered {value}");
    Ok(())
}

/// Runs `call` (one `add(1, 2)` each time) in `mode` for `duration`; calls/s.
///
/// The futures need not be `Send`: the same loop drives capnp-rpc on a LocalSet and
/// the others on a multi-threaded runtime.
pub async fn drive<F, Fut>(mode: Mode, duration: Duration, mut call: F) -> Result<f64>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<i64>>,
{
    let mut clock = Clock::start(duration);
    match mode {
        Mode::Seq => loop {
            check(call().await?)?;
            if !clock.done() {
                break;
            }
        },
        Mode::Window => {
            let mut in_flight: FuturesUnordered<Fut> = (0..WINDOW).map(|_| call()).collect();
            let mut open = true;
            while let Some(reply) = in_flight.next().await {
                check(reply?)?;
                if open {
                    open = clock.done();
                    if open {
                        in_flight.push(call());
                    }
                }
            }
        }
    }
    clock.rate()
}
