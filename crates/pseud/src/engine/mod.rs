//! The socket task shared by servers and clients: it owns the ROUTER socket,
//! receives and classifies messages, runs handlers, routes replies to waiting
//! calls, and sends what callers and handlers queue.
//!
//! Sync handlers and the first poll of async handlers run inline on this task
//! (no task spawn on the fast path); an async handler that is not finished after
//! its first poll continues on its own tokio task, so slow handlers never delay
//! others. That task runs on the runtime that started the endpoint, also when
//! the socket task has a thread of its own (`own_thread`).
//!
//! The task's work is split by concern: [`send`] hands messages to libzmq (or
//! parks them), [`receive`] classifies what arrives and runs handlers, [`peers`]
//! follows connections; [`shared`] holds what callers and handlers share with it.

mod peers;
mod receive;
mod send;
mod shared;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::error::Error;
use crate::socket::{Monitor, Socket, changed, fired};

pub(crate) use send::error_body;
pub(crate) use shared::{Command, Outgoing, Pending, RawReply, Route, Shared, WireId};
pub use shared::{DomainPredicate, PeerEvent};

/// Which side of the protocol an endpoint is.
pub(crate) enum Role {
    /// Binds and serves whoever connects.
    Server,
    /// Connects to one server, addressed by its routing id.
    Client {
        /// The server's routing id (its name).
        server: Arc<[u8]>,
        /// How long calls wait while nothing accepts the connection.
        connect_grace: Duration,
    },
}

/// The socket task.
pub(crate) struct Engine {
    shared: Arc<Shared>,
    socket: Socket,
    monitor: Option<Monitor>,
    rx: mpsc::UnboundedReceiver<Command>,
    /// Messages libzmq would not take yet (high-water mark).
    backlog: VecDeque<Outgoing>,
    /// Messages queued during a loop pass, handed to libzmq together at its end:
    /// back-to-back sends let libzmq's I/O thread take several per wake-up.
    outq: Vec<Outgoing>,
    /// The socket must be received from before waiting on its fd: it signalled,
    /// or we sent (a send can consume libzmq's read signal), or a receive batch
    /// ended before `EAGAIN`.
    recv_needed: bool,
    /// Likewise for the monitor: it signalled and was not yet drained to `EAGAIN`.
    monitor_needed: bool,
    /// The task just woke from waiting: the next receive may pause after a reply.
    woke: bool,
    /// A receive stopped after delivering a reply, to let its caller run first.
    paused: bool,
    /// The last message received was the reply to the only call in flight.
    delivered: bool,
    /// Frames of the message being received, reused.
    frames: Vec<zmq::Message>,
    /// The routing id last received from outside `peers` (a client's server), reused.
    last_routing_id: Option<Arc<[u8]>>,
    /// Calls to our server sent before the connection was up.
    parked: Vec<Outgoing>,
    /// When to retry the parked calls: libzmq reports a handshake a moment before
    /// the ROUTER socket can route to the new peer, so retries back off briefly.
    retry_at: Option<Instant>,
    retry_delay: Duration,
    /// Why the last handshake with our server failed, until one succeeds.
    handshake_failure: Option<Error>,
    /// Connected peers: routing id → user id.
    peers: HashMap<Arc<[u8]>, Vec<u8>>,
    /// user id → routing id of its latest connection (what `send_to` uses).
    routes: HashMap<Vec<u8>, Arc<[u8]>>,
    /// Handlers running on their own task.
    in_flight: usize,
    stopping: Option<(oneshot::Sender<()>, Instant)>,
    /// Follow-up disconnect sweeps, for pipes libzmq had not torn down at the first.
    sweeps: Vec<Instant>,
    is_client: bool,
    /// A client's server: greeted with a HEARTBEAT once each handshake succeeds.
    greet: Option<Arc<[u8]>>,
    /// A client's view of its connection, for failing fast (see `peers`).
    link: Link,
    /// The server's ZAP domain: its logins are verified as long as the socket lives.
    zap: Option<crate::zap::ZapDomain>,
    /// The runtime that runs async handlers (the one that started the endpoint).
    handlers: Option<tokio::runtime::Handle>,
    /// This task runs on a thread of its own: handlers are invoked inside the
    /// `handlers` runtime's context, so that what they spawn lands there too.
    own_thread: bool,
}

