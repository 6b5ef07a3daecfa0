//! Decoding errors with a path to the offending value.

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
