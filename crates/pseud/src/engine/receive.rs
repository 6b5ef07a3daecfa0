//! Receiving: classifies each message, routes replies to waiting calls, and runs
//! handlers for WORK.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::FutureExt;

use super::{Command, Engine, Outgoing, RECV_BATCH, RawReply, Route, WireId, error_body};
use crate::context::Context;
use crate::error::{Error, Fault, PROTOCOL_ERROR, SERVICE_NOT_FOUND};
use crate::handler::Invoke;
use crate::protocol::{Inbound, MessageId, MessageType, classify, hex};
use crate::value::decode_work;

impl Engine {
    /// Takes up to a batch of what the router queued; true if anything was there.
    /// With `may_pause`, stops after delivering the reply to the only call in
    /// flight (see `paused`).
    pub(super) fn drain_incoming(&mut self, may_pause: bool) -> bool {
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
                    self.delivered = false;
                    self.on_incoming(item);
                    if may_pause && self.delivered {
                        self.paused = true;
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
            Some(peer) if !self.is_client => peer.user_id.clone(),
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
                if size > self.shared.max_message_size {
                    let err = Error::TooLarge {
                        size,
                        limit: self.shared.max_message_size,
                    };
                    tracing::warn!(%err, ?kind, "oversized message refused");
                    match kind {
                        MessageType::Work => {
                            let id = WireId::from_frame(id);
                            let fault = Fault::new("MessageTooLarge", err.to_string());
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
                        let body_frame = frames.pop();
                        let body = body_frame.as_deref().unwrap_or(&[]);
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
                            handler_done: false,
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
        if self.is_client {
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
                self.delivered = was_last;
                let _ = p.tx.send(Ok(RawReply { kind, body }));
            }
            None => {
                tracing::debug!(id = %hex(id), ?kind, "reply for no waiting call (late or stray); dropped")
            }
        }
    }

    fn on_work(&mut self, routing_id: Arc<[u8]>, user_id: Vec<u8>, id: &WireId, body: &[u8]) {
        if self.stopping.is_some() {
            let fault = Fault::new("ServiceUnavailableError", "the server is stopping");
            self.reply(routing_id, id, Err(fault));
            return;
        }
        let work = match decode_work(body) {
            Ok(w) => w,
            Err(fault) => {
                tracing::warn!(%fault, "undecodable WORK");
                self.reply(routing_id, id, Err(fault));
                return;
            }
        };
        let Some(function) = self.shared.lookup(&work.name, &user_id) else {
            tracing::debug!(name = %work.name, "no such function");
            let fault = Fault::new(SERVICE_NOT_FOUND, work.name.into_owned());
            self.reply(routing_id, id, Err(fault));
            return;
        };
        let span = tracing::debug_span!(
            "call",
            name = %work.name,
            user = %String::from_utf8_lossy(&user_id),
        );
        let ctx = Context::new(self.shared.clone(), user_id, routing_id.clone());
        let name = work.name;
        let _runtime = self
            .handlers
            .as_ref()
            .filter(|_| self.own_thread)
            .map(tokio::runtime::Handle::enter);
        let invoked = span.in_scope(|| {
            std::panic::catch_unwind(AssertUnwindSafe(|| function.invoke(&name, ctx, work.args)))
        });
        let mut future = match invoked {
            Ok(Ok(Invoke::Ready(result))) => return self.reply(routing_id, id, result),
            Ok(Err(fault)) => return self.reply(routing_id, id, Err(fault)),
            Err(panic) => return self.reply(routing_id, id, Err(panic_fault(&name, panic))),
            Ok(Ok(Invoke::Pending(future))) => AssertUnwindSafe(future).catch_unwind(),
        };
        // Poll once inline: a future that completes at once needs no task.
        match span.in_scope(|| (&mut future).now_or_never()) {
            Some(result) => {
                let result = result.unwrap_or_else(|p| Err(panic_fault(&name, p)));
                self.reply(routing_id, id, result)
            }
            None => {
                self.in_flight += 1;
                let name = name.into_owned();
                let cmd = self.shared.cmd.clone();
                let id = id.clone();
                let task = async move {
                    let result = future.await.unwrap_or_else(|p| Err(panic_fault(&name, p)));
                    let (kind, body) = match result {
                        Ok(body) => (MessageType::Ok, body),
                        Err(fault) => (MessageType::Error, error_body(&fault)),
                    };
                    let _ = cmd.send(Command::Send(Outgoing {
                        route: Route::RoutingId(routing_id),
                        id,
                        kind,
                        body,
                        call: None,
                        handler_done: true,
                    }));
                };
                let task = tracing::Instrument::instrument(task, span);
                match &self.handlers {
                    Some(runtime) => drop(runtime.spawn(task)),
                    None => drop(tokio::spawn(task)),
                }
            }
        }
    }
}

fn panic_fault(name: &str, panic: Box<dyn std::any::Any + Send>) -> Fault {
    Fault::from_panic(name, panic)
}
