//! Sending: messages are written to their peers' links at the end of each loop
//! pass, in order; those a peer cannot take yet (its link is full) wait in that
//! peer's own queue, those for a server not connected yet are parked until it is.

use std::sync::Arc;

use super::peers::clone_failure;
use super::{Engine, Outgoing, Route, WireId};
use crate::error::{Error, Fault};
use crate::protocol::MessageType;
use crate::value::{Value, write_value};
use crate::zmtp::connection::Sent;

impl Engine {
    /// Queues a message; the loop pass writes it at its end.
    pub(super) fn send(&mut self, out: Outgoing) {
        self.outq.push(out);
    }

    /// Writes the queued messages, in order: one write per peer.
    pub(super) fn flush_out(&mut self) {
        while !self.outq.is_empty() {
            let mut queued = std::mem::take(&mut self.outq);
            for out in queued.drain(..) {
                self.send_now(out);
            }
            if self.outq.is_empty() {
                // Keep the allocation for the next pass.
                self.outq = queued;
            }
        }
        for link in self.dirty.drain(..) {
            link.flush();
        }
    }

    /// Sends one message, or holds it in its peer's queue behind the messages
    /// that peer has not taken yet. Other peers' messages never wait for it.
    fn send_now(&mut self, out: Outgoing) {
        let Some(routing_id) = self.resolve(&out.route) else {
            self.unreachable(out);
            return;
        };
        if let Some(peer) = self.peers.get(&routing_id)
            && !peer.held.is_empty()
        {
            self.hold(routing_id, out);
            return;
        }
        if let Some(out) = self.try_send(&routing_id, out) {
            self.hold(routing_id, out);
        }
    }

    /// The routing id a message goes to (`None`: no such user connected).
    fn resolve(&self, route: &Route) -> Option<Arc<[u8]>> {
        match route {
            Route::Server(name) | Route::RoutingId(name) => Some(name.clone()),
            Route::UserId(user) => self.routes.get(&user[..]).cloned(),
        }
    }

    /// Sends one message to a peer; gives it back if the peer's link is full.
    fn try_send(&mut self, routing_id: &Arc<[u8]>, out: Outgoing) -> Option<Outgoing> {
        if let Some(id) = out.call {
            // One lock on the usual path: skip a call whose caller gave up (timeout
            // or drop) before we sent it, and mark the others as sent there (for
            // disconnect sweeps), unmarked again below if the send does not happen.
            match self.shared.lock_pending().get_mut(&id) {
                Some(p) => p.routing_id = Some(routing_id.clone()),
                None => return None,
            }
        }
        let sent = match self.peers.get(routing_id) {
            Some(peer) => {
                let (sent, first) = peer.link.send(&[
                    b"",
                    crate::protocol::VERSION,
                    out.id.as_slice(),
                    &[out.kind.byte()],
                    &out.body,
                ]);
                if first {
                    self.dirty.push(peer.link.clone());
                }
                sent
            }
            None => Sent::Unreachable,
        };
        match sent {
            Sent::Ok => None,
            Sent::WouldBlock => {
                self.unmark_sent(&out);
                Some(out)
            }
            Sent::Unreachable => {
                self.unmark_sent(&out);
                self.unreachable(out);
                None
            }
        }
    }

    /// Keeps a message for a peer whose link is full, up to the queue limit:
    /// past it our calls fail at once and replies are dropped (the peer is
    /// dropped itself once its write timeout passes).
    fn hold(&mut self, routing_id: Arc<[u8]>, out: Outgoing) {
        let limit = self.shared.limits.max_queued_bytes;
        let Some(peer) = self.peers.get_mut(&routing_id) else {
            self.unreachable(out);
            return;
        };
        let fits = peer.held.is_empty() || peer.held_bytes + out.body.len() <= limit;
        if !fits {
            match out.call {
                Some(id) => self.shared.fail(
                    &id,
                    Error::NotReading {
                        peer: out.route.describe(),
                        queued: peer.held_bytes,
                    },
                ),
                None if !peer.dropping => {
                    peer.dropping = true;
                    tracing::warn!(
                        kind = ?out.kind,
                        queued = peer.held_bytes,
                        "the peer reads nothing; messages for it are dropped until it does"
                    );
                }
                None => {
                    tracing::debug!(kind = ?out.kind, "message for a peer that reads nothing dropped")
                }
            }
            return;
        }
        if peer.held.is_empty() {
            self.blocked.push(routing_id);
        }
        peer.held_bytes += out.body.len();
        peer.held.push_back(out);
    }

