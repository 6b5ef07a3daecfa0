//! Live capabilities: interface values that stay where they were made.
//!
//! An interface value travels as msgpack extension 100 whose payload names an
//! object the *sender* exported to the receiver (an object id; a client sends
//! `[object id, its user id]`, as cara does). Extension 101 names an object the
//! *receiver* exported earlier (a capability passed back to its owner). Calls on
//! an imported object are pseud WORK `call` with `[object id, interface id,
//! method ordinal, args, kwargs]`; `cara.release` with `[object id, count]` tells
//! the exporter that `count` references are gone.
//!
//! Exports are kept per endpoint and per peer connection, with reference counts:
//! a peer can only reach objects exported to it, and everything exported to a
//! peer is freed when it disconnects.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};

use pseud::{Args, Context, Fault, Function, PeerEvent, Registry, Remote, Value};

use crate::error::DecodeError;
use crate::interface::{Dispatch, InterfaceInfo, bind};

/// Extension type of a capability exported by the sender.
pub const EXT_EXPORTED: i8 = 100;
/// Extension type of a capability the receiver exported (passed back to its owner).
pub const EXT_YOURS: i8 = 101;
/// Extension type of a capability in a call that never leaves the process.
const EXT_LOOPBACK: i8 = 102;
/// The WORK name of a call on an exported object.
pub const CALL: &str = "call";
/// The WORK name that releases references to an exported object.
pub const RELEASE: &str = "cara.release";

/// Who a connection's peer is, as the socket sees it (its routing id).
type PeerKey = Vec<u8>;

/// What a capability value refers to.
#[derive(Clone)]
pub(crate) enum Target {
    /// A null capability: calls fail.
    Null,
    /// The interface a server registered by name (`<Interface>.<method>`).
    Named(Remote),
    /// An object another peer exported to us.
    Imported(Arc<Import>),
    /// An object in this process.
    Local(Arc<dyn Dispatch>),
}

impl Target {
    pub(crate) fn same(&self, other: &Target) -> bool {
        match (self, other) {
            (Target::Null, Target::Null) => true,
            (Target::Imported(a), Target::Imported(b)) => Arc::ptr_eq(a, b),
            (Target::Local(a), Target::Local(b)) => Arc::ptr_eq(a, b),
            (Target::Named(a), Target::Named(b)) => a.peer_key() == b.peer_key(),
            _ => false,
        }
    }
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Null => write!(f, "Null"),
            Target::Named(r) => write!(f, "Named({r:?})"),
            Target::Imported(i) => write!(f, "Imported(#{:x} from {:?})", i.id, i.remote),
            Target::Local(o) => write!(f, "Local({})", o.info().name),
        }
    }
}

/// An object exported to one peer.
enum Export {
    /// A local object.
    Object(Arc<dyn Dispatch>),
    /// Someone else's object, reached through us (forwarding).
    Forward(Target, &'static InterfaceInfo),
}

struct Exported {
    export: Export,
    /// References sent and not yet released.
    refs: u64,
    /// Identity of the exported thing, so sending it again reuses the id.
    key: usize,
}

#[derive(Default)]
struct PeerExports {
    by_id: HashMap<u64, Exported>,
    by_key: HashMap<usize, u64>,
    /// Objects whose last reference this peer released, while they still live
    /// elsewhere: a reply that passed one back may be decoded after the release.
    released: HashMap<u64, Weak<dyn Dispatch>>,
}

/// How many released objects a peer's table remembers.
const RELEASED_MEMORY: usize = 1024;

/// The capability state of one endpoint (a server or a client).
pub(crate) struct Session {
    endpoint: u64,
    is_client: bool,
    user_id: Vec<u8>,
    exports: Mutex<HashMap<PeerKey, PeerExports>>,
    imports: Mutex<HashMap<(PeerKey, u64), Weak<Import>>>,
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
        exports: Mutex::new(HashMap::new()),
        imports: Mutex::new(HashMap::new()),
    });
    install(&session, &remote.local_registry());
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
                    let result = crate::interface::scope_caller(ctx, future).await?;
                    Ok(here.enter(|| result.encode()))
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
        .map(|s| s.lock_exports().values().map(|t| t.by_id.len()).sum())
        .unwrap_or(0)
}

