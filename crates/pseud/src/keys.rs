//! CURVE key types: long-term x25519 key pairs as libzmq uses them for
//! CurveZMQ (RFC 26), with their 40-character Z85 text form (RFC 32).
//!
//! ```
//! use pseud::{KeyPair, PublicKey};
//!
//! let server = KeyPair::generate();
//! // Give the public key to clients as text; keep the secret one to yourself.
//! let text = server.public.to_z85();
//! assert_eq!(text.len(), 40);
//! let parsed: PublicKey = text.parse()?;
//! assert_eq!(parsed, server.public);
//! # Ok::<(), pseud::KeyError>(())
//! ```

use std::fmt;
use std::str::FromStr;

use curve25519_dalek::MontgomeryPoint;
use zeroize::{Zeroize, Zeroizing};

/// Bytes in a CURVE key.
const KEY_LEN: usize = 32;
/// Characters in a Z85-encoded key (32 bytes, 4 bytes per 5 characters).
const Z85_LEN: usize = 40;

/// Why a key could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A Z85 key is 40 characters long.
    #[error("a Z85 key is 40 characters, not {0} bytes")]
    Length(usize),
    /// A byte that is not in the Z85 alphabet.
    #[error("byte {byte:#04x} at {position} is not a Z85 character")]
    Character {
        /// Its offset in the text.
        position: usize,
        /// The byte.
        byte: u8,
    },
    /// Five characters that stand for more than 32 bits.
    #[error("the Z85 group at {position} is over 2^32")]
    Group {
        /// Offset of the group's first character.
        position: usize,
    },
}

/// Decodes a 40-character Z85 key. The returned bytes may be secret, so they are
/// wiped when dropped.
fn decode_z85(text: &str) -> Result<Zeroizing<[u8; KEY_LEN]>, KeyError> {
    if text.len() != Z85_LEN {
        return Err(KeyError::Length(text.len()));
    }
    let decoded = Zeroizing::new(z85::decode(text).map_err(|e| match e {
        z85::DecodeError::InvalidByte(position, byte) => KeyError::Character { position, byte },
        z85::DecodeError::InvalidChunk(position) => KeyError::Group { position },
        // The length was checked; "padding" is the z85 crate's own extension
        // (a group starting with '#', which no valid 32-bit group does).
        z85::DecodeError::InvalidLength(n) => KeyError::Length(n),
        z85::DecodeError::InvalidTail => KeyError::Group {
            position: Z85_LEN - 5,
        },
    })?);
    let mut key = Zeroizing::new([0u8; KEY_LEN]);
    if decoded.len() != KEY_LEN {
        // Only the crate's padded form decodes 40 characters to fewer bytes.
        return Err(KeyError::Group {
            position: Z85_LEN - 5,
        });
    }
    key.copy_from_slice(&decoded);
    Ok(key)
}

/// Fills an array from the operating system's random source.
///
/// # Panics
/// If the OS random source fails, which on supported systems only happens when
/// the system is broken; going on without randomness would be worse.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    if let Err(e) = getrandom::fill(&mut bytes) {
        panic!("the operating system's random source failed: {e}");
    }
    bytes
}

/// A CURVE public key (an x25519 point): a server's identity for its clients, or
/// a client's identity that a server may check.
///
/// Shown as its Z85 text by `Display` and `Debug`; parsed from it by `FromStr`.
///
/// ```
/// use pseud::PublicKey;
///
/// // libzmq's test server key (zmq_curve(7)).
/// let key: PublicKey = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7".parse()?;
/// assert_eq!(key.as_bytes()[..4], [0x54, 0xFC, 0xBA, 0x24]);
/// assert_eq!(key.to_string(), "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
/// # Ok::<(), pseud::KeyError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PublicKey([u8; KEY_LEN]);

