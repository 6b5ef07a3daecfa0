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
//! The task's work is split by concern: [`send`] writes messages to peers' links
//! (or parks them), [`receive`] classifies what arrives and runs handlers,
//! [`peers`] follows connections; [`shared`] holds what callers and handlers
//! share with it.

mod peers;
mod receive;
mod send;
mod shared;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::Instant;

use crate::error::Error;
use crate::zmtp::{Incoming, Link, Router};

pub(crate) use receive::run_here;
pub(crate) use send::error_body;
pub(crate) use shared::{Command, Outgoing, Pending, RawReply, Route, Shared, TaskId, WireId};
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
    /// Kept for its listeners and connectors: dropping it closes them.
    _router: Router,
    incoming: mpsc::UnboundedReceiver<Incoming>,
    /// Signalled when a peer that refused a send (its link was full) has room.
    room: Arc<Notify>,
    rx: mpsc::UnboundedReceiver<Command>,
    /// Peers holding messages their links would not take yet.
    blocked: Vec<Arc<[u8]>>,
    /// Messages queued during a loop pass, written together at its end.
    outq: Vec<Outgoing>,
    /// Links with messages queued but not yet written (see `Link::send`).
    dirty: Vec<Arc<Link>>,
    /// When to yield to a lone caller (see [`Pause`]).
    pause: Pause,
    /// Calls to our server sent before the connection was up.
    parked: Vec<Outgoing>,
    /// Why the last handshake with our server failed, until one succeeds.
    handshake_failure: Option<Error>,
    /// Connected peers by routing id.
    peers: HashMap<Arc<[u8]>, Peer>,
    /// user id → routing id of its latest connection (what `send_to` uses).
    routes: HashMap<Vec<u8>, Arc<[u8]>>,
    /// Handlers running on their own task, by id: whose call each serves.
    running: HashMap<TaskId, RunningTask>,
    next_task: TaskId,
    stopping: Option<(oneshot::Sender<()>, Instant)>,
    side: Side,
    /// A client's server: greeted with a HEARTBEAT once each handshake succeeds.
    greet: Option<Arc<[u8]>>,
    /// A client's view of its connection, for failing fast (see `peers`).
    link: ServerLink,
    /// The runtime that runs async handlers (the one that started the endpoint).
    handlers: Option<tokio::runtime::Handle>,
    /// Where this task runs. On a thread of its own, handlers are invoked
    /// inside the `handlers` runtime's context, so that what they spawn lands
    /// there too.
    socket_loop: crate::SocketLoop,
}

/// Which end of the protocol the engine is (what [`Role`] leaves once started).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    Server,
    Client,
}

/// The lone-caller optimisation's state: after waking, the engine stops its
/// receive pass once it delivered the reply to the only call in flight, and
/// yields, so that the caller (likely to call again at once) runs first and its
/// next call goes out in this pass rather than after another wake-up.
#[derive(Default)]
struct Pause {
    /// The task just woke from waiting: the next receive may pause after a reply.
    woke: bool,
    /// A receive stopped after delivering a reply, to let its caller run first.
    paused: bool,
    /// The last message received was the reply to the only call in flight.
    delivered: bool,
}

/// A connected peer.
pub(crate) struct Peer {
    /// The user id its handshake established (empty under `noop`).
    user_id: Vec<u8>,
    link: Arc<Link>,
    /// Which connection it is (a reconnect under the same routing id is another).
    conn: u64,
    /// Messages its link would not take yet, in order, and their body bytes.
    held: VecDeque<Outgoing>,
    held_bytes: usize,
    /// Messages for it are being dropped (its queue is full): said once.
    dropping: bool,
    /// Its calls whose handlers run on their own task.
    tasks: HashSet<TaskId>,
}

impl Peer {
    fn new(user_id: Vec<u8>, link: Arc<Link>, conn: u64) -> Self {
        Peer {
            user_id,
            link,
            conn,
            held: VecDeque::new(),
            held_bytes: 0,
            dropping: false,
            tasks: HashSet::new(),
        }
    }
}

/// A handler running on its own task.
struct RunningTask {
    /// The connection of the call it serves.
    routing_id: Arc<[u8]>,
    /// Cancels it when that connection goes (or the stop grace is over).
    abort: tokio::task::AbortHandle,
}

/// What a client knows of its connection to its server.
#[derive(Default)]
pub(crate) struct ServerLink {
    /// The endpoint of the last connection event.
    endpoint: String,
    /// When the current connection's handshake succeeded.
    connected_at: Option<Instant>,
    /// Since when connecting has been failing (no handshake since).
    refused_since: Option<Instant>,
    /// How long calls wait while connecting fails.
    connect_grace: Duration,
}

const RECV_BATCH: usize = 256;

