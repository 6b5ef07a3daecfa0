//! The ROUTER socket: binds and connects, runs each connection's handshake, and
//! reports connections and their messages to the socket task as [`Incoming`].
//!
//! Routing ids: a client knows its server by the name the server gives in its
//! handshake (`Identity`, libzmq's ZMQ_ROUTING_ID), and a later connection under
//! that name takes over (ZMQ_ROUTER_HANDOVER). A server ignores the names its
//! peers give: each connection gets an id drawn at random — a zero byte and 15
//! random ones — so that no peer can guess, claim or take over another's.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::sync::{Notify, mpsc, watch};

use super::connection::{self, Link, Params, Wiring};
use super::handshake::{Side, handshake};
use super::transport::{self, Endpoint, Listener, Stream};
use super::{Authenticator, ClientMechanism, ServerMechanism, ZmtpError};

/// How long a handshake may take (libzmq's ZMQ_HANDSHAKE_IVL).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// Reconnect backoff: from this, doubling, up to the maximum.
const RECONNECT_MIN: Duration = Duration::from_millis(100);
const RECONNECT_MAX: Duration = Duration::from_secs(2);

/// Which side a socket takes in handshakes.
#[derive(Clone)]
pub(crate) enum Mechanism {
    Client(ClientMechanism),
    Server(ServerMechanism, Authenticator),
}

/// How a [`Router`]'s connections behave.
#[derive(Clone)]
pub(crate) struct RouterConfig {
    /// Our `Identity` (empty: the peer picks our routing id).
    pub identity: Vec<u8>,
    pub mechanism: Mechanism,
    /// Ping interval and silence timeout; `None` sends no pings.
    pub heartbeat: Option<(Duration, Duration)>,
    /// Largest frame, and largest message, accepted; bigger drops the connection.
    pub max_frame: usize,
    pub max_message: usize,
    /// Bytes queued for a peer before sends to it would block.
    pub max_queued: usize,
    /// How long a peer may take none of the bytes waiting for it.
    pub write_timeout: Duration,
}

/// What happens on a socket's connections, in order per connection.
pub(crate) enum Incoming {
    /// A handshake succeeded.
    Connected {
        routing_id: Arc<[u8]>,
        /// What the authenticator said the peer is (empty without one).
        user_id: Vec<u8>,
        link: Arc<Link>,
        endpoint: Arc<str>,
        /// Tells this connection apart from a later one with the same routing id.
        conn: u64,
    },
    /// Whole messages, in the order they came (those of one read).
    Messages {
        routing_id: Arc<[u8]>,
        messages: Vec<Vec<Bytes>>,
        /// Returned when the socket task is done with them (see `CREDIT`).
        credit: tokio::sync::OwnedSemaphorePermit,
    },
    /// A connection ended.
    Disconnected {
        routing_id: Arc<[u8]>,
        conn: u64,
        endpoint: Arc<str>,
    },
    /// A handshake failed: refused by the peer's authentication (`status` is its
    /// ZAP status code) or ours, or for another reason.
    HandshakeFailed {
        endpoint: Arc<str>,
        status: Option<u32>,
        reason: String,
    },
    /// Connecting failed; it is retried.
    ConnectRetried { endpoint: Arc<str>, reason: String },
}

/// The socket: owns its listeners and connectors; dropping it closes everything.
pub(crate) struct Router {
    config: Arc<RouterConfig>,
    tx: mpsc::UnboundedSender<Incoming>,
    shutdown: watch::Sender<bool>,
    /// Signalled when a full link has room again.
    room: Arc<Notify>,
    runtime: tokio::runtime::Handle,
}

static NEXT_CONN: AtomicU64 = AtomicU64::new(1);

impl Router {
    /// A socket whose tasks run on the current runtime.
    /// (Unbounded: each connection has at most `CREDIT` message batches, a
    /// connect and a disconnect in it.)
    pub(crate) fn new(config: RouterConfig) -> (Router, mpsc::UnboundedReceiver<Incoming>) {
        Router::with_room(config, Arc::new(Notify::new()))
    }

    /// A socket that signals `room` when a full link has room again: for a task
    /// that writes through several sockets' links and waits on one signal.
    pub(crate) fn with_room(
        config: RouterConfig,
        room: Arc<Notify>,
    ) -> (Router, mpsc::UnboundedReceiver<Incoming>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let router = Router {
            config: Arc::new(config),
            tx,
            shutdown: watch::channel(false).0,
            room,
            runtime: tokio::runtime::Handle::current(),
        };
        (router, rx)
    }

    /// Signalled when a link that refused a send has room again.
    pub(crate) fn room(&self) -> Arc<Notify> {
        self.room.clone()
    }

    /// Binds and accepts in the background; returns the endpoint as bound.
    pub(crate) fn bind(&self, endpoint: &Endpoint) -> io::Result<Endpoint> {
        let _enter = self.runtime.enter();
        let (mut listener, bound) = Listener::bind(endpoint)?;
        let ctx = self.context(Arc::from(bound.to_string()));
        let mut shutdown = self.shutdown.subscribe();
        self.runtime.spawn(async move {
            loop {
                let accepted = tokio::select! {
                    a = listener.accept() => a,
                    _ = shutdown.changed() => return,
                };
                match accepted {
                    Some(Ok(stream)) => {
                        let ctx = ctx.clone();
                        tokio::spawn(async move {
                            let _ = ctx.serve(stream).await;
                        });
                    }
                    Some(Err(e)) => {
                        // Out of file descriptors, say: try again shortly.
                        tracing::warn!(endpoint = %ctx.endpoint, error = %e, "accept failed");
                        tokio::time::sleep(RECONNECT_MIN).await;
                    }
                    None => return,
                }
            }
        });
        Ok(bound)
    }

