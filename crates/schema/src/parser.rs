//! Parser: statements → declarations ([`crate::ast`]).

use crate::ast::*;
use crate::diagnostics::{Diagnostics, Span};
use crate::lexer::{Statement, Token, TokenKind, lex};

/// Parses a whole file.  Errors go to `diags`; the returned tree contains every declaration
/// that could be parsed.
pub fn parse_file(src: &str, file: usize, diags: &mut Diagnostics) -> Decl {
    let stmts = lex(src, file, diags);
    let mut root = Decl {
        name: Name {
            text: String::new(),
            span: Span::new(file, 0, 0),
        },
        id: DeclId::None,
        kind: DeclKind::File,
        params: Vec::new(),
        annotations: Vec::new(),
        nested: Vec::new(),
        doc: None,
        span: Span::new(file, 0, src.len()),
    };
    let decls = parse_block(&stmts, file, diags, BlockCtx::File);
    for d in decls {
        match d.kind {
            DeclKind::NakedId => {
                if let DeclId::Uid(..) = root.id {
                    diags.error(d.span, "File can only have one ID.");
                } else {
                    root.id = d.id;
                    root.doc = d.doc;
                }
            }
            DeclKind::NakedAnnotation => root.annotations.extend(d.annotations),
            _ => root.nested.push(d),
        }
    }
    root
}

/// What kind of block a statement appears in (decides how member declarations parse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockCtx {
    File,
    Struct,
    Enum,
    Interface,
    Other,
}

fn parse_block(
    stmts: &[Statement],
    file: usize,
    diags: &mut Diagnostics,
    ctx: BlockCtx,
) -> Vec<Decl> {
    let mut out = Vec::new();
    for s in stmts {
        let mut p = P {
            toks: &s.tokens,
            pos: 0,
            diags,
            file,
            end: s.span.end,
            ctx,
            depth: 0,
        };
        match p.decl(s) {
            Ok(mut d) => {
                d.doc = s.doc.clone();
                if let Some(block) = &s.block {
                    let inner = match d.kind {
                        DeclKind::Struct | DeclKind::Union | DeclKind::Group => BlockCtx::Struct,
                        DeclKind::Enum => BlockCtx::Enum,
                        DeclKind::Interface { .. } => BlockCtx::Interface,
                        _ => BlockCtx::Other,
                    };
                    d.nested = parse_block(block, file, diags, inner);
                }
                out.push(d);
            }
            Err(()) => {
                // Error already reported; skip statement.
            }
        }
    }
    out
}

struct P<'a> {
    toks: &'a [Token],
    pos: usize,
    diags: &'a mut Diagnostics,
    file: usize,
    end: usize,
    ctx: BlockCtx,
    depth: u32,
}

/// Expressions nested deeper than this are rejected (keeps recursion bounded).
const MAX_EXPR_DEPTH: u32 = 64;

type R<T> = Result<T, ()>;

