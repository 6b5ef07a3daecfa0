//! A broker: one address for clients in front of several replicas of a server.
//!
//! The pattern is a connection balancer (what a TCP load balancer does, spoken in
//! ZMTP): each client connection the broker accepts is paired with a connection
//! of its own to one replica, picked as the live replica with the fewest
//! clients (ties taking turns), and pseud messages pass between the two
//! unchanged. A replica therefore sees each client as a connection of its own,
//! which is what keeps every per-peer feature of pseud and cara working through
//! the tier without a change to the protocol: server→client calls by user id (`send_to`), the caller's identity,
//! capabilities (an object a replica returns lives in that replica, and calls on
//! it reach it: they travel on the same pair of connections), heartbeats.
//!
//! Identity: the broker authenticates clients with its own [`ServerSecurity`],
//! and logs in to replicas with ZMTP PLAIN, the client's user id as the username
//! and a secret shared with the replicas as the password. A replica that checks
//! that secret (`ServerSecurity::plain(|_, password| password == secret)`) takes
//! the username as the user id, as a direct client would have had it.
//!
//! Failover: when a replica goes, the broker closes the client connections it
//! carried, so the calls they had in flight fail with `Error::Disconnected` at
//! the client, never silently; the client reconnects (its socket does, with
//! backoff from 100 ms) and is paired with a live replica. A replica whose
//! connection failed is left out of new pairings for a while.
//!
//! Why not `zmq_proxy` (ROUTER–DEALER): a DEALER spreads every message
//! round-robin, so replies to server→client calls and calls on a replica's
//! objects would reach the wrong replica; and this crate speaks ZMTP natively,
//! without libzmq. See docs/scaling.md.

mod switch;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::address::{self, Use};
use crate::endpoint::Options;
use crate::error::Error;
use crate::security::ServerSecurity;
use crate::zmtp::router::{Mechanism, Router};

/// Configures a [`Broker`]; finish with [`BrokerBuilder::start`].
#[must_use]
pub struct BrokerBuilder {
    name: String,
    binds: Vec<String>,
    replicas: Vec<String>,
    security: ServerSecurity,
    secret: Option<String>,
    down_for: Duration,
    wait_for_replica: Duration,
    opts: Options,
}

impl BrokerBuilder {
    /// Listens for clients on `endpoint` (as [`crate::ServerBuilder::bind`]); may be
    /// given several times.
    pub fn bind(mut self, endpoint: impl Into<String>) -> Self {
        self.binds.push(endpoint.into());
        self
    }

    /// Adds a replica to pair clients with; may be given several times.
    pub fn replica(mut self, endpoint: impl Into<String>) -> Self {
        self.replicas.push(endpoint.into());
        self
    }

    /// How clients authenticate to the broker (`noop` unless set).
    pub fn security(mut self, security: ServerSecurity) -> Self {
        self.security = security;
        self
    }

