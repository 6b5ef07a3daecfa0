//! Security modes: what a client presents and what a server accepts.

use std::sync::Arc;

use crate::error::Error;
use crate::zap::{self, Verifier, ZapDomain};

/// How a client authenticates to its server.
#[derive(Clone, Default)]
pub enum ClientSecurity {
    /// ZeroMQ NULL: no authentication (pseud's `noop`).
    #[default]
    Noop,
    /// ZeroMQ PLAIN username and password (pseud's client `plain`).
    Plain {
        /// The login; a `trusted_peer` or `plain` server uses it as the user id.
        username: String,
        /// The password.
        password: String,
    },
}

impl ClientSecurity {
    /// PLAIN credentials.
    pub fn plain(username: impl Into<String>, password: impl Into<String>) -> Self {
        ClientSecurity::Plain {
            username: username.into(),
            password: password.into(),
        }
    }

    pub(crate) fn apply(&self, socket: &zmq::Socket) -> Result<(), Error> {
        if let ClientSecurity::Plain { username, password } = self {
            let valid = |s: &str| (1..=255).contains(&s.len());
            if !valid(username) || !valid(password) {
                return Err(Error::Setup(
                    "PLAIN needs a username and a password of 1 to 255 bytes each (a libzmq limit)"
                        .into(),
                ));
            }
            socket
                .set_plain_username(Some(username))
                .map_err(Error::zmq("ZMQ_PLAIN_USERNAME"))?;
            socket
                .set_plain_password(Some(password))
                .map_err(Error::zmq("ZMQ_PLAIN_PASSWORD"))?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for ClientSecurity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientSecurity::Noop => write!(f, "Noop"),
            ClientSecurity::Plain { username, .. } => write!(f, "Plain({username:?}, ***)"),
        }
    }
}

/// What a server accepts.
#[derive(Clone, Default)]
pub enum ServerSecurity {
    /// ZeroMQ NULL: anyone; user ids are empty (pseud's `noop`).
    #[default]
    Noop,
    /// PLAIN; any password is accepted and the user id is the username
    /// (pseud's server `trusted_peer`).
    TrustedPeer,
    /// PLAIN; the verifier checks each username and password; the user id is the
    /// username (pseud's server `plain`).
    Plain(Verifier),
}

impl ServerSecurity {
    /// PLAIN with a password verifier.
    pub fn plain(verify: impl Fn(&str, &[u8]) -> bool + Send + Sync + 'static) -> Self {
        ServerSecurity::Plain(Arc::new(verify))
    }

    /// Configures the server socket; the returned domain must live as long as it.
    pub(crate) fn apply(&self, socket: &zmq::Socket) -> Result<Option<ZapDomain>, Error> {
        let verifier: Verifier = match self {
            ServerSecurity::Noop => return Ok(None),
            ServerSecurity::TrustedPeer => Arc::new(|_, _| true),
            ServerSecurity::Plain(v) => v.clone(),
        };
        let domain = zap::register(verifier)?;
        socket
            .set_plain_server(true)
            .map_err(Error::zmq("ZMQ_PLAIN_SERVER"))?;
        socket
            .set_zap_domain(&domain.0)
            .map_err(Error::zmq("ZMQ_ZAP_DOMAIN"))?;
        Ok(Some(domain))
    }
}

impl std::fmt::Debug for ServerSecurity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServerSecurity::Noop => write!(f, "Noop"),
            ServerSecurity::TrustedPeer => write!(f, "TrustedPeer"),
            ServerSecurity::Plain(_) => write!(f, "Plain(<verifier>)"),
        }
    }
}