    /// Connects in the background, reconnecting with backoff whenever the
    /// connection fails or ends, until the socket is dropped.
    pub(crate) fn connect(&self, endpoint: &Endpoint) {
        let ctx = self.context(Arc::from(endpoint.to_string()));
        let endpoint = endpoint.clone();
        let mut shutdown = self.shutdown.subscribe();
        self.runtime.spawn(async move {
            let mut delay = RECONNECT_MIN;
            loop {
                let attempt = async {
                    match transport::connect(&endpoint).await {
                        Ok(stream) => ctx.serve(stream).await,
                        Err(e) => {
                            let reason = e.to_string();
                            let _ = ctx.tx.send(Incoming::ConnectRetried {
                                endpoint: ctx.endpoint.clone(),
                                reason,
                            });
                            Err(ZmtpError::Io(e))
                        }
                    }
                };
                let outcome = tokio::select! {
                    o = attempt => o,
                    _ = shutdown.changed() => return,
                };
                delay = match outcome {
                    // An established connection that ended: reconnect promptly.
                    Ok(()) => RECONNECT_MIN,
                    Err(_) => (delay * 2).min(RECONNECT_MAX),
                };
                tokio::select! {
                    () = tokio::time::sleep(delay) => {}
                    _ = shutdown.changed() => return,
                }
                if *shutdown.borrow() {
                    return;
                }
            }
        });
    }

    fn context(&self, endpoint: Arc<str>) -> Arc<ConnContext> {
        Arc::new(ConnContext {
            config: self.config.clone(),
            tx: self.tx.clone(),
            shutdown: self.shutdown.subscribe(),
            room: self.room.clone(),
            endpoint,
        })
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
    }
}

/// What every connection of one bound or connected endpoint shares.
struct ConnContext {
    config: Arc<RouterConfig>,
    tx: mpsc::UnboundedSender<Incoming>,
    shutdown: watch::Receiver<bool>,
    room: Arc<Notify>,
    endpoint: Arc<str>,
}

impl ConnContext {
    /// Handshakes on `stream`, then runs the connection until it ends. `Ok` if
    /// the handshake succeeded.
    async fn serve(&self, stream: Stream) -> Result<(), ZmtpError> {
        let mut buf = BytesMut::with_capacity(64 * 1024);
        let side = match &self.config.mechanism {
            Mechanism::Client(m) => Side::Client(m),
            Mechanism::Server(m, auth) => Side::Server(m, auth),
        };
        let shaken = tokio::time::timeout(
            HANDSHAKE_TIMEOUT,
            handshake(&stream, &mut buf, side, &self.config.identity),
        )
        .await
        .unwrap_or(Err(ZmtpError::Timeout));
        let established = match shaken {
            Ok(e) => e,
            Err(e) => {
                let status = match &e {
                    ZmtpError::AuthRefused { status, .. } => Some(*status),
                    other => other.auth_status(),
                };
                tracing::debug!(endpoint = %self.endpoint, error = %e, "handshake failed");
                let _ = self.tx.send(Incoming::HandshakeFailed {
                    endpoint: self.endpoint.clone(),
                    status,
                    reason: e.to_string(),
                });
                return Err(e);
            }
        };
        let routing_id = match &self.config.mechanism {
            Mechanism::Client(_) => routing_id_for(&established.identity),
            Mechanism::Server(..) => drawn_routing_id(),
        };
        let params = Params {
            routing_id,
            minor: established.minor,
            heartbeat: self.config.heartbeat,
            max_frame: self.config.max_frame,
            max_message: self.config.max_message,
            max_queued: self.config.max_queued,
            write_timeout: self.config.write_timeout,
            endpoint: self.endpoint.clone(),
            conn: NEXT_CONN.fetch_add(1, Ordering::Relaxed),
            user_id: established.user_id,
            codec: established.codec.map(|c| c.split()),
        };
        let wiring = Wiring {
            room: self.room.clone(),
            tx: self.tx.clone(),
            shutdown: self.shutdown.clone(),
        };
        connection::run(Arc::new(stream), buf, params, wiring).await;
        Ok(())
    }
}

/// The routing id of a peer whose handshake gave `identity`: that name, or one
/// drawn at random. Ids that start with a zero byte are ours to draw (libzmq
/// refuses them as ZMQ_ROUTING_ID): a peer sending one could otherwise take
/// another peer's id over.
fn routing_id_for(identity: &[u8]) -> Arc<[u8]> {
    if identity.first().is_none_or(|&b| b == 0) {
        drawn_routing_id()
    } else {
        Arc::from(identity)
    }
}

/// A routing id nobody can guess: a zero byte, then 15 random ones.
fn drawn_routing_id() -> Arc<[u8]> {
    let mut id = [0u8; 16];
    id[1..].copy_from_slice(&rand::random::<[u8; 15]>());
    Arc::from(&id[..])
}

#[cfg(test)]
mod tests {
    use super::routing_id_for;

    #[test]
    fn names_are_kept_and_other_ids_drawn_unguessably() {
        assert_eq!(&*routing_id_for(b"server"), b"server");
        let drawn = routing_id_for(b"");
        assert_eq!((drawn.len(), drawn[0]), (16, 0));
        assert_ne!(drawn, routing_id_for(b""), "fresh ids differ");
        // A peer cannot pick an id of the form we draw.
        let forged = [&[0u8][..], &drawn[1..]].concat();
        let given = routing_id_for(&forged);
        assert_ne!(&*given, &forged[..]);
        assert_eq!(given[0], 0);
    }
}
