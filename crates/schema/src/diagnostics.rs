//! Error reporting: spans, diagnostics and their `file:line:col` rendering.

use std::fmt;

/// A byte range inside one source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Span {
    /// Index of the file in the compiler's file table.
    pub file: usize,
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// Creates a span.
    pub fn new(file: usize, start: usize, end: usize) -> Self {
        Span { file, start, end }
    }

    /// The smallest span covering both.
    pub fn join(self, other: Span) -> Span {
        Span {
            file: self.file,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// One error found in a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Display name of the file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based line where the span ends (after `line` for a multi-line declaration).
    pub end_line: usize,
    /// 1-based column (in bytes).
    pub col: usize,
    /// 1-based end column on the same line (exclusive), for the caret underline.
    pub end_col: usize,
    /// The message.
    pub message: String,
    /// The source line the error is on (empty when unknown).
    pub source_line: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            // Not tied to a position (e.g. a file that cannot be read).
            return write!(f, "error: {}", self.message);
        }
        // Like the official compiler: `line:col-end` (end exclusive) within one line,
        // `line:col` for an empty span, only `line` for a span over several lines.
        write!(f, "{}:{}", self.file, self.line)?;
        if self.end_line == self.line {
            write!(f, ":{}", self.col)?;
            if self.end_col > self.col {
                write!(f, "-{}", self.end_col)?;
            }
        }
        write!(f, ": error: {}", self.message)?;
        if !self.source_line.is_empty() {
            let width = self.end_col.saturating_sub(self.col).max(1);
            let pad: String = self
                .source_line
                .bytes()
                .take(self.col.saturating_sub(1))
                .map(|b| if b == b'\t' { '\t' } else { ' ' })
                .collect();
            write!(
                f,
                "\n  {}\n  {}{}",
                self.source_line,
                pad,
                "^".repeat(width)
            )?;
        }
        Ok(())
    }
}

/// Errors collected while compiling; rendered as `file:line:col: error: message` with the
/// offending source line and a caret.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
pub struct Diagnostics {
    /// The errors, in the order they were found (sorted by file and position on output).
    pub errors: Vec<Diagnostic>,
    #[doc(hidden)]
    pub(crate) pending: Vec<(Span, String)>,
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl Diagnostics {
    /// Records an error at `span` (resolved to line/column later).
    pub fn error(&mut self, span: Span, message: impl Into<String>) {
        let message = message.into();
        tracing::debug!(?span, %message, "schema error");
        self.pending.push((span, message));
    }

    /// Whether any error was recorded.
    pub fn has_errors(&self) -> bool {
        !self.errors.is_empty() || !self.pending.is_empty()
    }

    /// Resolves pending spans into line/column diagnostics.
    pub(crate) fn resolve(&mut self, files: &[(String, String)]) {
        let mut pending = std::mem::take(&mut self.pending);
        pending.sort_by_key(|(s, _)| (s.file, s.start, s.end));
        pending.dedup();
        // Lines counted so far in the current file: spans come sorted, so each
        // newline is counted once (counting from the top for every error made a
        // file with many errors quadratic).
        let mut counted: Option<(usize, usize, usize)> = None;
        for (span, message) in pending {
            let (name, text) = match files.get(span.file) {
                Some((n, t)) => (n.as_str(), t.as_str()),
                None => ("<unknown>", ""),
            };
            let mut start = span.start.min(text.len());
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let line_start = text[..start].rfind('\n').map(|i| i + 1).unwrap_or(0);
            let line_end = text[start..]
                .find('\n')
                .map(|i| start + i)
                .unwrap_or(text.len());
            let (from, lines_before) = match counted {
                Some((file, pos, lines)) if file == span.file && pos <= start => (pos, lines),
                _ => (0, 0),
            };
            let line = lines_before + text[from..start].matches('\n').count() + 1;
            counted = Some((span.file, start, line - 1));
            let col = start - line_start + 1;
            // A span ending just after a newline ends on the next line (the official
            // compiler then prints only the line).
            let end_line = line
                + text
                    .get(start..span.end.min(text.len()))
                    .map_or(0, |t| t.matches('\n').count());
            let end = span.end.clamp(start, line_end);
            let end_col = end - line_start + 1;
            self.errors.push(Diagnostic {
                file: name.to_string(),
                line,
                end_line,
                col,
                end_col,
                message,
                source_line: text[line_start..line_end]
                    .trim_end_matches('\r')
                    .to_string(),
            });
        }
    }
}