/// What a client knows of its connection to its server.
#[derive(Default)]
pub(crate) struct Link {
    /// The endpoint of the last connection event.
    endpoint: String,
    /// When the current connection's handshake succeeded.
    connected_at: Option<Instant>,
    /// Since when connecting has been failing (no handshake since).
    refused_since: Option<Instant>,
    /// How long calls wait while connecting fails.
    connect_grace: Duration,
}

/// How long after a handshake a server that does not answer to our server name is
/// taken to have another name: libzmq makes a new peer routable a moment after it
/// reports the handshake.
const NAME_GRACE: Duration = Duration::from_millis(200);

const RECV_BATCH: usize = 256;
const MIN_RETRY: Duration = Duration::from_micros(500);
const MAX_RETRY: Duration = Duration::from_millis(100);

impl Engine {
    pub(crate) fn new(
        shared: Arc<Shared>,
        socket: Socket,
        monitor: Option<Monitor>,
        rx: mpsc::UnboundedReceiver<Command>,
        role: Role,
        zap: Option<crate::zap::ZapDomain>,
    ) -> Self {
        let (is_client, greet, connect_grace) = match role {
            Role::Server => (false, None, Duration::ZERO),
            Role::Client {
                server,
                connect_grace,
            } => (true, Some(server), connect_grace),
        };
        Engine {
            shared,
            socket,
            monitor,
            rx,
            backlog: VecDeque::new(),
            outq: Vec::new(),
            recv_needed: true,
            monitor_needed: true,
            woke: false,
            paused: false,
            delivered: false,
            frames: Vec::with_capacity(6),
            last_routing_id: None,
            parked: Vec::new(),
            retry_at: None,
            retry_delay: MIN_RETRY,
            handshake_failure: None,
            peers: HashMap::new(),
            routes: HashMap::new(),
            in_flight: 0,
            stopping: None,
            sweeps: Vec::new(),
            is_client,
            greet,
            link: Link {
                connect_grace,
                ..Link::default()
            },
            zap,
            handlers: None,
            own_thread: false,
        }
    }

    /// Runs async handlers on `runtime`; `own_thread` says this task will not run
    /// on it but on a thread of its own.
    pub(crate) fn run_handlers_on(
        mut self,
        runtime: tokio::runtime::Handle,
        own_thread: bool,
    ) -> Self {
        self.handlers = Some(runtime);
        self.own_thread = own_thread;
        self
    }

    /// Runs until stopped (or until every handle is gone).
    pub(crate) async fn run(self) {
        use tracing::Instrument;
        let span = tracing::debug_span!("pseud", endpoint = %self.shared.label);
        self.run_inner().instrument(span).await
    }