/// Frees a peer's exports and kills its imports when it disconnects; forgets the
/// session when the endpoint closes.
fn watch(session: &Arc<Session>, mut events: tokio::sync::broadcast::Receiver<PeerEvent>) {
    let weak = Arc::downgrade(session);
    let endpoint = session.endpoint;
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        return;
    };
    handle.spawn(async move {
        loop {
            match events.recv().await {
                Ok(PeerEvent::Disconnected { routing_id, .. }) => {
                    if let Some(s) = weak.upgrade() {
                        s.peer_gone(&routing_id);
                    }
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            }
        }
        SESSIONS
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&endpoint);
    });
}

impl Session {
    fn lock_exports(&self) -> std::sync::MutexGuard<'_, HashMap<PeerKey, PeerExports>> {
        self.exports.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_imports(&self) -> std::sync::MutexGuard<'_, HashMap<(PeerKey, u64), Weak<Import>>> {
        self.imports.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Exports (or re-exports) to `peer`; returns the object id.
    fn export(&self, peer: &[u8], export: Export, key: usize) -> u64 {
        let mut exports = self.lock_exports();
        let table = exports.entry(peer.to_vec()).or_default();
        if let Some(id) = table.by_key.get(&key).copied()
            && let Some(e) = table.by_id.get_mut(&id)
        {
            e.refs += 1;
            return id;
        }
        let mut id: u64 = rand::random();
        while id == 0 || table.by_id.contains_key(&id) {
            id = rand::random();
        }
        table.by_id.insert(
            id,
            Exported {
                export,
                refs: 1,
                key,
            },
        );
        table.by_key.insert(key, id);
        tracing::debug!(peer = %hex(peer), id = format_args!("{id:x}"), "capability exported");
        id
    }

    /// The local object exported to `peer` as `id`, if any.
    fn exported(&self, peer: &[u8], id: u64) -> Option<(Target, &'static InterfaceInfo)> {
        let exports = self.lock_exports();
        exports.get(peer)?.by_id.get(&id).map(|e| match &e.export {
            Export::Object(o) => (Target::Local(o.clone()), o.info()),
            Export::Forward(t, info) => (t.clone(), *info),
        })
    }

    /// An object passed back to us: exported to `peer`, or released by it very
    /// recently and still alive here.
    fn passed_back(&self, peer: &[u8], id: u64) -> Option<Target> {
        if let Some((target, _)) = self.exported(peer, id) {
            return Some(target);
        }
        let exports = self.lock_exports();
        let object = exports.get(peer)?.released.get(&id)?.upgrade()?;
        Some(Target::Local(object))
    }

    fn release(&self, peer: &[u8], id: u64, count: u64) {
        let mut exports = self.lock_exports();
        let Some(table) = exports.get_mut(peer) else {
            return;
        };
        let Some(e) = table.by_id.get_mut(&id) else {
            return;
        };
        e.refs = e.refs.saturating_sub(count);
        if e.refs == 0 {
            let key = e.key;
            if let Some(Exported {
                export: Export::Object(object),
                ..
            }) = table.by_id.remove(&id)
            {
                if table.released.len() >= RELEASED_MEMORY {
                    table.released.retain(|_, w| w.strong_count() > 0);
                }
                if table.released.len() < RELEASED_MEMORY {
                    table.released.insert(id, Arc::downgrade(&object));
                }
            }
            table.by_key.remove(&key);
            tracing::debug!(peer = %hex(peer), id = format_args!("{id:x}"), "capability released");
        }
    }

    /// An imported reference to object `id` of `peer`, shared while it lives.
    fn import(self: &Arc<Self>, peer: &[u8], id: u64, remote: &Remote) -> Arc<Import> {
        let mut imports = self.lock_imports();
        let key = (peer.to_vec(), id);
        if let Some(existing) = imports.get(&key).and_then(Weak::upgrade)
            && existing.alive.load(Ordering::Acquire)
        {
            existing.received.fetch_add(1, Ordering::AcqRel);
            return existing;
        }
        let import = Arc::new(Import {
            session: self.clone(),
            peer: peer.to_vec(),
            id,
            remote: remote.clone(),
            received: AtomicU64::new(1),
            alive: AtomicBool::new(true),
        });
        imports.insert(key, Arc::downgrade(&import));
        import
    }

