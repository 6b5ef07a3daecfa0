//! The ZMTP handshake: greetings, then the security mechanism's commands (NULL,
//! PLAIN, CURVE), ending with both sides' metadata. The server side asks the
//! endpoint's [`Authenticator`] (our ZAP) whom a PLAIN or CURVE peer is.

use bytes::BytesMut;

use super::curve::{CurveClient, CurveCodec, CurveServer};
use super::frame::{
    self, COMMAND, GREETING_LEN, Properties, command, encode_frame, encode_properties,
    error_command, error_reason, parse_command, parse_properties, property,
};
use super::transport::Stream;
use super::{Authenticator, ClientMechanism, Credentials, ServerMechanism, ZmtpError};

/// Largest handshake command we accept (HELLO/INITIATE with metadata).
const MAX_COMMAND: usize = 64 * 1024;

/// Which side of the handshake we are, with what it needs.
pub(crate) enum Side<'a> {
    Client(&'a ClientMechanism),
    Server(&'a ServerMechanism, &'a Authenticator),
}

/// A finished handshake.
pub(crate) struct Established {
    /// The peer's `Identity` property (empty if it set none).
    pub identity: Vec<u8>,
    /// The user id the server's authenticator gave the peer (servers only).
    pub user_id: Vec<u8>,
    /// The peer's ZMTP minor version: PING/PONG only from 1 on.
    pub minor: u8,
    /// CURVE's message codec; `None` for NULL and PLAIN.
    pub codec: Option<CurveCodec>,
}

/// Runs the handshake on a fresh connection. `buf` keeps bytes read past it.
pub(crate) async fn handshake(
    stream: &Stream,
    buf: &mut BytesMut,
    side: Side<'_>,
    identity: &[u8],
) -> Result<Established, ZmtpError> {
    let (name, as_server) = match &side {
        Side::Client(m) => (m.name(), false),
        Side::Server(m, _) => (m.name(), !matches!(m, ServerMechanism::Null)),
    };
    stream.write_all(&frame::greeting(name, as_server)).await?;
    while buf.len() < GREETING_LEN {
        if stream.read_buf(buf).await? == 0 {
            return Err(ZmtpError::Closed);
        }
    }
    let mut theirs = [0u8; GREETING_LEN];
    theirs.copy_from_slice(&buf.split_to(GREETING_LEN));
    let greeting = frame::parse_greeting(&theirs)?;
    if greeting.mechanism != name {
        return Err(ZmtpError::Protocol(format!(
            "the peer uses the {} security mechanism, we use {name}",
            greeting.mechanism
        )));
    }
    let props = encode_properties(&[("Socket-Type", b"ROUTER"), ("Identity", identity)]);
    let mut io = Commands { stream, buf };
    let (peer_props, user_id, codec) = match side {
        Side::Client(ClientMechanism::Null) | Side::Server(ServerMechanism::Null, _) => {
            io.send(&command("READY", &props)).await?;
            (io.expect("READY").await?, Vec::new(), None)
        }
        Side::Client(ClientMechanism::Plain { username, password }) => {
            let mut hello = vec![username.len() as u8];
            hello.extend_from_slice(username.as_bytes());
            hello.push(password.len() as u8);
            hello.extend_from_slice(password.as_bytes());
            io.send(&command("HELLO", &hello)).await?;
            io.expect("WELCOME").await?;
            io.send(&command("INITIATE", &props)).await?;
            (io.expect("READY").await?, Vec::new(), None)
        }
        Side::Server(ServerMechanism::Plain, auth) => {
            let hello = io.expect_raw("HELLO").await?;
            let (username, password) = parse_plain_hello(&hello)?;
            let address = stream.peer_address();
            let user_id = io
                .authenticate(
                    auth,
                    Credentials::Plain {
                        username: &username,
                        password: &password,
                        address: &address,
                    },
                )
                .await?;
            io.send(&command("WELCOME", b"")).await?;
            let initiate = io.expect("INITIATE").await?;
            io.send(&command("READY", &props)).await?;
            (initiate, user_id, None)
        }
        Side::Client(ClientMechanism::Curve { server, keys }) => {
            let mut client = CurveClient::new(server, keys);
            io.send(&client.hello()).await?;
            let welcome = io.command().await?;
            let meta: [(&str, &[u8]); 2] = [("Socket-Type", b"ROUTER"), ("Identity", identity)];
            let initiate = client.on_welcome(&welcome, &meta)?;
            io.send(&initiate).await?;
            let ready = io.command().await?;
            let (meta, codec) = client.on_ready(&ready)?;
            (meta, Vec::new(), Some(codec))
        }
        Side::Server(ServerMechanism::Curve { keys }, auth) => {
            let mut server = CurveServer::new(keys);
            let hello = io.command().await?;
            io.send(&server.on_hello(&hello)?).await?;
            let initiate = io.command().await?;
            let (client_key, meta) = server.on_initiate(&initiate)?;
            let address = stream.peer_address();
            let user_id = io
                .authenticate(
                    auth,
                    Credentials::Curve {
                        client_key: &client_key,
                        address: &address,
                    },
                )
                .await?;
            let ours: [(&str, &[u8]); 2] = [("Socket-Type", b"ROUTER"), ("Identity", identity)];
            let (ready, codec) = server.ready(&ours);
            io.send(&ready).await?;
            (meta, user_id, Some(codec))
        }
    };
    match property(&peer_props, "Socket-Type") {
        Some(b"ROUTER" | b"DEALER" | b"REQ") => {}
        other => {
            let kind = String::from_utf8_lossy(other.unwrap_or(b"none")).into_owned();
            return Err(ZmtpError::Protocol(format!(
                "a {kind} socket cannot talk to a ROUTER"
            )));
        }
    }
    Ok(Established {
        identity: property(&peer_props, "Identity")
            .unwrap_or_default()
            .to_vec(),
        user_id,
        minor: greeting.minor,
        codec,
    })
}

