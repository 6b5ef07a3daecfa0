//! The floor: libzmq itself, through the `zmq` crate pseud uses (same binding, same
//! vendored libzmq). A ROUTER server answers every request with a canned reply; a
//! blocking DEALER client sends pseud-shaped frames (`["", "v1", id, WORK, body]`,
//! the bytes pseud would send for `add(1, 2)`), so raw moves the same messages as
//! pseud with no runtime, no registry and no serialisation. No tokio on either side.

use std::time::Duration;

use anyhow::{Context, Result, ensure};

use super::{Mode, WINDOW, ready};
use crate::measure::{Clock, check};

/// `add(1, 2)` as a pseud WORK body, msgpack: `["add", [1, 2], {}]`.
const ADD_BODY: &[u8] = &[0x93, 0xa3, b'a', b'd', b'd', 0x92, 0x01, 0x02, 0x80];
/// pseud's WORK and OK message types.
const WORK: u8 = 0x03;
const OK: u8 = 0x01;
/// The reply body: msgpack `3`.
const SUM_BODY: u8 = 0x03;

/// A ROUTER on `endpoint` answering each 6-frame request `3`.
pub fn serve(endpoint: &str) -> Result<()> {
    let ctx = zmq::Context::new();
    let router = ctx.socket(zmq::ROUTER)?;
    router.set_identity(b"server")?;
    router
        .bind(endpoint)
        .with_context(|| format!("bind {endpoint}"))?;
    let bound = router
        .get_last_endpoint()?
        .map_err(|raw| anyhow::anyhow!("endpoint not UTF-8: {raw:?}"))?;
    ready(&bound);
    loop {
        let frames = router.recv_multipart(0)?;
        // [peer, "", "v1", id, WORK, body]
        if frames.len() != 6 {
            continue;
        }
        let reply: [&[u8]; 6] = [&frames[0], b"", b"v1", &frames[3], &[OK], &[SUM_BODY]];
        router.send_multipart(reply, 0)?;
    }
}

/// A blocking DEALER calling the raw server; calls/s.
pub fn client(endpoint: &str, mode: Mode, duration: Duration) -> Result<f64> {
    let ctx = zmq::Context::new();
    let dealer = ctx.socket(zmq::DEALER)?;
    dealer.set_rcvtimeo(10_000)?;
    dealer.set_linger(0)?;
    dealer
        .connect(endpoint)
        .with_context(|| format!("connect {endpoint}"))?;
    let send = |n: u64| -> Result<()> {
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&n.to_be_bytes());
        let frames: [&[u8]; 5] = [b"", b"v1", &id, &[WORK], ADD_BODY];
        dealer.send_multipart(frames, 0)?;
        Ok(())
    };
    let recv = || -> Result<()> {
        let frames = dealer.recv_multipart(0).context("reply")?;
        ensure!(
            frames.len() == 5 && frames[3] == [OK] && frames[4].len() == 1,
            "bad reply {frames:?}"
        );
        check(i64::from(frames[4][0]))
    };

    let mut clock = Clock::start(duration);
    let mut sent = 0u64;
    match mode {
        Mode::Seq => loop {
            send(sent)?;
            sent += 1;
            recv()?;
            if !clock.done() {
                break;
            }
        },
        Mode::Window => {
            let mut in_flight = 0;
            while in_flight < WINDOW {
                send(sent)?;
                sent += 1;
                in_flight += 1;
            }
            // Once the span is over, what is still in flight is collected, uncounted.
            let mut open = true;
            while in_flight > 0 {
                recv()?;
                in_flight -= 1;
                if open {
                    open = clock.done();
                    if open {
                        send(sent)?;
                        sent += 1;
                        in_flight += 1;
                    }
                }
            }
        }
    }
    clock.rate()
}