    fn peer_gone(&self, peer: &[u8]) {
        if peer.is_empty() && self.is_client {
            // A client's server went away: every peer state is its.
            let peers: Vec<PeerKey> = self.lock_exports().keys().cloned().collect();
            let imported: Vec<PeerKey> =
                self.lock_imports().keys().map(|(p, _)| p.clone()).collect();
            for p in peers.into_iter().chain(imported).filter(|p| !p.is_empty()) {
                self.peer_gone(&p);
            }
            return;
        }
        let dropped = self.lock_exports().remove(peer);
        if let Some(t) = dropped {
            tracing::debug!(peer = %hex(peer), objects = t.by_id.len(), "peer gone; its exports freed");
        }
        let mut imports = self.lock_imports();
        imports.retain(|(p, _), weak| {
            if p.as_slice() != peer {
                return true;
            }
            if let Some(i) = weak.upgrade() {
                i.alive.store(false, Ordering::Release);
            }
            false
        });
    }

    /// Whether an import is still the one registered under its key.
    fn forget_import(&self, import: &Import) {
        let mut imports = self.lock_imports();
        let key = (import.peer.clone(), import.id);
        if imports
            .get(&key)
            .is_some_and(|w| std::ptr::eq(w.as_ptr(), import))
        {
            imports.remove(&key);
        }
    }

    /// The `call` handler, up to the dispatch: a peer calls an object we exported
    /// to it. It is synchronous, so the future boxed per call only holds what
    /// lives across the await.
    fn prepare_call(self: &Arc<Self>, ctx: &Context, args: Args) -> Result<Prepared, Fault> {
        let peer = ctx.routing_id().to_vec();
        let mut positional = args.args.into_iter();
        let id = as_u64(positional.next(), "object id")?;
        let interface_id = as_u64(positional.next(), "interface id")?;
        let ordinal = as_u64(positional.next(), "method ordinal")?;
        let call_args = match positional.next() {
            Some(Value::Array(a)) => a,
            None | Some(Value::Nil) => Vec::new(),
            Some(_) => return Err(Fault::type_error("call(): args must be an array")),
        };
        let call_kwargs = match positional.next() {
            Some(Value::Map(m)) => m
                .into_iter()
                .filter_map(|(k, v)| k.as_str().map(|k| (k.to_string(), v)))
                .collect(),
            _ => Vec::new(),
        };
        let Some((target, info)) = self.exported(&peer, id) else {
            // Scoping: never reach an object that was not exported to this peer.
            tracing::warn!(peer = %hex(&peer), id = format_args!("{id:x}"), "call on an object not exported to this peer");
            return Err(Fault::new(
                "CapabilityError",
                format!("no object {id:#x} was exported to this peer"),
            ));
        };
        let ordinal =
            u16::try_from(ordinal).map_err(|_| Fault::type_error("bad method ordinal"))?;
        let here = PeerCtx::Remote {
            session: Arc::clone(self),
            peer: peer.clone(),
            remote: ctx.caller(),
        };
        match target {
            Target::Local(object) => {
                let info = object.info();
                let Some(index) = info
                    .methods
                    .iter()
                    .position(|m| m.interface_id == interface_id && m.ordinal == ordinal)
                else {
                    return Err(Fault::new(
                        "CapabilityError",
                        format!(
                            "{} has no method {ordinal} of interface {interface_id:#x}",
                            info.name
                        ),
                    ));
                };
                let method = &info.methods[index];
                let bound = bind(
                    method,
                    Args {
                        args: call_args,
                        kwargs: call_kwargs,
                    },
                )?;
                let future = here.enter(|| object.dispatch(index, bound));
                Ok(Prepared::Local { future, here })
            }
            // Forwarding: rewrite capabilities from this peer's view to the owner's.
            other => {
                let stub = crate::interface::Stub::from_target(other, info);
                let args = here.enter(|| rewrite_in(call_args));
                Ok(Prepared::Forward(Box::pin(async move {
                    stub.call_raw(interface_id, ordinal, args, &here)
                        .await
                        .map_err(|e| match e {
                            pseud::Error::Remote(r) => Fault::from(r),
                            other => Fault::new("CapabilityError", other.to_string()),
                        })
                })))
            }
        }
    }
}

/// A `call` ready to run.
enum Prepared {
    /// A local object's dispatched method, and the context to encode its reply in.
    Local {
        future: crate::interface::BoxFuture<Result<crate::interface::Reply, Fault>>,
        here: PeerCtx,
    },
    /// A call forwarded to another peer.
    Forward(crate::interface::BoxFuture<Result<Value, Fault>>),
}

fn as_u64(v: Option<Value>, what: &str) -> Result<u64, Fault> {
    v.as_ref()
        .and_then(Value::as_u64)
        .ok_or_else(|| Fault::type_error(format!("call(): the {what} must be an unsigned integer")))
}

