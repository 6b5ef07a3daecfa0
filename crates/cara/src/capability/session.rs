//! The capability state of one endpoint (a server or a client): what it exported
//! to each peer, what it imported from each, and what it learned of each peer's
//! conventions. Sessions are created on first use and installed on the endpoint's
//! registry (`call`, `cara.release`).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, Weak};

use pseud::{Args, Context, Function, PeerEvent, Registry, Remote};

use super::dialect::Dialect;
use super::exports::PeerExports;
use super::forward::Prepared;
use super::import::Import;
use super::wire::{CALL, RELEASE};

/// Who a connection's peer is, as the socket sees it (its routing id).
pub(crate) type PeerKey = Vec<u8>;

/// The capability state of one endpoint.
pub(crate) struct Session {
    endpoint: u64,
    pub(super) is_client: bool,
    pub(super) user_id: Vec<u8>,
    /// Objects one peer may hold exported (`Limits::max_exports`).
    pub(super) max_exports: usize,
    pub(super) exports: Mutex<HashMap<PeerKey, PeerExports>>,
    pub(super) imports: Mutex<HashMap<(PeerKey, u64), Weak<Import>>>,
    pub(super) dialects: Mutex<HashMap<PeerKey, Dialect>>,
}

static SESSIONS: LazyLock<Mutex<HashMap<u64, Arc<Session>>>> = LazyLock::new(Default::default);

/// The session of the endpoint `remote` belongs to (created and installed on first use).
pub(crate) fn session_for(remote: &Remote) -> Arc<Session> {
    let endpoint = remote.endpoint_id();
    let mut sessions = SESSIONS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(s) = sessions.get(&endpoint) {
        return s.clone();
    }
    let session = Arc::new(Session {
        endpoint,
        is_client: remote.is_client_endpoint(),
        user_id: remote.local_user_id().to_vec(),
        max_exports: remote.limits().max_exports,
        exports: Mutex::new(HashMap::new()),
        imports: Mutex::new(HashMap::new()),
        dialects: Mutex::new(HashMap::new()),
    });
    install(&session, &remote.local_registry());
    let weak = Arc::downgrade(&session);
    remote.on_connection_gone(move |routing_id| {
        if let Some(s) = weak.upgrade() {
            s.peer_gone(routing_id);
        }
    });
    watch(&session, remote.peer_events());
    sessions.insert(endpoint, session.clone());
    session
}

/// Registers `call` and `cara.release` on the endpoint's registry.
fn install(session: &Arc<Session>, registry: &Registry) {
    let s = session.clone();
    let call = move |ctx: Context, args: Args| {
        let s = s.clone();
        async move {
            match s.prepare_call(&ctx, args)? {
                Prepared::Local { future, here } => {
                    let result = crate::dispatch::scope_caller(ctx, future).await?;
                    here.encode(|| result.encode()).map_err(|e| e.fault())
                }
                Prepared::Forward(future) => future.await,
            }
        }
    };
    let s = session.clone();
    let release = move |ctx: Context, id: u64, count: u64| {
        s.release(ctx.routing_id(), id, count);
    };
    // Registration of fixed names with valid handlers cannot fail.
    let _ = registry.register(CALL, Function::new(call));
    let _ = registry.register(RELEASE, Function::new(release));
}

/// How many objects the endpoint of `remote` has exported (to all its peers):
/// what is kept alive for others. For diagnostics and tests.
pub fn exported_objects(remote: &Remote) -> usize {
    let sessions = SESSIONS.lock().unwrap_or_else(|p| p.into_inner());
    sessions
        .get(&remote.endpoint_id())
        .map(|s| s.lock_exports().values().map(|t| t.len()).sum())
        .unwrap_or(0)
}

/// Whether dropping a capability imported from the peer `remote` addresses sends
/// it a `cara.release` (false once it answered one with `ServiceNotFoundError`,
/// as the original cara does). For diagnostics and tests.
pub fn sends_releases(remote: &Remote) -> bool {
    // A look only: an endpoint without a session has learned nothing yet.
    let session = SESSIONS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&remote.endpoint_id())
        .cloned();
    let peer = remote.connection_key().unwrap_or_default();
    session.is_none_or(|s| s.releases(&peer) == super::dialect::Releases::Served)
}

/// Forgets the session when the endpoint closes. (Peers that go are forgotten
/// by the `on_connection_gone` hook, which never lags.)
fn watch(session: &Arc<Session>, mut events: tokio::sync::broadcast::Receiver<PeerEvent>) {
    let endpoint = session.endpoint;
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return;
    };
    handle.spawn(async move {
        while let Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) =
            events.recv().await
        {}
        SESSIONS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&endpoint);
    });
}

impl Session {
    pub(super) fn lock_exports(&self) -> MutexGuard<'_, HashMap<PeerKey, PeerExports>> {
        self.exports.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn lock_imports(&self) -> MutexGuard<'_, HashMap<(PeerKey, u64), Weak<Import>>> {
        self.imports.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn lock_dialects(&self) -> MutexGuard<'_, HashMap<PeerKey, Dialect>> {
        self.dialects.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets everything about a peer that went away: its exports are freed, its
    /// imports fail fast, and its conventions are learned again if it comes back
    /// (it may come back as another implementation).
    pub(super) fn peer_gone(&self, peer: &[u8]) {
        let dropped = self.lock_exports().remove(peer);
        if let Some(t) = dropped {
            tracing::debug!(peer = %hex(peer), objects = t.len(), "peer gone; its exports freed");
        }
        self.lock_dialects().remove(peer);
        let mut imports = self.lock_imports();
        imports.retain(|(p, _), weak| {
            if p.as_slice() != peer {
                return true;
            }
            if let Some(i) = weak.upgrade() {
                i.kill();
            }
            false
        });
    }
}

pub(crate) fn hex(b: &[u8]) -> String {
    pseud::protocol::hex(b)
}
