//! The socket task shared by servers and clients: it owns the ROUTER socket,
//! receives and classifies messages, runs handlers, routes replies to waiting
//! calls, and sends what callers and handlers queue.
//!
//! Sync handlers and the first poll of async handlers run inline on this task
//! (no task spawn on the fast path); an async handler that is not finished after
//! its first poll continues on its own tokio task, so slow handlers never delay
//! others. That task runs on the runtime that started the endpoint, also when
//! the socket task has a thread of its own (`own_thread`).

use std::collections::{HashMap, HashSet, VecDeque};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, RwLock};
use std::task::Poll;
use std::time::Duration;

use futures_util::FutureExt;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use crate::context::Context;
use crate::error::{Error, Fault, PROTOCOL_ERROR, SERVICE_NOT_FOUND};
use crate::handler::Invoke;
use crate::protocol::{Inbound, MessageId, MessageType, classify, hex};
use crate::registry::Registry;
use crate::socket::{Event, Monitor, Sent, Socket, changed, fired};
use crate::value::{Value, decode_work, write_value};

/// A predicate deciding whether a caller (by user id) is admitted to a domain.
pub type DomainPredicate = Arc<dyn Fn(&[u8]) -> bool + Send + Sync>;

/// Where an outgoing message goes.
#[derive(Clone, Debug)]
pub(crate) enum Route {
    /// A client's server, addressed by its name; waits for the connection.
    Server(Arc<[u8]>),
    /// A connected peer by routing id; fails at once if it is gone.
    RoutingId(Arc<[u8]>),
    /// A connected peer by its authenticated user id.
    UserId(Arc<[u8]>),
}

impl Route {
    pub(crate) fn describe(&self) -> String {
        match self {
            Route::Server(n) => format!("server {:?}", String::from_utf8_lossy(n)),
            Route::RoutingId(r) => format!("routing id {}", hex(r)),
            Route::UserId(u) => format!("user {:?}", String::from_utf8_lossy(u)),
        }
    }
}

/// A change in the set of connected peers, as a server sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerEvent {
    /// A peer connected (its probe or first message arrived) under this user id.
    Connected {
        /// The user id security established (empty under `noop`).
        user_id: Vec<u8>,
        /// The routing id of the connection.
        routing_id: Vec<u8>,
    },
    /// A peer's connection was found gone. (A client reports its server's
    /// connection with an empty routing id.)
    Disconnected {
        /// The user id it had.
        user_id: Vec<u8>,
        /// The routing id of the lost connection.
        routing_id: Vec<u8>,
    },
}

/// A raw reply to one of our calls.
pub(crate) struct RawReply {
    pub kind: MessageType,
    pub body: zmq::Message,
}

pub(crate) type ReplySender = oneshot::Sender<Result<RawReply, Error>>;

/// A call waiting for its reply.
pub(crate) struct Pending {
    pub tx: ReplySender,
    /// The routing id it was sent to (set by the socket task), for disconnect sweeps.
    pub routing_id: Option<Arc<[u8]>>,
    /// Where it went; described only for an error (formatting costs per call).
    pub route: Route,
}

/// A message id as sent on the wire: ours and most peers' are 16 bytes, kept
/// inline so a message needs no allocation for its id.
#[derive(Clone, Debug)]
pub(crate) enum WireId {
    Fixed([u8; 16]),
    Other(Vec<u8>),
}

impl WireId {
    pub(crate) fn from_frame(id: &[u8]) -> Self {
        match id.try_into() {
            Ok(fixed) => WireId::Fixed(fixed),
            Err(_) => WireId::Other(id.to_vec()),
        }
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            WireId::Fixed(id) => id,
            WireId::Other(id) => id,
        }
    }
}

/// A message queued for sending.
pub(crate) struct Outgoing {
    pub route: Route,
    pub id: WireId,
    pub kind: MessageType,
    pub body: Vec<u8>,
    /// Set for our own calls: their pending entry fails if the send fails.
    pub call: Option<MessageId>,
    /// Set for replies of handlers that ran on their own task.
    pub handler_done: bool,
}

