//! Literals: strings (with escapes) and numbers (decimal, hex, octal, floats).

use super::{Lexer, Token, TokenKind};

impl Lexer<'_> {
    pub(super) fn string_literal(&mut self) -> Vec<u8> {
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

    pub(super) fn number(&mut self) -> Token {
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