impl Engine {
    pub(crate) fn new(
        shared: Arc<Shared>,
        router: Router,
        incoming: mpsc::UnboundedReceiver<Incoming>,
        rx: mpsc::UnboundedReceiver<Command>,
        role: Role,
    ) -> Self {
        let (side, greet, connect_grace) = match role {
            Role::Server => (Side::Server, None, Duration::ZERO),
            Role::Client {
                server,
                connect_grace,
            } => (Side::Client, Some(server), connect_grace),
        };
        Engine {
            shared,
            room: router.room(),
            _router: router,
            incoming,
            rx,
            blocked: Vec::new(),
            outq: Vec::new(),
            dirty: Vec::new(),
            pause: Pause::default(),
            parked: Vec::new(),
            handshake_failure: None,
            peers: HashMap::new(),
            routes: HashMap::new(),
            running: HashMap::new(),
            next_task: 0,
            stopping: None,
            side,
            greet,
            link: ServerLink {
                connect_grace,
                ..ServerLink::default()
            },
            handlers: None,
            socket_loop: crate::SocketLoop::OnRuntime,
        }
    }

    /// Runs async handlers on `runtime`; `socket_loop` says whether this task
    /// runs on it or on a thread of its own.
    pub(crate) fn run_handlers_on(
        mut self,
        runtime: tokio::runtime::Handle,
        socket_loop: crate::SocketLoop,
    ) -> Self {
        self.handlers = Some(runtime);
        self.socket_loop = socket_loop;
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
            let mut busy = false;
            // Take every queued command before sending, so their messages go
            // out together.
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
            self.flush_out();
            // (On its own thread, the caller runs elsewhere anyway.)
            let drain = if std::mem::take(&mut self.pause.woke)
                && self.stopping.is_none()
                && self.socket_loop == crate::SocketLoop::OnRuntime
            {
                receive::Drain::UntilLoneReply
            } else {
                receive::Drain::Batch
            };
            busy |= self.drain_incoming(drain);
            self.flush_out();
            if self.pause.paused {
                // The only caller waiting just got its reply and likely calls again
                // at once: let it (and the other ready tasks) run first, so its call
                // goes out in this pass rather than after a wake-up.
                self.pause.paused = false;
                tokio::task::yield_now().await;
                continue;
            }
            if self.finished(channel_open) {
                break;
            }
            if busy {
                continue;
            }
            let stop_deadline = self.stopping.as_ref().map(|(_, d)| *d);
            tracing::trace!("idle");
            self.pause.woke = true;
            let room = self.room.clone();
            tokio::select! {
                biased;
                cmd = self.rx.recv(), if channel_open => match cmd {
                    Some(cmd) => self.execute(cmd),
                    None => channel_open = false,
                },
                item = self.incoming.recv() => match item {
                    Some(item) => self.on_incoming(item),
                    // The router's senders live as long as it does, and so do we.
                    None => break,
                },
                () = room.notified(), if !self.blocked.is_empty() => {
                    self.flush_blocked();
                    self.flush_out();
                }
                _ = sleep_until(stop_deadline) => self.abandon(),
            }
        }
        self.close();
    }

    fn finished(&mut self, channel_open: bool) -> bool {
        let stopping = self.stopping.is_some();
        if !stopping && channel_open {
            return false;
        }
        // Stop once every handler has answered and every answer is written or queued.
        self.running.is_empty() && self.blocked.is_empty()
    }

    /// The stop grace is over: running handlers are cancelled, and what blocked
    /// peers did not take is dropped.
    fn abandon(&mut self) {
        let unsent: usize = self
            .blocked
            .iter()
            .filter_map(|r| self.peers.get(r))
            .map(|p| p.held.len())
            .sum();
        tracing::warn!(
            running = self.running.len(),
            unsent,
            "stop grace period over; cancelling running handlers, dropping unsent messages"
        );
        for (_, task) in self.running.drain() {
            task.abort.abort();
        }
        for rid in std::mem::take(&mut self.blocked) {
            if let Some(peer) = self.peers.get_mut(&rid) {
                peer.held.clear();
                peer.held_bytes = 0;
            }
        }
    }

    /// A handler task finished (its reply is being sent).
    fn task_done(&mut self, task: TaskId) {
        if let Some(t) = self.running.remove(&task)
            && let Some(peer) = self.peers.get_mut(&t.routing_id)
        {
            peer.tasks.remove(&task);
        }
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
        // What layers kept for this endpoint goes with it (and with it any
        // reference cycle through their objects back to the endpoint).
        let layers =
            std::mem::take(&mut *self.shared.layers.lock().unwrap_or_else(|p| p.into_inner()));
        self.shared
            .gone_hooks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        drop(layers);
        tracing::debug!("socket task stopped");
    }

    fn execute(&mut self, cmd: Command) {
        match cmd {
            Command::Send(out) => {
                if let Some(task) = out.task {
                    self.task_done(task);
                }
                self.send(out);
            }
            Command::Stop(done) => {
                tracing::info!(running = self.running.len(), "stopping");
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
