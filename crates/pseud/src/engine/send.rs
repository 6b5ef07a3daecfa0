//! Sending: messages are written to their peers' links at the end of each loop
//! pass, in order; those a peer cannot take yet (high-water mark) wait in the
//! backlog, those for a server not connected yet are parked until it is.

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

    fn send_now(&mut self, out: Outgoing) {
        if !self.backlog.is_empty() {
            self.backlog.push_back(out);
            return;
        }
        if let Some(out) = self.try_send(out) {
            self.backlog.push_back(out);
        }
    }

    /// Sends one message; gives it back if the peer's queue is full.
    pub(super) fn try_send(&mut self, out: Outgoing) -> Option<Outgoing> {
        let routing_id = match &out.route {
            Route::Server(name) | Route::RoutingId(name) => name.clone(),
            Route::UserId(user) => match self.routes.get(&user[..]) {
                Some(r) => r.clone(),
                None => {
                    self.unreachable(out);
                    return None;
                }
            },
        };
        if let Some(id) = out.call {
            // One lock on the usual path: skip a call whose caller gave up (timeout
            // or drop) before we sent it, and mark the others as sent there (for
            // disconnect sweeps), unmarked again below if the send does not happen.
            match self.shared.lock_pending().get_mut(&id) {
                Some(p) => p.routing_id = Some(routing_id.clone()),
                None => return None,
            }
        }
        let sent = match self.peers.get(&routing_id) {
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

    /// A call that was not sent after all waits like one never sent.
    fn unmark_sent(&self, out: &Outgoing) {
        if let Some(id) = out.call
            && let Some(p) = self.shared.lock_pending().get_mut(&id)
        {
            p.routing_id = None;
        }
    }

    fn unreachable(&mut self, out: Outgoing) {
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
            None => tracing::warn!(peer = %peer, kind = ?out.kind, "peer gone; message dropped"),
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

    pub(super) fn flush_backlog(&mut self) -> bool {
        if self.backlog.is_empty() {
            return false;
        }
        let mut progressed = false;
        while let Some(out) = self.backlog.pop_front() {
            if let Some(out) = self.try_send(out) {
                self.backlog.push_front(out);
                break;
            }
            progressed = true;
        }
        progressed
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
            handler_done: false,
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