    /// Sends what blocked peers held, as far as their links take it now.
    pub(super) fn flush_blocked(&mut self) {
        for routing_id in std::mem::take(&mut self.blocked) {
            let Some((mut held, mut bytes)) = self.peers.get_mut(&routing_id).map(|p| {
                (
                    std::mem::take(&mut p.held),
                    std::mem::take(&mut p.held_bytes),
                )
            }) else {
                continue;
            };
            while let Some(out) = held.pop_front() {
                let len = out.body.len();
                if let Some(out) = self.try_send(&routing_id, out) {
                    held.push_front(out);
                    break;
                }
                bytes -= len;
            }
            match self.peers.get_mut(&routing_id) {
                Some(peer) => {
                    peer.held_bytes = bytes;
                    peer.dropping &= !held.is_empty();
                    peer.held = held;
                    if !peer.held.is_empty() {
                        self.blocked.push(routing_id);
                    }
                }
                // It went while we sent: what it still held fails as it would have.
                None => {
                    for out in held {
                        if let Some(id) = out.call {
                            let peer = out.route.describe();
                            self.shared.fail(&id, Error::Disconnected { peer });
                        }
                    }
                }
            }
        }
    }

    /// A call that was not sent after all waits like one never sent.
    fn unmark_sent(&self, out: &Outgoing) {
        if let Some(id) = out.call
            && let Some(p) = self.shared.lock_pending().get_mut(&id)
        {
            p.routing_id = None;
        }
    }

    pub(super) fn unreachable(&mut self, out: Outgoing) {
        if let Route::Server(_) = out.route
            && (out.call.is_some() || out.kind == MessageType::Heartbeat)
            && self.stopping.is_none()
        {
            if out.call.is_none() && self.handshake_failure.is_some() {
                return;
            }
            if let (Some(id), Some(failure)) = (out.call, &self.handshake_failure) {
                // The server refused us last time; say so rather than wait.
                let err = clone_failure(failure);
                self.shared.fail(&id, err);
                return;
            }
            // Not connected yet: hold our call (or greeting) until the handshake completes.
            self.parked.push(out);
            self.purge_parked();
            return;
        }
        if let Route::RoutingId(rid) | Route::Server(rid) = &out.route {
            let rid = rid.clone();
            self.forget_peer(&rid);
        }
        let peer = out.route.describe();
        match out.call {
            Some(id) => self.shared.fail(&id, Error::Unreachable { peer }),
            None => tracing::debug!(peer = %peer, kind = ?out.kind, "peer gone; message dropped"),
        }
    }

    pub(super) fn retry_parked(&mut self) {
        for out in std::mem::take(&mut self.parked) {
            self.send(out);
        }
    }

    fn purge_parked(&mut self) {
        let pending = self.shared.lock_pending();
        let mut greeting = false;
        self.parked.retain(|o| match o.call {
            Some(id) => pending.contains_key(&id),
            // The greeting: one is enough.
            None => o.kind == MessageType::Heartbeat && !std::mem::replace(&mut greeting, true),
        });
    }

    pub(super) fn reply(
        &mut self,
        routing_id: Arc<[u8]>,
        id: &WireId,
        result: Result<Vec<u8>, Fault>,
    ) {
        let (kind, body) = match result {
            Ok(body) => (MessageType::Ok, body),
            Err(fault) => (MessageType::Error, error_body(&fault)),
        };
        self.send(Outgoing {
            route: Route::RoutingId(routing_id),
            id: id.clone(),
            kind,
            body,
            call: None,
            task: None,
        });
    }
}

/// msgpack `[class, message, traceback]`.
pub(crate) fn error_body(fault: &Fault) -> Vec<u8> {
    let mut body = Vec::new();
    write_value(
        &mut body,
        &Value::Array(vec![
            Value::from(fault.class.as_str()),
            Value::from(fault.message.as_str()),
            Value::from(fault.traceback.as_str()),
        ]),
    );
    body
}
