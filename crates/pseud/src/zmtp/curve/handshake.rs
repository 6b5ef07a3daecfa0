//! The CURVE handshake, both sides.
//!
//! Layouts (RFC 26; offsets as in libzmq):
//! - HELLO, 200 bytes: name, version 1.0, 72 zero bytes of anti-amplification
//!   padding, C', short nonce, Box\[64 zero bytes\](C'→S).
//! - WELCOME, 168 bytes: name, 16-byte nonce, Box\[S' + cookie\](S→C').
//! - INITIATE, ≥ 257 bytes: name, cookie (96), short nonce,
//!   Box\[C + vouch nonce + vouch + metadata\](C'→S'); vouch = Box\[C' + S\](C→S').
//! - READY, ≥ 30 bytes: name, short nonce, Box\[metadata\](S'→C').
//!
//! Short nonces count from 1 on each side as in libzmq: the client's HELLO is 1
//! and INITIATE 2, the server's READY is 1; MESSAGEs go on from there.

use crypto_box::SalsaBox;
use crypto_box::aead::generic_array::GenericArray;
use crypto_secretbox::XSalsa20Poly1305;
use crypto_secretbox::aead::KeyInit;
use zeroize::Zeroizing;

use super::{
    COOKIE_NONCE, CurveCodec, CurveError, HELLO, HELLO_NONCE, INITIATE, INITIATE_NONCE, KEY_LEN,
    MAC_LEN, MESSAGE_NONCE_CLIENT, MESSAGE_NONCE_SERVER, Metadata, READY, READY_NONCE, VOUCH_NONCE,
    WELCOME, WELCOME_NONCE, box_with, decode_metadata, encode_metadata, ephemeral_pair,
    is_strong_point, nonce, open, read_u64, seal, unexpected,
};
use crate::keys::{KeyPair, PublicKey, random_bytes};

const HELLO_LEN: usize = 200;
const WELCOME_LEN: usize = 168;
/// Cookie: 16-byte nonce, then Box\[C' + s'\](cookie key).
const COOKIE_LEN: usize = 16 + MAC_LEN + 2 * KEY_LEN;
/// INITIATE without metadata.
const INITIATE_MIN: usize = INITIATE.len() + COOKIE_LEN + 8 + MAC_LEN + 128;
/// READY with empty metadata.
const READY_MIN: usize = READY.len() + 8 + MAC_LEN;

/// A long-term secret key in the form crypto_box computes with.
fn box_secret(pair: &KeyPair) -> crypto_box::SecretKey {
    crypto_box::SecretKey::from_bytes(*pair.secret.as_bytes())
}

/// Where the client is in its handshake.
enum ClientState {
    Start,
    HelloSent,
    /// INITIATE sent; holds the box between C' and S'.
    InitiateSent(SalsaBox),
}

/// The client side: `hello`, then `on_welcome`, then `on_ready`.
pub(crate) struct CurveClient {
    /// S, the server's long-term key.
    server: [u8; KEY_LEN],
    /// C and c, our long-term keys.
    public: [u8; KEY_LEN],
    secret: crypto_box::SecretKey,
    /// C' and c', this connection's short-term keys.
    short_public: [u8; KEY_LEN],
    short_secret: crypto_box::SecretKey,
    /// Box between S and c' (HELLO and WELCOME).
    hello_box: SalsaBox,
    /// The last short nonce used.
    nonce: u64,
    state: ClientState,
}

impl CurveClient {
    /// A client that will only accept the server holding `server_public`,
    /// presenting `ours` as its long-term identity.
    pub(crate) fn new(server_public: &PublicKey, ours: &KeyPair) -> Self {
        let (short_secret, short_public) = ephemeral_pair();
        let server = *server_public.as_bytes();
        // S is our own configuration, not peer data: it is checked in
        // `on_welcome`, which a weak S could not pass anyway.
        let hello_box = SalsaBox::new(&crypto_box::PublicKey::from(server), &short_secret);
        CurveClient {
            server,
            public: *ours.public.as_bytes(),
            secret: box_secret(ours),
            short_public,
            short_secret,
            hello_box,
            nonce: 0,
            state: ClientState::Start,
        }
    }

    fn next_nonce(&mut self) -> u64 {
        self.nonce += 1;
        self.nonce
    }

