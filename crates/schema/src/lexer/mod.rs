//! Tokenizer for the Cap'n Proto schema language.
//!
//! The lexer turns source text into a flat list of [`Token`]s, then groups them into
//! [`Statement`]s: a statement is a run of tokens terminated by `;` or by a `{ ... }` block,
//! exactly like the official compiler's lexer.  Doc comments (the comment lines that directly
//! follow a `;` or a `{`) are attached to the statement they document.

mod literals;

use crate::diagnostics::{Diagnostics, Span};

/// One lexical token.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// An identifier or keyword.
    Ident(String),
    /// An integer literal (decimal, hex or octal).
    Int(u64),
    /// A floating-point literal.
    Float(f64),
    /// A string literal, escapes decoded (bytes: `\xff` need not be UTF-8).
    Str(Vec<u8>),
    /// A binary literal `0x"..."`.
    Binary(Vec<u8>),
    /// A run of operator characters, e.g. `:`, `=`, `->`, `@`, `$`, `.`.
    Op(String),
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
}

/// A token with its byte span.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Where it is.
    pub span: Span,
}

/// A statement: tokens followed by `;` or by a block.
#[derive(Debug, Clone)]
pub struct Statement {
    /// The tokens before the terminator.
    pub tokens: Vec<Token>,
    /// The nested statements, when the statement ends with a block.
    pub block: Option<Vec<Statement>>,
    /// The doc comment following the terminator (`;` or `{`).
    pub doc: Option<String>,
    /// The span from the first token to the terminator.
    pub span: Span,
}

const OP_CHARS: &[u8] = b"!$%&*+-./:<=>?@^|~";

enum Raw {
    Tok(Token),
    Semi(Span, Option<String>),
    LBrace(Span, Option<String>),
    RBrace(Span, Option<String>),
}

