//! What one peer may cost an endpoint: queued bytes, calls in flight, exported
//! objects, decoding work. Every limit has a safe default; docs/transport.md
//! ("Limits and quotas") says what happens at each.

use std::time::Duration;

/// The default limit on a received message (all frames together).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 16 * 1024 * 1024;

/// The error class of a call refused because its caller is over a quota.
pub const RESOURCE_EXHAUSTED: &str = "ResourceExhaustedError";

/// Per-peer limits of a server or client, set with `limits(...)` on its builder.
///
/// ```
/// let mut limits = pseud::Limits::default();
/// limits.max_calls_in_flight = 64;
/// let builder = pseud::Server::builder("server").limits(limits);
/// # drop(builder);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The largest message accepted, all frames together (16 MiB). A larger
    /// WORK gets an ERROR reply (`MessageTooLarge`); a frame over twice this (or
    /// a message over four times it) drops the connection before it is read.
    pub max_message_size: usize,
    /// Bytes that may wait to be written to one peer (8 MiB). Past that, replies
    /// and calls for that peer wait in its own queue, nobody else's, and the
    /// connection stops reading from it until it reads what it was sent.
    pub max_queued_bytes: usize,
    /// A peer that takes no bytes for this long while some wait for it is
    /// disconnected (10 s): its calls fail with `Disconnected`, its handlers are
    /// cancelled and what was queued for it is dropped (logged).
    pub write_timeout: Duration,
    /// Calls of one peer whose handlers are still running (1024). One more gets
    /// an ERROR reply of class [`RESOURCE_EXHAUSTED`] at once.
    pub max_calls_in_flight: usize,
    /// Objects (capabilities) one peer may hold exported by this endpoint
    /// (10,000). Exporting one more fails the call that would return it with
    /// [`RESOURCE_EXHAUSTED`].
    pub max_exports: usize,
    /// Decoding a message may build at most this many times its size in values
    /// (8), and always at least [`Limits::decode_floor`] bytes. A message whose
    /// values would take more is refused (`ProtocolError`) before any is built.
    pub decode_factor: usize,
    /// The decoding budget every message has, whatever its size (16 MiB).
    pub decode_floor: usize,
    /// Bodies larger than this (64 KiB) are decoded off the socket task, so
    /// that decoding them never delays other peers' messages.
    pub decode_inline_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_queued_bytes: 8 * 1024 * 1024,
            write_timeout: Duration::from_secs(10),
            max_calls_in_flight: 1024,
            max_exports: 10_000,
            decode_factor: 8,
            decode_floor: 16 * 1024 * 1024,
            decode_inline_max: 64 * 1024,
        }
    }
}

impl Limits {
    /// How many bytes of values decoding a message of `size` bytes may build.
    pub fn decode_budget(&self, size: usize) -> usize {
        size.saturating_mul(self.decode_factor)
            .max(self.decode_floor)
    }
}