    /// HELLO command body.
    pub(crate) fn hello(&mut self) -> Vec<u8> {
        let short = self.next_nonce().to_be_bytes();
        let signature = seal(&self.hello_box, &nonce(HELLO_NONCE, &short), &[0; 64]);
        let mut hello = Vec::with_capacity(HELLO_LEN);
        hello.extend_from_slice(HELLO);
        hello.extend_from_slice(&[1, 0]);
        hello.extend_from_slice(&[0; 72]);
        hello.extend_from_slice(&self.short_public);
        hello.extend_from_slice(&short);
        hello.extend_from_slice(&signature);
        debug_assert_eq!(hello.len(), HELLO_LEN);
        self.state = ClientState::HelloSent;
        hello
    }

    /// Takes WELCOME, returns INITIATE carrying `metadata` (the ZMTP properties
    /// to send, e.g. `[("Socket-Type", b"DEALER"), ("Identity", b"")]`).
    ///
    /// # Panics
    /// On a property name over 255 bytes or a value over 2^31 - 1 bytes.
    pub(crate) fn on_welcome(
        &mut self,
        welcome: &[u8],
        metadata: &[(&str, &[u8])],
    ) -> Result<Vec<u8>, CurveError> {
        if !welcome.starts_with(WELCOME) {
            return Err(unexpected(welcome));
        }
        if !matches!(self.state, ClientState::HelloSent) {
            return Err(CurveError::OutOfOrder("WELCOME when none is expected"));
        }
        if welcome.len() != WELCOME_LEN {
            return Err(CurveError::Malformed("WELCOME is not 168 bytes"));
        }
        if !is_strong_point(&self.server) {
            return Err(CurveError::BadKey(
                "the server public key is not a usable point",
            ));
        }
        let plain = open(
            &self.hello_box,
            &nonce(WELCOME_NONCE, &welcome[8..24]),
            &welcome[24..],
            "WELCOME (not from the holder of the server key)",
        )?;
        // 144 boxed bytes open to 128: S', then the cookie.
        let mut server_short = [0u8; KEY_LEN];
        server_short.copy_from_slice(&plain[..KEY_LEN]);
        let cookie = &plain[KEY_LEN..KEY_LEN + COOKIE_LEN];
        let session = box_with(
            &server_short,
            &self.short_secret,
            "the server's short-term key",
        )?;

        // Vouch: Box[C' + S](C→S'), proving we hold c for this connection.
        let vouch_nonce: [u8; 16] = random_bytes();
        let mut vouched = [0u8; 2 * KEY_LEN];
        vouched[..KEY_LEN].copy_from_slice(&self.short_public);
        vouched[KEY_LEN..].copy_from_slice(&self.server);
        let vouch_box = box_with(&server_short, &self.secret, "the server's short-term key")?;
        let vouch = seal(&vouch_box, &nonce(VOUCH_NONCE, &vouch_nonce), &vouched);

        let mut plain = Vec::with_capacity(128 + 64);
        plain.extend_from_slice(&self.public);
        plain.extend_from_slice(&vouch_nonce);
        plain.extend_from_slice(&vouch);
        encode_metadata(metadata, &mut plain);
        let short = self.next_nonce().to_be_bytes();
        let boxed = seal(&session, &nonce(INITIATE_NONCE, &short), &plain);

        let mut initiate = Vec::with_capacity(INITIATE.len() + COOKIE_LEN + 8 + boxed.len());
        initiate.extend_from_slice(INITIATE);
        initiate.extend_from_slice(cookie);
        initiate.extend_from_slice(&short);
        initiate.extend_from_slice(&boxed);
        self.state = ClientState::InitiateSent(session);
        Ok(initiate)
    }

    /// Takes READY; returns the server's metadata and the connection's codec.
    /// An ERROR command from the server gives [`CurveError::Refused`].
    pub(crate) fn on_ready(self, ready: &[u8]) -> Result<(Metadata, CurveCodec), CurveError> {
        if !ready.starts_with(READY) {
            return Err(unexpected(ready));
        }
        let ClientState::InitiateSent(session) = self.state else {
            return Err(CurveError::OutOfOrder("READY before INITIATE was sent"));
        };
        if ready.len() < READY_MIN {
            return Err(CurveError::Malformed("READY is too short"));
        }
        let short = &ready[READY.len()..READY.len() + 8];
        let plain = open(
            &session,
            &nonce(READY_NONCE, short),
            &ready[READY.len() + 8..],
            "READY",
        )?;
        let metadata = decode_metadata(&plain)?;
        let codec = CurveCodec::new(
            session,
            MESSAGE_NONCE_CLIENT,
            MESSAGE_NONCE_SERVER,
            self.nonce + 1,
            read_u64(short),
        );
        Ok((metadata, codec))
    }
}

