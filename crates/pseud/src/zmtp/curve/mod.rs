//! The CurveZMQ security mechanism (RFC 26) as libzmq 4.3 speaks it, sans-IO:
//! command bodies in, command bodies out.
//!
//! A *command body* is a ZMTP command frame's body, `[name-len u8][name][data]`.
//! The handshake is HELLO (client) → WELCOME (server) → INITIATE (client) →
//! READY or ERROR (server); afterwards every ZMTP frame travels as a MESSAGE
//! command ([`CurveCodec`]).
//!
//! Byte layouts and nonce rules follow libzmq 4.3.5 (`curve_client_tools.hpp`,
//! `curve_server.cpp`, `curve_mechanism_base.cpp`), which are the peers to
//! interoperate with; where libzmq departs from RFC 26 the code says so.

mod codec;
#[cfg(test)]
mod fuzz;
mod handshake;
#[cfg(test)]
mod interop;
#[cfg(test)]
mod tests;

pub(crate) use codec::CurveCodec;
pub(crate) use handshake::{CurveClient, CurveServer};

use crypto_box::SalsaBox;
use crypto_box::aead::consts::{U16, U24};
use crypto_box::aead::generic_array::GenericArray;
use crypto_box::aead::{AeadCore, AeadInPlace};
use curve25519_dalek::MontgomeryPoint;
use zeroize::Zeroizing;

use crate::keys::random_bytes;

/// Poly1305 tag length: what every box adds to its plaintext.
const MAC_LEN: usize = 16;
/// Bytes of a key.
const KEY_LEN: usize = 32;

// Command names with their length byte, as they start a command body.
const HELLO: &[u8] = b"\x05HELLO";
const WELCOME: &[u8] = b"\x07WELCOME";
const INITIATE: &[u8] = b"\x08INITIATE";
const READY: &[u8] = b"\x05READY";
const ERROR: &[u8] = b"\x05ERROR";
const MESSAGE: &[u8] = b"\x07MESSAGE";

// Nonce prefixes. Short nonces (8-byte counters) follow the 16-byte prefixes;
// 16 random bytes follow the 8-byte ones.
const HELLO_NONCE: &[u8; 16] = b"CurveZMQHELLO---";
const WELCOME_NONCE: &[u8; 8] = b"WELCOME-";
/// RFC 26 says `CurveZMQCOOKIE--`; libzmq uses this one. Only the server that
/// made a cookie ever opens it, so the choice is ours: we keep libzmq's.
const COOKIE_NONCE: &[u8; 8] = b"COOKIE--";
const INITIATE_NONCE: &[u8; 16] = b"CurveZMQINITIATE";
const VOUCH_NONCE: &[u8; 8] = b"VOUCH---";
const READY_NONCE: &[u8; 16] = b"CurveZMQREADY---";
const MESSAGE_NONCE_CLIENT: &[u8; 16] = b"CurveZMQMESSAGEC";
const MESSAGE_NONCE_SERVER: &[u8; 16] = b"CurveZMQMESSAGES";

/// ZMTP properties as received (name, value), in the peer's order.
pub(crate) type Metadata = Vec<(String, Vec<u8>)>;

