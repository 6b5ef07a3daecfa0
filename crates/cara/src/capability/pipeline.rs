//! Promise pipelining, calling side: a [`Promise`] is the object a call will
//! return, usable before the reply arrives. Calls on it go out at once as
//! `cara.pipelined` (see `promise` for the serving side) while its call runs on a
//! peer that pipelines; otherwise they wait for the result and go to it.
//!
//! The peer keeps the result until we release the object it returned (every
//! pipelined call on it was sent before that release, on the same connection).
//! A result with no object of the peer's (an error, a null, one of ours passed
//! back) is ended with `cara.forget` once no pipelined call is in flight.

use std::sync::{Arc, Mutex};

use pseud::{Error, Remote, Value};
use tokio::sync::watch;

use super::Target;
use super::context::PeerCtx;
use super::session::{PeerKey, Session};
use super::wire::FORGET;

/// The object a call will return.
pub(crate) struct Promise {
    state: Mutex<State>,
    settled: watch::Sender<bool>,
}

struct State {
    outcome: Option<Result<Target, Error>>,
    /// Where pipelined calls go; `None` when the call is not pipelined on the wire.
    wire: Option<Wire>,
    /// Pipelined calls sent and not yet answered.
    in_flight: usize,
}

/// A promise the peer knows: its id there, and the connection.
#[derive(Clone)]
pub(crate) struct Wire {
    pub(crate) id: u64,
    pub(crate) session: Arc<Session>,
    pub(crate) peer: PeerKey,
    pub(crate) remote: Remote,
}

impl Wire {
    /// The context to encode pipelined calls' arguments in (and decode replies).
    pub(crate) fn ctx(&self) -> PeerCtx {
        PeerCtx::Remote {
            session: self.session.clone(),
            peer: self.peer.clone(),
            remote: self.remote.clone(),
        }
    }
}

/// What a call on a promise does now.
pub(crate) enum Begin {
    /// The promise is settled: call the result, or fail as its call did.
    Settled(Result<Target, Error>),
    /// Send it as a pipelined call (counted in flight until [`Promise::end`]).
    Pipeline(Wire),
    /// Wait for the result ([`Promise::wait`]), then call it.
    Wait,
}

impl Promise {
    /// A pending promise, pipelined through `wire` if given.
    pub(crate) fn new(wire: Option<Wire>) -> Arc<Promise> {
        Arc::new(Promise {
            state: Mutex::new(State {
                outcome: None,
                wire,
                in_flight: 0,
            }),
            settled: watch::Sender::new(false),
        })
    }

    /// A promise that failed before it was sent.
    pub(crate) fn failed(error: Error) -> Arc<Promise> {
        let promise = Promise::new(None);
        promise.settle(Err(error));
        promise
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The result, once it is in.
    pub(crate) fn current(&self) -> Option<Result<Target, Error>> {
        self.lock().outcome.clone()
    }

    /// How a call on the promise starts.
    pub(crate) fn begin(&self) -> Begin {
        let mut state = self.lock();
        if let Some(outcome) = &state.outcome {
            return Begin::Settled(outcome.clone());
        }
        let Some(wire) = state.wire.clone() else {
            return Begin::Wait;
        };
        state.in_flight += 1;
        Begin::Pipeline(wire)
    }

    /// A pipelined call was answered.
    pub(crate) fn end(&self) {
        let mut state = self.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        forget_if_done(&mut state);
    }

    /// The peer turned out not to pipeline: later calls wait for the result.
    pub(crate) fn unwire(&self) {
        self.lock().wire = None;
    }

    /// The call returned (or failed): calls on the promise go to its result.
    pub(crate) fn settle(&self, outcome: Result<Target, Error>) {
        {
            let mut state = self.lock();
            state.outcome = Some(outcome);
            forget_if_done(&mut state);
        }
        self.settled.send_replace(true);
    }

    /// Waits until the call returned; its result or its error.
    pub(crate) async fn wait(&self) -> Result<Target, Error> {
        let mut settled = self.settled.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = settled.wait_for(|s| *s).await;
        self.current().unwrap_or_else(|| {
            Err(Error::Unreachable {
                peer: "a promised object that never came".into(),
            })
        })
    }
}

/// Tells the peer to drop the promise once its result is in and nothing more
/// can target it.
fn forget_if_done(state: &mut State) {
    if state.outcome.is_none() || state.in_flight > 0 {
        return;
    }
    if let Some(Ok(Target::Imported(_))) = &state.outcome {
        // Its release ends the promise there.
        state.wire = None;
        return;
    }
    let Some(wire) = state.wire.take() else {
        return;
    };
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        handle.spawn(async move {
            let sent = wire
                .remote
                .request(FORGET)
                .args((wire.id,))
                .send::<Value>()
                .await;
            if let Err(e) = sent {
                tracing::debug!(error = %e, "cara.forget not delivered (the peer drops promises when we disconnect)");
            }
        });
    }
}