/// Where the server is in its handshake.
enum ServerState {
    ExpectHello,
    /// WELCOME sent to the client whose short-term key is here.
    ExpectInitiate {
        client_short: [u8; KEY_LEN],
    },
    /// INITIATE checked: the box between C' and S', and INITIATE's short nonce.
    Verified {
        session: SalsaBox,
        peer_nonce: u64,
    },
}

/// The server side of one connection: `on_hello`, `on_initiate`, then `ready`
/// (or send an ERROR command to refuse).
pub(crate) struct CurveServer {
    /// S and s, our long-term keys.
    public: [u8; KEY_LEN],
    secret: crypto_box::SecretKey,
    /// S' and s', this connection's short-term keys (s' also as bytes, to
    /// check the cookie against).
    short_public: [u8; KEY_LEN],
    short_secret: crypto_box::SecretKey,
    short_secret_bytes: Zeroizing<[u8; KEY_LEN]>,
    /// The key of the cookie in WELCOME; made with WELCOME, as libzmq does.
    cookie_key: Zeroizing<[u8; KEY_LEN]>,
    state: ServerState,
}

impl CurveServer {
    /// A server proving it holds `ours`.
    pub(crate) fn new(ours: &KeyPair) -> Self {
        let (short_secret, short_public) = ephemeral_pair();
        CurveServer {
            public: *ours.public.as_bytes(),
            secret: box_secret(ours),
            short_public,
            short_secret_bytes: Zeroizing::new(short_secret.to_bytes()),
            short_secret,
            cookie_key: Zeroizing::new([0; KEY_LEN]),
            state: ServerState::ExpectHello,
        }
    }

    /// Takes HELLO, returns WELCOME.
    pub(crate) fn on_hello(&mut self, hello: &[u8]) -> Result<Vec<u8>, CurveError> {
        if !hello.starts_with(HELLO) {
            return Err(unexpected(hello));
        }
        if !matches!(self.state, ServerState::ExpectHello) {
            return Err(CurveError::OutOfOrder("a second HELLO"));
        }
        if hello.len() != HELLO_LEN {
            return Err(CurveError::Malformed("HELLO is not 200 bytes"));
        }
        if hello[6..8] != [1, 0] {
            return Err(CurveError::Malformed("HELLO is not CurveZMQ version 1.0"));
        }
        let mut client_short = [0u8; KEY_LEN];
        client_short.copy_from_slice(&hello[80..112]);
        let hello_box = box_with(&client_short, &self.secret, "the client's short-term key")?;
        // Like libzmq, the signature's 64 zero bytes only need to open.
        open(
            &hello_box,
            &nonce(HELLO_NONCE, &hello[112..120]),
            &hello[120..],
            "HELLO (the client has another server key)",
        )?;

        // Cookie = nonce + Box[C' + s'](cookie key): what INITIATE must return.
        *self.cookie_key = random_bytes();
        let cookie_nonce: [u8; 16] = random_bytes();
        let mut cookie_plain = Zeroizing::new([0u8; 2 * KEY_LEN]);
        cookie_plain[..KEY_LEN].copy_from_slice(&client_short);
        cookie_plain[KEY_LEN..].copy_from_slice(&*self.short_secret_bytes);
        let cookie_cipher = XSalsa20Poly1305::new(GenericArray::from_slice(&*self.cookie_key));
        let cookie = seal(
            &cookie_cipher,
            &nonce(COOKIE_NONCE, &cookie_nonce),
            &*cookie_plain,
        );

        let mut plain = Vec::with_capacity(KEY_LEN + COOKIE_LEN);
        plain.extend_from_slice(&self.short_public);
        plain.extend_from_slice(&cookie_nonce);
        plain.extend_from_slice(&cookie);
        let welcome_nonce: [u8; 16] = random_bytes();
        let boxed = seal(&hello_box, &nonce(WELCOME_NONCE, &welcome_nonce), &plain);

        let mut welcome = Vec::with_capacity(WELCOME_LEN);
        welcome.extend_from_slice(WELCOME);
        welcome.extend_from_slice(&welcome_nonce);
        welcome.extend_from_slice(&boxed);
        debug_assert_eq!(welcome.len(), WELCOME_LEN);
        self.state = ServerState::ExpectInitiate { client_short };
        Ok(welcome)
    }

