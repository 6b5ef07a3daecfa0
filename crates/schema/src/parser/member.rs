//! Members: fields, named unions and groups (in structs), enumerants, methods.

use super::BlockCtx;
use super::cursor::{PResult, Parser};
use super::expr::stream_result;
use crate::ast::*;
use crate::lexer::TokenKind;

/// The official compiler's message for `name @N :union` without `!`.
const UNION_ORDINAL: &str = "As of Cap'n Proto v0.3, it is no longer necessary to assign numbers to unions. However, removing the number will break binary compatibility. If this is an old protocol and you need to retain compatibility, please add an exclamation point after the number to indicate that it is really needed, e.g. `foo @1! :union {`. If this is a new protocol or compatibility doesn't matter, just remove the @n entirely. Sorry for the inconvenience, and thanks for being an early adopter!  :)";

impl Parser<'_> {
    /// `name @N ...`: what follows the ordinal decides the kind of member.
    pub(super) fn member(&mut self, mut d: Decl) -> PResult<Decl> {
        d.name = self.ident()?;
        d.id = self.ordinal_opt()?;
        let bang = self.eat_op("!");
        // Before v0.3 a named union was `name @N union {`: the official parser still reads
        // it as a union and reports the missing colon, so the members' ordinals count.
        let old_union = !self.is_op(":") && self.at_block_keyword("union");
        if bang && ((!self.is_op(":") && !old_union) || matches!(d.id, DeclId::None)) {
            return self.fail("'!' is only allowed after a union's ordinal.");
        }
        if old_union {
            let at = match d.id {
                DeclId::Ordinal(_, sp) => sp,
                _ => self.here(),
            };
            self.diags.error(at, "As of Cap'n Proto v0.3, the 'union' keyword should be prefixed with a colon for named unions, e.g. `foo :union {`.");
        }
        if !old_union && !self.eat_op(":") {
            return self.method_or_enumerant(d);
        }
        if self.at_block_keyword("union") {
            self.pos += 1;
            return self.named_union(d, bang);
        }
        if bang {
            // `@N!` is only meaningful on unions.
            return self.fail("'!' is only allowed after a union's ordinal.");
        }
        // With an ordinal, `name @N :group` is a field of a type named `group` (the
        // official grammar reads it so and reports the name as not defined).
        if matches!(d.id, DeclId::None) && self.at_block_keyword("group") {
            self.pos += 1;
            return self.group(d);
        }
        self.field(d)
    }

    /// `kw` ends the statement or only annotations follow (`foo :union $a {`).
    fn at_block_keyword(&self, kw: &str) -> bool {
        self.is_kw(kw) && (self.toks.len() == self.pos + 1 || self.is_op_at(1, "$"))
    }

    fn named_union(&mut self, mut d: Decl, bang: bool) -> PResult<Decl> {
        if let (DeclId::Ordinal(_, sp), false) = (d.id, bang) {
            self.diags.error(sp, UNION_ORDINAL);
        }
        d.annotations = self.annotations()?;
        d.kind = DeclKind::Union;
        self.finish(true)?;
        Ok(d)
    }

    fn group(&mut self, mut d: Decl) -> PResult<Decl> {
        d.annotations = self.annotations()?;
        d.kind = DeclKind::Group;
        self.finish(true)?;
        Ok(d)
    }

    /// `name @N :Type = default $ann;`
    fn field(&mut self, mut d: Decl) -> PResult<Decl> {
        let ty = self.expr()?;
        let default = if self.eat_op("=") {
            Some(self.expr()?)
        } else {
            None
        };
        d.annotations = self.annotations()?;
        self.require_ordinal(&d, "field")?;
        d.kind = DeclKind::Field { ty, default };
        self.finish(false)?;
        Ok(d)
    }

    fn require_ordinal(&mut self, d: &Decl, what: &str) -> PResult<()> {
        if matches!(d.id, DeclId::None) {
            self.diags.error(
                d.name.span,
                format!("Parse error: {what} is missing its ordinal '@N'."),
            );
            return Err(());
        }
        Ok(())
    }

    fn method_or_enumerant(&mut self, d: Decl) -> PResult<Decl> {
        // Only interfaces have methods; elsewhere a member needs ':' or nothing.
        if self.ctx != BlockCtx::Interface && !self.at_end() && !self.is_op("$") {
            return self.fail("expected ':'.");
        }
        let method_follows = matches!(
            self.peek(),
            Some(TokenKind::LParen) | Some(TokenKind::LBracket)
        ) || (matches!(
            self.peek(),
            Some(TokenKind::Ident(_)) | Some(TokenKind::Op(_))
        ) && !self.is_op("$"));
        if method_follows {
            self.method(d)
        } else {
            self.enumerant(d)
        }
    }

    /// `name @N [Implicit] (params) -> (results) $ann;`
    fn method(&mut self, mut d: Decl) -> PResult<Decl> {
        if matches!(self.peek(), Some(TokenKind::LBracket)) {
            self.pos += 1;
            loop {
                d.params.push(self.ident()?);
                if self.comma_or_close(TokenKind::RBracket)? {
                    break;
                }
            }
        }
        let params = match stream_result(self.param_list()?) {
            Ok(p) => {
                let span = match &p {
                    ParamList::Type(e) => e.span,
                    ParamList::Named(_, span) => *span,
                };
                self.diags
                    .error(span, "'stream' can only appear after '->', not before.");
                p
            }
            Err(p) => p,
        };
        let results = if self.eat_op("->") {
            let r = self.param_list()?;
            Some(stream_result(r).unwrap_or_else(|r| r))
        } else {
            None
        };
        d.annotations = self.annotations()?;
        self.require_ordinal(&d, "method")?;
        d.kind = DeclKind::Method { params, results };
        self.finish(false)?;
        Ok(d)
    }

    /// `name @N $ann;`
    fn enumerant(&mut self, mut d: Decl) -> PResult<Decl> {
        d.annotations = self.annotations()?;
        self.require_ordinal(&d, "enumerant")?;
        d.kind = DeclKind::Enumerant;
        self.finish(false)?;
        Ok(d)
    }
}
