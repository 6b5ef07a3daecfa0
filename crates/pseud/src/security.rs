//! Security modes: what a client presents and what a server accepts.
//!
//! | mode | on the wire | who the peer is |
//! |---|---|---|
//! | `Noop` | ZMTP NULL, plaintext | nobody (empty user id) |
//! | `TrustedPeer` / `Plain` | ZMTP PLAIN: user name and password in clear | the user name |
//! | `Curve` | CurveZMQ: every frame encrypted and authenticated | the client's public key, or the name it is mapped to |

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::Error;
use crate::keys::{KeyPair, PublicKey};
use crate::zmtp::{Authenticator, ClientMechanism, Credentials, Refusal, ServerMechanism};

/// Decides whether a PLAIN login (user name, password) is accepted.
pub type Verifier = Arc<dyn Fn(&str, &[u8]) -> bool + Send + Sync>;

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
    /// CurveZMQ: the connection is encrypted, and the server proves it holds the
    /// secret key of `server`; we prove we hold `keys`' secret key.
    Curve {
        /// The server's public key (known beforehand, e.g. from its key file).
        server: PublicKey,
        /// Our long-term key pair; the server knows us by its public key.
        keys: KeyPair,
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

    /// CURVE towards the server with public key `server`, as `keys`.
    pub fn curve(server: PublicKey, keys: KeyPair) -> Self {
        ClientSecurity::Curve { server, keys }
    }

    /// The user id a server that knows us by our credentials gives us.
    pub(crate) fn user_id(&self) -> Vec<u8> {
        match self {
            ClientSecurity::Noop => Vec::new(),
            ClientSecurity::Plain { username, .. } => username.as_bytes().to_vec(),
            ClientSecurity::Curve { keys, .. } => keys.public.to_z85().into_bytes(),
        }
    }

    pub(crate) fn mechanism(&self) -> Result<ClientMechanism, Error> {
        Ok(match self {
            ClientSecurity::Noop => ClientMechanism::Null,
            ClientSecurity::Plain { username, password } => {
                let valid = |s: &str| (1..=255).contains(&s.len());
                if !valid(username) || !valid(password) {
                    return Err(Error::Setup(
                        "PLAIN needs a username and a password of 1 to 255 bytes each (ZMTP PLAIN's limit)"
                            .into(),
                    ));
                }
                ClientMechanism::Plain {
                    username: username.clone(),
                    password: password.clone(),
                }
            }
            ClientSecurity::Curve { server, keys } => ClientMechanism::Curve {
                server: *server,
                keys: keys.clone(),
            },
        })
    }
}

impl std::fmt::Debug for ClientSecurity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientSecurity::Noop => write!(f, "Noop"),
            ClientSecurity::Plain { username, .. } => write!(f, "Plain({username:?}, ***)"),
            ClientSecurity::Curve { server, keys } => {
                write!(f, "Curve(server {server}, as {})", keys.public)
            }
        }
    }
}

/// Which CURVE clients a server admits.
#[derive(Clone, Debug, Default)]
pub enum CurveClients {
    /// Any client that completes the handshake; its user id is its public key in Z85.
    #[default]
    Any,
    /// Only these public keys, each with the user id it gets.
    Allowed(HashMap<PublicKey, String>),
}

/// How a server authenticates its clients.
#[derive(Clone, Default)]
pub enum ServerSecurity {
    /// ZeroMQ NULL: anyone may call (pseud's `noop`).
    #[default]
    Noop,
    /// PLAIN: any username/password is accepted; the username becomes the user
    /// id (pseud's `trusted_peer`).
    TrustedPeer,
    /// PLAIN with a verifier deciding which logins are accepted.
    Plain(Verifier),
    /// CurveZMQ with the server's key pair; `clients` says whom it admits.
    Curve {
        /// The server's long-term key pair; clients know its public key.
        keys: KeyPair,
        /// Which client keys are admitted, under which user ids.
        clients: CurveClients,
    },
}

impl ServerSecurity {
    /// PLAIN, accepting the logins `verify` approves.
    pub fn plain(verify: impl Fn(&str, &[u8]) -> bool + Send + Sync + 'static) -> Self {
        ServerSecurity::Plain(Arc::new(verify))
    }

