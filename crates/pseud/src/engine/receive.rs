//! Receiving: classifies each message, routes replies to waiting calls, and runs
//! handlers for WORK.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;

use super::{
    Command, Engine, Outgoing, RECV_BATCH, RawReply, Route, RunningTask, Shared, Side, WireId,
    error_body,
};
use crate::context::Context;
use crate::error::{
    Error, Fault, MESSAGE_TOO_LARGE, PROTOCOL_ERROR, SERVICE_NOT_FOUND, SERVICE_UNAVAILABLE,
};
use crate::handler::Invoke;
use crate::limits::RESOURCE_EXHAUSTED;
use crate::protocol::{Inbound, MessageId, MessageType, classify, hex};
use crate::value::{Work, decode_work};

/// How far one receive pass goes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Drain {
    /// A whole batch.
    Batch,
    /// A batch, or less: up to the reply to the only call in flight.
    UntilLoneReply,
}

impl Engine {
    /// Takes up to a batch of what the router queued; true if anything was there.
    /// With [`Drain::UntilLoneReply`], stops after delivering the reply to the only
    /// call in flight (see `Pause`).
    pub(super) fn drain_incoming(&mut self, drain: Drain) -> bool {
        let mut received = 0;
        while received < RECV_BATCH {
            if received == 1 {
                // Answer the first message before taking more: a lone call's reply
                // then goes out at once.
                self.flush_out();
            }
            match self.incoming.try_recv() {
                Ok(item) => {
                    received += 1;
                    self.pause.delivered = false;
                    self.on_incoming(item);
                    if drain == Drain::UntilLoneReply && self.pause.delivered {
                        self.pause.paused = true;
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        received > 0
    }

    pub(super) fn on_message(&mut self, routing_id: Arc<[u8]>, mut frames: Vec<Bytes>) {
        let user_id: Vec<u8> = match self.peers.get(&routing_id) {
            Some(peer) if self.side == Side::Server => peer.user_id.clone(),
            Some(_) => Vec::new(),
            // A message of a connection already taken over or gone.
            None => return,
        };
        let mut inline: [&[u8]; 6] = [&[]; 6];
        let spilled: Vec<&[u8]>;
        let slices: &[&[u8]] = if frames.len() < inline.len() {
            inline[0] = &routing_id;
            for (slice, frame) in inline[1..].iter_mut().zip(frames.iter()) {
                *slice = frame;
            }
            &inline[..frames.len() + 1]
        } else {
            spilled = std::iter::once(&routing_id[..])
                .chain(frames.iter().map(|f| &f[..]))
                .collect();
            &spilled
        };
        self.learn_route(&user_id, &routing_id);
        let size: usize = slices.iter().map(|f| f.len()).sum();
        match classify(slices) {
            Inbound::Probe => {}
            Inbound::Malformed { reason, answer_id } => {
                tracing::warn!(%reason, routing_id = %hex(&routing_id), "malformed message");
                if let Some(id) = answer_id {
                    let id = WireId::from_frame(id);
                    self.reply(
                        routing_id,
                        &id,
                        Err(Fault::new(PROTOCOL_ERROR, reason.to_string())),
                    );
                }
            }
            Inbound::Message { id, kind, body: _ } => {
                if size > self.shared.limits.max_message_size {
                    let err = Error::TooLarge {
                        size,
                        limit: self.shared.limits.max_message_size,
                    };
                    tracing::warn!(%err, ?kind, "oversized message refused");
                    match kind {
                        MessageType::Work => {
                            let id = WireId::from_frame(id);
                            let fault = Fault::new(MESSAGE_TOO_LARGE, err.to_string());
                            self.reply(routing_id, &id, Err(fault));
                        }
                        k if k.is_reply() => {
                            if let Some(id) = MessageId::from_frame(id) {
                                self.shared.fail(&id, err);
                            }
                        }
                        _ => {}
                    }
                    return;
                }
                let id = WireId::from_frame(id);
                match kind {
                    MessageType::Work => {
                        let body = frames.pop().unwrap_or_default();
                        self.on_work(routing_id, user_id, &id, body);
                    }
                    MessageType::Ok | MessageType::Error | MessageType::Unauthorized => {
                        let body = frames.pop().unwrap_or_default();
                        self.on_reply(id.as_slice(), kind, body);
                    }
                    MessageType::Heartbeat => {
                        tracing::trace!(routing_id = %hex(&routing_id), "heartbeat");
                    }
                    MessageType::Hello => {
                        tracing::info!(routing_id = %hex(&routing_id), "HELLO refused: this endpoint authenticates through ZeroMQ security");
                        self.send(Outgoing {
                            route: Route::RoutingId(routing_id),
                            id,
                            kind: MessageType::Unauthorized,
                            body: b"Authentication not supported".to_vec(),
                            call: None,
                            task: None,
                        });
                    }
                    MessageType::Authenticated => {
                        tracing::debug!("stray AUTHENTICATED dropped");
                    }
                }
            }
        }
    }

    /// Points `user_id`'s route at the connection it last used.
    pub(super) fn learn_route(&mut self, user_id: &[u8], routing_id: &Arc<[u8]>) {
        if self.side == Side::Client {
            return;
        }
        if self.routes.get(user_id) != Some(routing_id) {
            self.routes.insert(user_id.to_vec(), routing_id.clone());
            self.shared
                .set_user_route(user_id, Some(routing_id.clone()));
        }
    }

    fn on_reply(&mut self, id: &[u8], kind: MessageType, body: Bytes) {
        let pending = MessageId::from_frame(id).and_then(|id| {
            let mut map = self.shared.lock_pending();
            map.remove(&id).map(|p| (p, map.is_empty()))
        });
        match pending {
            Some((p, was_last)) => {
                // Only a lone caller gains from a pause; with more calls in
                // flight, their replies keep this task busy anyway.
                self.pause.delivered = was_last;
                let _ = p.tx.send(Ok(RawReply { kind, body }));
            }
            None => {
                tracing::debug!(id = %hex(id), ?kind, "reply for no waiting call (late or stray); dropped")
            }
        }
    }

    fn on_work(&mut self, routing_id: Arc<[u8]>, user_id: Vec<u8>, id: &WireId, body: Bytes) {
        if self.stopping.is_some() {
            let fault = Fault::new(SERVICE_UNAVAILABLE, "the server is stopping");
            self.reply(routing_id, id, Err(fault));
            return;
        }
        let limits = &self.shared.limits;
        let running = self.peers.get(&routing_id).map_or(0, |p| p.tasks.len());
        if running >= limits.max_calls_in_flight {
            tracing::info!(routing_id = %hex(&routing_id), running, "call refused: too many calls of this peer in flight");
            let fault = Fault::new(
                RESOURCE_EXHAUSTED,
                format!(
                    "too many calls in flight from this connection (limit {})",
                    limits.max_calls_in_flight
                ),
            );
            self.reply(routing_id, id, Err(fault));
            return;
        }
        let budget = limits.decode_budget(body.len());
        if body.len() > limits.decode_inline_max {
            // Decoding a large body takes a while: never on this task.
            let call = async_call(
                self.shared.clone(),
                user_id,
                routing_id.clone(),
                body,
                budget,
            );
            self.run_on_task(routing_id, id, call);
            return;
        }
        let work = match decode_work(&body, budget) {
            Ok(w) => w,
            Err(fault) => {
                tracing::warn!(%fault, "undecodable WORK");
                self.reply(routing_id, id, Err(fault));
                return;
            }
        };
        let _runtime = self
            .handlers
            .as_ref()
            .filter(|_| self.socket_loop == crate::SocketLoop::OwnThread)
            .map(tokio::runtime::Handle::enter);
        match start_call(&self.shared, user_id, routing_id.clone(), work) {
            Started::Ready(result) => self.reply(routing_id, id, result),
            Started::Pending(mut future) => {
                // Poll once inline: a future that completes at once needs no task.
                match (&mut future).now_or_never() {
                    Some(result) => self.reply(routing_id, id, result),
                    None => self.run_on_task(routing_id, id, future),
                }
            }
        }
    }

    /// Runs a call's future on a task of its own; its reply comes back as a
    /// command. The task is cancelled if its caller's connection goes.
    fn run_on_task(
        &mut self,
        routing_id: Arc<[u8]>,
        id: &WireId,
        future: impl Future<Output = Result<Vec<u8>, Fault>> + Send + 'static,
    ) {
        let task = self.next_task;
        self.next_task += 1;
        let cmd = self.shared.cmd.clone();
        let reply_to = routing_id.clone();
        let id = id.clone();
        let run = async move {
            let (kind, body) = match future.await {
                Ok(body) => (MessageType::Ok, body),
                Err(fault) => (MessageType::Error, error_body(&fault)),
            };
            let _ = cmd.send(Command::Send(Outgoing {
                route: Route::RoutingId(reply_to),
                id,
                kind,
                body,
                call: None,
                task: Some(task),
            }));
        };
        let handle = match &self.handlers {
            Some(runtime) => runtime.spawn(run),
            None => tokio::spawn(run),
        };
        let abort = handle.abort_handle();
        if let Some(peer) = self.peers.get_mut(&routing_id) {
            peer.tasks.insert(task);
        }
        self.running.insert(task, RunningTask { routing_id, abort });
    }
}

/// A call started: answered at once, or a future to run.
enum Started {
    Ready(Result<Vec<u8>, Fault>),
    Pending(BoxFuture<'static, Result<Vec<u8>, Fault>>),
}

/// Finds the function a WORK names and invokes it; a panic becomes a fault.
fn start_call(
    shared: &Arc<Shared>,
    user_id: Vec<u8>,
    routing_id: Arc<[u8]>,
    work: Work<'_>,
) -> Started {
    let Some(function) = shared.lookup(&work.name, &user_id) else {
        if let Some(upstream) = &shared.proxy_to {
            tracing::debug!(name = %work.name, "not served here: proxied");
            let call = crate::proxy::forward(upstream.clone(), work.name.into_owned(), work.args);
            return Started::Pending(call.boxed());
        }
        tracing::debug!(name = %work.name, "no such function");
        return Started::Ready(Err(Fault::new(SERVICE_NOT_FOUND, work.name.into_owned())));
    };
    let span = tracing::debug_span!(
        "call",
        name = %work.name,
        user = %String::from_utf8_lossy(&user_id),
    );
    let ctx = Context::new(shared.clone(), user_id, routing_id);
    let name = work.name;
    let invoked = span.in_scope(|| {
        std::panic::catch_unwind(AssertUnwindSafe(|| function.invoke(&name, ctx, work.args)))
    });
    match invoked {
        Ok(Ok(Invoke::Ready(result))) => Started::Ready(result),
        Ok(Err(fault)) => Started::Ready(Err(fault)),
        Err(panic) => Started::Ready(Err(panic_fault(&name, panic))),
        Ok(Ok(Invoke::Pending(future))) => {
            let name = name.into_owned();
            let future = AssertUnwindSafe(future)
                .catch_unwind()
                .map(move |r| r.unwrap_or_else(|p| Err(panic_fault(&name, p))));
            Started::Pending(tracing::Instrument::instrument(future, span).boxed())
        }
    }
}

/// Runs the function `name` for a caller, as a WORK of its naming it would
/// (lookup with the caller's domains, argument binding, panics as faults): for
/// protocols layered on pseud that wrap a call (`Context::call_here`).
pub(crate) async fn run_here(
    shared: &Arc<Shared>,
    user_id: Vec<u8>,
    routing_id: Arc<[u8]>,
    name: String,
    args: crate::value::Args,
) -> Result<Vec<u8>, Fault> {
    let work = Work {
        name: std::borrow::Cow::Owned(name),
        args,
    };
    match start_call(shared, user_id, routing_id, work) {
        Started::Ready(result) => result,
        Started::Pending(future) => future.await,
    }
}

/// A call whose body is decoded on a blocking thread, then run.
async fn async_call(
    shared: Arc<Shared>,
    user_id: Vec<u8>,
    routing_id: Arc<[u8]>,
    body: Bytes,
    budget: usize,
) -> Result<Vec<u8>, Fault> {
    let decoded = tokio::task::spawn_blocking(move || {
        decode_work(&body, budget).map(|w| Work {
            name: std::borrow::Cow::Owned(w.name.into_owned()),
            args: w.args,
        })
    })
    .await;
    let work = match decoded {
        Ok(Ok(work)) => work,
        Ok(Err(fault)) => {
            tracing::warn!(%fault, "undecodable WORK");
            return Err(fault);
        }
        Err(join) => {
            return Err(Fault::new(
                PROTOCOL_ERROR,
                format!("decoding failed: {join}"),
            ));
        }
    };
    match start_call(&shared, user_id, routing_id, work) {
        Started::Ready(result) => result,
        Started::Pending(future) => future.await,
    }
}

fn panic_fault(name: &str, panic: Box<dyn std::any::Any + Send>) -> Fault {
    Fault::from_panic(name, panic)
}