    /// The password the broker presents to replicas under PLAIN, with each
    /// client's user id as the username. Without one the broker connects with
    /// NULL, and replicas see every client with the empty user id.
    pub fn replica_secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = Some(secret.into());
        self
    }

    /// ZMTP heartbeats on both sides of the broker: a ping every `interval`, a
    /// connection silent for `timeout` is dropped (1 s and 5 s unless set).
    pub fn heartbeat(mut self, interval: Duration, timeout: Duration) -> Self {
        self.opts.heartbeat_interval = interval;
        self.opts.heartbeat_timeout = timeout;
        self
    }

    /// How long a replica whose connection failed (or refused the broker) is
    /// left out of new pairings: 1 s unless set. Clients already paired with
    /// it are not moved back when it returns; new and reconnecting ones are.
    pub fn replica_down_for(mut self, down_for: Duration) -> Self {
        self.down_for = down_for;
        self
    }

    /// How long a client's calls wait while no replica is up before they are
    /// answered `ServiceUnavailableError` (1 s unless set): long enough for
    /// replicas started with the broker to bind, short enough that a call
    /// does not wait out its own timeout.
    pub fn wait_for_replica(mut self, wait: Duration) -> Self {
        self.wait_for_replica = wait;
        self
    }

    /// Size and queue limits of the broker's connections (see [`crate::Limits`]).
    pub fn limits(mut self, limits: crate::Limits) -> Self {
        self.opts.limits = limits;
        self
    }

    /// Binds and starts brokering. Call inside a tokio runtime.
    pub fn start(self) -> Result<Broker, Error> {
        if self.replicas.is_empty() {
            return Err(Error::Setup("a broker needs at least one replica".into()));
        }
        if let Some(secret) = &self.secret
            && !(1..=255).contains(&secret.len())
        {
            return Err(Error::Setup(
                "the replica secret must be 1 to 255 bytes (ZMTP PLAIN's limit)".into(),
            ));
        }
        let replicas = self
            .replicas
            .iter()
            .map(|e| address::check(e, Use::Connect))
            .collect::<Result<Vec<_>, _>>()?;
        let binds = self
            .binds
            .iter()
            .map(|e| address::check(e, Use::Bind))
            .collect::<Result<Vec<_>, _>>()?;
        let (mechanism, auth) = self.security.mechanism();
        let front_config = self.opts.router_config(
            self.name.as_bytes().to_vec(),
            Mechanism::Server(mechanism, auth),
        );
        let back_config = self.opts.router_config(
            Vec::new(),
            Mechanism::Client(crate::zmtp::ClientMechanism::Null),
        );
        let room = Arc::new(tokio::sync::Notify::new());
        let (front, front_rx) = Router::with_room(front_config, room.clone());
        let mut endpoints = Vec::new();
        for (given, endpoint) in self.binds.iter().zip(&binds) {
            let bound = front.bind(endpoint).map_err(|source| Error::Bind {
                endpoint: given.clone(),
                source: source.into(),
            })?;
            endpoints.push(bound.to_string());
        }
        let status = Arc::new(Mutex::new(vec![
            switch::Standing::default();
            self.replicas.len()
        ]));
        let (stop_tx, stop_rx) = watch::channel(false);
        let switch = switch::Switch::new(switch::Setup {
            front,
            front_rx,
            room,
            back_config,
            secret: self.secret,
            replicas,
            status: status.clone(),
            down_for: self.down_for,
            wait_for_replica: self.wait_for_replica,
        });
        let task = tokio::spawn(switch.run(stop_rx));
        tracing::info!(name = %self.name, ?endpoints, replicas = ?self.replicas, security = ?self.security, "broker started");
        Ok(Broker {
            name: self.name,
            endpoints,
            replicas: self.replicas,
            status,
            stop: stop_tx,
            task: Mutex::new(Some(task)),
        })
    }
}

/// What a broker knows of one replica.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaStatus {
    /// The endpoint the broker connects to.
    pub endpoint: String,
    /// Client connections paired with it now.
    pub clients: usize,
    /// False while it is left out of new pairings, after its connection failed.
    pub up: bool,
}

/// A running broker (see the module docs of `pseud::broker`).
///
/// ```no_run
/// # async fn f() -> Result<(), pseud::Error> {
/// let broker = pseud::Broker::builder("server")
///     .bind("tcp://127.0.0.1:5555")
///     .replica("tcp://10.0.0.2:5555")
///     .replica("tcp://10.0.0.3:5555")
///     .security(pseud::ServerSecurity::TrustedPeer)
///     .replica_secret("shared with the replicas")
///     .start()?;
/// println!("clients connect to {}", broker.endpoints()[0]);
/// # Ok(()) }
/// ```
pub struct Broker {
    name: String,
    endpoints: Vec<String>,
    replicas: Vec<String>,
    status: Arc<Mutex<Vec<switch::Standing>>>,
    stop: watch::Sender<bool>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Broker {
    /// Starts configuring a broker that clients address by `name` (the name of
    /// the server they call, `"server"` for a pseud client that sets none).
    pub fn builder(name: impl Into<String>) -> BrokerBuilder {
        BrokerBuilder {
            name: name.into(),
            binds: Vec::new(),
            replicas: Vec::new(),
            security: ServerSecurity::Noop,
            secret: None,
            down_for: switch::DOWN_FOR,
            wait_for_replica: switch::WAIT_FOR_REPLICA,
            opts: Options::default(),
        }
    }

    /// The name clients address.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The endpoints actually bound (a `:0` port resolved to the real one).
    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// Each replica, in the order given, with its clients and whether it is up.
    pub fn replicas(&self) -> Vec<ReplicaStatus> {
        let now = tokio::time::Instant::now();
        let shown = self.status.lock().unwrap_or_else(|p| p.into_inner());
        self.replicas
            .iter()
            .zip(shown.iter())
            .map(|(endpoint, s)| ReplicaStatus {
                endpoint: endpoint.clone(),
                clients: s.clients,
                up: s.up_at(now),
            })
            .collect()
    }

    /// Stops: every connection on both sides closes.
    pub async fn stop(&self) {
        self.stop.send_replace(true);
        let task = self.task.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(task) = task {
            let _ = task.await;
        }
        tracing::info!(name = %self.name, "broker stopped");
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.stop.send_replace(true);
    }
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker")
            .field("name", &self.name)
            .field("endpoints", &self.endpoints)
            .finish()
    }
}