/// Why a CURVE handshake or message failed. Any of them ends the connection.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum CurveError {
    /// A command that does not have the size or layout CURVE gives it.
    #[error("malformed CURVE command: {0}")]
    Malformed(&'static str),
    /// A box that does not open: wrong keys, or tampered with.
    #[error("CURVE box does not open: {0}")]
    Decrypt(&'static str),
    /// A MESSAGE whose short nonce is not above the last one: replayed or reordered.
    #[error("CURVE MESSAGE nonce is not increasing (replayed or reordered)")]
    BadNonce,
    /// The server sent ERROR (for libzmq with ZAP, the ZAP status code, e.g. "400").
    #[error("the CURVE server refused the handshake: {0}")]
    Refused(String),
    /// A key that is not a usable curve point, or a vouch for other keys.
    #[error("CURVE key check failed: {0}")]
    BadKey(&'static str),
    /// A command other than the one expected at this point.
    #[error("unexpected command {0:?} in the CURVE handshake")]
    UnexpectedCommand(String),
    /// This side's methods were called out of order (a bug of the caller).
    #[error("CURVE handshake step out of order: {0}")]
    OutOfOrder(&'static str),
}

/// The ERROR command body (shared with the other mechanisms).
#[cfg(test)]
pub(crate) use super::frame::error_command;

/// If `body` is an ERROR command, the refusal it carries (or why it is malformed).
fn refusal(body: &[u8]) -> Option<CurveError> {
    let rest = body.strip_prefix(ERROR)?;
    // libzmq: the reason must fit in the command; trailing bytes are ignored.
    Some(match rest.split_first() {
        Some((&len, reason)) if usize::from(len) <= reason.len() => {
            CurveError::Refused(String::from_utf8_lossy(&reason[..usize::from(len)]).into_owned())
        }
        _ => CurveError::Malformed("ERROR reason overruns the command"),
    })
}

/// The error for a command that is not the `expected` one: the server's ERROR
/// if it is one, else the name that came.
fn unexpected(body: &[u8]) -> CurveError {
    if let Some(error) = refusal(body) {
        return error;
    }
    let name = match body.split_first() {
        Some((&len, rest)) => &rest[..usize::from(len).min(rest.len())],
        None => &[][..],
    };
    CurveError::UnexpectedCommand(String::from_utf8_lossy(name).into_owned())
}

/// `prefix` followed by `tail`: a full 24-byte nonce.
fn nonce(prefix: &[u8], tail: &[u8]) -> GenericArray<u8, U24> {
    let mut full = GenericArray::<u8, U24>::default();
    full[..prefix.len()].copy_from_slice(prefix);
    full[prefix.len()..].copy_from_slice(tail);
    full
}

/// Reads a big-endian u64 from 8 bytes the caller has checked are there.
fn read_u64(bytes: &[u8]) -> u64 {
    let mut be = [0u8; 8];
    be.copy_from_slice(&bytes[..8]);
    u64::from_be_bytes(be)
}

/// NaCl box (or secretbox) of `plaintext`, in libsodium's "easy" layout that
/// CURVE puts on the wire: the 16-byte MAC, then the ciphertext.
fn seal<A>(cipher: &A, nonce: &GenericArray<u8, U24>, plaintext: &[u8]) -> Vec<u8>
where
    A: AeadInPlace + AeadCore<NonceSize = U24, TagSize = U16>,
{
    let mut out = Vec::with_capacity(MAC_LEN + plaintext.len());
    out.extend_from_slice(&[0; MAC_LEN]);
    out.extend_from_slice(plaintext);
    seal_in_place(cipher, nonce, &mut out);
    out
}

/// Encrypts `buffer[MAC_LEN..]` in place and writes the MAC in front of it.
fn seal_in_place<A>(cipher: &A, nonce: &GenericArray<u8, U24>, buffer: &mut [u8])
where
    A: AeadInPlace + AeadCore<NonceSize = U24, TagSize = U16>,
{
    let (mac, text) = buffer.split_at_mut(MAC_LEN);
    match cipher.encrypt_in_place_detached(nonce, b"", text) {
        Ok(tag) => mac.copy_from_slice(&tag),
        // XSalsa20Poly1305 fails only when given associated data, and none is.
        Err(_) => unreachable!("XSalsa20Poly1305 refused to encrypt without associated data"),
    }
}

/// Opens a box in the MAC-then-ciphertext layout. The plaintext may hold secrets
/// (the cookie holds the server's short-term secret key), so it is wiped on drop.
fn open<A>(
    cipher: &A,
    nonce: &GenericArray<u8, U24>,
    boxed: &[u8],
    what: &'static str,
) -> Result<Zeroizing<Vec<u8>>, CurveError>
where
    A: AeadInPlace + AeadCore<NonceSize = U24, TagSize = U16>,
{
    let (mac, text) = boxed
        .split_at_checked(MAC_LEN)
        .ok_or(CurveError::Malformed("box shorter than its MAC"))?;
    let mut plain = Zeroizing::new(text.to_vec());
    cipher
        .decrypt_in_place_detached(nonce, b"", &mut plain, GenericArray::from_slice(mac))
        .map_err(|_| CurveError::Decrypt(what))?;
    Ok(plain)
}

/// Whether a peer's public key is a point of the curve's prime-order subgroup,
/// as every honestly made key (clamped scalar × base point) is.
///
/// libsodium refuses only the small-order points (their shared secret is zero).
/// crypto_box needs this stricter check: it multiplies by the secret scalar
/// reduced mod ℓ, which differs from X25519's clamped scalar on points with a
/// small-order component, so on those it would not agree with libsodium (and a
/// small-order key gives a guessable box key).
fn is_strong_point(key: &[u8; KEY_LEN]) -> bool {
    MontgomeryPoint(*key)
        .to_edwards(0)
        .is_some_and(|point| point.is_torsion_free() && !point.is_small_order())
}

/// The precomputed box between a peer's public key and our secret key
/// (libsodium's `crypto_box_beforenm`), refusing weak peer keys.
fn box_with(
    peer: &[u8; KEY_LEN],
    ours: &crypto_box::SecretKey,
    what: &'static str,
) -> Result<SalsaBox, CurveError> {
    if !is_strong_point(peer) {
        return Err(CurveError::BadKey(what));
    }
    Ok(SalsaBox::new(&crypto_box::PublicKey::from(*peer), ours))
}

/// A fresh short-term key pair (C' or S').
fn ephemeral_pair() -> (crypto_box::SecretKey, [u8; KEY_LEN]) {
    let bytes = Zeroizing::new(random_bytes::<KEY_LEN>());
    let secret = crypto_box::SecretKey::from_bytes(*bytes);
    let public = MontgomeryPoint::mul_base_clamped(*bytes).to_bytes();
    (secret, public)
}

/// Appends ZMTP metadata: per property, name length (u8), name, value length
/// (u32 big-endian), value.
///
/// # Panics
/// On a name over 255 bytes or a value over 2^31 - 1 bytes, limits that only a
/// caller's bug reaches (libzmq asserts the same).
fn encode_metadata(properties: &[(&str, &[u8])], out: &mut Vec<u8>) {
    for (name, value) in properties {
        let name_len = u8::try_from(name.len());
        let value_len = u32::try_from(value.len())
            .ok()
            .filter(|&n| n <= 0x7FFF_FFFF);
        let (Ok(name_len), Some(value_len)) = (name_len, value_len) else {
            panic!("ZMTP property {name:?} has a name over 255 bytes or a value over 2 GiB");
        };
        out.push(name_len);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&value_len.to_be_bytes());
        out.extend_from_slice(value);
    }
}

/// Reads ZMTP metadata; like libzmq, any bytes that do not form whole properties
/// make the command invalid. Names are decoded lossily: ZMTP names are ASCII.
fn decode_metadata(mut data: &[u8]) -> Result<Metadata, CurveError> {
    const TRUNCATED: CurveError = CurveError::Malformed("metadata property runs past the end");
    let mut properties = Vec::new();
    while let Some((&name_len, rest)) = data.split_first() {
        let (name, rest) = rest
            .split_at_checked(usize::from(name_len))
            .ok_or(TRUNCATED)?;
        let (len, rest) = rest.split_at_checked(4).ok_or(TRUNCATED)?;
        let value_len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
        let (value, rest) = usize::try_from(value_len)
            .ok()
            .and_then(|n| rest.split_at_checked(n))
            .ok_or(TRUNCATED)?;
        properties.push((String::from_utf8_lossy(name).into_owned(), value.to_vec()));
        data = rest;
    }
    Ok(properties)
}
