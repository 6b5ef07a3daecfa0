//! Errors seen by callers ([`Error`], [`RemoteError`]) and raised by handlers ([`Fault`]).

use std::fmt;
use std::time::Duration;

/// The error class pseud uses for a name that no registration serves.
pub const SERVICE_NOT_FOUND: &str = "ServiceNotFoundError";
/// The error class for arguments that do not fit a function (Python raises `TypeError`).
pub const TYPE_ERROR: &str = "TypeError";
/// The error class for a message that breaks the pseud v1 frame or body rules.
pub const PROTOCOL_ERROR: &str = "ProtocolError";
/// Remote error class of a handler that panicked.
pub const PANIC_ERROR: &str = "PanicError";
/// The error class of a call the endpoint cannot take now (it is stopping).
pub const SERVICE_UNAVAILABLE: &str = "ServiceUnavailableError";
/// The error class of a WORK over the receiver's `max_message_size`.
pub const MESSAGE_TOO_LARGE: &str = "MessageTooLarge";

/// Everything that can go wrong with a call or an endpoint. `Clone`, so that
/// one failure can be reported to every call that waited on it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The remote function raised an error; its class, message and traceback came back.
    #[error(transparent)]
    Remote(#[from] RemoteError),
    /// No reply came within the call's timeout.
    #[error("call {name:?} timed out after {timeout:?}")]
    Timeout {
        /// The called name.
        name: String,
        /// The timeout that ran out.
        timeout: Duration,
    },
    /// The peer is not connected (unknown routing id or user id).
    #[error("{peer} is not connected")]
    Unreachable {
        /// The peer, as it was addressed.
        peer: String,
    },
    /// The connection to the peer was lost while the call was in flight.
    #[error("the connection to {peer} was lost while the call was in flight")]
    Disconnected {
        /// The peer, as it was addressed.
        peer: String,
    },
    /// The peer reads nothing of what it is sent, and its queue is full: the
    /// call was not sent. (A peer that stays so is disconnected.)
    #[error("{peer} is not reading what it is sent ({queued} bytes wait for it)")]
    NotReading {
        /// The peer, as it was addressed.
        peer: String,
        /// The bytes waiting for it.
        queued: usize,
    },
    /// A stub called a method its interface does not have (a method number
    /// past its table, or an object of another interface).
    #[error("{interface} has no method {method}")]
    NoSuchMethod {
        /// The interface called.
        interface: String,
        /// The method, by name or number.
        method: String,
    },
    /// A call on a null capability (an interface field that was never set).
    #[error("a null {interface} capability cannot be called")]
    NullCapability {
        /// Its interface.
        interface: String,
    },
    /// An endpoint string is not one pseud can use.
    #[error(
        "{endpoint:?} is not an endpoint: {reason} (expected tcp://host:port, ipc://path or inproc://name)"
    )]
    BadEndpoint {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Nothing accepted our connection at the endpoint (connection refused, or
    /// the host name does not resolve) for the client's connect grace.
    #[error(
        "nothing accepts connections at {endpoint} (connection refused, or the host name does not resolve): is the server running there?"
    )]
    ConnectionRefused {
        /// The endpoint the client connects to.
        endpoint: String,
    },
    /// The client is connected, but the server there has another name (routing id)
    /// than the one it addresses.
    #[error(
        "the server at {endpoint} is not named {name:?}: set the client's server_name to the server's name"
    )]
    NoSuchServer {
        /// The name the client addresses.
        name: String,
        /// The endpoint it is connected to.
        endpoint: String,
    },
    /// The peer refused our credentials, or refused the call.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The ZeroMQ handshake with the peer failed (often: mismatched security modes).
    #[error("handshake failed: {0}")]
    Handshake(String),
    /// A value could not be encoded to msgpack.
    #[error("cannot encode {what}: {reason}")]
    Encode {
        /// What was being encoded.
        what: String,
        /// Why it failed.
        reason: String,
    },
    /// A reply could not be decoded into the requested type.
    #[error("cannot decode the reply of {name:?}: {reason}")]
    Decode {
        /// The called name.
        name: String,
        /// Why it failed.
        reason: String,
    },
    /// A message exceeds the configured size limit.
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// The message size.
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The server or client was stopped.
    #[error("the endpoint is stopped")]
    Closed,
    /// A server or client could not be set up (runtime, socket, security settings).
    #[error("cannot start: {0}")]
    Setup(String),
    /// A function name could not be registered.
    #[error("cannot register: {0}")]
    Register(String),
    /// A server could not bind an endpoint (in use, no such address, no permission).
    #[error("cannot bind {endpoint}: {source}")]
    Bind {
        /// The endpoint as given.
        endpoint: String,
        /// Why the operating system refused (shared: `io::Error` is not `Clone`).
        source: std::sync::Arc<std::io::Error>,
    },
}

impl Error {
    /// The remote error, if the peer answered with one.
    pub fn remote(&self) -> Option<&RemoteError> {
        match self {
            Error::Remote(r) => Some(r),
            _ => None,
        }
    }
}

/// An ERROR reply: the exception class name, its message and the traceback text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{class}: {message}")]
pub struct RemoteError {
    /// The exception class name, e.g. `ValueError` or `ServiceNotFoundError`.
    pub class: String,
    /// The exception message.
    pub message: String,
    /// The remote traceback text (may be empty).
    pub traceback: String,
}