fn hex(b: &[u8]) -> String {
    pseud::protocol::hex(b)
}

/// A reference to an object another peer exported to us.
pub(crate) struct Import {
    session: Arc<Session>,
    peer: PeerKey,
    pub(crate) id: u64,
    pub(crate) remote: Remote,
    /// References received; all are released together when the last stub drops.
    received: AtomicU64,
    /// False once the peer disconnected: calls fail fast.
    pub(crate) alive: AtomicBool,
}

impl Import {
    pub(crate) fn is_alive(&self) -> bool {
        self.alive.load(Ordering::Acquire)
    }
}

impl Drop for Import {
    fn drop(&mut self) {
        self.session.forget_import(self);
        if !self.is_alive() {
            return;
        }
        let count = self.received.load(Ordering::Acquire);
        let remote = self.remote.clone();
        let id = self.id;
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                let sent = remote
                    .request(RELEASE)
                    .args((id, count))
                    .send::<Value>()
                    .await;
                if let Err(e) = sent {
                    tracing::debug!(error = %e, "release not delivered (the peer frees our references when we disconnect)");
                }
            });
        }
    }
}

/// Where values being encoded go to, or decoded values came from.
pub(crate) enum PeerCtx {
    /// A peer connection of an endpoint.
    Remote {
        session: Arc<Session>,
        peer: PeerKey,
        remote: Remote,
    },
    /// A call inside this process: capabilities pass as themselves.
    Loopback(Mutex<Vec<Target>>),
}

thread_local! {
    static CURRENT: RefCell<Option<*const PeerCtx>> = const { RefCell::new(None) };
}

impl PeerCtx {
    /// The context for talking to `remote`.
    pub(crate) fn for_remote(remote: &Remote) -> PeerCtx {
        PeerCtx::Remote {
            session: session_for(remote),
            peer: remote.peer_key().map(<[u8]>::to_vec).unwrap_or_default(),
            remote: remote.clone(),
        }
    }

    /// The context for calling an imported object: its own session and peer
    /// (no lookup in the process-wide session table on this hot path).
    pub(crate) fn for_import(import: &Import) -> PeerCtx {
        PeerCtx::Remote {
            session: import.session.clone(),
            peer: import.peer.clone(),
            remote: import.remote.clone(),
        }
    }

    /// Runs `f` (synchronous encoding or decoding) with this context current.
    pub(crate) fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        let previous = CURRENT.with(|c| c.replace(Some(self as *const PeerCtx)));
        struct Restore(Option<*const PeerCtx>);
        impl Drop for Restore {
            fn drop(&mut self) {
                let prev = self.0.take();
                CURRENT.with(|c| *c.borrow_mut() = prev);
            }
        }
        let _restore = Restore(previous);
        f()
    }

    fn with_current<R>(f: impl FnOnce(Option<&PeerCtx>) -> R) -> R {
        let ptr = CURRENT.with(|c| *c.borrow());
        // SAFETY: the pointer is set only by `enter`, for the duration of a closure
        // that borrows the context, on this thread; `Restore` unsets it on exit.
        #[allow(unsafe_code)]
        let ctx = ptr.map(|p| unsafe { &*p });
        f(ctx)
    }
}

/// Encodes a capability for whoever the current context is talking to.
pub(crate) fn encode_target(target: &Target, info: &'static InterfaceInfo) -> Value {
    if let Target::Null = target {
        return Value::Nil;
    }
    PeerCtx::with_current(|ctx| match ctx {
        None => {
            tracing::warn!("a capability was encoded outside of a call; it travels as nil");
            Value::Nil
        }
        Some(PeerCtx::Loopback(table)) => {
            let mut table = table.lock().unwrap_or_else(|p| p.into_inner());
            table.push(target.clone());
            Value::Ext(EXT_LOOPBACK, payload(table.len() as u64 - 1))
        }
        Some(PeerCtx::Remote { peer, .. }) if peer.is_empty() => {
            tracing::error!(
                "a capability cannot travel to a remote addressed by user id (send_to); it travels as nil"
            );
            Value::Nil
        }
        Some(PeerCtx::Remote { session, peer, .. }) => {
            if let Target::Imported(import) = target
                && Arc::ptr_eq(&import.session, session)
                && import.peer == *peer
            {
                // Back to its owner: no proxy, no round trip.
                return Value::Ext(EXT_YOURS, payload(import.id));
            }
            let (export, key) = match target {
                Target::Local(object) => (
                    Export::Object(object.clone()),
                    Arc::as_ptr(object) as *const () as usize,
                ),
                Target::Imported(import) => (
                    Export::Forward(target.clone(), info),
                    Arc::as_ptr(import) as usize,
                ),
                Target::Named(remote) => (
                    Export::Forward(target.clone(), info),
                    // One proxy per named interface and peer.
                    (remote.endpoint_id() as usize) ^ (info as *const InterfaceInfo as usize),
                ),
                Target::Null => return Value::Nil,
            };
            let id = session.export(peer, export, key);
            if session.is_client {
                let body = Value::Array(vec![
                    Value::from(id),
                    Value::Binary(session.user_id.clone()),
                ]);
                let mut bytes = Vec::new();
                pseud::value::write_value(&mut bytes, &body);
                Value::Ext(EXT_EXPORTED, bytes)
            } else {
                Value::Ext(EXT_EXPORTED, payload(id))
            }
        }
    })
}

