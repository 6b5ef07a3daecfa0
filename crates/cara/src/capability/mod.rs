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
//!
//! By concern: [`wire`] (codes and payloads), [`session`] (an endpoint's state
//! and its lifetime), [`exports`] and [`import`] (the two directions),
//! [`context`] (encoding relative to a peer), [`forward`] (serving `call`),
//! [`dialect`] (what a peer's conventions turned out to be).
//!
//! [`session::Session`] is the hub: the other modules add its methods for their
//! concern (`impl Session` blocks), and it holds their tables, so they and
//! `session` name each other. That circle is the price of splitting one type by
//! concern; nothing outside this module depends on the parts, and none of them
//! depends on `crate::interface` (the stub layer above).

mod context;
mod dialect;
mod exports;
mod forward;
mod import;
mod pipeline;
mod promise;
mod session;
mod wire;

use std::sync::Arc;

use pseud::Remote;

use crate::dispatch::Dispatch;

pub use context::Caps;
pub(crate) use context::{PeerCtx, decode_target, encode_target};
pub(crate) use dialect::{Naming, Pipelining};
pub(crate) use import::Import;
pub(crate) use pipeline::{Begin, Promise, Wire};
pub(crate) use promise::install as install_pipelining;
pub use promise::pipelining_state;
pub use session::{exported_objects, sends_releases};
pub use wire::{CALL, CAPABILITY_ERROR, EXT_EXPORTED, EXT_YOURS, RELEASE};
pub(crate) use wire::{PIPELINED, PROMISE, UNKNOWN_PROMISE, call_args, pipelined_args};

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
    /// The object a call will return (pipelining).
    Promise(Arc<Promise>),
    /// Replicas' registered interfaces: each call goes to the next one up.
    Pool(Arc<pseud::Pool>),
}

impl Target {
    /// What a call on this target goes to now: for a pool, the registered
    /// interface of its next replica (so that what the call returns is bound
    /// to that replica's connection); any other target is itself.
    pub(crate) fn resolved(&self) -> std::borrow::Cow<'_, Target> {
        match self {
            Target::Pool(pool) => std::borrow::Cow::Owned(Target::Named(pool.pick().clone())),
            other => std::borrow::Cow::Borrowed(other),
        }
    }

    pub(crate) fn same(&self, other: &Target) -> bool {
        match (self, other) {
            (Target::Pool(a), Target::Pool(b)) => Arc::ptr_eq(a, b),
            (Target::Null, Target::Null) => true,
            (Target::Imported(a), Target::Imported(b)) => Arc::ptr_eq(a, b),
            (Target::Local(a), Target::Local(b)) => Arc::ptr_eq(a, b),
            (Target::Named(a), Target::Named(b)) => a.peer_key() == b.peer_key(),
            (Target::Promise(a), Target::Promise(b)) if Arc::ptr_eq(a, b) => true,
            (Target::Promise(p), other) | (other, Target::Promise(p)) => {
                matches!(p.current(), Some(Ok(t)) if t.same(other))
            }
            _ => false,
        }
    }
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Null => write!(f, "Null"),
            Target::Named(r) => write!(f, "Named({r:?})"),
            Target::Pool(p) => write!(f, "Pool({p:?})"),
            Target::Imported(i) => write!(f, "Imported(#{:x} from {:?})", i.id, i.remote),
            Target::Local(o) => write!(f, "Local({})", o.info().name),
            Target::Promise(p) => match p.current() {
                Some(Ok(t)) => write!(f, "Promised({t:?})"),
                Some(Err(e)) => write!(f, "Promise(failed: {e})"),
                None => write!(f, "Promise(pending)"),
            },
        }
    }
}