impl RemoteError {
    /// Whether the remote had no function of the called name.
    pub fn is_service_not_found(&self) -> bool {
        self.class == SERVICE_NOT_FOUND
    }

    /// Whether the remote rejected the arguments.
    pub fn is_type_error(&self) -> bool {
        self.class == TYPE_ERROR
    }
}

/// The error a handler raises; it travels to the caller as an ERROR reply.
///
/// Any `std::error::Error` converts into a `Fault` (so `?` works in handlers); its class
/// is the error's type name. Use [`Fault::new`] to choose the class, for example
/// `Fault::new("ValueError", "boom")` so that a Python caller raises `ValueError`.
/// `Fault` deliberately does not implement `std::error::Error`, which is what makes
/// that blanket conversion possible.
#[derive(Clone, PartialEq, Eq)]
pub struct Fault {
    /// The class name the caller sees.
    pub class: String,
    /// The message the caller sees.
    pub message: String,
    /// Traceback text: where and why, as far as this side knows.
    pub traceback: String,
}

impl Fault {
    /// A fault of the given class and message, with no traceback.
    pub fn new(class: impl Into<String>, message: impl Into<String>) -> Self {
        Fault {
            class: class.into(),
            message: message.into(),
            traceback: String::new(),
        }
    }

    /// A `TypeError`: the arguments do not fit the function.
    pub fn type_error(message: impl Into<String>) -> Self {
        Fault::new(TYPE_ERROR, message)
    }

    /// The `PanicError` a caller sees when the handler of `name` panicked with
    /// `payload` (what `catch_unwind` gives). Logged as an `error` event.
    pub fn from_panic(name: &str, payload: Box<dyn std::any::Any + Send>) -> Self {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-string panic payload".into());
        tracing::error!(name, panic = %what, "handler panicked");
        Fault::new(PANIC_ERROR, format!("{name}() panicked: {what}"))
            .with_traceback(format!("Rust panic in handler {name}: {what}\n"))
    }

    /// Sets the traceback text.
    pub fn with_traceback(mut self, traceback: impl Into<String>) -> Self {
        self.traceback = traceback.into();
        self
    }

    /// The error as a caller sees it.
    pub fn into_remote(self) -> RemoteError {
        RemoteError {
            class: self.class,
            message: self.message,
            traceback: self.traceback,
        }
    }
}

impl fmt::Debug for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fault({}: {})", self.class, self.message)
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.class, self.message)
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for Fault {
    fn from(err: E) -> Self {
        // A remote error passed through keeps its remote class.
        let any: &dyn std::any::Any = &err;
        if let Some(remote) = any.downcast_ref::<RemoteError>() {
            return Fault {
                class: remote.class.clone(),
                message: remote.message.clone(),
                traceback: remote.traceback.clone(),
            };
        }
        if let Some(Error::Remote(remote)) = any.downcast_ref::<Error>() {
            return Fault::from(remote.clone());
        }
        let mut traceback = format!("Rust error {}: {err}\n", std::any::type_name::<E>());
        let mut source = err.source();
        while let Some(cause) = source {
            traceback.push_str(&format!("  caused by: {cause}\n"));
            source = cause.source();
        }
        Fault {
            class: short_type_name::<E>(),
            message: err.to_string(),
            traceback,
        }
    }
}

/// The class a Rust error type travels as: `core::num::error::ParseIntError` →
/// `ParseIntError`; a type merely called `Error` takes its crate or module name
/// (`serde_json::Error` → `SerdeJsonError`), and `std::io::Error` is Python's `OSError`.
fn short_type_name<T: ?Sized>() -> String {
    let full = std::any::type_name::<T>();
    let base = full.split('<').next().unwrap_or(full);
    let segments: Vec<&str> = base.split("::").collect();
    let last = segments.last().copied().unwrap_or(base);
    if last != "Error" {
        return last.to_string();
    }
    if base == "std::io::error::Error" {
        return "OSError".into();
    }
    let owner = segments
        .iter()
        .rev()
        .skip(1)
        .find(|s| **s != "error" && **s != "errors")
        .or(segments.first())
        .copied()
        .unwrap_or("Rust");
    let camel: String = owner
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect();
    format!("{camel}Error")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn std_errors_keep_their_type_name_as_class() {
        let err = "x".parse::<i32>().unwrap_err();
        let fault = Fault::from(err);
        assert_eq!(fault.class, "ParseIntError");
        assert_eq!(fault.message, "invalid digit found in string");
        assert!(fault.traceback.contains("ParseIntError"));
    }

    #[test]
    fn types_called_error_take_their_owner_name() {
        let io = std::io::Error::other("disk");
        assert_eq!(Fault::from(io).class, "OSError");
        let json = serde_json::from_str::<i32>("x").unwrap_err();
        assert_eq!(Fault::from(json).class, "SerdeJsonError");
        assert_eq!(Fault::from(Error::Closed).class, "PseudError");
    }

    #[test]
    fn remote_errors_pass_through_unchanged() {
        let remote = RemoteError {
            class: "ValueError".into(),
            message: "boom".into(),
            traceback: "tb".into(),
        };
        assert_eq!(
            Fault::from(Error::Remote(remote.clone())).into_remote(),
            remote
        );
    }
}
