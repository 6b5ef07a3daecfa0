//! What layers above the transport (cara's capabilities) need to know about an
//! endpoint and a peer: identity, registry, connection events.

use tokio::sync::broadcast;

use crate::engine::{PeerEvent, Route};
use crate::registry::Registry;
use crate::remote::Remote;

impl Remote {
    /// A number identifying the endpoint (server or client) this remote belongs to,
    /// unique in the process while the endpoint lives.
    pub fn endpoint_id(&self) -> u64 {
        self.shared.id
    }

    /// Whether the endpoint is a client (this remote is its server).
    pub fn is_client_endpoint(&self) -> bool {
        matches!(self.route, Route::Server(_))
    }

    /// The registry of the endpoint: functions the peer can call on us.
    pub fn local_registry(&self) -> Registry {
        self.shared.registry.clone()
    }

    /// Connection events of the endpoint (peers connecting and going away).
    pub fn peer_events(&self) -> broadcast::Receiver<PeerEvent> {
        self.shared.events.subscribe()
    }

    /// The peer's routing id as the endpoint's socket sees it (the key of
    /// per-connection state), or `None` for a remote addressed by user id.
    pub fn peer_key(&self) -> Option<&[u8]> {
        match &self.route {
            Route::Server(name) | Route::RoutingId(name) => Some(name),
            Route::UserId(_) => None,
        }
    }

    /// The routing id of the connection this remote reaches now: its own for a
    /// client's server or a caller; for a remote addressed by user id, that user's
    /// current connection (`None` while the user has none).
    pub fn connection_key(&self) -> Option<Vec<u8>> {
        match &self.route {
            Route::Server(name) | Route::RoutingId(name) => Some(name.to_vec()),
            Route::UserId(user) => self.shared.user_route(user).map(|r| r.to_vec()),
        }
    }

    /// Whether the peer this remote reaches has a connection up now (a client's
    /// server: its handshake succeeded and the connection has not gone since).
    pub fn is_connected(&self) -> bool {
        self.connection_key()
            .is_some_and(|key| self.shared.is_live(&key))
    }

    /// Calls `hook` on the endpoint's socket task with the routing id of every
    /// connection that goes, once each, even when thousands go at once (unlike
    /// [`Remote::peer_events`], which may lag). Keep it short and non-blocking.
    pub fn on_connection_gone(&self, hook: impl Fn(&[u8]) + Send + Sync + 'static) {
        self.shared
            .gone_hooks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(std::sync::Arc::new(hook));
    }

    /// Whether the connection with this routing id (a [`Remote::connection_key`])
    /// is up now. State kept for a connection after it went is freed by nobody:
    /// check this after storing, and free it if the answer is no.
    pub fn connection_is_up(&self, routing_id: &[u8]) -> bool {
        self.shared.is_live(routing_id)
    }

    /// The state of type `T` a layer above keeps for this endpoint (cara keeps
    /// its capability tables so): made by `make` on first use, under a lock (so
    /// `make` runs once; it must not ask for endpoint state itself), and dropped
    /// when the endpoint stops. Two endpoints in one process never share it.
    pub fn endpoint_state<T: std::any::Any + Send + Sync>(
        &self,
        make: impl FnOnce() -> T,
    ) -> std::sync::Arc<T> {
        let mut layers = self.shared.layers.lock().unwrap_or_else(|p| p.into_inner());
        let id = std::any::TypeId::of::<T>();
        if let Some(state) = layers.get(&id).and_then(|s| s.clone().downcast::<T>().ok()) {
            return state;
        }
        let state = std::sync::Arc::new(make());
        layers.insert(id, state.clone());
        state
    }

    /// The endpoint's state of type `T`, if a layer made it.
    pub fn existing_endpoint_state<T: std::any::Any + Send + Sync>(
        &self,
    ) -> Option<std::sync::Arc<T>> {
        let layers = self.shared.layers.lock().unwrap_or_else(|p| p.into_inner());
        layers
            .get(&std::any::TypeId::of::<T>())
            .and_then(|s| s.clone().downcast::<T>().ok())
    }

    /// The endpoint's per-peer limits.
    pub fn limits(&self) -> &crate::Limits {
        &self.shared.limits
    }

    /// The user id this endpoint presents to its peer (its PLAIN username), or empty.
    pub fn local_user_id(&self) -> &[u8] {
        &self.shared.local_user_id
    }
}