fn payload(id: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    pseud::value::write_value(&mut bytes, &Value::from(id));
    bytes
}

/// Decodes a capability received from whoever the current context is talking to.
pub(crate) fn decode_target(value: Value) -> Result<Target, DecodeError> {
    let (code, data) = match value {
        Value::Nil => return Ok(Target::Null),
        Value::Ext(code, data) => (code, data),
        other => return Err(DecodeError::expected("capability", &other)),
    };
    let id = match pseud::value::read_value(&data) {
        Ok(Value::Array(items)) => items.first().and_then(Value::as_u64),
        Ok(v) => v.as_u64(),
        Err(_) => None,
    }
    .ok_or_else(|| DecodeError::new("malformed capability payload"))?;
    PeerCtx::with_current(|ctx| match (ctx, code) {
        (Some(PeerCtx::Loopback(table)), EXT_LOOPBACK) => usize::try_from(id)
            .ok()
            .and_then(|i| {
                table
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .get(i)
                    .cloned()
            })
            .ok_or_else(|| DecodeError::new("unknown in-process capability")),
        (
            Some(PeerCtx::Remote {
                session,
                peer,
                remote,
            }),
            EXT_EXPORTED,
        ) => Ok(Target::Imported(session.import(peer, id, remote))),
        (Some(PeerCtx::Remote { session, peer, .. }), EXT_YOURS) => {
            session.passed_back(peer, id).ok_or_else(|| {
                DecodeError::new(format!("no object {id:#x} was exported to this peer"))
            })
        }
        (None, _) => Err(DecodeError::new(
            "a capability was decoded outside of a call",
        )),
        (_, code) => Err(DecodeError::new(format!(
            "unexpected capability extension {code}"
        ))),
    })
}

/// Re-reads capability values of an incoming call in this context and re-encodes
/// them as plain targets (so they can be sent on to another peer).
fn rewrite_in(values: Vec<Value>) -> Vec<Captured> {
    values.into_iter().map(capture).collect()
}

/// A value whose capabilities have been resolved to targets.
pub(crate) enum Captured {
    /// A plain value.
    Plain(Value),
    /// A capability.
    Cap(Target),
    /// An array.
    Array(Vec<Captured>),
    /// A map.
    Map(Vec<(Captured, Captured)>),
}

fn capture(v: Value) -> Captured {
    match v {
        Value::Ext(code, data) if matches!(code, EXT_EXPORTED | EXT_YOURS | EXT_LOOPBACK) => {
            match decode_target(Value::Ext(code, data.clone())) {
                Ok(t) => Captured::Cap(t),
                Err(_) => Captured::Plain(Value::Ext(code, data)),
            }
        }
        Value::Array(items) => Captured::Array(items.into_iter().map(capture).collect()),
        Value::Map(pairs) => Captured::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (capture(k), capture(v)))
                .collect(),
        ),
        other => Captured::Plain(other),
    }
}

/// Encodes captured values for the current context.
pub(crate) fn release_captured(c: Captured) -> Value {
    match c {
        Captured::Plain(v) => v,
        Captured::Cap(t) => encode_target(&t, &crate::interface::ANY),
        Captured::Array(items) => Value::Array(items.into_iter().map(release_captured).collect()),
        Captured::Map(pairs) => Value::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (release_captured(k), release_captured(v)))
                .collect(),
        ),
    }
}

/// Captures a reply's capabilities in the current context.
pub(crate) fn capture_value(v: Value) -> Captured {
    capture(v)
}
