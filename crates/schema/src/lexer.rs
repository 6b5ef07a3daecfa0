//! Tokenizer for the Cap'n Proto schema language.
//!
//! The lexer turns source text into a flat list of [`Token`]s, then groups them into
//! [`Statement`]s: a statement is a run of tokens terminated by `;` or by a `{ ... }` block,
//! exactly like the official compiler's lexer.  Doc comments (the comment lines that directly
//! follow a `;` or a `{`) are attached to the statement they document.

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
    fn doc_comment(&mut self) -> Option<String> {
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
        loop {
            doc.push_str(&self.read_comment());
            self.skip_line_ws();
            if self.peek() != Some(b'#') {
                break;
            }
        }
        Some(doc)
    }

    fn next_raw(&mut self) -> Option<Raw> {
        loop {
            match self.peek()? {
                b' ' | b'\t' | b'\r' | b'\n' => self.pos += 1,
                b'#' => {
                    self.read_comment();
                }
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
        match c {
            b';' => {
                self.pos += 1;
                let span = self.span(start);
                let doc = self.doc_comment();
                Some(Raw::Semi(span, doc))
            }
            b'{' => {
                self.pos += 1;
                let span = self.span(start);
                let doc = self.doc_comment();
                Some(Raw::LBrace(span, doc))
            }
            b'}' => {
                self.pos += 1;
                let span = self.span(start);
                let doc = self.doc_comment();
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
            // A block-text line (Cap'n Proto 1.0): the rest of the line, raw, with its
            // newline; consecutive lines concatenate like adjacent strings.
            b'`' => {
                self.pos += 1;
                let from = self.pos;
                while matches!(self.peek(), Some(c) if c != b'\n') {
                    self.pos += 1;
                }
                let mut text = self.src[from..self.pos].to_vec();
                if self.peek() == Some(b'\n') {
                    self.pos += 1;
                    text.push(b'\n');
                }
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
                self.next_raw()
            }
        }
    }

    fn string_literal(&mut self) -> Vec<u8> {
        let start = self.pos;
        self.pos += 1; // opening quote
        let mut out: Vec<u8> = Vec::new();
        loop {
            let Some(c) = self.peek() else {
                self.error(start, "Parse error: unterminated string literal.");
                break;
            };
            self.pos += 1;
            match c {
                b'"' => break,
                b'\n' => {
                    self.pos -= 1;
                    self.error(start, "Parse error: unterminated string literal.");
                    break;
                }
                b'\\' => {
                    let esc_start = self.pos - 1;
                    let Some(e) = self.peek() else { continue };
                    self.pos += 1;
                    match e {
                        b'a' => out.push(7),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'n' => out.push(b'\n'),
                        b'r' => out.push(b'\r'),
                        b't' => out.push(b'\t'),
                        b'v' => out.push(11),
                        b'\'' => out.push(b'\''),
                        b'"' => out.push(b'"'),
                        b'\\' => out.push(b'\\'),
                        b'?' => out.push(b'?'),
                        b'x' => {
                            // Exactly two hex digits, as in the official lexer.
                            let h = self.peek().and_then(|c| (c as char).to_digit(16));
                            let l = self.peek_at(1).and_then(|c| (c as char).to_digit(16));
                            match (h, l) {
                                (Some(h), Some(l)) => {
                                    self.pos += 2;
                                    out.push((h * 16 + l) as u8);
                                }
                                _ => self.error(esc_start, "Parse error: invalid escape sequence."),
                            }
                        }
                        b'0'..=b'7' => {
                            let mut v: u32 = u32::from(e - b'0');
                            let mut n = 1;
                            while n < 3 {
                                match self.peek() {
                                    Some(c @ b'0'..=b'7') => {
                                        v = v * 8 + u32::from(c - b'0');
                                        self.pos += 1;
                                        n += 1;
                                    }
                                    _ => break,
                                }
                            }
                            out.push(v as u8);
                        }
                        _ => self.error(esc_start, "Parse error: invalid escape sequence."),
                    }
                }
                c => out.push(c),
            }
        }
        out
    }

    fn number(&mut self) -> Token {
        let start = self.pos;
        let src = self.src;
        // Binary literal 0x"..."
        if src[start..].starts_with(b"0x\"") {
            self.pos += 3;
            let mut bytes = Vec::new();
            let mut pending: Option<u32> = None;
            loop {
                let Some(c) = self.peek() else {
                    self.error(start, "Parse error: unterminated binary literal.");
                    break;
                };
                self.pos += 1;
                match c {
                    b'"' => break,
                    b' ' | b'\t' | b'\r' | b'\n' => {
                        // Whitespace may separate bytes, not the two digits of one byte.
                        if pending.take().is_some() {
                            self.error(self.pos - 1, "Parse error: a byte needs two hex digits.");
                        }
                    }
                    c => match (c as char).to_digit(16) {
                        Some(d) => match pending.take() {
                            Some(h) => bytes.push((h * 16 + d) as u8),
                            None => pending = Some(d),
                        },
                        None => {
                            self.error(self.pos - 1, "Parse error: invalid binary literal.");
                        }
                    },
                }
            }
            if pending.is_some() {
                self.error(
                    start,
                    "Parse error: odd number of hex digits in binary literal.",
                );
            } else if bytes.is_empty() {
                self.error(start, "Parse error: empty binary literal.");
            }
            return Token {
                kind: TokenKind::Binary(bytes),
                span: self.span(start),
            };
        }
        let kind;
        if src[start..].starts_with(b"0x") || src[start..].starts_with(b"0X") {
            self.pos += 2;
            let ds = self.pos;
            while matches!(self.peek(), Some(c) if c.is_ascii_hexdigit()) {
                self.pos += 1;
            }
            let digits = std::str::from_utf8(&src[ds..self.pos]).unwrap_or("");
            kind = match wrapping_parse(digits, 16) {
                Some(v) => TokenKind::Int(v),
                None => {
                    self.error(start, "Parse error: invalid integer literal.");
                    TokenKind::Int(0)
                }
            };
        } else {
            while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
                self.pos += 1;
            }
            let mut is_float = false;
            let exponent_after_dot = matches!(self.peek_at(1), Some(b'e' | b'E'))
                && (matches!(self.peek_at(2), Some(c) if c.is_ascii_digit())
                    || (matches!(self.peek_at(2), Some(b'+' | b'-'))
                        && matches!(self.peek_at(3), Some(c) if c.is_ascii_digit())));
            if self.peek() == Some(b'.')
                && (exponent_after_dot
                    || !matches!(self.peek_at(1), Some(c) if c.is_ascii_alphabetic() || c == b'_' || c == b'.'))
            {
                // `1.5`, and also `1.` as the official lexer accepts it.
                is_float = true;
                self.pos += 1;
                while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
                    self.pos += 1;
                }
            }
            if matches!(self.peek(), Some(b'e' | b'E')) {
                let save = self.pos;
                self.pos += 1;
                if matches!(self.peek(), Some(b'+' | b'-')) {
                    self.pos += 1;
                }
                if matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
                    is_float = true;
                    while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
                        self.pos += 1;
                    }
                } else {
                    self.pos = save;
                }
            }
            let text = std::str::from_utf8(&src[start..self.pos]).unwrap_or("0");
            if is_float {
                kind = TokenKind::Float(text.parse().unwrap_or(0.0));
            } else if text.len() > 1 && text.starts_with('0') {
                kind = match wrapping_parse(&text[1..], 8) {
                    Some(v) => TokenKind::Int(v),
                    None => {
                        self.error(start, "Parse error: invalid octal literal.");
                        TokenKind::Int(0)
                    }
                };
            } else {
                kind = match wrapping_parse(text, 10) {
                    Some(v) => TokenKind::Int(v),
                    None => {
                        self.error(start, "Parse error: invalid integer literal.");
                        TokenKind::Int(0)
                    }
                };
            }
        }
        // An identifier glued to a number is a parse error in the official lexer.
        if matches!(self.peek(), Some(c) if c.is_ascii_alphabetic() || c == b'_') {
            while matches!(self.peek(), Some(c) if c.is_ascii_alphanumeric() || c == b'_') {
                self.pos += 1;
            }
            self.error(start, "Parse error: invalid number literal.");
        }
        Token {
            kind,
            span: self.span(start),
        }
    }
}

/// Parses digits in `radix`, wrapping modulo 2^64 on overflow like the official lexer
/// (range errors are then reported against the target type).
fn wrapping_parse(digits: &str, radix: u32) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(radix)?;
        v = v.wrapping_mul(u64::from(radix)).wrapping_add(u64::from(d));
    }
    Some(v)
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

fn group(
    iter: &mut std::iter::Peekable<std::vec::IntoIter<Raw>>,
    diags: &mut Diagnostics,
    file: usize,
    depth: u32,
    len: usize,
) -> (Vec<Statement>, Option<String>) {
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
            return (out, None);
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
                let (block, after) = if depth + 1 >= MAX_BLOCK_DEPTH {
                    diags.error(span, "Parse error: declarations are nested too deeply.");
                    skip_block(iter);
                    (Vec::new(), None)
                } else {
                    group(iter, diags, file, depth + 1, len)
                };
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
                    return (out, doc);
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

    #[test]
    fn unterminated_things_are_errors() {
        assert!(toks("a \"abc").1.has_errors());
        assert!(toks("a {").1.has_errors());
        assert!(toks("}").1.has_errors());
        assert!(toks("a b").1.has_errors());
    }
}