pub(crate) enum Command {
    Send(Outgoing),
    Stop(oneshot::Sender<()>),
}

/// Calls waiting for replies, by message id.
pub(crate) type PendingMap = HashMap<MessageId, Pending, std::hash::BuildHasherDefault<IdHasher>>;

/// A cheap multiply-rotate hash for [`MessageId`]s: our ids are random and only we
/// insert (a peer's id is only looked up), so SipHash's flood resistance buys nothing.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Mixes in every chunk, so any key still hashes correctly.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
}

/// State shared between the socket task and the handles (server, client, remotes).
pub(crate) struct Shared {
    pub label: String,
    pub cmd: mpsc::UnboundedSender<Command>,
    pub pending: Mutex<PendingMap>,
    pub registry: Registry,
    pub use_global: bool,
    pub domains: RwLock<HashMap<String, DomainPredicate>>,
    pub timeout: Duration,
    pub max_message_size: usize,
    pub stop_grace: Duration,
    pub events: tokio::sync::broadcast::Sender<PeerEvent>,
    /// Turns true when the socket task has ended.
    pub closed: tokio::sync::watch::Sender<bool>,
    /// The user id this endpoint presents (a client's PLAIN username), or empty.
    pub local_user_id: Vec<u8>,
    /// Unique in the process, never reused.
    pub id: u64,
}

impl Shared {
    pub(crate) fn lock_pending(&self) -> std::sync::MutexGuard<'_, PendingMap> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lookup(&self, name: &str, user_id: &[u8]) -> Option<Arc<crate::Function>> {
        let admits = |domain: &str| {
            let domains = self.domains.read().unwrap_or_else(|p| p.into_inner());
            domains.get(domain).is_some_and(|pred| pred(user_id))
        };
        self.registry.lookup(name, admits).or_else(|| {
            if self.use_global {
                Registry::global().lookup(name, admits)
            } else {
                None
            }
        })
    }

    fn fail(&self, id: &MessageId, err: Error) {
        if let Some(p) = self.lock_pending().remove(id) {
            let _ = p.tx.send(Err(err));
        }
    }
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
    /// The server's ZAP domain: its logins are verified as long as the socket lives.
    zap: Option<crate::zap::ZapDomain>,
    /// The runtime that runs async handlers (the one that started the endpoint).
    handlers: Option<tokio::runtime::Handle>,
    /// This task runs on a thread of its own: handlers are invoked inside the
    /// `handlers` runtime's context, so that what they spawn lands there too.
    own_thread: bool,
}

const RECV_BATCH: usize = 256;
const MIN_RETRY: Duration = Duration::from_micros(500);
const MAX_RETRY: Duration = Duration::from_millis(100);

