//! Connections: libzmq monitor events, handshake failures, and what a lost peer
//! means for the calls sent to it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{Engine, MIN_RETRY, NAME_GRACE, Outgoing, PeerEvent, Pending, Route, WireId};
use crate::error::Error;
use crate::protocol::{MessageId, MessageType, hex};
use crate::socket::{Event, Sent};

impl Engine {
    pub(super) fn drain_monitor(&mut self) -> bool {
        let mut any = false;
        while let Some((event, endpoint)) = self.monitor.as_ref().and_then(|m| m.try_next()) {
            any = true;
            self.on_event(event, &endpoint);
        }
        self.monitor_needed = false;
        any
    }

    fn on_event(&mut self, event: Event, endpoint: &str) {
        match event {
            Event::Connected => {
                tracing::debug!(%endpoint, "handshake succeeded");
                if self.is_client {
                    self.link.endpoint = endpoint.to_string();
                    self.link.connected_at = Some(Instant::now());
                    self.link.refused_since = None;
                    self.handshake_failure = None;
                    self.retry_delay = MIN_RETRY;
                    self.greet_server();
                    self.retry_parked();
                }
            }
            Event::Disconnected => {
                tracing::info!(%endpoint, "connection lost");
                // Replies that arrived before the connection dropped are still queued.
                self.drain_incoming(false);
                // Their answers go out before the sweep, as if sent when they were made.
                self.flush_out();
                if self.is_client {
                    self.link.connected_at = None;
                    self.fail_sent(|peer| Error::Disconnected { peer });
                    // Calls parked now were made for the connection that just went
                    // (its pipe was gone before this event): they fail the same way.
                    // Calls made from now on wait for a reconnect.
                    for out in std::mem::take(&mut self.parked) {
                        if let Some(id) = out.call {
                            self.shared.fail(
                                &id,
                                Error::Disconnected {
                                    peer: out.route.describe(),
                                },
                            );
                        }
                    }
                    // A client has one peer, its server: an empty routing id names it.
                    let _ = self.shared.events.send(PeerEvent::Disconnected {
                        user_id: Vec::new(),
                        routing_id: Vec::new(),
                    });
                } else {
                    self.sweep_disconnected();
                    let now = Instant::now();
                    self.sweeps = vec![
                        now + Duration::from_millis(50),
                        now + Duration::from_millis(500),
                    ];
                }
            }
            Event::AuthFailed(status) => {
                if self.is_client {
                    tracing::warn!(%endpoint, status, "the server refused our credentials");
                    self.handshake_failed(Error::Unauthorized(format!(
                        "the server at {endpoint} refused our credentials (ZAP status {status})"
                    )));
                } else {
                    tracing::warn!(%endpoint, status, "a peer failed authentication");
                }
            }
            Event::HandshakeFailed => {
                tracing::warn!(%endpoint, "handshake failed");
                if self.is_client {
                    self.handshake_failed(Error::Handshake(format!(
                        "the ZeroMQ handshake with {endpoint} failed; does the security mode match the server's?"
                    )));
                }
            }
            Event::ConnectRetried => {
                if self.is_client && self.link.connected_at.is_none() {
                    self.connect_failed(endpoint);
                }
            }
            Event::Other => {}
        }
    }

    /// Tells the server we are here, so that it can call us (by user id) before
    /// our first call. A pseud HEARTBEAT does that for every pseud peer: they all
    /// learn a peer's route from any message and ignore HEARTBEAT's content.
    /// (libzmq's ZMQ_PROBE_ROUTER would too, but its two-frame message makes the
    /// original cara's pseud raise and lose calls on that connection.)
    fn greet_server(&mut self) {
        let Some(server) = self.greet.clone() else {
            return;
        };
        self.send(Outgoing {
            route: Route::Server(server),
            id: WireId::Fixed(MessageId::random().0),
            kind: MessageType::Heartbeat,
            body: Vec::new(),
            call: None,
            handler_done: false,
        });
    }

    /// Connecting failed again: past the connect grace, the calls waiting for the
    /// connection fail, and later ones at once, until a handshake succeeds.
    fn connect_failed(&mut self, endpoint: &str) {
        let now = Instant::now();
        let since = *self.link.refused_since.get_or_insert(now);
        if self.handshake_failure.is_none() && now.duration_since(since) >= self.link.connect_grace
        {
            tracing::warn!(%endpoint, "nothing accepts our connection; calls fail until it does");
            self.handshake_failed(Error::ConnectionRefused {
                endpoint: endpoint.to_string(),
            });
        }
    }