    async fn run_inner(mut self) {
        tracing::debug!("socket task started");
        let mut channel_open = true;
        loop {
            // Which fds signalled since the last pass; each is received from only
            // then (or after a send), since every receive ending in EAGAIN costs a
            // poll() inside libzmq.
            let socket_ready = self.socket.readiness();
            let monitor_ready = self.monitor.as_ref().map(Monitor::readiness);
            let (socket_fired, monitor_fired) = std::future::poll_fn(|cx| {
                let s = fired(socket_ready, cx);
                let m = monitor_ready.is_some_and(|m| fired(m, cx));
                Poll::Ready((s, m))
            })
            .await;
            self.recv_needed |= socket_fired;
            self.monitor_needed |= monitor_fired;
            let mut busy = self.monitor_needed && self.drain_monitor();
            busy |= self.flush_backlog();
            if self.backlog.is_empty() {
                // Take every queued command before sending, so their messages go
                // to libzmq together.
                loop {
                    match self.rx.try_recv() {
                        Ok(cmd) => {
                            busy = true;
                            self.execute(cmd);
                        }
                        Err(mpsc::error::TryRecvError::Empty) => break,
                        Err(mpsc::error::TryRecvError::Disconnected) => {
                            channel_open = false;
                            break;
                        }
                    }
                }
            }
            self.flush_out();
            // Receive after sending, so one receive ending in EAGAIN serves both.
            // (On its own thread, the caller runs elsewhere anyway.)
            let may_pause =
                std::mem::take(&mut self.woke) && self.stopping.is_none() && !self.own_thread;
            busy |= self.recv_needed && self.drain_incoming(may_pause);
            self.flush_out();
            if self.paused {
                // The only caller waiting just got its reply and likely calls again
                // at once: let it (and the other ready tasks) run first, so its call
                // goes out before this task receives to EAGAIN and waits: one receive
                // and one wake-up less per sequential call. (`yield_now` beat an
                // immediate self-wake. With many calls in flight the pause cost more
                // than it saved: each yield wakes an idle worker thread.)
                self.paused = false;
                tokio::task::yield_now().await;
                continue;
            }
            if self.finished(channel_open) {
                break;
            }
            if busy || self.recv_needed || self.monitor_needed {
                // Sending may consume libzmq's read signal: receive again before waiting.
                continue;
            }
            let stop_deadline = self.stopping.as_ref().map(|(_, d)| *d);
            tracing::trace!("idle");
            let socket_ready = self.socket.readiness();
            let monitor_ready = self.monitor.as_ref().map(Monitor::readiness);
            self.woke = true;
            tokio::select! {
                biased;
                cmd = self.rx.recv(), if self.backlog.is_empty() && channel_open => match cmd {
                    Some(cmd) => self.execute(cmd),
                    None => channel_open = false,
                },
                _ = changed(socket_ready) => {
                    tracing::trace!("socket fd woke");
                    self.recv_needed = true;
                }
                _ = async { if let Some(m) = monitor_ready { changed(m).await } else { std::future::pending().await } } => {
                    self.monitor_needed = true;
                }
                _ = sleep_until(self.retry_at) => {
                    self.retry_at = None;
                    self.retry_delay = (self.retry_delay * 2).min(MAX_RETRY);
                    self.retry_parked();
                }
                _ = sleep_until(self.sweeps.first().copied()) => {
                    self.sweeps.remove(0);
                    self.sweep_disconnected();
                }
                _ = sleep_until(stop_deadline) => {
                    tracing::warn!(
                        in_flight = self.in_flight,
                        unsent = self.backlog.len(),
                        "stop grace period over; abandoning running handlers and unsent messages"
                    );
                    self.in_flight = 0;
                    self.backlog.clear();
                }
            }
        }
        self.close();
    }

    fn finished(&mut self, channel_open: bool) -> bool {
        let stopping = self.stopping.is_some();
        if !stopping && channel_open {
            return false;
        }
        // Stop once every handler has answered and every answer is with libzmq.
        self.in_flight == 0 && self.backlog.is_empty()
    }

    fn close(mut self) {
        // Refuse new commands first, so calls made from now on fail at once.
        self.rx.close();
        while let Ok(cmd) = self.rx.try_recv() {
            if let Command::Send(Outgoing { call: Some(id), .. }) = cmd {
                self.shared.fail(&id, Error::Closed);
            }
        }
        let pending: Vec<Pending> = self.shared.lock_pending().drain().map(|(_, p)| p).collect();
        for p in pending {
            let _ = p.tx.send(Err(Error::Closed));
        }
        if let Some((done, _)) = self.stopping.take() {
            let _ = done.send(());
        }
        self.shared.closed.send_replace(true);
        tracing::debug!("socket task stopped");
    }

    fn execute(&mut self, cmd: Command) {
        match cmd {
            Command::Send(out) => {
                if out.handler_done {
                    self.in_flight = self.in_flight.saturating_sub(1);
                }
                self.send(out);
            }
            Command::Stop(done) => {
                tracing::info!(in_flight = self.in_flight, "stopping");
                let deadline = Instant::now() + self.shared.stop_grace;
                self.stopping = Some((done, deadline));
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
