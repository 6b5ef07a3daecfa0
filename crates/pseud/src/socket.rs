//! The libzmq binding, kept in this one module so the binding can change
//! (for example to a libzmq built with libsodium for CURVE).
//!
//! A [`Socket`] is a libzmq socket plus tokio readiness on its `ZMQ_FD`. libzmq's
//! fd only signals that the socket's state *may* have changed, so the rule is:
//! wait on it only after a non-blocking receive has answered `EAGAIN`.

use std::os::fd::{AsRawFd, RawFd};
use std::sync::LazyLock;

use tokio::io::unix::AsyncFd;

use crate::error::Error;

/// The process-wide libzmq context; `inproc://` endpoints and the in-process ZAP
/// handler work between every server and client of the process.
pub(crate) fn context() -> &'static zmq::Context {
    static CONTEXT: LazyLock<zmq::Context> = LazyLock::new(zmq::Context::new);
    &CONTEXT
}

pub(crate) struct Fd(RawFd);

/// Tokio readiness of a libzmq signalling fd.
pub(crate) type Readiness = AsyncFd<Fd>;

/// Waits until the socket's state may have changed.
pub(crate) async fn changed(ready: &Readiness) {
    match ready.readable().await {
        Ok(mut guard) => guard.clear_ready(),
        Err(e) => {
            tracing::error!(error = %e, "waiting on the libzmq fd failed");
            tokio::task::yield_now().await;
        }
    }
}

/// Whether the fd signalled since the last call, without waiting; registers the
/// task's waker otherwise. The readiness is cleared before the caller receives, so
/// a signal arriving meanwhile is kept for the next check.
pub(crate) fn fired(ready: &Readiness, cx: &mut std::task::Context<'_>) -> bool {
    match ready.poll_read_ready(cx) {
        std::task::Poll::Ready(Ok(mut guard)) => {
            guard.clear_ready();
            true
        }
        // Treat an error as a signal: the caller then receives, which is always safe.
        std::task::Poll::Ready(Err(_)) => true,
        std::task::Poll::Pending => false,
    }
}

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// Result of a non-blocking send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    /// Queued in libzmq.
    Ok,
    /// The peer's queue is full (high-water mark); try again when writable.
    WouldBlock,
    /// No connected peer has that routing id.
    Unreachable,
}

/// A libzmq socket driven by tokio readiness.
pub(crate) struct Socket {
    // Declared first so it is dropped (deregistered) before the socket closes its fd.
    ready: AsyncFd<Fd>,
    inner: zmq::Socket,
    monitored: bool,
}

impl Drop for Socket {
    fn drop(&mut self) {
        if self.monitored {
            // libzmq's I/O thread sends monitor events with a *blocking* send; once
            // our reading end is gone, an event emitted while this socket shuts down
            // would block that thread, and with it every socket of the process.
            // Stopping the monitor first (under libzmq's monitor lock) prevents that.
            // SAFETY: the pointer is this live socket's; a NULL endpoint is the
            // documented way to stop monitoring.
            #[allow(unsafe_code)]
            unsafe {
                zmq_sys::zmq_socket_monitor(self.inner.as_mut_ptr(), std::ptr::null(), 0);
            }
        }
    }
}

impl Socket {
    /// Wraps a configured socket; must be called inside a tokio runtime.
    pub(crate) fn new(inner: zmq::Socket) -> Result<Self, Error> {
        let fd = inner.get_fd().map_err(Error::zmq("get ZMQ_FD"))?;
        // SAFETY: the fd belongs to `inner`, which lives in the same struct and is
        // dropped after `ready` (field order), so the fd stays open while registered.
        #[allow(unsafe_code)]
        let ready =
            unsafe { AsyncFd::register_with_interest(Fd(fd), tokio::io::Interest::READABLE) }
                .map_err(|e| Error::Setup(format!("cannot watch the libzmq socket fd: {e}")))?;
        Ok(Socket {
            ready,
            inner,
            monitored: false,
        })
    }

