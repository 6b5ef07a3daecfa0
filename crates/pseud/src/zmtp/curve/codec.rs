//! MESSAGE: how each ZMTP frame travels once the CURVE handshake is done.

use crypto_box::SalsaBox;
use crypto_box::aead::AeadInPlace;
use crypto_box::aead::generic_array::GenericArray;

use super::{CurveError, MAC_LEN, MESSAGE, nonce, read_u64, seal_in_place};

/// ZMTP frame flag MORE (and the same bit in the MESSAGE plaintext).
const ZMTP_MORE: u8 = 0x01;
/// ZMTP frame flag COMMAND.
const ZMTP_COMMAND: u8 = 0x04;
/// The COMMAND bit *inside* a MESSAGE plaintext. RFC 26 reserves every bit but
/// MORE; libzmq 4.3 puts its `msg_t::command` flag (0x02) there, so that ZMTP
/// 3.1 commands (PING, PONG, SUBSCRIBE, ...) can travel encrypted.
const CURVE_COMMAND: u8 = 0x02;

/// `\x07MESSAGE`, the short nonce, then the box's MAC.
const HEADER_LEN: usize = MESSAGE.len() + 8 + MAC_LEN;

/// Encrypts and decrypts the frames of one connection after its handshake.
///
/// Each frame becomes one MESSAGE command body. libzmq 4.3 sends that body in a
/// ZMTP frame with flags 0 (only LONG when needed: neither MORE nor COMMAND),
/// and it ORs the carrying frame's MORE and COMMAND bits into the frame it
/// decrypts: send MESSAGE bodies in such plain final frames, never with MORE or
/// COMMAND set.
pub(crate) struct CurveCodec {
    /// The precomputed box between the two short-term keys (C' and S'), shared
    /// by the two halves of a split codec.
    cipher: std::sync::Arc<SalsaBox>,
    /// Nonce prefixes: `CurveZMQMESSAGEC` from the client, `…S` from the server.
    send_prefix: &'static [u8; 16],
    recv_prefix: &'static [u8; 16],
    /// The short nonce the next MESSAGE sent carries.
    next_send: u64,
    /// The highest short nonce received (the handshake's last one at first);
    /// each MESSAGE must carry a higher one.
    last_received: u64,
}

impl CurveCodec {
    pub(super) fn new(
        cipher: SalsaBox,
        send_prefix: &'static [u8; 16],
        recv_prefix: &'static [u8; 16],
        next_send: u64,
        last_received: u64,
    ) -> Self {
        CurveCodec {
            cipher: std::sync::Arc::new(cipher),
            send_prefix,
            recv_prefix,
            next_send,
            last_received,
        }
    }

    /// Two codecs for the two directions: the first only encodes, the second only
    /// decodes, so the writer and the reader of a connection need no lock between them.
    pub(crate) fn split(self) -> (CurveCodec, CurveCodec) {
        let writer = CurveCodec {
            cipher: self.cipher.clone(),
            ..self
        };
        (writer, self)
    }

    /// Encrypts one frame, given its ZMTP flags (MORE = 0x01; COMMAND = 0x04 for
    /// commands such as PING and PONG; other bits are ignored), into a MESSAGE
    /// command body appended to `out`, so frames can be batched in one buffer.
    ///
    /// # Panics
    /// After 2^64 - 2 frames, rather than reuse a nonce.
    pub(crate) fn encode(&mut self, flags: u8, body: &[u8], out: &mut Vec<u8>) {
        let short = self.next_send;
        self.next_send = match short.checked_add(1) {
            Some(next) => next,
            None => panic!("CURVE short nonces exhausted: the connection must end"),
        };
        let mut plain_flags = flags & ZMTP_MORE;
        if flags & ZMTP_COMMAND != 0 {
            plain_flags |= CURVE_COMMAND;
        }

        let start = out.len();
        out.reserve(HEADER_LEN + 1 + body.len());
        out.extend_from_slice(MESSAGE);
        out.extend_from_slice(&short.to_be_bytes());
        out.extend_from_slice(&[0; MAC_LEN]);
        out.push(plain_flags);
        out.extend_from_slice(body);
        let nonce = nonce(self.send_prefix, &short.to_be_bytes());
        seal_in_place(&*self.cipher, &nonce, &mut out[start + MESSAGE.len() + 8..]);
    }

    /// Decrypts a MESSAGE command body into the frame's ZMTP flags (MORE 0x01,
    /// COMMAND 0x04) and body.
    ///
    /// A MESSAGE that is malformed, does not open, or repeats an old nonce is
    /// refused and leaves the codec as it was; the connection should end then
    /// (libzmq ends it).
    pub(crate) fn decode(&mut self, message: &[u8]) -> Result<(u8, Vec<u8>), CurveError> {
        if !message.starts_with(MESSAGE) {
            return Err(super::unexpected(message));
        }
        // At least the flags byte must be boxed.
        if message.len() < HEADER_LEN + 1 {
            return Err(CurveError::Malformed("MESSAGE is too short"));
        }
        let short_bytes = &message[MESSAGE.len()..MESSAGE.len() + 8];
        let short = read_u64(short_bytes);
        if short <= self.last_received {
            return Err(CurveError::BadNonce);
        }
        let mac = GenericArray::from_slice(&message[MESSAGE.len() + 8..HEADER_LEN]);
        let mut plain = message[HEADER_LEN..].to_vec();
        let nonce = nonce(self.recv_prefix, short_bytes);
        self.cipher
            .decrypt_in_place_detached(&nonce, b"", &mut plain, mac)
            .map_err(|_| CurveError::Decrypt("MESSAGE"))?;
        // Only an authentic MESSAGE moves the counter (libzmq moves it before
        // opening the box, which a forged nonce could then push up).
        self.last_received = short;

        let plain_flags = plain[0];
        let mut flags = plain_flags & ZMTP_MORE;
        if plain_flags & CURVE_COMMAND != 0 {
            flags |= ZMTP_COMMAND;
        }
        plain.remove(0);
        Ok((flags, plain))
    }
}
