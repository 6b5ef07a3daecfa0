//! The capability state of one endpoint (a server or a client): what it exported
//! to each peer, what it imported from each, and what it learned of each peer's
//! conventions. Sessions are created on first use, kept by the endpoint, and
//! installed on its registry (`call`, `cara.release`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Once, Weak};

use pseud::{Args, Context, Function, Registry, Remote};

use super::dialect::Dialect;
use super::exports::PeerExports;
use super::forward::Prepared;
use super::import::Import;
use super::promise::PeerPromises;
use super::wire::{CALL, RELEASE};

/// Who a connection's peer is, as the socket sees it (its routing id).
pub(crate) type PeerKey = Vec<u8>;

/// The capability state of one endpoint, kept by the endpoint itself
/// (`Remote::endpoint_state`): two endpoints in one process are independent, and
/// the state goes when the endpoint stops.
pub(crate) struct Session {
    pub(super) is_client: bool,
    pub(super) user_id: Vec<u8>,
    /// Objects one peer may hold exported (`Limits::max_exports`).
    pub(super) max_exports: usize,
    pub(super) exports: Mutex<HashMap<PeerKey, PeerExports>>,
    pub(super) imports: Mutex<HashMap<(PeerKey, u64), Weak<Import>>>,
    pub(super) dialects: Mutex<HashMap<PeerKey, Dialect>>,
    /// Results of `cara.promise` calls, by peer and promise id (pipelining).
    pub(super) promises: Mutex<HashMap<PeerKey, PeerPromises>>,
    /// `call`, `cara.release` and the disconnect hook are installed once.
    installed: Once,
}

/// The session of the endpoint `remote` belongs to (created and installed on first use).
pub(crate) fn session_for(remote: &Remote) -> Arc<Session> {
    let session = remote.endpoint_state(|| Session {
        is_client: remote.is_client_endpoint(),
        user_id: remote.local_user_id().to_vec(),
        max_exports: remote.limits().max_exports,
        exports: Mutex::new(HashMap::new()),
        imports: Mutex::new(HashMap::new()),
        dialects: Mutex::new(HashMap::new()),
        promises: Mutex::new(HashMap::new()),
        installed: Once::new(),
    });
    session.installed.call_once(|| {
        install(&session, &remote.local_registry());
        // Weak: the endpoint owns the session, not the other way round.
        let weak = Arc::downgrade(&session);
        remote.on_connection_gone(move |routing_id| {
            if let Some(s) = weak.upgrade() {
                s.peer_gone(routing_id);
            }
        });
    });
    session
}

/// Registers `call` and `cara.release` on the endpoint's registry.
/// The handlers hold the session weakly: the endpoint owns it (a registry may
/// outlive its endpoint, and must not keep the endpoint's objects alive).
fn install(session: &Arc<Session>, registry: &Registry) {
    let weak = Arc::downgrade(session);
    let call = move |ctx: Context, args: Args| {
        let s = weak.upgrade();
        async move {
            let s = s.ok_or_else(stopped)?;
            run_prepared(ctx.clone(), s.prepare_call(&ctx, args)?).await
        }
    };
    let weak = Arc::downgrade(session);
    let release = move |ctx: Context, id: u64, count: u64| {
        if let Some(s) = weak.upgrade() {
            s.release(ctx.routing_id(), id, count);
        }
    };
    // Registration of fixed names with valid handlers cannot fail.
    let _ = registry.register(CALL, Function::new(call));
    let _ = registry.register(RELEASE, Function::new(release));
    super::promise::install(registry);
}

/// Runs a prepared `call`: a local object's method (its reply encoded for the
/// caller), or a forwarded call.
pub(super) async fn run_prepared(
    ctx: Context,
    prepared: Prepared,
) -> Result<pseud::Value, pseud::Fault> {
    match prepared {
        Prepared::Local { future, here } => {
            let result = crate::dispatch::scope_caller(ctx, future).await?;
            result.encode(here.caps()).map_err(|e| e.fault())
        }
        Prepared::Forward(future) => future.await,
    }
}

fn stopped() -> pseud::Fault {
    pseud::Fault::new(
        pseud::SERVICE_UNAVAILABLE,
        "the endpoint is stopping; its objects are gone",
    )
}

/// How many objects the endpoint of `remote` has exported (to all its peers):
/// what is kept alive for others. For diagnostics and tests.
pub fn exported_objects(remote: &Remote) -> usize {
    remote
        .existing_endpoint_state::<Session>()
        .map(|s| s.lock_exports().values().map(|t| t.len()).sum())
        .unwrap_or(0)
}

/// Whether dropping a capability imported from the peer `remote` addresses sends
/// it a `cara.release` (false once it answered one with `ServiceNotFoundError`,
/// as the original cara does). For diagnostics and tests.
pub fn sends_releases(remote: &Remote) -> bool {
    // A look only: an endpoint without a session has learned nothing yet.
    let session = remote.existing_endpoint_state::<Session>();
    let peer = remote.connection_key().unwrap_or_default();
    session.is_none_or(|s| s.releases(&peer) == super::dialect::Releases::Served)
}

impl Session {
    pub(super) fn lock_exports(&self) -> MutexGuard<'_, HashMap<PeerKey, PeerExports>> {
        self.exports.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn lock_imports(&self) -> MutexGuard<'_, HashMap<(PeerKey, u64), Weak<Import>>> {
        self.imports.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn lock_promises(&self) -> MutexGuard<'_, HashMap<PeerKey, PeerPromises>> {
        self.promises.lock().unwrap_or_else(|p| p.into_inner())
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
        self.lock_promises().remove(peer);
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
