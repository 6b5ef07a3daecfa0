//! A pseud server: a ROUTER socket named by its routing id, serving registered functions.

use crate::address::{self, Use};
use crate::endpoint::{Options, Running, option_setters, registry_methods};
use crate::engine::{PeerEvent, Role, Route};
use crate::error::Error;
use crate::registry::Registry;
use crate::remote::Remote;
use crate::security::ServerSecurity;
use crate::zmtp::router::Mechanism;

/// Configures a [`Server`]; finish with [`ServerBuilder::start`].
#[must_use]
pub struct ServerBuilder {
    name: String,
    endpoints: Vec<String>,
    security: ServerSecurity,
    opts: Options,
}

impl ServerBuilder {
    /// Binds to an endpoint: `tcp://127.0.0.1:0` (any free port), `ipc:///path`,
    /// `inproc://name`. May be given several times.
    pub fn bind(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoints.push(endpoint.into());
        self
    }

    /// The security mode (`noop` unless set).
    pub fn security(mut self, security: ServerSecurity) -> Self {
        self.security = security;
        self
    }

    option_setters!();

    /// What to do when a connected user id logs in again (both connections
    /// serve unless set; see [`SecondLogin`](crate::SecondLogin)).
    pub fn second_login(mut self, policy: crate::SecondLogin) -> Self {
        self.opts.second_login = policy;
        self
    }

    /// Hands calls to names this server does not serve (in its registry, its
    /// domains or the global registry) to `upstream`'s server, and answers with
    /// its reply or its error, as Python pseud's `proxy_to` does. The upstream
    /// server knows these calls as `upstream`'s (its user id), not the caller's;
    /// see docs/scaling.md. The client lives as long as this server.
    pub fn proxy_to(mut self, upstream: crate::Client) -> Self {
        self.opts.proxy_to = Some(std::sync::Arc::new(upstream));
        self
    }

    /// Creates the socket, binds, and starts serving. Call inside a tokio runtime.
    pub fn start(self) -> Result<Server, Error> {
        let checked = self
            .endpoints
            .iter()
            .map(|e| address::check(e, Use::Bind))
            .collect::<Result<Vec<_>, _>>()?;
        let (mechanism, auth) = self.security.mechanism();
        let config = self.opts.router_config(
            self.name.as_bytes().to_vec(),
            Mechanism::Server(mechanism, auth),
        );
        let label = format!("server {} at {}", self.name, self.endpoints.join(","));
        let registry = self.opts.registry.clone();
        let (running, endpoints) =
            Running::start(label, config, self.opts, Role::Server, |router| {
                let mut bound = Vec::new();
                for (given, endpoint) in self.endpoints.iter().zip(&checked) {
                    let actual = router.bind(endpoint).map_err(|source| Error::Bind {
                        endpoint: given.clone(),
                        source: source.into(),
                    })?;
                    bound.push(actual.to_string());
                }
                Ok(bound)
            })?;
        tracing::info!(name = %self.name, ?endpoints, security = ?self.security, "server started");
        Ok(Server {
            name: self.name,
            endpoints,
            registry,
            running,
        })
    }
}

/// A running pseud server.
///
/// ```no_run
/// # async fn f() -> Result<(), pseud::Error> {
/// let server = pseud::Server::builder("server").bind("tcp://127.0.0.1:0").start()?;
/// server.register("add", |a: i64, b: i64| a + b)?;
/// println!("listening on {}", server.endpoints()[0]);
/// server.stop().await;
/// # Ok(()) }
/// ```
pub struct Server {
    name: String,
    endpoints: Vec<String>,
    registry: Registry,
    running: Running,
}

impl Server {
    /// Starts configuring a server whose routing id (the name clients address) is `name`.
    pub fn builder(name: impl Into<String>) -> ServerBuilder {
        ServerBuilder {
            name: name.into(),
            endpoints: Vec::new(),
            security: ServerSecurity::Noop,
            // A server's latency should not depend on how busy the application's
            // worker pool is: its socket loop gets a thread (see `SocketLoop`).
            opts: Options {
                socket_loop: crate::SocketLoop::OwnThread,
                ..Options::default()
            },
        }
    }

    /// The server's name (its routing id).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The endpoints actually bound (a `:0` port resolved to the real one).
    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    registry_methods!(
        "The server's own registry.",
        "Registers a function on this server (see [`Registry::register`])."
    );

    /// A handle to call functions on the connected client with this user id
    /// (the username under PLAIN security; empty under `noop`).
    pub fn send_to(&self, user_id: impl AsRef<[u8]>) -> Remote {
        Remote::new(
            self.running.shared.clone(),
            Route::UserId(user_id.as_ref().into()),
        )
    }

    /// Connection events: a peer connected (its probe arrived) or was found gone.
    /// Subscribe before the peers you care about connect.
    pub fn events(&self) -> tokio::sync::broadcast::Receiver<PeerEvent> {
        self.running.shared.events.subscribe()
    }

    /// Stops gracefully: no new calls are served, running handlers finish and
    /// their replies are sent.
    pub async fn stop(&self) {
        self.running.stop().await;
        tracing::info!(name = %self.name, "server stopped");
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("name", &self.name)
            .field("endpoints", &self.endpoints)
            .finish()
    }
}
