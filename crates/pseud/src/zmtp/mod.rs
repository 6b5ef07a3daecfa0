//! A native ZMTP 3.1 ROUTER socket on tokio (RFC 23, 37; PLAIN RFC 24; CURVE
//! RFC 26), wire-compatible with libzmq's ROUTER and DEALER sockets.
//!
//! Why native rather than libzmq: measured in `engine-bench` (docs/transport.md),
//! a ZMTP peer on tokio does a sequential call 1.4–1.5× faster than libzmq, whose
//! every message crosses its I/O thread and a socketpair mailbox; and owning the
//! engine gives CURVE without building libsodium, per-peer connect and disconnect
//! events, and routing ids nobody can guess.
//!
//! Shape: [`Router`] binds and connects; each connection runs on a task of its own
//! ([`connection`]) that does the handshake, reads, and answers heartbeats. All
//! that happens reaches the socket task as [`Incoming`] items on one channel, in
//! order per connection. The socket task writes through each peer's [`Link`]
//! directly (a non-blocking write, no task hop); only what the kernel does not
//! take at once is left for the connection task to finish.

pub(crate) mod connection;
pub(crate) mod curve;
pub(crate) mod frame;
#[cfg(test)]
mod fuzz;
pub(crate) mod handshake;
pub(crate) mod router;
pub(crate) mod transport;

use std::sync::Arc;

pub(crate) use connection::Link;
pub(crate) use router::{Incoming, Router, RouterConfig};
pub(crate) use transport::Endpoint;

use crate::keys::{KeyPair, PublicKey};

/// What can go wrong on one connection.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ZmtpError {
    /// The peer broke the protocol.
    #[error("{0}")]
    Protocol(String),
    /// A frame over the size limit.
    #[error("a frame of {size} bytes is over the limit of {limit}")]
    TooLarge { size: u64, limit: usize },
    /// The peer sent ERROR during the handshake.
    #[error("the peer refused the handshake: {0}")]
    Refused(String),
    /// Our authenticator refused the peer.
    #[error("authentication refused ({status}): {reason}")]
    AuthRefused { status: u32, reason: String },
    /// CURVE failed (bad box, bad nonce, malformed command).
    #[error("CURVE: {0}")]
    Curve(#[from] curve::CurveError),
    /// The peer took none of the bytes waiting for it for this long.
    #[error("the peer read nothing of what it was sent for {timeout:?}")]
    Stalled { timeout: std::time::Duration },
    /// The handshake took too long.
    #[error("the handshake did not finish in time")]
    Timeout,
    /// The connection closed.
    #[error("the connection closed")]
    Closed,
    /// The socket failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl ZmtpError {
    /// The ZAP status code of a refusal the peer sent us (`"400"` and the like).
    pub(crate) fn auth_status(&self) -> Option<u32> {
        match self {
            ZmtpError::Refused(reason) if reason.len() == 3 => {
                reason.parse().ok().filter(|s| (300..600).contains(s))
            }
            _ => None,
        }
    }
}

/// A client's security mechanism.
#[derive(Clone)]
pub(crate) enum ClientMechanism {
    Null,
    Plain { username: String, password: String },
    Curve { server: PublicKey, keys: KeyPair },
}

impl ClientMechanism {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            ClientMechanism::Null => "NULL",
            ClientMechanism::Plain { .. } => "PLAIN",
            ClientMechanism::Curve { .. } => "CURVE",
        }
    }
}

/// A server's security mechanism.
#[derive(Clone)]
pub(crate) enum ServerMechanism {
    Null,
    Plain,
    Curve { keys: KeyPair },
}

impl ServerMechanism {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            ServerMechanism::Null => "NULL",
            ServerMechanism::Plain => "PLAIN",
            ServerMechanism::Curve { .. } => "CURVE",
        }
    }
}

/// What a peer presented in its handshake.
pub(crate) enum Credentials<'a> {
    Plain {
        username: &'a str,
        password: &'a [u8],
        address: &'a str,
    },
    Curve {
        client_key: &'a PublicKey,
        address: &'a str,
    },
}

/// Why the authenticator refused a peer: a ZAP status code and a reason.
pub(crate) struct Refusal {
    pub status: u32,
    pub reason: String,
}

/// Our ZAP: decides whom a peer is (its user id), or refuses it.
pub(crate) type Authenticator =
    Arc<dyn Fn(&Credentials<'_>) -> Result<Vec<u8>, Refusal> + Send + Sync>;