    /// Takes INITIATE; returns the client's long-term public key and its
    /// metadata. The caller then authenticates the key and calls
    /// [`ready`](Self::ready), or sends an ERROR command.
    pub(crate) fn on_initiate(
        &mut self,
        initiate: &[u8],
    ) -> Result<(PublicKey, Metadata), CurveError> {
        if !initiate.starts_with(INITIATE) {
            return Err(unexpected(initiate));
        }
        let ServerState::ExpectInitiate { client_short } = self.state else {
            return Err(CurveError::OutOfOrder("INITIATE when none is expected"));
        };
        if initiate.len() < INITIATE_MIN {
            return Err(CurveError::Malformed("INITIATE is too short"));
        }

        let cookie_cipher = XSalsa20Poly1305::new(GenericArray::from_slice(&*self.cookie_key));
        let cookie = open(
            &cookie_cipher,
            &nonce(COOKIE_NONCE, &initiate[9..25]),
            &initiate[25..105],
            "INITIATE cookie",
        )?;
        if cookie[..KEY_LEN] != client_short || cookie[KEY_LEN..] != *self.short_secret_bytes {
            return Err(CurveError::Decrypt(
                "INITIATE cookie is for another connection",
            ));
        }

        let short = &initiate[105..113];
        // C' passed `box_with` in `on_hello`.
        let session = SalsaBox::new(
            &crypto_box::PublicKey::from(client_short),
            &self.short_secret,
        );
        let plain = open(
            &session,
            &nonce(INITIATE_NONCE, short),
            &initiate[113..],
            "INITIATE",
        )?;
        // At least 128 bytes: C, the vouch nonce, the vouch; then metadata.
        let mut client = [0u8; KEY_LEN];
        client.copy_from_slice(&plain[..KEY_LEN]);
        let vouch_box = box_with(&client, &self.short_secret, "the client's long-term key")?;
        let vouched = open(
            &vouch_box,
            &nonce(VOUCH_NONCE, &plain[32..48]),
            &plain[48..128],
            "INITIATE vouch (the client does not hold its key)",
        )?;
        if vouched[..KEY_LEN] != client_short {
            return Err(CurveError::BadKey(
                "the vouch is for another short-term key",
            ));
        }
        // RFC 26 has the server check S too; libzmq 4.3 does not, but its
        // clients always put it there.
        if vouched[KEY_LEN..] != self.public {
            return Err(CurveError::BadKey("the vouch is for another server key"));
        }
        let metadata = decode_metadata(&plain[128..])?;
        self.state = ServerState::Verified {
            session,
            peer_nonce: read_u64(short),
        };
        Ok((PublicKey::from_bytes(client), metadata))
    }

    /// READY carrying `metadata`, and the connection's codec.
    ///
    /// # Panics
    /// Unless [`on_initiate`](Self::on_initiate) has succeeded (a caller's bug
    /// that must not let an unverified client in), and on a property name over
    /// 255 bytes or a value over 2^31 - 1 bytes.
    pub(crate) fn ready(self, metadata: &[(&str, &[u8])]) -> (Vec<u8>, CurveCodec) {
        let ServerState::Verified {
            session,
            peer_nonce,
        } = self.state
        else {
            panic!("CurveServer::ready called before a successful on_initiate");
        };
        let mut plain = Vec::new();
        encode_metadata(metadata, &mut plain);
        // libzmq's server counter starts at 1 and READY is its first use.
        let short = 1u64.to_be_bytes();
        let boxed = seal(&session, &nonce(READY_NONCE, &short), &plain);
        let mut ready = Vec::with_capacity(READY_MIN + plain.len());
        ready.extend_from_slice(READY);
        ready.extend_from_slice(&short);
        ready.extend_from_slice(&boxed);
        let codec = CurveCodec::new(
            session,
            MESSAGE_NONCE_SERVER,
            MESSAGE_NONCE_CLIENT,
            2,
            peer_nonce,
        );
        (ready, codec)
    }
}