    /// Receives one whole multipart message into `frames` (cleared first) without
    /// blocking; `false` if none is queued. The caller reuses `frames`, so a call
    /// allocates nothing.
    pub(crate) fn try_recv(&self, frames: &mut Vec<zmq::Message>) -> Result<bool, zmq::Error> {
        frames.clear();
        loop {
            let flags = if frames.is_empty() { zmq::DONTWAIT } else { 0 };
            match self.inner.recv_msg(flags) {
                Ok(msg) => {
                    // The frame's own flag: cheaper than asking the socket (ZMQ_RCVMORE).
                    let more = msg.get_more();
                    frames.push(msg);
                    if !more {
                        return Ok(true);
                    }
                }
                Err(zmq::Error::EAGAIN) if frames.is_empty() => return Ok(false),
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends `[routing id] [""] ["v1"] [id] [type] [body]` without blocking.
    pub(crate) fn try_send(
        &self,
        routing_id: &[u8],
        id: &[u8],
        kind: u8,
        body: &[u8],
    ) -> Result<Sent, zmq::Error> {
        match self.inner.send(routing_id, zmq::SNDMORE | zmq::DONTWAIT) {
            Ok(()) => {}
            Err(zmq::Error::EAGAIN) => return Ok(Sent::WouldBlock),
            Err(zmq::Error::EHOSTUNREACH) => return Ok(Sent::Unreachable),
            Err(e) => return Err(e),
        }
        // Once the routing frame is accepted, libzmq accepts the rest of the message.
        self.inner.send(&b""[..], zmq::SNDMORE)?;
        self.inner.send(crate::protocol::VERSION, zmq::SNDMORE)?;
        self.inner.send(id, zmq::SNDMORE)?;
        self.inner.send(&[kind][..], zmq::SNDMORE)?;
        self.inner.send(body, 0)?;
        Ok(Sent::Ok)
    }

    /// Whether libzmq would accept a send now.
    pub(crate) fn writable(&self) -> bool {
        self.inner
            .get_events()
            .map(|e| e.contains(zmq::POLLOUT))
            .unwrap_or(false)
    }

    /// The libzmq socket, for options and connecting.
    pub(crate) fn raw(&self) -> &zmq::Socket {
        &self.inner
    }

    /// The readiness of the socket's fd; await [`Readiness::changed`] on it.
    /// (A separate handle because `zmq::Socket` is not `Sync` and so cannot be
    /// borrowed across an await in a `Send` future.)
    pub(crate) fn readiness(&self) -> &Readiness {
        &self.ready
    }
}

/// A socket event reported by libzmq's monitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// A connection completed its ZMTP handshake (security included).
    Connected,
    /// A connection was lost.
    Disconnected,
    /// The peer refused our credentials (ZAP status code).
    AuthFailed(u32),
    /// The handshake failed for another reason.
    HandshakeFailed,
    /// A connect attempt failed (refused, unresolvable host); libzmq retries.
    ConnectRetried,
    /// An event we do not act on.
    Other,
}

/// libzmq's socket monitor: a PAIR socket that receives events of one socket.
pub(crate) struct Monitor {
    socket: Socket,
}

impl Monitor {
    /// Starts monitoring `socket`; it stops the monitor when it is dropped.
    pub(crate) fn attach(target: &mut Socket) -> Result<Self, Error> {
        let socket = &target.inner;
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let endpoint = format!(
            "inproc://pseud-monitor-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let events = zmq::SocketEvent::HANDSHAKE_SUCCEEDED as i32
            | zmq::SocketEvent::DISCONNECTED as i32
            | zmq::SocketEvent::HANDSHAKE_FAILED_AUTH as i32
            | zmq::SocketEvent::HANDSHAKE_FAILED_PROTOCOL as i32
            | zmq::SocketEvent::HANDSHAKE_FAILED_NO_DETAIL as i32
            | zmq::SocketEvent::CONNECT_RETRIED as i32;
        socket
            .monitor(&endpoint, events)
            .map_err(Error::zmq("monitor"))?;
        let pair = context()
            .socket(zmq::PAIR)
            .map_err(Error::zmq("monitor socket"))?;
        pair.connect(&endpoint)
            .map_err(Error::zmq("monitor connect"))?;
        let monitor = Monitor {
            socket: Socket::new(pair)?,
        };
        target.monitored = true;
        Ok(monitor)
    }

    /// The next queued event, without blocking.
    pub(crate) fn try_next(&self) -> Option<(Event, String)> {
        let mut frames = Vec::new();
        if !self.socket.try_recv(&mut frames).ok()? {
            return None;
        }
        let head = frames.first()?;
        if head.len() < 6 {
            return Some((Event::Other, String::new()));
        }
        let code = u16::from_le_bytes([head[0], head[1]]);
        let value = u32::from_le_bytes([head[2], head[3], head[4], head[5]]);
        let endpoint = frames
            .get(1)
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .unwrap_or_default();
        let event = match i32::from(code) {
            c if c == zmq::SocketEvent::HANDSHAKE_SUCCEEDED as i32 => Event::Connected,
            c if c == zmq::SocketEvent::DISCONNECTED as i32 => Event::Disconnected,
            c if c == zmq::SocketEvent::CONNECT_RETRIED as i32 => Event::ConnectRetried,
            c if c == zmq::SocketEvent::HANDSHAKE_FAILED_AUTH as i32 => Event::AuthFailed(value),
            c if c == zmq::SocketEvent::HANDSHAKE_FAILED_PROTOCOL as i32
                || c == zmq::SocketEvent::HANDSHAKE_FAILED_NO_DETAIL as i32 =>
            {
                Event::HandshakeFailed
            }
            _ => Event::Other,
        };
        Some((event, endpoint))
    }

    /// The readiness of the monitor's fd.
    pub(crate) fn readiness(&self) -> &Readiness {
        self.socket.readiness()
    }
}

/// Options common to server and client sockets.
#[derive(Debug, Clone)]
pub(crate) struct SocketOptions {
    pub heartbeat_ivl_ms: i32,
    pub heartbeat_timeout_ms: i32,
    pub hard_max_message: i64,
}

/// A ROUTER socket with pseud's options.
pub(crate) fn router(opts: &SocketOptions) -> Result<zmq::Socket, Error> {
    let s = context()
        .socket(zmq::ROUTER)
        .map_err(Error::zmq("socket"))?;
    s.set_router_mandatory(true)
        .map_err(Error::zmq("ZMQ_ROUTER_MANDATORY"))?;
    s.set_linger(2000).map_err(Error::zmq("ZMQ_LINGER"))?;
    s.set_heartbeat_ivl(opts.heartbeat_ivl_ms)
        .map_err(Error::zmq("ZMQ_HEARTBEAT_IVL"))?;
    s.set_heartbeat_timeout(opts.heartbeat_timeout_ms)
        .map_err(Error::zmq("ZMQ_HEARTBEAT_TIMEOUT"))?;
    s.set_maxmsgsize(opts.hard_max_message)
        .map_err(Error::zmq("ZMQ_MAXMSGSIZE"))?;
    s.set_sndhwm(100_000).map_err(Error::zmq("ZMQ_SNDHWM"))?;
    s.set_rcvhwm(100_000).map_err(Error::zmq("ZMQ_RCVHWM"))?;
    Ok(s)
}
