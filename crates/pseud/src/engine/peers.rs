//! Connections: what the router reports of them (handshakes, failures,
//! disconnects), and what a lost peer means for the calls sent to it.

use std::sync::Arc;

use tokio::time::Instant;

use super::{Engine, Outgoing, Peer, PeerEvent, Pending, Route, Side, WireId};
use crate::error::Error;
use crate::protocol::{MessageId, MessageType, hex};
use crate::zmtp::Incoming;

impl Engine {
    /// Handles one item from the router.
    pub(super) fn on_incoming(&mut self, item: Incoming) {
        match item {
            Incoming::Messages {
                routing_id,
                messages,
                credit,
            } => {
                for frames in messages {
                    self.on_message(routing_id.clone(), frames);
                }
                // The connection may hand over its next batch.
                drop(credit);
            }
            Incoming::Connected {
                routing_id,
                user_id,
                link,
                endpoint,
                conn,
            } => {
                tracing::debug!(%endpoint, routing_id = %hex(&routing_id), user = %String::from_utf8_lossy(&user_id), "handshake succeeded");
                if self.side == Side::Server {
                    self.second_login(&user_id);
                }
                if let Some(old) = self.peers.remove(&routing_id) {
                    // A client's server reconnected under its name before the old
                    // connection was seen gone (libzmq's ZMQ_ROUTER_HANDOVER): the
                    // old one closes. (A server's peers have ids of their own.)
                    tracing::info!(routing_id = %hex(&routing_id), "a new connection takes over this routing id");
                    old.link.close();
                    self.peer_removed(&routing_id, old);
                }
                self.shared.set_live(&routing_id, true);
                let peer = Peer::new(user_id.clone(), link, conn);
                self.peers.insert(routing_id.clone(), peer);
                if self.side == Side::Client {
                    self.server_connected(&routing_id, &endpoint);
                } else {
                    self.learn_route(&user_id, &routing_id);
                    let _ = self.shared.events.send(PeerEvent::Connected {
                        user_id,
                        routing_id: routing_id.to_vec(),
                    });
                }
            }
            Incoming::Disconnected {
                routing_id,
                conn,
                endpoint,
            } => {
                if self.peers.get(&routing_id).is_none_or(|p| p.conn != conn) {
                    return; // a connection that was taken over
                }
                tracing::info!(%endpoint, routing_id = %hex(&routing_id), "connection lost");
                if self.side == Side::Client {
                    self.server_lost(&routing_id);
                } else {
                    self.forget_peer(&routing_id);
                }
            }
            Incoming::HandshakeFailed {
                endpoint,
                status,
                reason,
            } => match (self.side == Side::Client, status) {
                (true, Some(status)) => {
                    tracing::warn!(%endpoint, status, "the server refused our credentials");
                    self.handshake_failed(Error::Unauthorized(format!(
                        "the server at {endpoint} refused our credentials (ZAP status {status})"
                    )));
                }
                (true, None) => {
                    tracing::warn!(%endpoint, %reason, "handshake failed");
                    self.handshake_failed(Error::Handshake(format!(
                        "the ZeroMQ handshake with {endpoint} failed ({reason}); does the security mode match the server's?"
                    )));
                }
                (false, _) => tracing::warn!(%endpoint, %reason, "a peer failed its handshake"),
            },
            Incoming::ConnectRetried { endpoint, reason } => {
                tracing::debug!(%endpoint, %reason, "connect failed; retrying");
                if self.side == Side::Client && self.link.connected_at.is_none() {
                    self.connect_failed(&endpoint);
                }
            }
        }
    }

    /// A client's connection is up: under our server's name, or under another.
    fn server_connected(&mut self, routing_id: &Arc<[u8]>, endpoint: &str) {
        self.link.endpoint = endpoint.to_string();
        self.link.connected_at = Some(Instant::now());
        self.link.refused_since = None;
        if self.greet.as_ref() != Some(routing_id) {
            let err = Error::NoSuchServer {
                name: self
                    .greet
                    .as_ref()
                    .map(|n| String::from_utf8_lossy(n).into_owned())
                    .unwrap_or_default(),
                endpoint: endpoint.to_string(),
            };
            tracing::warn!(%err, routing_id = %hex(routing_id), "our server's name does not reach it");
            self.handshake_failed(err);
            return;
        }
        self.handshake_failure = None;
        self.greet_server();
        self.retry_parked();
    }

