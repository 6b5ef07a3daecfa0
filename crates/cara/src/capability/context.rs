//! The peer a value is being encoded for or was decoded from. Capabilities are
//! encoded relative to it (exported to that peer, or passed back to it): the
//! runtime makes a [`PeerCtx`] per call and reply, and encoding and decoding get
//! it as a [`Caps`] argument.

use std::sync::{Arc, Mutex};

use pseud::{Remote, Value};

use super::Target;
use super::exports::{Export, ExportKey};
use super::import::Import;
use super::session::{PeerKey, Session, session_for};
use super::wire::{EXT_EXPORTED, EXT_LOOPBACK, EXT_YOURS, client_payload, id_payload, read_id};
use crate::dispatch::InterfaceInfo;
use crate::error::{DecodeError, EncodeError};

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

impl PeerCtx {
    /// The context for talking to `remote`: for a remote addressed by user id
    /// (`server.send_to(user)`), that user's current connection.
    pub(crate) fn for_remote(remote: &Remote) -> PeerCtx {
        PeerCtx::Remote {
            session: session_for(remote),
            peer: remote.connection_key().unwrap_or_default(),
            remote: remote.clone(),
        }
    }

    /// The context for calling an imported object: its own session and peer
    /// (no lookup in the endpoint's session table on this hot path).
    pub(crate) fn for_import(import: &Import) -> PeerCtx {
        PeerCtx::Remote {
            session: import.session.clone(),
            peer: import.peer.clone(),
            remote: import.remote.clone(),
        }
    }

    /// A call inside this process.
    pub(crate) fn loopback() -> PeerCtx {
        PeerCtx::Loopback(Mutex::new(Vec::new()))
    }

    /// The session and peer key, for a remote context.
    pub(crate) fn peer(&self) -> Option<(&Arc<Session>, &[u8])> {
        match self {
            PeerCtx::Remote { session, peer, .. } => Some((session, peer)),
            PeerCtx::Loopback(_) => None,
        }
    }

    /// The capability table of a message to or from this peer.
    pub(crate) fn caps(&self) -> Caps<'_> {
        Caps { peer: Some(self) }
    }
}

/// The capability table of one message: whom the interfaces in a value being
/// encoded go to, or whom the decoded ones came from. The runtime makes one per
/// call and reply; generated [`Encode`](crate::Encode) and
/// [`Decode`](crate::Decode) implementations pass it on to their fields.
///
/// [`Caps::NONE`] has no peer: values without interfaces encode and decode in it,
/// an interface is an error ([`EncodeError::NoPeer`]).
#[derive(Clone, Copy)]
pub struct Caps<'a> {
    peer: Option<&'a PeerCtx>,
}

impl Caps<'static> {
    /// No peer: for values that hold no interfaces (see [`to_value`](crate::to_value)).
    pub const NONE: Caps<'static> = Caps { peer: None };
}

impl std::fmt::Debug for Caps<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.peer {
            None => f.write_str("Caps(none)"),
            Some(PeerCtx::Loopback(_)) => f.write_str("Caps(in process)"),
            Some(PeerCtx::Remote { remote, .. }) => write!(f, "Caps({remote})"),
        }
    }
}

/// Encodes a capability for the peer of `caps`.
pub(crate) fn encode_target(
    target: &Target,
    info: &'static InterfaceInfo,
    caps: Caps<'_>,
) -> Result<Value, EncodeError> {
    if let Target::Null = target {
        return Ok(Value::Nil);
    }
    if let Target::Promise(promise) = target {
        return match promise.current() {
            Some(Ok(resolved)) => encode_target(&resolved, info, caps),
            _ => Err(EncodeError::Unresolved),
        };
    }
    match caps.peer {
        None => Err(EncodeError::NoPeer),
        Some(PeerCtx::Loopback(table)) => {
            let mut table = table.lock().unwrap_or_else(|p| p.into_inner());
            table.push(target.clone());
            Ok(Value::Ext(EXT_LOOPBACK, id_payload(table.len() as u64 - 1)))
        }
        Some(PeerCtx::Remote { peer, remote, .. }) if peer.is_empty() => {
            Err(EncodeError::NotConnected {
                peer: remote.to_string(),
            })
        }
        Some(PeerCtx::Remote {
            session,
            peer,
            remote,
        }) => {
            if let Target::Imported(import) = target
                && Arc::ptr_eq(&import.session, session)
                && import.peer == *peer
            {
                // Back to its owner: no proxy, no round trip.
                return Ok(Value::Ext(EXT_YOURS, id_payload(import.id)));
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
                // One proxy per pool; each call on it goes to the next replica.
                Target::Pool(pool) => (
                    Export::Forward(target.clone(), info),
                    ExportKey::Object(Arc::as_ptr(pool) as usize),
                ),
                Target::Null | Target::Promise(_) => return Ok(Value::Nil),
            };
            let id = session
                .export(peer, export, key)
                .ok_or(EncodeError::ExportRefused {
                    limit: session.max_exports,
                })?;
            // Exported while the peer left: its gone hook may have run already.
            // (A client's server may not be connected yet: its first call waits.)
            if !session.is_client && !remote.connection_is_up(peer) {
                session.peer_gone(peer);
            }
            Ok(if session.is_client {
                Value::Ext(EXT_EXPORTED, client_payload(id, &session.user_id))
            } else {
                Value::Ext(EXT_EXPORTED, id_payload(id))
            })
        }
    }
}

/// Decodes a capability received from the peer of `caps`.
pub(crate) fn decode_target(value: Value, caps: Caps<'_>) -> Result<Target, DecodeError> {
    let (code, data) = match value {
        Value::Nil => return Ok(Target::Null),
        Value::Ext(code, data) => (code, data),
        other => return Err(DecodeError::expected("capability", &other)),
    };
    let id = read_id(&data).ok_or_else(|| DecodeError::new("malformed capability payload"))?;
    match (caps.peer, code) {
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
            }),
            EXT_EXPORTED,
        ) => Ok(Target::Imported(session.import(peer, id, remote))),
        (Some(PeerCtx::Remote { session, peer, .. }), EXT_YOURS) => {
            session.passed_back(peer, id).ok_or_else(|| {
                DecodeError::new(format!("no object {id:#x} was exported to this peer"))
            })
        }
        (None, _) => Err(DecodeError::new(
            "an interface can only be decoded as part of a call: this value came from no peer",
        )),
        (_, code) => Err(DecodeError::new(format!(
            "unexpected capability extension {code}"
        ))),
    }
}
