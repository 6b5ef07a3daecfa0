//! Settings shared by servers and clients, and starting their socket task.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::engine::{Command, DomainPredicate, Engine, Role, Shared};
use crate::error::Error;
use crate::limits::Limits;
use crate::own_thread::OwnThread;
use crate::registry::Registry;
use crate::zmtp::{Incoming, Router, RouterConfig};

/// The default timeout of every call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
pub use crate::limits::DEFAULT_MAX_MESSAGE_SIZE;

/// Where an endpoint's socket loop runs (`socket_loop(...)` on either builder).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SocketLoop {
    /// On a thread of its own (a server's default). It wakes straight from the
    /// socket, not via the runtime's worker pool: lower latency, one OS thread
    /// more.
    OwnThread,
    /// As a task of the runtime that starts the endpoint (a client's default).
    OnRuntime,
}

/// Settings common to [`crate::Server`] and [`crate::Client`].
#[derive(Clone)]
pub(crate) struct Options {
    pub timeout: Duration,
    pub limits: Limits,
    pub heartbeat_interval: Duration,
    pub heartbeat_timeout: Duration,
    pub stop_grace: Duration,
    pub registry: Registry,
    pub use_global: bool,
    pub domains: HashMap<String, DomainPredicate>,
    /// The user id this endpoint presents (set by a client's PLAIN security).
    pub local_user_id: Vec<u8>,
    /// Where the socket task runs.
    pub socket_loop: SocketLoop,
    /// What a server does when a connected user id logs in again.
    pub second_login: crate::SecondLogin,
    /// Where a server sends calls to names it does not serve.
    pub proxy_to: Option<Arc<crate::Client>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: DEFAULT_TIMEOUT,
            limits: Limits::default(),
            heartbeat_interval: Duration::from_secs(1),
            heartbeat_timeout: Duration::from_secs(5),
            stop_grace: Duration::from_secs(10),
            registry: Registry::new(),
            use_global: true,
            domains: HashMap::new(),
            local_user_id: Vec::new(),
            socket_loop: SocketLoop::OnRuntime,
            second_login: crate::SecondLogin::default(),
            proxy_to: None,
        }
    }
}

impl Options {
    /// The router settings these options give, for `mechanism` and our `identity`.
    pub(crate) fn router_config(
        &self,
        identity: Vec<u8>,
        mechanism: crate::zmtp::router::Mechanism,
    ) -> RouterConfig {
        RouterConfig {
            identity,
            mechanism,
            heartbeat: Some((self.heartbeat_interval, self.heartbeat_timeout)),
            // A frame past twice the limit, or a message past four times it,
            // drops the connection before it is read; below that, oversized
            // messages get an answer (see `receive`).
            max_frame: self.limits.max_message_size.saturating_mul(2),
            max_message: self.limits.max_message_size.saturating_mul(4),
            max_queued: self.limits.max_queued_bytes,
            write_timeout: self.limits.write_timeout,
        }
    }
}

macro_rules! option_setters {
    () => {
        /// The default timeout of calls made from this endpoint (5 s unless set).
        pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
            self.opts.timeout = timeout;
            self
        }

        /// The largest message accepted, all frames together (16 MiB unless set).
        /// A larger WORK gets an ERROR reply (`MessageTooLarge`); a single frame over
        /// twice the limit (or a message over four times it) drops the connection
        /// before it is read.
        pub fn max_message_size(mut self, bytes: usize) -> Self {
            self.opts.limits.max_message_size = bytes;
            self
        }

        /// What one peer may cost this endpoint (see [`Limits`](crate::Limits)
        /// for each limit and its default). Replaces any `max_message_size` set
        /// before.
        pub fn limits(mut self, limits: $crate::Limits) -> Self {
            self.opts.limits = limits;
            self
        }

        /// ZMTP heartbeats: a PING every `interval`; a connection silent for
        /// `timeout` is dropped, which fails its calls with `Disconnected`.
        pub fn heartbeat(
            mut self,
            interval: std::time::Duration,
            timeout: std::time::Duration,
        ) -> Self {
            self.opts.heartbeat_interval = interval;
            self.opts.heartbeat_timeout = timeout;
            self
        }

        /// How long `stop()` waits for running handlers (10 s unless set).
        pub fn stop_grace(mut self, grace: std::time::Duration) -> Self {
            self.opts.stop_grace = grace;
            self
        }

        /// Serves from this registry (shared with whoever else holds it).
        pub fn registry(mut self, registry: $crate::Registry) -> Self {
            self.opts.registry = registry;
            self
        }

        /// Does not fall back to the process-wide registry.
        pub fn without_global_registry(mut self) -> Self {
            self.opts.use_global = false;
            self
        }

        /// Where the socket loop runs: on a thread of its own (a server's
        /// default) or as a task of the runtime that starts it (a client's
        /// default). See [`SocketLoop`](crate::SocketLoop).
        pub fn socket_loop(mut self, place: $crate::SocketLoop) -> Self {
            self.opts.socket_loop = place;
            self
        }

        /// Admits callers to `domain` when `predicate(user_id)` is true. Functions
        /// registered in that domain serve those callers before default ones.
        pub fn domain(
            mut self,
            domain: impl Into<String>,
            predicate: impl Fn(&[u8]) -> bool + Send + Sync + 'static,
        ) -> Self {
            self.opts
                .domains
                .insert(domain.into(), std::sync::Arc::new(predicate));
            self
        }
    };
}
pub(crate) use option_setters;

