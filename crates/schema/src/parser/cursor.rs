//! The token cursor of one statement and its helpers.

use super::BlockCtx;
use crate::ast::{DeclId, Name};
use crate::diagnostics::{Diagnostics, Span};
use crate::lexer::{Statement, Token, TokenKind};

/// Parses the tokens of one statement.
pub(super) struct Parser<'a> {
    pub(super) toks: &'a [Token],
    pub(super) pos: usize,
    pub(super) diags: &'a mut Diagnostics,
    pub(super) file: usize,
    /// End of the statement (for errors at its end).
    end: usize,
    /// The kind of block the statement is in.
    pub(super) ctx: BlockCtx,
    /// Current expression nesting.
    pub(super) depth: u32,
    /// Whether the statement ends with a `{ ... }` block rather than `;`.
    pub(super) has_block: bool,
    /// The whole statement.
    pub(super) stmt: Span,
}

/// Expressions nested deeper than this are rejected (keeps recursion bounded).
pub(super) const MAX_EXPR_DEPTH: u32 = 64;

/// A parse step: errors are reported to the diagnostics when they happen, so the error
/// carries nothing.
pub(super) type PResult<T> = Result<T, ()>;

impl<'a> Parser<'a> {
    pub(super) fn new(
        s: &'a Statement,
        diags: &'a mut Diagnostics,
        file: usize,
        ctx: BlockCtx,
    ) -> Self {
        Parser {
            toks: &s.tokens,
            pos: 0,
            diags,
            file,
            end: s.span.end,
            ctx,
            depth: 0,
            has_block: s.block.is_some(),
            stmt: s.span,
        }
    }
}