pub(super) fn parse_plain_hello(data: &[u8]) -> Result<(String, Vec<u8>), ZmtpError> {
    let bad = || ZmtpError::Protocol("malformed PLAIN HELLO".into());
    let (&ulen, rest) = data.split_first().ok_or_else(bad)?;
    let ulen = usize::from(ulen);
    let user = rest.get(..ulen).ok_or_else(bad)?;
    let (&plen, rest) = rest[ulen..].split_first().ok_or_else(bad)?;
    let password = rest.get(..usize::from(plen)).ok_or_else(bad)?;
    if rest.len() != usize::from(plen) {
        return Err(bad());
    }
    Ok((
        String::from_utf8_lossy(user).into_owned(),
        password.to_vec(),
    ))
}

/// Handshake commands over the stream.
struct Commands<'a> {
    stream: &'a Stream,
    buf: &'a mut BytesMut,
}

impl Commands<'_> {
    async fn send(&mut self, body: &[u8]) -> Result<(), ZmtpError> {
        let mut out = Vec::with_capacity(body.len() + 9);
        encode_frame(&mut out, COMMAND, body);
        self.stream.write_all(&out).await?;
        Ok(())
    }

    /// The next command's whole body.
    async fn command(&mut self) -> Result<Vec<u8>, ZmtpError> {
        loop {
            if let Some((flags, body)) = frame::decode_frame(self.buf, MAX_COMMAND)? {
                if flags & COMMAND == 0 {
                    return Err(ZmtpError::Protocol(
                        "a message frame before the handshake finished".into(),
                    ));
                }
                if let Some(data) = body.strip_prefix(frame::LIBZMQ_PLAIN_ERROR) {
                    return Err(ZmtpError::Refused(error_reason(data)));
                }
                let (name, data) = parse_command(&body)?;
                if name == b"ERROR" {
                    return Err(ZmtpError::Refused(error_reason(data)));
                }
                return Ok(body.to_vec());
            }
            if self.stream.read_buf(self.buf).await? == 0 {
                return Err(ZmtpError::Closed);
            }
        }
    }

    /// The data of the next command, which must be `name`.
    async fn expect_raw(&mut self, name: &str) -> Result<Vec<u8>, ZmtpError> {
        let body = self.command().await?;
        let (got, data) = parse_command(&body)?;
        if got != name.as_bytes() {
            return Err(ZmtpError::Protocol(format!(
                "expected {name}, got {}",
                String::from_utf8_lossy(got)
            )));
        }
        Ok(data.to_vec())
    }

    /// The metadata of the next command, which must be `name`.
    async fn expect(&mut self, name: &str) -> Result<Properties, ZmtpError> {
        parse_properties(&self.expect_raw(name).await?)
    }

    /// Asks the authenticator; a refusal is sent to the peer as ERROR with a ZAP
    /// status code, as libzmq does, so libzmq clients report an auth failure.
    async fn authenticate(
        &mut self,
        auth: &Authenticator,
        credentials: Credentials<'_>,
    ) -> Result<Vec<u8>, ZmtpError> {
        match auth(&credentials) {
            Ok(user_id) => Ok(user_id),
            Err(refusal) => {
                let status = refusal.status.to_string();
                let error = match credentials {
                    Credentials::Plain { .. } => frame::libzmq_plain_error(&status),
                    Credentials::Curve { .. } => error_command(&status),
                };
                // The peer may be gone already; the refusal is what matters.
                let _ = self.send(&error).await;
                Err(ZmtpError::AuthRefused {
                    status: refusal.status,
                    reason: refusal.reason,
                })
            }
        }
    }
}