impl Engine {
    pub(crate) fn new(
        shared: Arc<Shared>,
        socket: Socket,
        monitor: Option<Monitor>,
        rx: mpsc::UnboundedReceiver<Command>,
        is_client: bool,
        zap: Option<crate::zap::ZapDomain>,
    ) -> Self {
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

    // ---- sending ---------------------------------------------------------

    /// Queues a message; the loop pass hands it to libzmq at its end.
    fn send(&mut self, out: Outgoing) {
        self.outq.push(out);
    }

    /// Hands the queued messages to libzmq, in order.
    fn flush_out(&mut self) {
        while !self.outq.is_empty() {
            let mut queued = std::mem::take(&mut self.outq);
            for out in queued.drain(..) {
                self.send_now(out);
            }
            if self.outq.is_empty() {
                // Keep the allocation for the next pass.
                self.outq = queued;
            }
        }
    }

    fn send_now(&mut self, out: Outgoing) {
        if !self.backlog.is_empty() {
            self.backlog.push_back(out);
            return;
        }
        if let Some(out) = self.try_send(out) {
            self.backlog.push_back(out);
        }
    }

    /// Sends one message; gives it back if libzmq would block.
    fn try_send(&mut self, out: Outgoing) -> Option<Outgoing> {
        let routing_id = match &out.route {
            Route::Server(name) | Route::RoutingId(name) => name.clone(),
            Route::UserId(user) => match self.routes.get(&user[..]) {
                Some(r) => r.clone(),
                None => {
                    self.unreachable(out);
                    return None;
                }
            },
        };
        if let Some(id) = out.call {
            // One lock on the usual path: skip a call whose caller gave up (timeout
            // or drop) before we sent it, and mark the others as sent there (for
            // disconnect sweeps), unmarked again below if the send does not happen.
            match self.shared.lock_pending().get_mut(&id) {
                Some(p) => p.routing_id = Some(routing_id.clone()),
                None => return None,
            }
        }
        self.recv_needed = true;
        match self
            .socket
            .try_send(&routing_id, out.id.as_slice(), out.kind.byte(), &out.body)
        {
            Ok(Sent::Ok) => None,
            Ok(Sent::WouldBlock) => {
                self.unmark_sent(&out);
                Some(out)
            }
            Ok(Sent::Unreachable) => {
                self.unmark_sent(&out);
                self.unreachable(out);
                None
            }
            Err(e) => {
                tracing::error!(error = %e, peer = %out.route.describe(), "send failed");
                if let Some(id) = out.call {
                    self.shared.fail(
                        &id,
                        Error::Zmq {
                            op: "send".into(),
                            source: e,
                        },
                    );
                }
                None
            }
        }
    }

    /// A call that was not sent after all waits like one never sent.
    fn unmark_sent(&self, out: &Outgoing) {
        if let Some(id) = out.call
            && let Some(p) = self.shared.lock_pending().get_mut(&id)
        {
            p.routing_id = None;
        }
    }

    fn unreachable(&mut self, out: Outgoing) {
        if let Route::Server(_) = out.route
            && out.call.is_some()
            && self.stopping.is_none()
        {
            if let (Some(id), Some(failure)) = (out.call, &self.handshake_failure) {
                // The server refused us last time; say so rather than wait.
                let err = clone_failure(failure);
                self.shared.fail(&id, err);
                return;
            }
            // Not connected yet: hold our call until the handshake completes.
            self.parked.push(out);
            self.purge_parked();
            if self.retry_at.is_none() {
                self.retry_at = Some(Instant::now() + self.retry_delay);
            }
            return;
        }
        if let Route::RoutingId(rid) | Route::Server(rid) = &out.route {
            let rid = rid.clone();
            self.forget_peer(&rid);
        }
        let peer = out.route.describe();
        match out.call {
            Some(id) => self.shared.fail(&id, Error::Unreachable { peer }),
            None => tracing::warn!(peer = %peer, kind = ?out.kind, "peer gone; message dropped"),
        }
    }

    fn retry_parked(&mut self) {
        for out in std::mem::take(&mut self.parked) {
            self.send(out);
        }
    }

    fn purge_parked(&mut self) {
        let pending = self.shared.lock_pending();
        self.parked
            .retain(|o| o.call.is_some_and(|id| pending.contains_key(&id)));
    }

    fn flush_backlog(&mut self) -> bool {
        if self.backlog.is_empty() {
            return false;
        }
        // Reading ZMQ_EVENTS can consume the read signal too.
        self.recv_needed = true;
        if !self.socket.writable() {
            return false;
        }
        let mut progressed = false;
        while let Some(out) = self.backlog.pop_front() {
            if let Some(out) = self.try_send(out) {
                self.backlog.push_front(out);
                break;
            }
            progressed = true;
        }
        progressed
    }

    fn reply(&mut self, routing_id: Arc<[u8]>, id: &WireId, result: Result<Vec<u8>, Fault>) {
        let (kind, body) = match result {
            Ok(body) => (MessageType::Ok, body),
            Err(fault) => (MessageType::Error, error_body(&fault)),
        };
        self.send(Outgoing {
            route: Route::RoutingId(routing_id),
            id: id.clone(),
            kind,
            body,
            call: None,
            handler_done: false,
        });
    }

    // ---- receiving -------------------------------------------------------

    /// Receives up to a batch of messages; true if any arrived. With `may_pause`,
    /// stops after delivering the reply to the only call in flight (see `paused`).
    fn drain_incoming(&mut self, may_pause: bool) -> bool {
        let mut frames = std::mem::take(&mut self.frames);
        let mut received = 0;
        while received < RECV_BATCH {
            if received == 1 {
                // Answer the first message before receiving on: a lone call's reply
                // then goes out before the receive that ends in EAGAIN, not after.
                self.flush_out();
            }
            match self.socket.try_recv(&mut frames) {
                Ok(true) => {
                    received += 1;
                    self.delivered = false;
                    self.on_message(&mut frames);
                    if may_pause && self.delivered {
                        self.paused = true;
                        break;
                    }
                }
                Ok(false) => {
                    self.recv_needed = false;
                    break;
                }
                Err(e) => {
                    tracing::error!(error = %e, "receive failed");
                    self.recv_needed = false;
                    break;
                }
            }
        }
        frames.clear();
        self.frames = frames;
        received > 0
    }

    /// The shared routing id for a received routing frame, allocated only for a
    /// routing id not seen before.
    fn routing_id(&mut self, frame: &[u8]) -> Arc<[u8]> {
        if let Some((rid, _)) = self.peers.get_key_value(frame) {
            return rid.clone();
        }
        if let Some(rid) = &self.last_routing_id
            && **rid == *frame
        {
            return rid.clone();
        }
        let rid: Arc<[u8]> = Arc::from(frame);
        self.last_routing_id = Some(rid.clone());
        rid
    }

    fn on_message(&mut self, frames: &mut Vec<zmq::Message>) {
        // Only ZAP sets a user id, so only a server with a ZAP domain can see one;
        // reading the property allocates, so the others skip it.
        let user_id: Vec<u8> = if self.is_client || self.zap.is_none() {
            Vec::new()
        } else {
            frames
                .last_mut()
                .and_then(|f| f.gets("User-Id").map(|s| s.as_bytes().to_vec()))
                .unwrap_or_default()
        };
        // Each look at a zmq::Message's bytes is two FFI calls: take them once.
        let mut inline: [&[u8]; 6] = [&[]; 6];
        let spilled: Vec<&[u8]>;
        let slices: &[&[u8]] = if frames.len() <= inline.len() {
            for (slice, frame) in inline.iter_mut().zip(frames.iter()) {
                *slice = frame;
            }
            &inline[..frames.len()]
        } else {
            spilled = frames.iter().map(|f| &f[..]).collect();
            &spilled
        };
        let routing_id = self.routing_id(slices[0]);
        self.learn_route(&user_id, &routing_id);
        let size: usize = slices.iter().map(|f| f.len()).sum();
        match classify(slices) {
            Inbound::Probe => {}
            Inbound::Malformed { reason, answer_id } => {
                tracing::warn!(%reason, routing_id = %hex(&routing_id), "malformed message");
                if let Some(id) = answer_id {
                    let id = WireId::from_frame(id);
                    self.reply(
                        routing_id,
                        &id,
                        Err(Fault::new(PROTOCOL_ERROR, reason.to_string())),
                    );
                }
            }
            Inbound::Message { id, kind, body: _ } => {
                if size > self.shared.max_message_size {
                    let err = Error::TooLarge {
                        size,
                        limit: self.shared.max_message_size,
                    };
                    tracing::warn!(%err, ?kind, "oversized message refused");
                    match kind {
                        MessageType::Work => {
                            let id = WireId::from_frame(id);
                            let fault = Fault::new("MessageTooLarge", err.to_string());
                            self.reply(routing_id, &id, Err(fault));
                        }
                        k if k.is_reply() => {
                            if let Some(id) = MessageId::from_frame(id) {
                                self.shared.fail(&id, err);
                            }
                        }
                        _ => {}
                    }
                    return;
                }
                let id = WireId::from_frame(id);
                match kind {
                    MessageType::Work => {
                        let body_frame = frames.pop();
                        let body = body_frame.as_deref().unwrap_or(&[]);
                        self.on_work(routing_id, user_id, &id, body);
                    }
                    MessageType::Ok | MessageType::Error | MessageType::Unauthorized => {
                        let body = frames.pop().unwrap_or_else(zmq::Message::new);
                        self.on_reply(id.as_slice(), kind, body);
                    }
                    MessageType::Heartbeat => {
                        tracing::trace!(routing_id = %hex(&routing_id), "heartbeat");
                    }
                    MessageType::Hello => {
                        tracing::info!(routing_id = %hex(&routing_id), "HELLO refused: this endpoint authenticates through ZeroMQ security");
                        self.send(Outgoing {
                            route: Route::RoutingId(routing_id),
                            id,
                            kind: MessageType::Unauthorized,
                            body: b"Authentication not supported".to_vec(),
                            call: None,
                            handler_done: false,
                        });
                    }
                    MessageType::Authenticated => {
                        tracing::debug!("stray AUTHENTICATED dropped");
                    }
                }
            }
        }
    }

    fn learn_route(&mut self, user_id: &[u8], routing_id: &Arc<[u8]>) {
        if self.is_client {
            return;
        }
        if let std::collections::hash_map::Entry::Vacant(entry) =
            self.peers.entry(routing_id.clone())
        {
            entry.insert(user_id.to_vec());
            tracing::debug!(user = %String::from_utf8_lossy(user_id), routing_id = %hex(routing_id), "peer connected");
            // No receiver is fine: events are for whoever subscribed.
            let _ = self.shared.events.send(PeerEvent::Connected {
                user_id: user_id.to_vec(),
                routing_id: routing_id.to_vec(),
            });
        }
        if self.routes.get(user_id) != Some(routing_id) {
            self.routes.insert(user_id.to_vec(), routing_id.clone());
        }
    }

    fn on_reply(&mut self, id: &[u8], kind: MessageType, body: zmq::Message) {
        let pending = MessageId::from_frame(id).and_then(|id| {
            let mut map = self.shared.lock_pending();
            map.remove(&id).map(|p| (p, map.is_empty()))
        });
        match pending {
            Some((p, was_last)) => {
                // Only a lone caller gains from a pause; with more calls in
                // flight, their replies keep this task busy anyway.
                self.delivered = was_last;
                let _ = p.tx.send(Ok(RawReply { kind, body }));
            }
            None => {
                tracing::debug!(id = %hex(id), ?kind, "reply for no waiting call (late or stray); dropped")
            }
        }
    }

    fn on_work(&mut self, routing_id: Arc<[u8]>, user_id: Vec<u8>, id: &WireId, body: &[u8]) {
        if self.stopping.is_some() {
            let fault = Fault::new("ServiceUnavailableError", "the server is stopping");
            self.reply(routing_id, id, Err(fault));
            return;
        }
        let work = match decode_work(body) {
            Ok(w) => w,
            Err(fault) => {
                tracing::warn!(%fault, "undecodable WORK");
                self.reply(routing_id, id, Err(fault));
                return;
            }
        };
        let Some(function) = self.shared.lookup(&work.name, &user_id) else {
            tracing::debug!(name = %work.name, "no such function");
            let fault = Fault::new(SERVICE_NOT_FOUND, work.name.into_owned());
            self.reply(routing_id, id, Err(fault));
            return;
        };
        let span = tracing::debug_span!(
            "call",
            name = %work.name,
            user = %String::from_utf8_lossy(&user_id),
        );
        let ctx = Context::new(self.shared.clone(), user_id, routing_id.clone());
        let name = work.name;
        let _runtime = self
            .handlers
            .as_ref()
            .filter(|_| self.own_thread)
            .map(tokio::runtime::Handle::enter);
        let invoked = span.in_scope(|| {
            std::panic::catch_unwind(AssertUnwindSafe(|| function.invoke(&name, ctx, work.args)))
        });
        let mut future = match invoked {
            Ok(Ok(Invoke::Ready(result))) => return self.reply(routing_id, id, result),
            Ok(Err(fault)) => return self.reply(routing_id, id, Err(fault)),
            Err(panic) => return self.reply(routing_id, id, Err(panic_fault(&name, panic))),
            Ok(Ok(Invoke::Pending(future))) => AssertUnwindSafe(future).catch_unwind(),
        };
        // Poll once inline: a future that completes at once needs no task.
        match span.in_scope(|| (&mut future).now_or_never()) {
            Some(result) => {
                let result = result.unwrap_or_else(|p| Err(panic_fault(&name, p)));
                self.reply(routing_id, id, result)
            }
            None => {
                self.in_flight += 1;
                let name = name.into_owned();
                let cmd = self.shared.cmd.clone();
                let id = id.clone();
                let task = async move {
                    let result = future.await.unwrap_or_else(|p| Err(panic_fault(&name, p)));
                    let (kind, body) = match result {
                        Ok(body) => (MessageType::Ok, body),
                        Err(fault) => (MessageType::Error, error_body(&fault)),
                    };
                    let _ = cmd.send(Command::Send(Outgoing {
                        route: Route::RoutingId(routing_id),
                        id,
                        kind,
                        body,
                        call: None,
                        handler_done: true,
                    }));
                };
                let task = tracing::Instrument::instrument(task, span);
                match &self.handlers {
                    Some(runtime) => drop(runtime.spawn(task)),
                    None => drop(tokio::spawn(task)),
                }
            }
        }
    }

    // ---- connection events ------------------------------------------------

    fn drain_monitor(&mut self) -> bool {
        let mut any = false;
        while let Some((event, endpoint)) = self.monitor.as_ref().and_then(|m| m.try_next()) {
            any = true;
            self.on_event(event, &endpoint);
        }
        self.monitor_needed = false;
        any
    }

    fn on_event(&mut self, event: Event, endpoint: &str) {
        match event {
            Event::Connected => {
                tracing::debug!(%endpoint, "handshake succeeded");
                if self.is_client {
                    self.handshake_failure = None;
                    self.retry_delay = MIN_RETRY;
                    self.retry_parked();
                }
            }
            Event::Disconnected => {
                tracing::info!(%endpoint, "connection lost");
                // Replies that arrived before the connection dropped are still queued.
                self.drain_incoming(false);
                // Their answers go out before the sweep, as if sent when they were made.
                self.flush_out();
                if self.is_client {
                    self.fail_sent(|peer| Error::Disconnected { peer });
                    // A client has one peer, its server: an empty routing id names it.
                    let _ = self.shared.events.send(PeerEvent::Disconnected {
                        user_id: Vec::new(),
                        routing_id: Vec::new(),
                    });
                } else {
                    self.sweep_disconnected();
                    let now = Instant::now();
                    self.sweeps = vec![
                        now + Duration::from_millis(50),
                        now + Duration::from_millis(500),
                    ];
                }
            }
            Event::AuthFailed(status) => {
                if self.is_client {
                    tracing::warn!(%endpoint, status, "the server refused our credentials");
                    self.handshake_failed(Error::Unauthorized(format!(
                        "the server at {endpoint} refused our credentials (ZAP status {status})"
                    )));
                } else {
                    tracing::warn!(%endpoint, status, "a peer failed authentication");
                }
            }
            Event::HandshakeFailed => {
                tracing::warn!(%endpoint, "handshake failed");
                if self.is_client {
                    self.handshake_failed(Error::Handshake(format!(
                        "the ZeroMQ handshake with {endpoint} failed; does the security mode match the server's?"
                    )));
                }
            }
            Event::Other => {}
        }
    }

    /// Fails the calls waiting for the connection, and later ones until a handshake succeeds.
    fn handshake_failed(&mut self, err: Error) {
        for out in std::mem::take(&mut self.parked) {
            if let Some(id) = out.call {
                self.shared.fail(&id, clone_failure(&err));
            }
        }
        self.handshake_failure = Some(err);
    }

    /// Fails the calls that were sent (not those still waiting for a connection).
    fn fail_sent(&mut self, err: impl Fn(String) -> Error) {
        let sent: Vec<Pending> = {
            let mut pending = self.shared.lock_pending();
            let ids: Vec<MessageId> = pending
                .iter()
                .filter(|(_, p)| p.routing_id.is_some())
                .map(|(id, _)| *id)
                .collect();
            ids.iter().filter_map(|id| pending.remove(id)).collect()
        };
        for p in sent {
            let _ = p.tx.send(Err(err(p.route.describe())));
        }
    }

    /// Finds peers that are gone (connected peers and peers with calls in flight),
    /// forgets them and fails their calls with `Disconnected`.
    fn sweep_disconnected(&mut self) {
        let mut candidates: HashSet<Arc<[u8]>> = self.peers.keys().cloned().collect();
        candidates.extend(
            self.shared
                .lock_pending()
                .values()
                .filter_map(|p| p.routing_id.clone()),
        );
        for rid in candidates {
            // A HEARTBEAT is ignored by every pseud peer; its send tells if the peer is there.
            self.recv_needed = true;
            let probe = self
                .socket
                .try_send(&rid, b"", MessageType::Heartbeat.byte(), b"");
            if probe == Ok(Sent::Unreachable) {
                self.forget_peer(&rid);
            }
        }
    }

    fn forget_peer(&mut self, rid: &Arc<[u8]>) {
        if let Some(user_id) = self.peers.remove(rid) {
            tracing::info!(user = %String::from_utf8_lossy(&user_id), routing_id = %hex(rid), "peer disconnected");
            if self.routes.get(&user_id) == Some(rid) {
                // Another connection of the same user (or another noop peer) takes over.
                let other = self
                    .peers
                    .iter()
                    .find(|(_, u)| **u == user_id)
                    .map(|(r, _)| r.clone());
                match other {
                    Some(r) => self.routes.insert(user_id.clone(), r),
                    None => self.routes.remove(&user_id),
                };
            }
            let _ = self.shared.events.send(PeerEvent::Disconnected {
                user_id,
                routing_id: rid.to_vec(),
            });
        }
        let gone: Vec<Pending> = {
            let mut pending = self.shared.lock_pending();
            let ids: Vec<MessageId> = pending
                .iter()
                .filter(|(_, p)| p.routing_id.as_ref() == Some(rid))
                .map(|(id, _)| *id)
                .collect();
            ids.iter().filter_map(|id| pending.remove(id)).collect()
        };
        for p in gone {
            let _ = p.tx.send(Err(Error::Disconnected {
                peer: p.route.describe(),
            }));
        }
    }
}

/// A copy of a handshake failure (only those two kinds are ever stored).
fn clone_failure(err: &Error) -> Error {
    match err {
        Error::Unauthorized(m) => Error::Unauthorized(m.clone()),
        other => Error::Handshake(other.to_string()),
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// msgpack `[class, message, traceback]`.
pub(crate) fn error_body(fault: &Fault) -> Vec<u8> {
    let mut body = Vec::new();
    write_value(
        &mut body,
        &Value::Array(vec![
            Value::from(fault.class.as_str()),
            Value::from(fault.message.as_str()),
            Value::from(fault.traceback.as_str()),
        ]),
    );
    body
}

fn panic_fault(name: &str, panic: Box<dyn std::any::Any + Send>) -> Fault {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a non-string panic payload".into());
    tracing::error!(name, panic = %what, "handler panicked");
    Fault::new("PanicError", format!("{name}() panicked: {what}"))
        .with_traceback(format!("Rust panic in handler {name}: {what}\n"))
}