impl Parser<'_> {
    /// The statement must end here, with a block (`want_block`) or with `;`.
    pub(super) fn finish(&mut self, want_block: bool) -> PResult<()> {
        self.expect_end()?;
        // The official parser reports this and keeps the declaration.
        if want_block != self.has_block {
            let msg = if want_block {
                "This statement should end with a block, not a semicolon."
            } else {
                "This statement should end with a semicolon, not a block."
            };
            self.diags.error(self.stmt, msg);
        }
        Ok(())
    }

    pub(super) fn peek(&self) -> Option<&TokenKind> {
        self.toks.get(self.pos).map(|t| &t.kind)
    }

    pub(super) fn here(&self) -> Span {
        match self.toks.get(self.pos) {
            Some(t) => t.span,
            None => Span::new(self.file, self.end.saturating_sub(1), self.end),
        }
    }

    pub(super) fn prev_end(&self) -> usize {
        if self.pos == 0 {
            self.here().start
        } else {
            self.toks[self.pos - 1].span.end
        }
    }

    pub(super) fn fail<T>(&mut self, msg: &str) -> PResult<T> {
        let span = self.here();
        self.diags.error(span, format!("Parse error: {msg}"));
        Err(())
    }

    pub(super) fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(TokenKind::Op(o)) if o == op)
    }

    pub(super) fn eat_op(&mut self, op: &str) -> bool {
        if self.is_op(op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(super) fn expect_op(&mut self, op: &str) -> PResult<()> {
        if self.eat_op(op) {
            Ok(())
        } else {
            self.fail(&format!("expected '{op}'."))
        }
    }

    pub(super) fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(TokenKind::Ident(i)) if i == kw)
    }

    pub(super) fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    pub(super) fn ident(&mut self) -> PResult<Name> {
        match self.toks.get(self.pos) {
            Some(Token {
                kind: TokenKind::Ident(s),
                span,
            }) => {
                let n = Name {
                    text: s.clone(),
                    span: *span,
                };
                self.pos += 1;
                Ok(n)
            }
            _ => self.fail("expected identifier."),
        }
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }

    pub(super) fn expect_end(&mut self) -> PResult<()> {
        if self.at_end() {
            Ok(())
        } else {
            self.fail("unexpected token.")
        }
    }

    /// `@N` (ordinal or id).
    pub(super) fn at_number(&mut self) -> PResult<(u64, Span)> {
        self.expect_op("@")?;
        match self.toks.get(self.pos) {
            Some(Token {
                kind: TokenKind::Int(v),
                span,
            }) => {
                let v = *v;
                let span = *span;
                self.pos += 1;
                Ok((v, span))
            }
            _ => self.fail("expected number after '@'."),
        }
    }

    pub(super) fn uid_opt(&mut self) -> PResult<DeclId> {
        if self.is_op("@") {
            let (v, span) = self.at_number()?;
            Ok(DeclId::Uid(v, span))
        } else {
            Ok(DeclId::None)
        }
    }

    pub(super) fn ordinal_opt(&mut self) -> PResult<DeclId> {
        if self.is_op("@") {
            let (v, span) = self.at_number()?;
            if v > 65535 {
                self.diags
                    .error(span, "Ordinals cannot be greater than 65535.");
            }
            Ok(DeclId::Ordinal(v, span))
        } else {
            Ok(DeclId::None)
        }
    }

    /// Whether the next tokens are `import "..."` / `embed "..."` (`kw` is either keyword).
    /// Otherwise the word is an ordinary identifier: `$import(...)` applies an annotation
    /// named `import`, as in go-capnp's `go.capnp`.
    pub(super) fn at_keyword_string(&self, kw: &str) -> bool {
        self.is_kw(kw)
            && matches!(
                self.toks.get(self.pos + 1).map(|t| &t.kind),
                Some(TokenKind::Str(_))
            )
    }

    pub(super) fn string_name(&mut self) -> PResult<Name> {
        match self.toks.get(self.pos) {
            Some(Token {
                kind: TokenKind::Str(s),
                span,
            }) => {
                let n = Name {
                    text: String::from_utf8_lossy(s).into_owned(),
                    span: *span,
                };
                self.pos += 1;
                Ok(n)
            }
            _ => self.fail("expected string literal."),
        }
    }

    /// After a list element: consumes `,` or the closer (a trailing `,` before the closer is
    /// allowed); returns whether the list is closed.
    pub(super) fn comma_or_close(&mut self, close: TokenKind) -> PResult<bool> {
        match self.peek() {
            Some(TokenKind::Comma) => {
                self.pos += 1;
                if self.peek() == Some(&close) {
                    self.pos += 1;
                    return Ok(true);
                }
                Ok(false)
            }
            Some(k) if *k == close => {
                self.pos += 1;
                Ok(true)
            }
            _ => {
                let c = if close == TokenKind::RParen { ')' } else { ']' };
                self.fail(&format!("expected ',' or '{c}'."))
            }
        }
    }

    /// `[a, , b]`: reported over the whole list, as the official parser does, which then
    /// goes on after the list (so the declaration and its ordinal still count).
    pub(super) fn empty_list_item(&mut self, open: Span, close: TokenKind) -> Span {
        let opener = if close == TokenKind::RParen {
            TokenKind::LParen
        } else {
            TokenKind::LBracket
        };
        let mut depth = 1usize;
        let mut end = self.end;
        let mut after = self.toks.len();
        for (i, t) in self.toks.iter().enumerate().skip(self.pos) {
            if t.kind == opener {
                depth += 1;
            } else if t.kind == close {
                depth -= 1;
                if depth == 0 {
                    end = t.span.end;
                    after = i + 1;
                    break;
                }
            }
        }
        self.pos = after;
        let span = Span::new(self.file, open.start, end);
        self.diags.error(span, "Parse error: Empty list item.");
        span
    }

    pub(super) fn is_op_at(&self, off: usize, op: &str) -> bool {
        matches!(self.toks.get(self.pos + off).map(|t| &t.kind), Some(TokenKind::Op(o)) if o == op)
    }
}