impl PublicKey {
    /// The key with these 32 bytes (any 32 bytes are accepted here; a handshake
    /// refuses the few weak points).
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        PublicKey(bytes)
    }

    /// The key's 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// Reads a key from its 40-character Z85 text.
    pub fn from_z85(text: &str) -> Result<Self, KeyError> {
        decode_z85(text).map(|k| PublicKey(*k))
    }

    /// The key as 40 characters of Z85.
    pub fn to_z85(&self) -> String {
        z85::encode(self.0)
    }
}

impl From<[u8; KEY_LEN]> for PublicKey {
    fn from(bytes: [u8; KEY_LEN]) -> Self {
        PublicKey(bytes)
    }
}

impl AsRef<[u8]> for PublicKey {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl FromStr for PublicKey {
    type Err = KeyError;

    fn from_str(text: &str) -> Result<Self, KeyError> {
        PublicKey::from_z85(text)
    }
}

impl fmt::Display for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_z85())
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({:?})", self.to_z85())
    }
}

/// A CURVE secret key. Its bytes are wiped when it is dropped, and `Debug` does
/// not show them.
///
/// ```
/// use pseud::{KeyPair, SecretKey};
///
/// // libzmq's test client key pair (zmq_curve(7)).
/// let secret = SecretKey::from_z85("D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs")?;
/// let pair = KeyPair::from_secret(secret);
/// assert_eq!(pair.public.to_z85(), "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID");
/// assert_eq!(format!("{:?}", pair.secret), "SecretKey(..)");
/// # Ok::<(), pseud::KeyError>(())
/// ```
#[derive(Clone)]
pub struct SecretKey([u8; KEY_LEN]);

impl SecretKey {
    /// The key with these 32 bytes (x25519 clamps them when it uses them, as
    /// libsodium does).
    pub const fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        SecretKey(bytes)
    }

    /// The key's 32 bytes. Handle with care: copies are not wiped.
    pub const fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// Reads a key from its 40-character Z85 text.
    pub fn from_z85(text: &str) -> Result<Self, KeyError> {
        decode_z85(text).map(|k| SecretKey(*k))
    }

    /// The key as 40 characters of Z85 (the returned string is not wiped).
    pub fn to_z85(&self) -> String {
        z85::encode(self.0)
    }

    /// The public key that goes with this secret key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(MontgomeryPoint::mul_base_clamped(self.0).to_bytes())
    }
}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(..)")
    }
}

/// A long-term CURVE key pair: a server's (its public key is what clients are
/// given) or a client's.
///
/// ```
/// use pseud::KeyPair;
///
/// let pair = KeyPair::generate();
/// assert_eq!(pair.secret.public_key(), pair.public);
/// ```
#[derive(Clone, Debug)]
pub struct KeyPair {
    /// The public half, to hand out.
    pub public: PublicKey,
    /// The secret half.
    pub secret: SecretKey,
}

impl KeyPair {
    /// A new random key pair from the operating system's random source (as
    /// libzmq's `zmq_curve_keypair`).
    ///
    /// # Panics
    /// If the OS random source fails.
    pub fn generate() -> Self {
        let mut bytes: [u8; KEY_LEN] = random_bytes();
        let secret = SecretKey::from_bytes(bytes);
        bytes.zeroize();
        KeyPair::from_secret(secret)
    }

