//! The peer a value is being encoded for or was decoded from. Capabilities are
//! encoded relative to it (exported to that peer, or passed back to it), so
//! encoding and decoding run inside [`PeerCtx::enter`].

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use pseud::{Remote, Value};

use super::Target;
use super::exports::{Export, ExportKey};
use super::import::Import;
use super::session::{PeerKey, Session, session_for};
use super::wire::{EXT_EXPORTED, EXT_LOOPBACK, EXT_YOURS, client_payload, id_payload, read_id};
use crate::dispatch::InterfaceInfo;
use crate::error::DecodeError;

/// Where values being encoded go to, or decoded values came from.
pub(crate) enum PeerCtx {
    /// A peer connection of an endpoint.
    Remote {
        session: Arc<Session>,
        peer: PeerKey,
        remote: Remote,
        /// An export was refused (the peer holds its `max_exports`).
        refused: AtomicBool,
    },
    /// A call inside this process: capabilities pass as themselves.
    Loopback(Mutex<Vec<Target>>),
}

thread_local! {
    static CURRENT: RefCell<Option<*const PeerCtx>> = const { RefCell::new(None) };
}

impl PeerCtx {
    /// The context for talking to `remote`: for a remote addressed by user id
    /// (`server.send_to(user)`), that user's current connection.
    pub(crate) fn for_remote(remote: &Remote) -> PeerCtx {
        PeerCtx::Remote {
            session: session_for(remote),
            peer: remote.connection_key().unwrap_or_default(),
            remote: remote.clone(),
            refused: AtomicBool::new(false),
        }
    }

    /// The context for calling an imported object: its own session and peer
    /// (no lookup in the process-wide session table on this hot path).
    pub(crate) fn for_import(import: &Import) -> PeerCtx {
        PeerCtx::Remote {
            session: import.session.clone(),
            peer: import.peer.clone(),
            remote: import.remote.clone(),
            refused: AtomicBool::new(false),
        }
    }

    /// The session and peer key, for a remote context.
    pub(crate) fn peer(&self) -> Option<(&Arc<Session>, &[u8])> {
        match self {
            PeerCtx::Remote { session, peer, .. } => Some((session, peer)),
            PeerCtx::Loopback(_) => None,
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

    /// Runs `f` (encoding) with this context current; fails if an object it
    /// encoded could not be exported because the peer holds its quota.
    pub(crate) fn encode<R>(&self, f: impl FnOnce() -> R) -> Result<R, ExportRefused> {
        let encoded = self.enter(f);
        match self {
            PeerCtx::Remote {
                session, refused, ..
            } if refused.swap(false, Ordering::Relaxed) => Err(ExportRefused {
                limit: session.max_exports,
            }),
            _ => Ok(encoded),
        }
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

/// An object could not be exported: the peer holds as many as it may.
/// (Not an `Error`: a reply gets it as a fault of its own class, see `fault`.)
#[derive(Debug, Clone, Copy)]
pub(crate) struct ExportRefused {
    limit: usize,
}

impl ExportRefused {
    fn reason(&self) -> String {
        format!(
            "the peer holds {} objects exported by this endpoint, as many as it may (Limits::max_exports)",
            self.limit
        )
    }

    /// The ERROR reply of a call whose result could not be exported.
    pub(crate) fn fault(self) -> pseud::Fault {
        pseud::Fault::new(pseud::RESOURCE_EXHAUSTED, self.reason())
    }
}

impl From<ExportRefused> for pseud::Error {
    fn from(e: ExportRefused) -> Self {
        pseud::Error::Encode {
            what: "a capability".into(),
            reason: e.reason(),
        }
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
            Value::Ext(EXT_LOOPBACK, id_payload(table.len() as u64 - 1))
        }
        Some(PeerCtx::Remote { peer, remote, .. }) if peer.is_empty() => {
            tracing::error!(
                peer = %remote,
                "a capability cannot travel to a peer that is not connected; it travels as nil"
            );
            Value::Nil
        }
        Some(PeerCtx::Remote {
            session,
            peer,
            remote,
            refused,
        }) => {
            if let Target::Imported(import) = target
                && Arc::ptr_eq(&import.session, session)
                && import.peer == *peer
            {
                // Back to its owner: no proxy, no round trip.
                return Value::Ext(EXT_YOURS, id_payload(import.id));
            }
            let (export, key) = match target {
                Target::Local(object) => (
                    Export::Object(object.clone()),
                    ExportKey::Object(Arc::as_ptr(object) as *const () as usize),
                ),
                Target::Imported(import) => (
                    Export::Forward(target.clone(), info),
                    ExportKey::Object(Arc::as_ptr(import) as usize),
                ),
                // One proxy per named interface and peer.
                Target::Named(remote) => (
                    Export::Forward(target.clone(), info),
                    ExportKey::Named(remote.endpoint_id(), info as *const InterfaceInfo as usize),
                ),
                Target::Null => return Value::Nil,
            };
            let Some(id) = session.export(peer, export, key) else {
                refused.store(true, Ordering::Relaxed);
                return Value::Nil;
            };
            // Exported while the peer left: its gone hook may have run already.
            // (A client's server may not be connected yet: its first call waits.)
            if !session.is_client && !remote.connection_is_up(peer) {
                session.peer_gone(peer);
            }
            if session.is_client {
                Value::Ext(EXT_EXPORTED, client_payload(id, &session.user_id))
            } else {
                Value::Ext(EXT_EXPORTED, id_payload(id))
            }
        }
    })
}

/// Decodes a capability received from whoever the current context is talking to.
pub(crate) fn decode_target(value: Value) -> Result<Target, DecodeError> {
    let (code, data) = match value {
        Value::Nil => return Ok(Target::Null),
        Value::Ext(code, data) => (code, data),
        other => return Err(DecodeError::expected("capability", &other)),
    };
    let id = read_id(&data).ok_or_else(|| DecodeError::new("malformed capability payload"))?;
    PeerCtx::with_current(|ctx| match (ctx, code) {
        (Some(PeerCtx::Remote { peer, remote, .. }), _) if peer.is_empty() => {
            Err(DecodeError::new(format!(
                "a capability from {remote}, which is not connected"
            )))
        }
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
                ..
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
