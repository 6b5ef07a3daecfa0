//! What callers, handlers and the socket task share: where messages go, calls
//! waiting for replies, queued messages, and the endpoint's [`Shared`] state.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::error::Error;
use crate::protocol::{MessageId, MessageType};
use crate::registry::Registry;

/// A predicate deciding whether a caller (by user id) is admitted to a domain.
pub type DomainPredicate = Arc<dyn Fn(&[u8]) -> bool + Send + Sync>;

/// Where an outgoing message goes.
#[derive(Clone, Debug)]
pub(crate) enum Route {
    /// A client's server, addressed by its name; waits for the connection.
    Server(Arc<[u8]>),
    /// A connected peer by routing id; fails at once if it is gone.
    RoutingId(Arc<[u8]>),
    /// A connected peer by its authenticated user id.
    UserId(Arc<[u8]>),
}

impl Route {
    pub(crate) fn describe(&self) -> String {
        match self {
            Route::Server(n) => format!("server {:?}", String::from_utf8_lossy(n)),
            // Not the id itself: error texts may reach other peers (see
            // docs/transport.md, "Limits and quotas"); logs carry it.
            Route::RoutingId(_) => "the peer".to_string(),
            Route::UserId(u) => format!("user {:?}", String::from_utf8_lossy(u)),
        }
    }
}

/// A change in the set of connected peers, as a server sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerEvent {
    /// A peer connected (its handshake succeeded) under this user id.
    Connected {
        /// The user id security established (empty under `noop`).
        user_id: Vec<u8>,
        /// The routing id of the connection.
        routing_id: Vec<u8>,
    },
    /// A peer's connection was found gone. (A client reports its server's
    /// connection with an empty routing id.)
    Disconnected {
        /// The user id it had.
        user_id: Vec<u8>,
        /// The routing id of the lost connection.
        routing_id: Vec<u8>,
    },
}

/// A raw reply to one of our calls.
pub(crate) struct RawReply {
    pub kind: MessageType,
    pub body: bytes::Bytes,
}

pub(crate) type ReplySender = oneshot::Sender<Result<RawReply, Error>>;

/// A call waiting for its reply.
pub(crate) struct Pending {
    pub tx: ReplySender,
    /// The routing id it was sent to (set by the socket task), for disconnect sweeps.
    pub routing_id: Option<Arc<[u8]>>,
    /// Where it went; described only for an error (formatting costs per call).
    pub route: Route,
}

/// A message id as sent on the wire: ours and most peers' are 16 bytes, kept
/// inline so a message needs no allocation for its id.
#[derive(Clone, Debug)]
pub(crate) enum WireId {
    Fixed([u8; 16]),
    Other(Vec<u8>),
}

impl WireId {
    pub(crate) fn from_frame(id: &[u8]) -> Self {
        match id.try_into() {
            Ok(fixed) => WireId::Fixed(fixed),
            Err(_) => WireId::Other(id.to_vec()),
        }
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            WireId::Fixed(id) => id,
            WireId::Other(id) => id,
        }
    }
}

/// A message queued for sending.
pub(crate) struct Outgoing {
    pub route: Route,
    pub id: WireId,
    pub kind: MessageType,
    pub body: Vec<u8>,
    /// Set for our own calls: their pending entry fails if the send fails.
    pub call: Option<MessageId>,
    /// Set for replies of handlers that ran on their own task: which one.
    pub task: Option<TaskId>,
}

/// A handler running on its own task, as the socket task tracks it.
pub(crate) type TaskId = u64;

pub(crate) enum Command {
    Send(Outgoing),
    Stop(oneshot::Sender<()>),
}

/// Calls waiting for replies, by message id.
pub(crate) type PendingMap = HashMap<MessageId, Pending, std::hash::BuildHasherDefault<IdHasher>>;

/// A cheap multiply-rotate hash for [`MessageId`]s: our ids are random and only we
/// insert (a peer's id is only looked up), so SipHash's flood resistance buys nothing.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Mixes in every chunk, so any key still hashes correctly.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
}

