//! Expressions, annotation applications, generic and method parameter lists.

use super::cursor::{MAX_EXPR_DEPTH, PResult, Parser};
use crate::ast::*;
use crate::diagnostics::Span;
use crate::lexer::{Token, TokenKind};

impl Parser<'_> {
    /// `$name` / `$name(value)` applications.  Like the official parser, the name is any
    /// name expression with member and generic-application suffixes
    /// (`$Gen(Text).ann("x")`); a trailing `(...)` is the value, not an application.
    pub(super) fn annotations(&mut self) -> PResult<Vec<AnnotationApp>> {
        let mut out = Vec::new();
        while self.is_op("$") {
            self.pos += 1;
            let base = self.name_base()?;
            let e = self.postfix_from(base)?;
            out.push(match e.kind {
                ExprKind::Application(name, params) => {
                    let span = Span::new(self.file, name.span.end, e.span.end);
                    let value = if params.len() == 1 && params[0].name.is_none() {
                        params.into_iter().next().map(|p| p.value).unwrap_or(Expr {
                            kind: ExprKind::Unknown,
                            span,
                        })
                    } else {
                        Expr {
                            kind: ExprKind::Tuple(params),
                            span,
                        }
                    };
                    AnnotationApp {
                        name: *name,
                        value: Some(value),
                    }
                }
                _ => AnnotationApp {
                    name: e,
                    value: None,
                },
            });
        }
        Ok(out)
    }

    /// The start of a name expression: `a`, `.a` or `import "x"`.
    pub(super) fn name_base(&mut self) -> PResult<Expr> {
        let start = self.here();
        if self.eat_op(".") {
            let n = self.ident()?;
            Ok(Expr {
                span: start.join(n.span),
                kind: ExprKind::AbsoluteName(n),
            })
        } else if self.at_keyword_string("import") {
            self.pos += 1;
            let s = self.string_name()?;
            Ok(Expr {
                span: start.join(s.span),
                kind: ExprKind::Import(s),
            })
        } else {
            let n = self.ident()?;
            Ok(Expr {
                span: n.span,
                kind: ExprKind::RelativeName(n),
            })
        }
    }

    /// A name expression without applications: `a.b.c`, `.a.b`, `import "x".a`.
    pub(super) fn name_expr(&mut self) -> PResult<Expr> {
        let mut e = self.name_base()?;
        while self.is_op(".") {
            self.pos += 1;
            let n = self.ident()?;
            e = Expr {
                span: e.span.join(n.span),
                kind: ExprKind::Member(Box::new(e), n),
            };
        }
        Ok(e)
    }

    /// `( params )`
    pub(super) fn paren_params(&mut self) -> PResult<Vec<Param>> {
        if !matches!(self.peek(), Some(TokenKind::LParen)) {
            return self.fail("expected '('.");
        }
        let open = self.here();
        self.pos += 1;
        let mut out = Vec::new();
        if matches!(self.peek(), Some(TokenKind::RParen)) {
            self.pos += 1;
            return Ok(out);
        }
        loop {
            if matches!(self.peek(), Some(TokenKind::Comma)) {
                let span = self.empty_list_item(open, TokenKind::RParen);
                return Ok(vec![Param {
                    name: None,
                    value: Expr {
                        kind: ExprKind::Unknown,
                        span,
                    },
                }]);
            }
            // named?
            let named = matches!(self.peek(), Some(TokenKind::Ident(_)))
                && matches!(self.toks.get(self.pos + 1).map(|t| &t.kind), Some(TokenKind::Op(o)) if o == "=");
            let name = if named {
                let n = self.ident()?;
                self.pos += 1;
                Some(n)
            } else {
                None
            };
            let value = self.expr()?;
            out.push(Param { name, value });
            if self.comma_or_close(TokenKind::RParen)? {
                return Ok(out);
            }
        }
    }

    pub(super) fn expr(&mut self) -> PResult<Expr> {
        if self.depth >= MAX_EXPR_DEPTH {
            return self.fail("expression is nested too deeply.");
        }
        self.depth += 1;
        let r = self.expr_inner();
        self.depth -= 1;
        r
    }

    pub(super) fn expr_inner(&mut self) -> PResult<Expr> {
        let start = self.here();
        let tok = match self.toks.get(self.pos) {
            Some(t) => t.clone(),
            None => return self.fail("expected expression."),
        };
        let mut e = match tok.kind {
            TokenKind::Op(ref o) if o == "-" => {
                self.pos += 1;
                match self.toks.get(self.pos).map(|t| t.kind.clone()) {
                    Some(TokenKind::Int(v)) => {
                        self.pos += 1;
                        Expr {
                            kind: ExprKind::NegativeInt(v),
                            span: self.toks[self.pos - 1].span,
                        }
                    }
                    Some(TokenKind::Float(f)) => {
                        self.pos += 1;
                        Expr {
                            kind: ExprKind::Float(-f),
                            span: start.join(self.toks[self.pos - 1].span),
                        }
                    }
                    Some(TokenKind::Ident(i)) if i == "inf" => {
                        self.pos += 1;
                        Expr {
                            kind: ExprKind::Float(f64::NEG_INFINITY),
                            span: start.join(self.toks[self.pos - 1].span),
                        }
                    }
                    _ => return self.fail("expected number after '-'."),
                }
            }
            TokenKind::Op(ref o) if o == "." => {
                let e = self.name_expr()?;
                return self.postfix_from(e);
            }
            TokenKind::Int(v) => {
                self.pos += 1;
                Expr {
                    kind: ExprKind::PositiveInt(v),
                    span: tok.span,
                }
            }
            TokenKind::Float(f) => {
                self.pos += 1;
                Expr {
                    kind: ExprKind::Float(f),
                    span: tok.span,
                }
            }
            TokenKind::Str(ref s) => {
                // Adjacent string literals are concatenated.
                self.pos += 1;
                let mut text = s.clone();
                let mut span = tok.span;
                while let Some(Token {
                    kind: TokenKind::Str(more),
                    span: sp,
                }) = self.toks.get(self.pos)
                {
                    text.extend_from_slice(more);
                    span = span.join(*sp);
                    self.pos += 1;
                }
                Expr {
                    kind: ExprKind::String(text),
                    span,
                }
            }
            TokenKind::Binary(ref b) => {
                self.pos += 1;
                Expr {
                    kind: ExprKind::Binary(b.clone()),
                    span: tok.span,
                }
            }
            TokenKind::Ident(ref i)
                if self.at_keyword_string("import") || self.at_keyword_string("embed") =>
            {
                let is_import = i == "import";
                self.pos += 1;
                let s = self.string_name()?;
                Expr {
                    span: start.join(s.span),
                    kind: if is_import {
                        ExprKind::Import(s)
                    } else {
                        ExprKind::Embed(s)
                    },
                }
            }
            TokenKind::Ident(ref i) => {
                self.pos += 1;
                Expr {
                    kind: ExprKind::RelativeName(Name {
                        text: i.clone(),
                        span: tok.span,
                    }),
                    span: tok.span,
                }
            }
            TokenKind::LBracket => {
                self.pos += 1;
                let mut items = Vec::new();
                if matches!(self.peek(), Some(TokenKind::RBracket)) {
                    self.pos += 1;
                } else {
                    loop {
                        if matches!(self.peek(), Some(TokenKind::Comma)) {
                            let span = self.empty_list_item(start, TokenKind::RBracket);
                            return Ok(Expr {
                                kind: ExprKind::Unknown,
                                span,
                            });
                        }
                        items.push(self.expr()?);
                        if self.comma_or_close(TokenKind::RBracket)? {
                            break;
                        }
                    }
                }
                Expr {
                    kind: ExprKind::List(items),
                    span: Span::new(self.file, start.start, self.prev_end()),
                }
            }
            TokenKind::LParen => {
                let mut params = self.paren_params()?;
                // `(x)` is just a parenthesized `x`.
                if params.len() == 1 && params[0].name.is_none() {
                    return Ok(params.remove(0).value);
                }
                Expr {
                    kind: ExprKind::Tuple(params),
                    span: Span::new(self.file, start.start, self.prev_end()),
                }
            }
            _ => return self.fail("expected expression."),
        };
        // Postfix only applies to names.
        if matches!(
            e.kind,
            ExprKind::RelativeName(_) | ExprKind::Import(_) | ExprKind::AbsoluteName(_)
        ) {
            e = self.postfix_from(e)?;
        }
        Ok(e)
    }

    pub(super) fn postfix_from(&mut self, mut e: Expr) -> PResult<Expr> {
        loop {
            if self.is_op(".") {
                self.pos += 1;
                let n = self.ident()?;
                e = Expr {
                    span: e.span.join(n.span),
                    kind: ExprKind::Member(Box::new(e), n),
                };
            } else if matches!(self.peek(), Some(TokenKind::LParen)) {
                let params = self.paren_params()?;
                let span = Span::new(self.file, e.span.start, self.prev_end());
                e = Expr {
                    kind: ExprKind::Application(Box::new(e), params),
                    span,
                };
            } else {
                return Ok(e);
            }
        }
    }

    pub(super) fn type_annotation(&mut self) -> PResult<Expr> {
        self.expect_op(":")?;
        self.expr()
    }

    pub(super) fn generic_params(&mut self) -> PResult<Vec<Name>> {
        let mut out = Vec::new();
        if !matches!(self.peek(), Some(TokenKind::LParen)) {
            return Ok(out);
        }
        self.pos += 1;
        loop {
            out.push(self.ident()?);
            if self.comma_or_close(TokenKind::RParen)? {
                return Ok(out);
            }
        }
    }

    pub(super) fn param_list(&mut self) -> PResult<ParamList> {
        if !matches!(self.peek(), Some(TokenKind::LParen)) {
            return Ok(ParamList::Type(self.expr()?));
        }
        let start = self.here();
        self.pos += 1;
        let mut out = Vec::new();
        if matches!(self.peek(), Some(TokenKind::RParen)) {
            self.pos += 1;
            return Ok(ParamList::Named(
                out,
                Span::new(self.file, start.start, self.prev_end()),
            ));
        }
        loop {
            let pstart = self.here();
            let name = self.ident()?;
            let ty = self.type_annotation()?;
            let default = if self.eat_op("=") {
                Some(self.expr()?)
            } else {
                None
            };
            let annotations = self.annotations()?;
            out.push(ParamDecl {
                name,
                ty,
                default,
                annotations,
                span: Span::new(self.file, pstart.start, self.prev_end()),
            });
            if self.comma_or_close(TokenKind::RParen)? {
                return Ok(ParamList::Named(
                    out,
                    Span::new(self.file, start.start, self.prev_end()),
                ));
            }
        }
    }
}

/// `stream` as a parameter list means the standard `StreamResult` (`Ok`); any other list
/// comes back unchanged (`Err`).
pub(super) fn stream_result(list: ParamList) -> Result<ParamList, ParamList> {
    match list {
        ParamList::Type(Expr {
            kind: ExprKind::RelativeName(ref n),
            span,
        }) if n.text == "stream" => Ok(ParamList::Type(Expr {
            kind: ExprKind::Member(
                Box::new(Expr {
                    kind: ExprKind::Import(Name {
                        text: "/capnp/stream.capnp".into(),
                        span,
                    }),
                    span,
                }),
                Name {
                    text: "StreamResult".into(),
                    span,
                },
            ),
            span,
        })),
        other => Err(other),
    }
}