    /// A call our server's routing id does not reach although the connection is
    /// up: past [`NAME_GRACE`] after the handshake, the server has another name.
    pub(super) fn no_such_server(&self) -> Option<Error> {
        let at = self.link.connected_at?;
        let name = self.greet.as_ref()?;
        (at.elapsed() >= NAME_GRACE).then(|| Error::NoSuchServer {
            name: String::from_utf8_lossy(name).into_owned(),
            endpoint: self.link.endpoint.clone(),
        })
    }

    /// Fails the calls waiting for the connection, and later ones until a handshake succeeds.
    pub(super) fn handshake_failed(&mut self, err: Error) {
        for out in std::mem::take(&mut self.parked) {
            if let Some(id) = out.call {
                self.shared.fail(&id, clone_failure(&err));
            }
        }
        self.handshake_failure = Some(err);
    }

    /// Fails the calls that were sent (not those still waiting for a connection).
    fn fail_sent(&mut self, err: impl Fn(String) -> Error) {
        let sent: Vec<Pending> = {
            let mut pending = self.shared.lock_pending();
            let ids: Vec<MessageId> = pending
                .iter()
                .filter(|(_, p)| p.routing_id.is_some())
                .map(|(id, _)| *id)
                .collect();
            ids.iter().filter_map(|id| pending.remove(id)).collect()
        };
        for p in sent {
            let _ = p.tx.send(Err(err(p.route.describe())));
        }
    }

    /// Finds peers that are gone (connected peers and peers with calls in flight),
    /// forgets them and fails their calls with `Disconnected`.
    pub(super) fn sweep_disconnected(&mut self) {
        let mut candidates: HashSet<Arc<[u8]>> = self.peers.keys().cloned().collect();
        candidates.extend(
            self.shared
                .lock_pending()
                .values()
                .filter_map(|p| p.routing_id.clone()),
        );
        for rid in candidates {
            // A HEARTBEAT is ignored by every pseud peer; its send tells if the peer is there.
            self.recv_needed = true;
            let probe = self
                .socket
                .try_send(&rid, b"", MessageType::Heartbeat.byte(), b"");
            if probe == Ok(Sent::Unreachable) {
                self.forget_peer(&rid);
            }
        }
    }

    pub(super) fn forget_peer(&mut self, rid: &Arc<[u8]>) {
        if let Some(user_id) = self.peers.remove(rid) {
            tracing::info!(user = %String::from_utf8_lossy(&user_id), routing_id = %hex(rid), "peer disconnected");
            if self.routes.get(&user_id) == Some(rid) {
                // Another connection of the same user (or another noop peer) takes over.
                let other = self
                    .peers
                    .iter()
                    .find(|(_, u)| **u == user_id)
                    .map(|(r, _)| r.clone());
                match &other {
                    Some(r) => self.routes.insert(user_id.clone(), r.clone()),
                    None => self.routes.remove(&user_id),
                };
                self.shared.set_user_route(&user_id, other);
            }
            let _ = self.shared.events.send(PeerEvent::Disconnected {
                user_id,
                routing_id: rid.to_vec(),
            });
        }
        let gone: Vec<Pending> = {
            let mut pending = self.shared.lock_pending();
            let ids: Vec<MessageId> = pending
                .iter()
                .filter(|(_, p)| p.routing_id.as_ref() == Some(rid))
                .map(|(id, _)| *id)
                .collect();
            ids.iter().filter_map(|id| pending.remove(id)).collect()
        };
        for p in gone {
            let _ = p.tx.send(Err(Error::Disconnected {
                peer: p.route.describe(),
            }));
        }
    }
}

/// A copy of a stored connection failure, for each call it fails.
pub(super) fn clone_failure(err: &Error) -> Error {
    match err {
        Error::Unauthorized(m) => Error::Unauthorized(m.clone()),
        Error::Handshake(m) => Error::Handshake(m.clone()),
        Error::ConnectionRefused { endpoint } => Error::ConnectionRefused {
            endpoint: endpoint.clone(),
        },
        Error::NoSuchServer { name, endpoint } => Error::NoSuchServer {
            name: name.clone(),
            endpoint: endpoint.clone(),
        },
        other => Error::Handshake(other.to_string()),
    }
}
