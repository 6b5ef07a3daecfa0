//! Why a value could not be encoded to or decoded from msgpack: shared by the
//! value layer (`value`) and the reader under it (`msgpack`), which so need not
//! know each other's errors.

/// Why a value could not be encoded to, or decoded from, msgpack.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// serde could not encode the value.
    #[error("{0}")]
    Encode(#[from] rmp_serde::encode::Error),
    /// The bytes are not one valid msgpack value.
    #[error("undecodable msgpack: {0}")]
    Undecodable(#[source] rmpv::decode::Error),
    /// A valid value followed by more bytes.
    #[error("undecodable msgpack: {0} trailing bytes after the value")]
    TrailingBytes(usize),
    /// The reserved marker 0xc1, which rmpv would read as nil.
    #[error("undecodable msgpack: reserved byte 0xc1")]
    ReservedByte,
    /// The bytes end inside a value (or a length claims more than there is).
    #[error("undecodable msgpack: truncated (a length runs past the end)")]
    Truncated,
    /// Arrays and maps nested deeper than the limit.
    #[error("undecodable msgpack: nested deeper than {limit} levels")]
    TooDeep {
        /// The nesting limit.
        limit: usize,
    },
    /// Decoding would take more memory than allowed for a message of this size.
    #[error(
        "msgpack value refused: decoding it would take {needed} bytes, over the budget of {budget} (see Limits::decode_factor)"
    )]
    TooComplex {
        /// What decoding would take.
        needed: usize,
        /// What is allowed.
        budget: usize,
    },
    /// The value does not fit the requested type.
    #[error("{0}")]
    Mismatch(#[from] rmpv::ext::Error),
}