    /// The pair of a known secret key (as libzmq's `zmq_curve_public`).
    pub fn from_secret(secret: SecretKey) -> Self {
        KeyPair {
            public: secret.public_key(),
            secret,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // zmq_curve(7), "TEST KEY VALUES": hex and Z85 of libzmq's test key pairs.
    const CLIENT_PUBLIC: (&str, &str) = (
        "BB88471D65E2659B30C55A5321CEBB5AAB2B70A398645C26DCA2B2FCB43FC518",
        "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID",
    );
    const CLIENT_SECRET: (&str, &str) = (
        "7BB864B489AFA3671FBE69101F94B38972F24816DFB01B51656B3FEC8DFD0888",
        "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs",
    );
    const SERVER_PUBLIC: (&str, &str) = (
        "54FCBA24E93249969316FB617C872BB0C1D1FF14800427C594CBFACF1BC2D652",
        "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7",
    );
    const SERVER_SECRET: (&str, &str) = (
        "8E0BDD697628B91D8F245587EE95C5B04D48963F79259877B49CD9063AEAD3B7",
        "JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6",
    );

    fn hex(text: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, byte) in out.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    #[test]
    fn z85_rfc32_vector() {
        // RFC 32's example, through the same crate and alphabet the keys use.
        let bytes = [0x86, 0x4F, 0xD2, 0x6F, 0xB5, 0x59, 0xF7, 0x5B];
        assert_eq!(z85::encode(bytes), "HelloWorld");
        assert_eq!(z85::decode("HelloWorld").unwrap(), bytes);
    }

    #[test]
    fn libzmq_test_keys() {
        for (hex_text, z85_text) in [CLIENT_PUBLIC, SERVER_PUBLIC] {
            let key = PublicKey::from_z85(z85_text).unwrap();
            assert_eq!(*key.as_bytes(), hex(hex_text));
            assert_eq!(key.to_z85(), z85_text);
            assert_eq!(key.to_string(), z85_text);
            assert_eq!(z85_text.parse::<PublicKey>().unwrap(), key);
        }
        for ((secret_hex, secret_z85), (_, public_z85)) in [
            (CLIENT_SECRET, CLIENT_PUBLIC),
            (SERVER_SECRET, SERVER_PUBLIC),
        ] {
            let secret = SecretKey::from_z85(secret_z85).unwrap();
            assert_eq!(*secret.as_bytes(), hex(secret_hex));
            assert_eq!(secret.to_z85(), secret_z85);
            // zmq_curve_public: the public half derives from the secret one.
            let pair = KeyPair::from_secret(secret);
            assert_eq!(pair.public.to_z85(), public_z85);
        }
    }

    #[test]
    fn generated_pairs_match_and_differ() {
        let a = KeyPair::generate();
        let b = KeyPair::generate();
        assert_eq!(a.secret.public_key(), a.public);
        assert_ne!(a.public, b.public);
        let round = SecretKey::from_z85(&a.secret.to_z85()).unwrap();
        assert_eq!(round.as_bytes(), a.secret.as_bytes());
    }

    #[test]
    fn bad_z85_is_refused() {
        assert_eq!(PublicKey::from_z85("abc"), Err(KeyError::Length(3)));
        let mut text = SERVER_PUBLIC.1.to_string();
        text.replace_range(7..8, "\"");
        assert_eq!(
            PublicKey::from_z85(&text),
            Err(KeyError::Character {
                position: 7,
                byte: b'"'
            })
        );
        // "%nSc0" is 0xFFFFFFFF; "%nSc1" is one more (libzmq's test_base85).
        let over = format!("{}%nSc1", &SERVER_PUBLIC.1[..35]);
        assert_eq!(
            PublicKey::from_z85(&over),
            Err(KeyError::Group { position: 35 })
        );
        let max = format!("{}%nSc0", &SERVER_PUBLIC.1[..35]);
        assert_eq!(
            PublicKey::from_z85(&max).unwrap().as_bytes()[28..],
            [0xFF; 4]
        );
        // The z85 crate's '#' padding is not Z85: refused, not shortened.
        let padded = format!("{}##abc", &SERVER_PUBLIC.1[..35]);
        assert!(PublicKey::from_z85(&padded).is_err());
        // Multi-byte UTF-8 counts in bytes.
        assert_eq!(
            PublicKey::from_z85(&"é".repeat(20)),
            Err(KeyError::Character {
                position: 0,
                byte: 0xC3
            })
        );
        assert!(SecretKey::from_z85("").is_err());
    }

    #[test]
    fn secret_debug_hides_bytes() {
        let pair = KeyPair::generate();
        let shown = format!("{pair:?}");
        assert!(!shown.contains(&pair.secret.to_z85()));
        assert!(shown.contains(&pair.public.to_z85()));
    }
}