    /// A client's connection went: the calls it carried fail, later ones wait
    /// for the reconnect.
    fn server_lost(&mut self, routing_id: &Arc<[u8]>) {
        if let Some(peer) = self.peers.remove(routing_id) {
            self.peer_removed(routing_id, peer);
        }
        if self.greet.as_ref() != Some(routing_id) {
            return;
        }
        self.link.connected_at = None;
        self.fail_sent(|peer| Error::Disconnected { peer });
        // Calls parked now were made for the connection that just went (its link
        // was closed before this event): they fail the same way.
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
            task: None,
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

    /// Another connection of a connected user id logged in: both serve, or the
    /// new one replaces the old ones (see [`crate::SecondLogin`]).
    fn second_login(&mut self, user_id: &[u8]) {
        if user_id.is_empty() {
            return; // `noop`: every peer has the empty user id
        }
        let others: Vec<Arc<[u8]>> = self
            .peers
            .iter()
            .filter(|(_, p)| p.user_id == user_id)
            .map(|(r, _)| r.clone())
            .collect();
        if others.is_empty() {
            return;
        }
        let user = String::from_utf8_lossy(user_id);
        match self.shared.second_login {
            crate::SecondLogin::Coexist => {
                tracing::info!(%user, connections = others.len() + 1, "a connected user logged in again; both connections serve, send_to reaches the newest");
            }
            crate::SecondLogin::ReplaceFirst => {
                tracing::info!(%user, replaced = others.len(), "a connected user logged in again; the new connection replaces the old");
                for rid in others {
                    if let Some(peer) = self.peers.get(&rid) {
                        peer.link.close();
                    }
                    self.forget_peer_because(&rid, Gone::Replaced);
                }
            }
        }
    }

    pub(super) fn forget_peer(&mut self, rid: &Arc<[u8]>) {
        self.forget_peer_because(rid, Gone::Disconnected);
    }

    fn forget_peer_because(&mut self, rid: &Arc<[u8]>, why: Gone) {
        if let Some(peer) = self.peers.remove(rid) {
            let user_id = peer.user_id.clone();
            self.peer_removed(rid, peer);
            tracing::info!(user = %String::from_utf8_lossy(&user_id), routing_id = %hex(rid), "peer disconnected");
            if self.routes.get(&user_id) == Some(rid) {
                // Another connection of the same user (or another noop peer) takes over.
                let other = self
                    .peers
                    .iter()
                    .find(|(_, p)| p.user_id == user_id)
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
            let peer = match why {
                Gone::Disconnected => p.route.describe(),
                Gone::Replaced => format!("{} (replaced by a newer login)", p.route.describe()),
            };
            let _ = p.tx.send(Err(Error::Disconnected { peer }));
        }
    }

    /// What leaving costs a peer that was in `peers`: its running handlers are
    /// cancelled, the calls held for it fail, and the endpoint's hooks (the
    /// capability tables) forget it. O(its own state), whatever else is connected.
    fn peer_removed(&mut self, rid: &Arc<[u8]>, peer: Peer) {
        self.shared.set_live(rid, false);
        for task in &peer.tasks {
            if let Some(t) = self.running.remove(task) {
                t.abort.abort();
            }
        }
        if !peer.tasks.is_empty() {
            tracing::debug!(routing_id = %hex(rid), cancelled = peer.tasks.len(), "the caller left; its running handlers are cancelled");
        }
        for out in peer.held {
            if let Some(id) = out.call {
                self.shared.fail(
                    &id,
                    Error::Disconnected {
                        peer: out.route.describe(),
                    },
                );
            }
        }
        self.shared.peer_gone(rid);
    }
}

/// Why a peer is forgotten.
#[derive(Clone, Copy)]
enum Gone {
    Disconnected,
    Replaced,
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
