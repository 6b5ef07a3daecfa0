//! A pseud client: a ROUTER socket that connects to one server and addresses it by name.

use std::ops::Deref;
use std::time::Duration;

/// How long a client's calls wait, by default, while nothing accepts its
/// connection: long enough for a server started at the same moment to bind.
pub const DEFAULT_CONNECT_GRACE: Duration = Duration::from_millis(250);

use crate::address::{self, Use};
use crate::endpoint::{Options, Running, option_setters, registry_methods};
use crate::engine::{Role, Route};
use crate::error::Error;
use crate::registry::Registry;
use crate::remote::Remote;
use crate::security::ClientSecurity;
use crate::zmtp::router::Mechanism;

/// Configures a [`Client`]; finish with [`ClientBuilder::connect`].
#[must_use]
pub struct ClientBuilder {
    server_name: String,
    security: ClientSecurity,
    connect_grace: Duration,
    opts: Options,
}

impl ClientBuilder {
    /// The name (routing id) of the server to call; `"server"` unless set.
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = name.into();
        self
    }

    /// How long calls wait while nothing accepts the connection (refused, or the
    /// host name does not resolve) before they fail with
    /// [`Error::ConnectionRefused`]; later calls fail at once until a connection
    /// succeeds. [`DEFAULT_CONNECT_GRACE`] unless set.
    pub fn connect_grace(mut self, grace: Duration) -> Self {
        self.connect_grace = grace;
        self
    }

    /// The credentials to present (`noop` unless set).
    pub fn security(mut self, security: ClientSecurity) -> Self {
        self.security = security;
        self
    }

    option_setters!();

    /// Connects to `endpoint` and starts the client. Calls made before the
    /// connection is up wait for it (within their timeout). Call inside a tokio runtime.
    pub fn connect(self, endpoint: &str) -> Result<Client, Error> {
        let endpoint = address::check(endpoint, Use::Connect)?;
        let mechanism = self.security.mechanism()?;
        // The server names our connection; we set no identity.
        let config = self
            .opts
            .router_config(Vec::new(), Mechanism::Client(mechanism));
        let mut opts = self.opts;
        opts.local_user_id = self.security.user_id();
        let label = format!("client of {} at {endpoint}", self.server_name);
        let registry = opts.registry.clone();
        let role = Role::Client {
            server: self.server_name.as_bytes().into(),
            connect_grace: self.connect_grace,
        };
        let (running, ()) = Running::start(label, config, opts, role, |router| {
            router.connect(&endpoint);
            Ok(())
        })?;
        tracing::info!(server = %self.server_name, %endpoint, security = ?self.security, "client connecting");
        let remote = Remote::new(
            running.shared.clone(),
            Route::Server(self.server_name.as_bytes().into()),
        );
        Ok(Client {
            remote,
            registry,
            running,
        })
    }
}

/// A connected pseud client. It dereferences to the [`Remote`] of its server, so
/// `client.call(..)` and `client.request(..)` call the server.
///
/// ```no_run
/// # async fn f() -> Result<(), pseud::Error> {
/// let client = pseud::Client::builder().connect("tcp://127.0.0.1:5555")?;
/// let sum: i64 = client.call("add", (2, 5)).await?;
/// let pair: Vec<i64> = client.request("kw").arg(1).kwarg("b", 3).send().await?;
/// # Ok(()) }
/// ```
pub struct Client {
    remote: Remote,
    registry: Registry,
    running: Running,
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            server_name: "server".into(),
            security: ClientSecurity::Noop,
            connect_grace: DEFAULT_CONNECT_GRACE,
            opts: Options::default(),
        }
    }

    /// The server, as a [`Remote`] (clone it to call from other tasks).
    pub fn server(&self) -> &Remote {
        &self.remote
    }

    registry_methods!(
        "The client's own registry: functions the server may call on this client.",
        "Registers a function the server may call on this client."
    );

    /// Stops gracefully (see [`crate::Server::stop`]).
    pub async fn stop(&self) {
        self.running.stop().await;
    }
}

impl Deref for Client {
    type Target = Remote;
    fn deref(&self) -> &Remote {
        &self.remote
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.remote)
            .finish()
    }
}