    /// CURVE with `keys`, admitting any client (known by its public key in Z85).
    pub fn curve(keys: KeyPair) -> Self {
        ServerSecurity::Curve {
            keys,
            clients: CurveClients::Any,
        }
    }

    /// CURVE with `keys`, admitting only the listed client keys, each under its user id.
    pub fn curve_allowing(
        keys: KeyPair,
        clients: impl IntoIterator<Item = (PublicKey, String)>,
    ) -> Self {
        ServerSecurity::Curve {
            keys,
            clients: CurveClients::Allowed(clients.into_iter().collect()),
        }
    }

    /// The handshake mechanism, and the authenticator that names (or refuses) peers.
    pub(crate) fn mechanism(&self) -> (ServerMechanism, Authenticator) {
        let refuse = |reason: &str| Refusal {
            status: 400,
            reason: reason.into(),
        };
        match self {
            ServerSecurity::Noop => (ServerMechanism::Null, Arc::new(|_| Ok(Vec::new()))),
            ServerSecurity::TrustedPeer => (
                ServerMechanism::Plain,
                Arc::new(|c| match c {
                    Credentials::Plain { username, .. } => Ok(username.as_bytes().to_vec()),
                    Credentials::Curve { .. } => Err(Refusal {
                        status: 400,
                        reason: "unsupported mechanism".into(),
                    }),
                }),
            ),
            ServerSecurity::Plain(verify) => {
                let verify = verify.clone();
                (
                    ServerMechanism::Plain,
                    Arc::new(move |c| match c {
                        Credentials::Plain {
                            username,
                            password,
                            address,
                        } => {
                            if verify(username, password) {
                                tracing::info!(user = %username, %address, "authentication accepted");
                                Ok(username.as_bytes().to_vec())
                            } else {
                                tracing::warn!(user = %username, %address, "authentication refused: bad credentials");
                                Err(refuse("Invalid username or password"))
                            }
                        }
                        Credentials::Curve { .. } => Err(refuse("unsupported mechanism")),
                    }),
                )
            }
            ServerSecurity::Curve { keys, clients } => {
                let clients = clients.clone();
                (
                    ServerMechanism::Curve { keys: keys.clone() },
                    Arc::new(move |c| match (c, &clients) {
                        (Credentials::Curve { client_key, .. }, CurveClients::Any) => {
                            Ok(client_key.to_z85().into_bytes())
                        }
                        (
                            Credentials::Curve {
                                client_key,
                                address,
                            },
                            CurveClients::Allowed(map),
                        ) => match map.get(client_key) {
                            Some(user) => Ok(user.as_bytes().to_vec()),
                            None => {
                                tracing::warn!(key = %client_key, %address, "authentication refused: unknown CURVE key");
                                Err(refuse("unknown client key"))
                            }
                        },
                        (Credentials::Plain { .. }, _) => Err(refuse("unsupported mechanism")),
                    }),
                )
            }
        }
    }
}

impl std::fmt::Debug for ServerSecurity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServerSecurity::Noop => write!(f, "Noop"),
            ServerSecurity::TrustedPeer => write!(f, "TrustedPeer"),
            ServerSecurity::Plain(_) => write!(f, "Plain(<verifier>)"),
            ServerSecurity::Curve { keys, clients } => match clients {
                CurveClients::Any => write!(f, "Curve({}, any client)", keys.public),
                CurveClients::Allowed(m) => {
                    write!(f, "Curve({}, {} allowed clients)", keys.public, m.len())
                }
            },
        }
    }
}

/// What a server does when a user id that is connected logs in again (under
/// `trusted_peer`, `plain` or `curve`; under `noop` every peer has the empty
/// user id and all connections serve).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecondLogin {
    /// Both connections serve, each gets its own replies and capabilities, and
    /// `send_to(user)` reaches the newest (then the others, as connections go).
    /// Several processes may so share one login, as with Python pseud.
    #[default]
    Coexist,
    /// The new connection replaces the old ones: they are closed, and the
    /// server's calls in flight to them fail with `Disconnected` ("replaced by a
    /// newer login").
    ReplaceFirst,
}