/// `registry()` and `register()` of a running endpoint with a `registry` field;
/// the two doc texts say whose functions its registry holds.
macro_rules! registry_methods {
    ($registry_doc:literal, $register_doc:literal) => {
        #[doc = $registry_doc]
        pub fn registry(&self) -> &$crate::Registry {
            &self.registry
        }

        #[doc = $register_doc]
        pub fn register<M>(
            &self,
            name: impl Into<String>,
            function: impl $crate::IntoFunction<M>,
        ) -> Result<(), $crate::Error> {
            self.registry.register(name, function)
        }
    };
}
pub(crate) use registry_methods;

/// The socket thread's name: "pseud server NAME" (Linux shows 15 bytes of it).
fn thread_name(label: &str) -> String {
    format!("pseud {}", label.split(" at ").next().unwrap_or(label))
}

/// A running socket task and the way to stop it.
pub(crate) struct Running {
    pub shared: Arc<Shared>,
    stopped: Mutex<bool>,
    /// The socket task's own thread, if it has one; joined by `stop`.
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Running {
    /// Starts the socket task for a configured socket.
    /// `connect` runs once the monitor is attached, so no connection event is missed.
    /// Starts the socket task; `setup` binds or connects the router first.
    pub(crate) fn start<T>(
        label: String,
        config: RouterConfig,
        opts: Options,
        role: Role,
        setup: impl FnOnce(&Router) -> Result<T, Error>,
    ) -> Result<(Self, T), Error> {
        if tokio::runtime::Handle::try_current().is_err() {
            return Err(Error::Setup(
                "servers and clients must be started inside a tokio runtime".into(),
            ));
        }
        // Every call has a timeout, so the runtime must have timers; say so now
        // rather than panic at the first call.
        if std::panic::catch_unwind(|| drop(tokio::time::sleep(Duration::ZERO))).is_err() {
            return Err(Error::Setup(
                "the tokio runtime has no timers: build it with enable_time() or enable_all()"
                    .into(),
            ));
        }
        // The router's connections run on the runtime current at its creation:
        // the socket task's own, when it gets a thread.
        let socket_loop = opts.socket_loop;
        let thread = (opts.socket_loop == SocketLoop::OwnThread)
            .then(OwnThread::new)
            .transpose()?;
        let entered = thread.as_ref().and_then(OwnThread::enter);
        let (router, incoming): (Router, tokio::sync::mpsc::UnboundedReceiver<Incoming>) =
            Router::new(config);
        let made = setup(&router)?;
        drop(entered);
        let (cmd, rx) = mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            label,
            cmd,
            pending: Mutex::new(Default::default()),
            registry: opts.registry,
            use_global: opts.use_global,
            domains: RwLock::new(opts.domains),
            timeout: opts.timeout,
            limits: opts.limits,
            stop_grace: opts.stop_grace,
            events: tokio::sync::broadcast::channel(256).0,
            closed: tokio::sync::watch::channel(false).0,
            local_user_id: opts.local_user_id.clone(),
            user_routes: RwLock::new(HashMap::new()),
            second_login: opts.second_login,
            live: Mutex::new(Default::default()),
            gone_hooks: Mutex::new(Vec::new()),
            layers: Mutex::new(HashMap::new()),
            proxy_to: opts.proxy_to,
            id: {
                static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            },
        });
        let handlers = tokio::runtime::Handle::current();
        let engine = Engine::new(shared.clone(), router, incoming, rx, role);
        let engine = engine.run_handlers_on(handlers, socket_loop);
        let thread = match thread {
            Some(thread) => Some(thread.spawn(thread_name(&shared.label), engine.run())?),
            None => {
                tokio::spawn(engine.run());
                None
            }
        };
        let running = Running {
            shared,
            stopped: Mutex::new(false),
            thread: Mutex::new(thread),
        };
        Ok((running, made))
    }

    /// Stops gracefully: running handlers finish and their replies are sent;
    /// calls still waiting fail with [`Error::Closed`]. Idempotent; every caller
    /// returns once the socket task has ended.
    pub(crate) async fn stop(&self) {
        let mut closed = self.shared.closed.subscribe();
        let first = {
            let mut stopped = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
            !std::mem::replace(&mut *stopped, true)
        };
        if first {
            let (done, _) = oneshot::channel();
            if self.shared.cmd.send(Command::Stop(done)).is_err() {
                return;
            }
        }
        // An error means the task is gone already.
        let _ = closed.wait_for(|c| *c).await;
        // The thread ends right after its task: joining it takes a moment, and a
        // stopped endpoint then leaves no thread behind.
        let thread = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let stopped = *self.stopped.lock().unwrap_or_else(|p| p.into_inner());
        if !stopped {
            let (done, _) = oneshot::channel();
            let _ = self.shared.cmd.send(Command::Stop(done));
        }
    }
}