/// State shared between the socket task and the handles (server, client, remotes).
pub(crate) struct Shared {
    pub label: String,
    pub cmd: mpsc::UnboundedSender<Command>,
    pub pending: Mutex<PendingMap>,
    pub registry: Registry,
    pub use_global: bool,
    pub domains: RwLock<HashMap<String, DomainPredicate>>,
    pub timeout: Duration,
    pub limits: crate::Limits,
    pub stop_grace: Duration,
    pub events: tokio::sync::broadcast::Sender<PeerEvent>,
    /// Turns true when the socket task has ended.
    pub closed: tokio::sync::watch::Sender<bool>,
    /// The user id this endpoint presents (a client's PLAIN username), or empty.
    pub local_user_id: Vec<u8>,
    /// Unique in the process, never reused.
    pub id: u64,
    /// A copy of the engine's user id → routing id map (what `send_to` reaches),
    /// written only when it changes, for layers that key state by connection.
    pub user_routes: RwLock<HashMap<Vec<u8>, Arc<[u8]>>>,
    /// What a server does when a connected user id logs in again.
    pub second_login: crate::SecondLogin,
    /// Routing ids of the connections up now.
    pub live: Mutex<std::collections::HashSet<Arc<[u8]>>>,
    /// Called on the socket task with the routing id of each connection that
    /// goes, once, in order (layers that keep per-connection state free it).
    pub gone_hooks: Mutex<Vec<GoneHook>>,
    /// State layers above keep for this endpoint, one per type (see
    /// `Remote::endpoint_state`); cleared when the socket task ends, which also
    /// breaks any cycle back to this `Shared`.
    pub layers: Mutex<HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>>,
    /// Where calls to names nobody registered go (`ServerBuilder::proxy_to`).
    pub proxy_to: Option<Arc<crate::Client>>,
}

/// See [`Shared::gone_hooks`].
pub(crate) type GoneHook = Arc<dyn Fn(&[u8]) + Send + Sync>;

impl Shared {
    pub(crate) fn lock_pending(&self) -> std::sync::MutexGuard<'_, PendingMap> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn lookup(&self, name: &str, user_id: &[u8]) -> Option<Arc<crate::Function>> {
        let admits = |domain: &str| {
            let domains = self.domains.read().unwrap_or_else(|p| p.into_inner());
            domains.get(domain).is_some_and(|pred| pred(user_id))
        };
        self.registry.lookup(name, admits).or_else(|| {
            if self.use_global {
                Registry::global().lookup(name, admits)
            } else {
                None
            }
        })
    }

    /// Mirrors a change of the engine's route for `user` (`None`: no connection).
    pub(super) fn set_user_route(&self, user: &[u8], route: Option<Arc<[u8]>>) {
        let mut routes = self.user_routes.write().unwrap_or_else(|p| p.into_inner());
        match route {
            Some(r) => routes.insert(user.to_vec(), r),
            None => routes.remove(user),
        };
    }

    /// The routing id of `user`'s current connection.
    pub(crate) fn user_route(&self, user: &[u8]) -> Option<Arc<[u8]>> {
        let routes = self.user_routes.read().unwrap_or_else(|p| p.into_inner());
        routes.get(user).cloned()
    }

    pub(super) fn set_live(&self, routing_id: &Arc<[u8]>, up: bool) {
        let mut live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        if up {
            live.insert(routing_id.clone());
        } else {
            live.remove(routing_id);
        }
    }

    /// Whether the connection with this routing id is up.
    pub(crate) fn is_live(&self, routing_id: &[u8]) -> bool {
        let live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.contains(routing_id)
    }

    /// Runs the gone hooks for a connection that went (after `set_live(false)`).
    pub(super) fn peer_gone(&self, routing_id: &[u8]) {
        let hooks: Vec<GoneHook> = self
            .gone_hooks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for hook in hooks {
            hook(routing_id);
        }
    }

    pub(super) fn fail(&self, id: &MessageId, err: Error) {
        if let Some(p) = self.lock_pending().remove(id) {
            let _ = p.tx.send(Err(err));
        }
    }
}