struct Lexer<'a> {
    src: &'a [u8],
    pos: usize,
    diags: &'a mut Diagnostics,
    file: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<u8> {
        self.src.get(self.pos).copied()
    }
    fn peek_at(&self, n: usize) -> Option<u8> {
        self.src.get(self.pos + n).copied()
    }
    fn span(&self, start: usize) -> Span {
        Span::new(self.file, start, self.pos)
    }
    fn error(&mut self, start: usize, msg: impl Into<String>) {
        let span = Span::new(
            self.file,
            start,
            self.pos.max(start + 1).min(self.src.len()),
        );
        self.diags.error(span, msg);
    }

    fn skip_line_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Reads a comment starting at `#`, returning its text (with one leading space removed).
    fn read_comment(&mut self) -> String {
        debug_assert_eq!(self.peek(), Some(b'#'));
        self.pos += 1;
        if self.peek() == Some(b' ') {
            self.pos += 1;
        }
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c == b'\n' {
                break;
            }
            self.pos += 1;
        }
        let mut text = String::from_utf8_lossy(&self.src[start..self.pos]).into_owned();
        if text.ends_with('\r') {
            text.pop();
        }
        if self.peek() == Some(b'\n') {
            self.pos += 1;
        }
        text.push('\n');
        text
    }

    /// Doc comment after `;` or `{`: comment lines with no blank line between them, starting
    /// on the same line or the next one.
    /// Also returns where it ends (after its last line's newline): the official lexer counts
    /// a statement's doc comment as part of the statement.
    fn doc_comment_to(&mut self) -> Option<(String, usize)> {
        let save = self.pos;
        self.skip_line_ws();
        if self.peek() == Some(b'\n') {
            self.pos += 1;
            self.skip_line_ws();
        }
        if self.peek() != Some(b'#') {
            self.pos = save;
            return None;
        }
        let mut doc = String::new();
        let mut end;
        loop {
            doc.push_str(&self.read_comment());
            end = self.pos;
            self.skip_line_ws();
            if self.peek() != Some(b'#') {
                break;
            }
        }
        Some((doc, end))
    }

    fn next_raw(&mut self) -> Option<Raw> {
        // A loop, not a recursion, past unexpected characters: a file of them must
        // not overflow the stack (found by fuzzing).
        loop {
            loop {
                match self.peek()? {
                    b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                    b'#' => {
                        self.read_comment();
                    }
                    // A UTF-8 byte-order mark counts as whitespace (as in Cap'n Proto 1.0).
                    0xef if self.src[self.pos..].starts_with(b"\xef\xbb\xbf") => self.pos += 3,
                    _ => break,
                }
            }
            let start = self.pos;
            let c = self.peek()?;
            let simple = |l: &mut Self, kind: TokenKind| {
                l.pos += 1;
                Some(Raw::Tok(Token {
                    kind,
                    span: l.span(start),
                }))
            };
            return match c {
                b';' => {
                    self.pos += 1;
                    let mut span = self.span(start);
                    let doc = self.doc_comment_to().map(|(doc, end)| {
                        span.end = end;
                        doc
                    });
                    Some(Raw::Semi(span, doc))
                }
                b'{' => {
                    self.pos += 1;
                    let mut span = self.span(start);
                    let doc = self.doc_comment_to().map(|(doc, end)| {
                        span.end = end;
                        doc
                    });
                    Some(Raw::LBrace(span, doc))
                }
                b'}' => {
                    self.pos += 1;
                    let mut span = self.span(start);
                    let doc = self.doc_comment_to().map(|(doc, end)| {
                        span.end = end;
                        doc
                    });
                    Some(Raw::RBrace(span, doc))
                }
                b'(' => simple(self, TokenKind::LParen),
                b')' => simple(self, TokenKind::RParen),
                b'[' => simple(self, TokenKind::LBracket),
                b']' => simple(self, TokenKind::RBracket),
                b',' => simple(self, TokenKind::Comma),
                b'"' => {
                    let s = self.string_literal();
                    Some(Raw::Tok(Token {
                        kind: TokenKind::Str(s),
                        span: self.span(start),
                    }))
                }
                // A block-text line (Cap'n Proto 1.0): the rest of the line, raw, ending in
                // `\n` whatever the file's line ending; consecutive lines concatenate like
                // adjacent strings.
                b'`' => {
                    self.pos += 1;
                    let from = self.pos;
                    while matches!(self.peek(), Some(c) if c != b'\n' && c != b'\r') {
                        self.pos += 1;
                    }
                    let mut text = self.src[from..self.pos].to_vec();
                    text.push(b'\n');
                    Some(Raw::Tok(Token {
                        kind: TokenKind::Str(text),
                        span: self.span(start),
                    }))
                }
                b'0'..=b'9' => Some(Raw::Tok(self.number())),
                c if c.is_ascii_alphabetic() || c == b'_' => {
                    while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_') {
                        self.pos += 1;
                    }
                    let text = String::from_utf8_lossy(&self.src[start..self.pos]).into_owned();
                    Some(Raw::Tok(Token {
                        kind: TokenKind::Ident(text),
                        span: self.span(start),
                    }))
                }
                c if OP_CHARS.contains(&c) => {
                    while matches!(self.peek(), Some(c) if OP_CHARS.contains(&c)) {
                        self.pos += 1;
                    }
                    let text = String::from_utf8_lossy(&self.src[start..self.pos]).into_owned();
                    Some(Raw::Tok(Token {
                        kind: TokenKind::Op(text),
                        span: self.span(start),
                    }))
                }
                _ => {
                    // Skip one (possibly multi-byte) character.
                    self.pos += 1;
                    while matches!(self.peek(), Some(c) if (0x80..0xc0).contains(&c)) {
                        self.pos += 1;
                    }
                    self.error(start, "Parse error: unexpected character.");
                    continue;
                }
            };
        }
    }
}

/// Tokenizes `src` and groups the tokens into statements.
pub fn lex(src: &str, file: usize, diags: &mut Diagnostics) -> Vec<Statement> {
    let mut lexer = Lexer {
        src: src.as_bytes(),
        pos: 0,
        diags,
        file,
    };
    let mut raws = Vec::new();
    while let Some(r) = lexer.next_raw() {
        raws.push(r);
    }
    let mut iter = raws.into_iter().peekable();
    group(&mut iter, diags, file, 0, src.len()).0
}

/// Blocks nested deeper than this are rejected (keeps recursion bounded).
const MAX_BLOCK_DEPTH: u32 = 64;

/// Skips to the `}` matching an already-consumed `{` without recursing.
fn skip_block(iter: &mut std::iter::Peekable<std::vec::IntoIter<Raw>>) {
    let mut depth = 1usize;
    for raw in iter.by_ref() {
        match raw {
            Raw::LBrace(..) => depth += 1,
            Raw::RBrace(..) => {
                depth -= 1;
                if depth == 0 {
                    return;
                }
            }
            _ => {}
        }
    }
}