impl P<'_> {
    fn peek(&self) -> Option<&TokenKind> {
        self.toks.get(self.pos).map(|t| &t.kind)
    }
    fn here(&self) -> Span {
        match self.toks.get(self.pos) {
            Some(t) => t.span,
            None => Span::new(self.file, self.end.saturating_sub(1), self.end),
        }
    }
    fn prev_end(&self) -> usize {
        if self.pos == 0 {
            self.here().start
        } else {
            self.toks[self.pos - 1].span.end
        }
    }
    fn fail<T>(&mut self, msg: &str) -> R<T> {
        let span = self.here();
        self.diags.error(span, format!("Parse error: {msg}"));
        Err(())
    }
    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(TokenKind::Op(o)) if o == op)
    }
    fn eat_op(&mut self, op: &str) -> bool {
        if self.is_op(op) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn expect_op(&mut self, op: &str) -> R<()> {
        if self.eat_op(op) {
            Ok(())
        } else {
            self.fail(&format!("expected '{op}'."))
        }
    }
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(TokenKind::Ident(i)) if i == kw)
    }
    fn eat_kw(&mut self, kw: &str) -> bool {
        if self.is_kw(kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn ident(&mut self) -> R<Name> {
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
    fn at_end(&self) -> bool {
        self.pos >= self.toks.len()
    }
    fn expect_end(&mut self) -> R<()> {
        if self.at_end() {
            Ok(())
        } else {
            self.fail("unexpected token.")
        }
    }

    /// `@N` (ordinal or id).
    fn at_number(&mut self) -> R<(u64, Span)> {
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

    fn uid_opt(&mut self) -> R<DeclId> {
        if self.is_op("@") {
            let (v, span) = self.at_number()?;
            Ok(DeclId::Uid(v, span))
        } else {
            Ok(DeclId::None)
        }
    }

    fn ordinal_opt(&mut self) -> R<DeclId> {
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

    /// `$name` / `$name(value)` applications.  Like the official parser, the name is any
    /// name expression with member and generic-application suffixes
    /// (`$Gen(Text).ann("x")`); a trailing `(...)` is the value, not an application.
    fn annotations(&mut self) -> R<Vec<AnnotationApp>> {
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

    /// Whether the next tokens are `import "..."` / `embed "..."` (`kw` is either keyword).
    /// Otherwise the word is an ordinary identifier: `$import(...)` applies an annotation
    /// named `import`, as in go-capnp's `go.capnp`.
    fn at_keyword_string(&self, kw: &str) -> bool {
        self.is_kw(kw)
            && matches!(
                self.toks.get(self.pos + 1).map(|t| &t.kind),
                Some(TokenKind::Str(_))
            )
    }

    /// The start of a name expression: `a`, `.a` or `import "x"`.
    fn name_base(&mut self) -> R<Expr> {
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
    fn name_expr(&mut self) -> R<Expr> {
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

    fn string_name(&mut self) -> R<Name> {
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

    /// `( params )`
    fn paren_params(&mut self) -> R<Vec<Param>> {
        if !matches!(self.peek(), Some(TokenKind::LParen)) {
            return self.fail("expected '('.");
        }
        self.pos += 1;
        let mut out = Vec::new();
        if matches!(self.peek(), Some(TokenKind::RParen)) {
            self.pos += 1;
            return Ok(out);
        }
        loop {
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

    fn expr(&mut self) -> R<Expr> {
        if self.depth >= MAX_EXPR_DEPTH {
            return self.fail("expression is nested too deeply.");
        }
        self.depth += 1;
        let r = self.expr_inner();
        self.depth -= 1;
        r
    }

    fn expr_inner(&mut self) -> R<Expr> {
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

    fn postfix_from(&mut self, mut e: Expr) -> R<Expr> {
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

    fn type_annotation(&mut self) -> R<Expr> {
        self.expect_op(":")?;
        self.expr()
    }

    fn generic_params(&mut self) -> R<Vec<Name>> {
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

    fn param_list(&mut self) -> R<ParamList> {
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

    fn decl(&mut self, s: &Statement) -> R<Decl> {
        let has_block = s.block.is_some();
        let span = s.span;
        let empty_name = Name {
            text: String::new(),
            span: self.here(),
        };
        let mut d = Decl {
            name: empty_name,
            id: DeclId::None,
            kind: DeclKind::NakedId,
            params: Vec::new(),
            annotations: Vec::new(),
            nested: Vec::new(),
            doc: None,
            span,
        };
        let require_block = |p: &mut Self, want: bool| -> R<()> {
            if want != has_block {
                let msg = if want {
                    "Parse error: expected '{' block."
                } else {
                    "Parse error: expected ';'."
                };
                p.diags.error(span, msg);
                return Err(());
            }
            Ok(())
        };
        if self.is_op("@") {
            let (v, sp) = self.at_number()?;
            d.id = DeclId::Uid(v, sp);
            d.kind = DeclKind::NakedId;
            self.expect_end()?;
            require_block(self, false)?;
            return Ok(d);
        }
        if self.is_op("$") {
            d.annotations = self.annotations()?;
            if d.annotations.len() > 1 {
                // A file-level annotation statement applies exactly one annotation.
                self.diags
                    .error(s.span, "Parse error: expected ';' after the annotation.");
                return Err(());
            }
            d.kind = DeclKind::NakedAnnotation;
            self.expect_end()?;
            require_block(self, false)?;
            return Ok(d);
        }
        let first = match self.peek() {
            Some(TokenKind::Ident(i)) => i.clone(),
            _ => return self.fail("expected declaration."),
        };
        let keyword_decl = matches!(
            first.as_str(),
            "using" | "const" | "enum" | "struct" | "interface" | "annotation" | "union"
        ) && !matches!(self.toks.get(self.pos + 1).map(|t| &t.kind), Some(TokenKind::Op(o)) if o.starts_with('@') || o.starts_with(':'));
        if keyword_decl {
            self.pos += 1;
            match first.as_str() {
                "using" => {
                    let named = matches!(self.peek(), Some(TokenKind::Ident(_)))
                        && matches!(self.toks.get(self.pos + 1).map(|t| &t.kind), Some(TokenKind::Op(o)) if o == "=");
                    let target;
                    if named {
                        d.name = self.ident()?;
                        self.pos += 1;
                        target = self.expr()?;
                    } else {
                        target = self.expr()?;
                        d.name = match &target.kind {
                            // A bare name would alias itself: it must come from
                            // another scope.
                            ExprKind::Member(_, n) => n.clone(),
                            _ => {
                                self.diags.error(
                                    target.span,
                                    "'using' declaration without '=' must specify a named declaration from a different scope.",
                                );
                                return Err(());
                            }
                        };
                    }
                    d.kind = DeclKind::Using(target);
                    self.expect_end()?;
                    require_block(self, false)?;
                }
                "const" => {
                    d.name = self.ident()?;
                    d.id = self.uid_opt()?;
                    let ty = self.type_annotation()?;
                    self.expect_op("=")?;
                    let value = self.expr()?;
                    d.annotations = self.annotations()?;
                    d.kind = DeclKind::Const { ty, value };
                    self.expect_end()?;
                    require_block(self, false)?;
                }
                "enum" => {
                    d.name = self.ident()?;
                    d.id = self.uid_opt()?;
                    d.annotations = self.annotations()?;
                    d.kind = DeclKind::Enum;
                    self.expect_end()?;
                    require_block(self, true)?;
                }
                "struct" => {
                    d.name = self.ident()?;
                    d.id = self.uid_opt()?;
                    d.params = self.generic_params()?;
                    d.annotations = self.annotations()?;
                    d.kind = DeclKind::Struct;
                    self.expect_end()?;
                    require_block(self, true)?;
                }
                "interface" => {
                    d.name = self.ident()?;
                    d.id = self.uid_opt()?;
                    d.params = self.generic_params()?;
                    let mut superclasses = Vec::new();
                    if self.eat_kw("extends") {
                        let params = self.paren_params()?;
                        for p in params {
                            if let Some(n) = p.name {
                                self.diags.error(n.span, "Parse error: unexpected '='.");
                            }
                            superclasses.push(p.value);
                        }
                    }
                    d.annotations = self.annotations()?;
                    d.kind = DeclKind::Interface { superclasses };
                    self.expect_end()?;
                    require_block(self, true)?;
                }
                "annotation" => {
                    d.name = self.ident()?;
                    d.id = self.uid_opt()?;
                    let mut targets = Targets::default();
                    if !matches!(self.peek(), Some(TokenKind::LParen)) {
                        return self.fail("expected annotation targets list '(...)'.");
                    }
                    self.pos += 1;
                    loop {
                        let t = self.here();
                        if self.eat_op("*") {
                            targets = Targets {
                                file: true,
                                const_: true,
                                enum_: true,
                                enumerant: true,
                                struct_: true,
                                field: true,
                                union_: true,
                                group: true,
                                interface: true,
                                method: true,
                                param: true,
                                annotation: true,
                            };
                        } else {
                            let n = self.ident()?;
                            let slot = match n.text.as_str() {
                                "file" => &mut targets.file,
                                "const" => &mut targets.const_,
                                "enum" => &mut targets.enum_,
                                "enumerant" => &mut targets.enumerant,
                                "struct" => &mut targets.struct_,
                                "field" => &mut targets.field,
                                "union" => &mut targets.union_,
                                "group" => &mut targets.group,
                                "interface" => &mut targets.interface,
                                "method" => &mut targets.method,
                                "param" | "parameter" => &mut targets.param,
                                "annotation" => &mut targets.annotation,
                                _ => {
                                    self.diags
                                        .error(t, "Parse error: unknown annotation target.");
                                    return Err(());
                                }
                            };
                            *slot = true;
                        }
                        if self.comma_or_close(TokenKind::RParen)? {
                            break;
                        }
                    }
                    let ty = self.type_annotation()?;
                    d.annotations = self.annotations()?;
                    d.kind = DeclKind::Annotation { ty, targets };
                    self.expect_end()?;
                    require_block(self, false)?;
                }
                "union" => {
                    // Unnamed union.
                    d.name = Name {
                        text: String::new(),
                        span: s.tokens[0].span,
                    };
                    // The official grammar has no annotations on unnamed unions.
                    d.kind = DeclKind::Union;
                    self.expect_end()?;
                    require_block(self, true)?;
                }
                _ => return self.fail("expected declaration."),
            }
            return Ok(d);
        }

        // Member declarations: field, named union, group, enumerant, method.
        d.name = self.ident()?;
        d.id = self.ordinal_opt()?;
        let bang = self.eat_op("!");
        // Before v0.3 a named union was `name @N union {`: the official parser still reads
        // it as a union and reports the missing colon, so the members' ordinals count.
        let old_union = !self.is_op(":")
            && self.is_kw("union")
            && (self.toks.len() == self.pos + 1 || self.is_op_at(1, "$"));
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
        if self.is_op(":") || old_union {
            if !old_union {
                self.pos += 1;
            }
            if self.is_kw("union") && (self.toks.len() == self.pos + 1 || self.is_op_at(1, "$")) {
                self.pos += 1;
                if let (DeclId::Ordinal(_, sp), false) = (d.id, bang) {
                    self.diags.error(sp, "As of Cap'n Proto v0.3, it is no longer necessary to assign numbers to unions. However, removing the number will break binary compatibility. If this is an old protocol and you need to retain compatibility, please add an exclamation point after the number to indicate that it is really needed, e.g. `foo @1! :union {`. If this is a new protocol or compatibility doesn't matter, just remove the @n entirely. Sorry for the inconvenience, and thanks for being an early adopter!  :)");
                }
                d.annotations = self.annotations()?;
                d.kind = DeclKind::Union;
                self.expect_end()?;
                require_block(self, true)?;
                return Ok(d);
            }
            if bang {
                // `@N!` is only meaningful on unions.
                return self.fail("'!' is only allowed after a union's ordinal.");
            }
            if self.is_kw("group") && (self.toks.len() == self.pos + 1 || self.is_op_at(1, "$")) {
                self.pos += 1;
                if let DeclId::Ordinal(_, sp) = d.id {
                    self.diags
                        .error(sp, "Parse error: groups cannot have ordinals.");
                    return Err(());
                }
                d.annotations = self.annotations()?;
                d.kind = DeclKind::Group;
                self.expect_end()?;
                require_block(self, true)?;
                return Ok(d);
            }
            let ty = self.expr()?;
            let default = if self.eat_op("=") {
                Some(self.expr()?)
            } else {
                None
            };
            d.annotations = self.annotations()?;
            if matches!(d.id, DeclId::None) {
                self.diags.error(
                    d.name.span,
                    "Parse error: field is missing its ordinal '@N'.",
                );
                return Err(());
            }
            d.kind = DeclKind::Field { ty, default };
            self.expect_end()?;
            require_block(self, false)?;
            return Ok(d);
        }
        // Method?  Only interfaces have them; elsewhere a member needs ':' or nothing.
        if self.ctx != BlockCtx::Interface && !self.at_end() && !self.is_op("$") {
            return self.fail("expected ':'.");
        }
        if matches!(
            self.peek(),
            Some(TokenKind::LParen) | Some(TokenKind::LBracket)
        ) || (matches!(
            self.peek(),
            Some(TokenKind::Ident(_)) | Some(TokenKind::Op(_))
        ) && !self.is_op("$"))
        {
            if matches!(self.peek(), Some(TokenKind::LBracket)) {
                self.pos += 1;
                loop {
                    d.params.push(self.ident()?);
                    if self.comma_or_close(TokenKind::RBracket)? {
                        break;
                    }
                }
            }
            let params = self.param_list()?;
            let params = match stream_result(params) {
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
            if matches!(d.id, DeclId::None) {
                self.diags.error(
                    d.name.span,
                    "Parse error: method is missing its ordinal '@N'.",
                );
                return Err(());
            }
            d.kind = DeclKind::Method { params, results };
            self.expect_end()?;
            require_block(self, false)?;
            return Ok(d);
        }
        // Enumerant.
        d.annotations = self.annotations()?;
        if matches!(d.id, DeclId::None) {
            self.diags.error(
                d.name.span,
                "Parse error: enumerant is missing its ordinal '@N'.",
            );
            return Err(());
        }
        d.kind = DeclKind::Enumerant;
        self.expect_end()?;
        require_block(self, false)?;
        Ok(d)
    }

    /// After a list element: consumes `,` or the closer (a trailing `,` before the closer is
    /// allowed); returns whether the list is closed.
    fn comma_or_close(&mut self, close: TokenKind) -> R<bool> {
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

    fn is_op_at(&self, off: usize, op: &str) -> bool {
        matches!(self.toks.get(self.pos + off).map(|t| &t.kind), Some(TokenKind::Op(o)) if o == op)
    }
}

/// `stream` as a parameter list means the standard `StreamResult` (`Ok`); any other list
/// comes back unchanged (`Err`).
fn stream_result(list: ParamList) -> Result<ParamList, ParamList> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> (Decl, Diagnostics) {
        let mut d = Diagnostics::default();
        let f = parse_file(src, 0, &mut d);
        (f, d)
    }

    #[test]
    fn declarations() {
        let (f, d) = parse(
            "@0xd1a3c8f2b4e6ff10;\nstruct S(T) { a @0 :List(T) = []; u :union { x @1 :Void; y @2 :Text; } }\n\
             interface I extends(J) { m @0 [U] (a :U) -> stream; }\nenum E { a @0; }\n\
             annotation ann (struct, field) :Text;\nusing Foo.Bar;\nconst c :Int32 = -5;\n",
        );
        assert!(!d.has_errors(), "{:?}", d.pending);
        assert!(matches!(f.id, DeclId::Uid(0xd1a3c8f2b4e6ff10, _)));
        let names: Vec<&str> = f.nested.iter().map(|d| d.name.text.as_str()).collect();
        assert_eq!(names, ["S", "I", "E", "ann", "Bar", "c"]);
        assert_eq!(f.nested[0].params.len(), 1);
        assert!(matches!(f.nested[0].nested[1].kind, DeclKind::Union));
        let DeclKind::Method {
            results: Some(ParamList::Type(t)),
            ..
        } = &f.nested[1].nested[0].kind
        else {
            panic!("method expected");
        };
        // `-> stream` means the standard StreamResult.
        assert!(matches!(&t.kind, ExprKind::Member(_, n) if n.text == "StreamResult"));
        let DeclKind::Const { value, .. } = &f.nested[5].kind else {
            panic!("const expected");
        };
        assert_eq!(value.kind, ExprKind::NegativeInt(5));
    }

    #[test]
    fn errors_do_not_stop_parsing() {
        let (f, d) =
            parse("@0xd1a3c8f2b4e6ff11;\nstruct A { a @0 Int32; b @1 :Text; }\nstruct B {}\n");
        assert!(d.has_errors());
        assert_eq!(f.nested.len(), 2);
        assert_eq!(f.nested[0].nested.len(), 1);
    }
}
