//! Why a value could not be encoded or decoded: decoding errors carry a path to
//! the offending value; encoding fails only for interfaces (capabilities).

use pseud::Value;

/// A value that does not fit its schema type; says where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message}", path_prefix(.path))]
pub struct DecodeError {
    /// Where, outermost first: field names and `[index]`es.
    pub path: Vec<String>,
    /// What is wrong.
    pub message: String,
}

fn path_prefix(path: &[String]) -> String {
    if path.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    for (i, p) in path.iter().enumerate() {
        if i > 0 && !p.starts_with('[') {
            out.push('.');
        }
        out.push_str(p);
    }
    out.push_str(": ");
    out
}

impl DecodeError {
    /// An error with a message and no path yet.
    pub fn new(message: impl Into<String>) -> Self {
        DecodeError {
            path: Vec::new(),
            message: message.into(),
        }
    }

    /// "expected T, got <kind> <value>".
    pub fn expected(what: &str, got: &Value) -> Self {
        let mut shown = got.to_string();
        if shown.len() > 60 {
            let cut = (0..=60)
                .rev()
                .find(|i| shown.is_char_boundary(*i))
                .unwrap_or(0);
            shown.truncate(cut);
            shown.push('…');
        }
        DecodeError::new(format!(
            "expected {what}, got {} {shown}",
            pseud::value::kind(got)
        ))
    }

    /// The same error, one level further in (`field` or `[i]`).
    pub fn at(mut self, segment: impl Into<String>) -> Self {
        self.path.insert(0, segment.into());
        self
    }
}

/// An interface (capability) in a value could not be encoded for its peer.
/// Everything else always encodes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The value is not being sent to a peer ([`Caps::NONE`](crate::Caps::NONE), as
    /// in [`to_value`](crate::to_value)): an interface only travels as the
    /// argument or result of a call.
    #[error("an interface can only be encoded as part of a call: this value goes to no peer")]
    NoPeer,
    /// The remote (a user id, `send_to`) has no connection to export to.
    #[error("an interface cannot travel to {peer}, which is not connected")]
    NotConnected {
        /// The remote, as it prints.
        peer: String,
    },
    /// A pipelined interface whose call has not returned (or failed) cannot be
    /// passed on: await `Stub::resolved` first.
    #[error(
        "a pipelined interface cannot be passed on before the call it comes from has returned (await its stub's resolved())"
    )]
    Unresolved,
    /// The peer holds as many objects exported by this endpoint as it may.
    #[error(
        "the peer holds {limit} objects exported by this endpoint, as many as it may (Limits::max_exports)"
    )]
    ExportRefused {
        /// `Limits::max_exports`.
        limit: usize,
    },
}

impl EncodeError {
    /// The ERROR reply of a call whose result could not be encoded.
    pub(crate) fn fault(&self) -> pseud::Fault {
        let class = match self {
            EncodeError::ExportRefused { .. } => pseud::RESOURCE_EXHAUSTED,
            _ => crate::CAPABILITY_ERROR,
        };
        pseud::Fault::new(class, self.to_string())
    }
}

impl From<EncodeError> for pseud::Error {
    fn from(e: EncodeError) -> Self {
        pseud::Error::Encode {
            what: "an interface".into(),
            reason: e.to_string(),
        }
    }
}
