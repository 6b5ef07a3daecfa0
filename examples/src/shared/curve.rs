//! `--security curve` for the example servers and clients: key files in the
//! ZeroMQ certificate format (`cara keygen NAME` writes `NAME.key` and
//! `NAME.key_secret`; pyzmq's `zmq.auth.create_certificates` too).

use std::path::Path;

use pseud::certificate;
use pseud::{ClientSecurity, ServerSecurity};

type BoxError = Box<dyn std::error::Error>;

/// A CURVE server with the keys of `key` (a `NAME.key_secret` file); with
/// `allow`, only the clients whose `USER.key` files are in that directory, each
/// known as `USER`; without it, any client, known by its public key in Z85.
pub fn server(key: Option<&Path>, allow: Option<&Path>) -> Result<ServerSecurity, BoxError> {
    let key = key.ok_or("--security curve needs --key SERVER.key_secret")?;
    let keys = certificate::load(key)?.key_pair(key)?;
    Ok(match allow {
        None => ServerSecurity::curve(keys),
        Some(dir) => {
            let clients = certificate::allowed_clients(dir)?;
            if clients.is_empty() {
                return Err(format!("--allow {}: no *.key files there", dir.display()).into());
            }
            ServerSecurity::curve_allowing(keys, clients)
        }
    })
}

/// A CURVE client of the server whose public key is `server_key` (Z85, or its
/// `NAME.key` file), as `key` (our `NAME.key_secret`; a fresh key pair without it).
pub fn client(server_key: Option<&str>, key: Option<&Path>) -> Result<ClientSecurity, BoxError> {
    let server_key = server_key.ok_or("--security curve needs --server-key SERVER.key")?;
    let (server, keys) = certificate::client_keys(server_key, key)?;
    Ok(ClientSecurity::curve(server, keys))
}