/// Groups tokens into statements up to the end of the block; returns them, the doc comment
/// after the block's `}` and where that `}` is.
fn group(
    iter: &mut std::iter::Peekable<std::vec::IntoIter<Raw>>,
    diags: &mut Diagnostics,
    file: usize,
    depth: u32,
    len: usize,
) -> (Vec<Statement>, Option<String>, Option<Span>) {
    let nested = depth > 0;
    let mut out = Vec::new();
    let mut tokens: Vec<Token> = Vec::new();
    loop {
        let Some(raw) = iter.next() else {
            if !tokens.is_empty() {
                let span = span_of(&tokens, file);
                diags.error(span, "Parse error: statement is missing a terminating ';'.");
            }
            if nested {
                diags.error(
                    Span::new(file, len, len),
                    "Parse error: missing '}' at end of file.",
                );
            }
            return (out, None, None);
        };
        match raw {
            Raw::Tok(t) => tokens.push(t),
            Raw::Semi(span, doc) => {
                let full = if tokens.is_empty() {
                    span
                } else {
                    span_of(&tokens, file).join(span)
                };
                out.push(Statement {
                    tokens: std::mem::take(&mut tokens),
                    block: None,
                    doc,
                    span: full,
                });
            }
            Raw::LBrace(span, doc) => {
                let full = if tokens.is_empty() {
                    span
                } else {
                    span_of(&tokens, file).join(span)
                };
                let (block, after, close) = if depth + 1 >= MAX_BLOCK_DEPTH {
                    diags.error(span, "Parse error: declarations are nested too deeply.");
                    skip_block(iter);
                    (Vec::new(), None, None)
                } else {
                    group(iter, diags, file, depth + 1, len)
                };
                // A declaration spans its block, as in the official compiler's errors.
                let full = close.map_or(full, |c| full.join(c));
                out.push(Statement {
                    tokens: std::mem::take(&mut tokens),
                    block: Some(block),
                    doc: doc.or(after),
                    span: full,
                });
            }
            Raw::RBrace(span, doc) => {
                if !tokens.is_empty() {
                    let s = span_of(&tokens, file);
                    diags.error(s, "Parse error: statement is missing a terminating ';'.");
                    tokens.clear();
                }
                if nested {
                    return (out, doc, Some(span));
                }
                diags.error(span, "Parse error: unmatched '}'.");
            }
        }
    }
}

fn span_of(tokens: &[Token], file: usize) -> Span {
    match (tokens.first(), tokens.last()) {
        (Some(a), Some(b)) => a.span.join(b.span),
        _ => Span::new(file, 0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(src: &str) -> (Vec<Statement>, Diagnostics) {
        let mut d = Diagnostics::default();
        let s = lex(src, 0, &mut d);
        (s, d)
    }

    #[test]
    fn literals() {
        let (s, d) = toks(r#"a 0x1F 017 42 1.5e3 "x\n\x41\101" 0x"de ad" -> ;"#);
        assert!(!d.has_errors());
        let kinds: Vec<TokenKind> = s[0].tokens.iter().map(|t| t.kind.clone()).collect();
        assert_eq!(
            kinds,
            vec![
                TokenKind::Ident("a".into()),
                TokenKind::Int(31),
                TokenKind::Int(15),
                TokenKind::Int(42),
                TokenKind::Float(1500.0),
                TokenKind::Str(b"x\nAA".to_vec()),
                TokenKind::Binary(vec![0xde, 0xad]),
                TokenKind::Op("->".into()),
            ]
        );
    }

    #[test]
    fn doc_comments_follow_terminators() {
        let (s, _) = toks("a; # one\n# two\n\n# not\nb { # blk\n c;\n}\nd {}\n# after\n");
        assert_eq!(s[0].doc.as_deref(), Some("one\ntwo\n"));
        assert_eq!(s[1].doc.as_deref(), Some("blk\n"));
        assert_eq!(s[2].doc.as_deref(), Some("after\n"));
    }

    /// Found by fuzzing (schema_parse): the lexer recursed once per unexpected
    /// character, so a few thousand (control characters, text that is not UTF-8)
    /// overflowed the stack and aborted the compiler.
    #[test]
    fn many_unexpected_characters_do_not_overflow_the_stack() {
        let (s, d) = toks(&"\u{8}\u{fffd}".repeat(100_000));
        assert!(s.is_empty());
        assert_eq!(d.pending.len(), 200_000);
    }

    #[test]
    fn unterminated_things_are_errors() {
        assert!(toks("a \"abc").1.has_errors());
        assert!(toks("a {").1.has_errors());
        assert!(toks("}").1.has_errors());
        assert!(toks("a b").1.has_errors());
    }
}
