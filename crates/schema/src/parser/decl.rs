//! One function per declaration keyword (`using`, `const`, `enum`, `struct`, `interface`,
//! `annotation`, unnamed `union`), plus naked file ids and file annotations.

use super::cursor::{PResult, Parser};
use crate::ast::*;
use crate::lexer::TokenKind;

/// The keywords that start a declaration (when no `@` or `:` follows: `struct @0 :Int32`
/// is a field named `struct`).
const KEYWORDS: &[&str] = &[
    "using",
    "const",
    "enum",
    "struct",
    "interface",
    "annotation",
    "union",
];

impl Parser<'_> {
    /// A declaration with nothing filled in but its span.
    fn empty_decl(&self) -> Decl {
        Decl {
            name: Name {
                text: String::new(),
                span: self.here(),
            },
            id: DeclId::None,
            kind: DeclKind::NakedId,
            params: Vec::new(),
            annotations: Vec::new(),
            nested: Vec::new(),
            doc: None,
            span: self.stmt,
        }
    }

    /// Parses the statement as one declaration.
    pub(super) fn decl(&mut self) -> PResult<Decl> {
        let mut d = self.empty_decl();
        if self.is_op("@") {
            let (v, sp) = self.at_number()?;
            d.id = DeclId::Uid(v, sp);
            d.kind = DeclKind::NakedId;
            if self.peek().is_some() || self.has_block {
                // `@0x…` then the next declaration: the `;` is missing. Say so, and
                // keep the id (so the file is not also said to have none).
                self.diags.error(
                    sp,
                    "Parse error: expected ';' after the file id (write `@0x…;` on a line of its own).",
                );
                return Ok(d);
            }
            self.finish(false)?;
            return Ok(d);
        }
        if self.is_op("$") {
            d.annotations = self.annotations()?;
            if d.annotations.len() > 1 {
                // A file-level annotation statement applies exactly one annotation.
                self.diags
                    .error(self.stmt, "Parse error: expected ';' after the annotation.");
                return Err(());
            }
            d.kind = DeclKind::NakedAnnotation;
            self.finish(false)?;
            return Ok(d);
        }
        let first = match self.peek() {
            Some(TokenKind::Ident(i)) => i.clone(),
            _ => return self.fail("expected declaration."),
        };
        let member_follows = matches!(
            self.toks.get(self.pos + 1).map(|t| &t.kind),
            Some(TokenKind::Op(o)) if o.starts_with('@') || o.starts_with(':')
        );
        if !KEYWORDS.contains(&first.as_str()) || member_follows {
            return self.member(d);
        }
        self.pos += 1;
        match first.as_str() {
            "using" => self.using_decl(d),
            "const" => self.const_decl(d),
            "enum" => self.enum_decl(d),
            "struct" => self.struct_decl(d),
            "interface" => self.interface_decl(d),
            "annotation" => self.annotation_decl(d),
            _ => self.unnamed_union(d),
        }
    }

    /// `using Name = target;` or `using Outer.Name;`.
    fn using_decl(&mut self, mut d: Decl) -> PResult<Decl> {
        let named = matches!(self.peek(), Some(TokenKind::Ident(_))) && self.is_op_at(1, "=");
        let target;
        if named {
            d.name = self.ident()?;
            self.pos += 1;
            target = self.expr()?;
        } else {
            target = self.expr()?;
            d.name = match &target.kind {
                // A bare name would alias itself: it must come from another scope.
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
        self.finish(false)?;
        Ok(d)
    }

    /// `const name @id :Type = value $ann;`
    fn const_decl(&mut self, mut d: Decl) -> PResult<Decl> {
        d.name = self.ident()?;
        d.id = self.uid_opt()?;
        let ty = self.type_annotation()?;
        self.expect_op("=")?;
        let value = self.expr()?;
        d.annotations = self.annotations()?;
        d.kind = DeclKind::Const { ty, value };
        self.finish(false)?;
        Ok(d)
    }

    /// `enum Name @id $ann { ... }`
    fn enum_decl(&mut self, mut d: Decl) -> PResult<Decl> {
        d.name = self.ident()?;
        d.id = self.uid_opt()?;
        d.annotations = self.annotations()?;
        d.kind = DeclKind::Enum;
        self.finish(true)?;
        Ok(d)
    }

    /// `struct Name @id (Params) $ann { ... }`
    fn struct_decl(&mut self, mut d: Decl) -> PResult<Decl> {
        d.name = self.ident()?;
        d.id = self.uid_opt()?;
        d.params = self.generic_params()?;
        d.annotations = self.annotations()?;
        d.kind = DeclKind::Struct;
        self.finish(true)?;
        Ok(d)
    }

    /// `interface Name @id (Params) extends(A, B) $ann { ... }`
    fn interface_decl(&mut self, mut d: Decl) -> PResult<Decl> {
        d.name = self.ident()?;
        d.id = self.uid_opt()?;
        d.params = self.generic_params()?;
        let mut superclasses = Vec::new();
        if self.eat_kw("extends") {
            for p in self.paren_params()? {
                if let Some(n) = p.name {
                    self.diags.error(n.span, "Parse error: unexpected '='.");
                }
                superclasses.push(p.value);
            }
        }
        d.annotations = self.annotations()?;
        d.kind = DeclKind::Interface { superclasses };
        self.finish(true)?;
        Ok(d)
    }

    /// `annotation name @id (targets) :Type $ann;`
    fn annotation_decl(&mut self, mut d: Decl) -> PResult<Decl> {
        d.name = self.ident()?;
        d.id = self.uid_opt()?;
        let targets = self.annotation_targets()?;
        let ty = self.type_annotation()?;
        d.annotations = self.annotations()?;
        d.kind = DeclKind::Annotation { ty, targets };
        self.finish(false)?;
        Ok(d)
    }

    /// `(struct, field, ...)` or `(*)`. Like the official parser, a bad target is reported
    /// and the declaration kept.
    fn annotation_targets(&mut self) -> PResult<Targets> {
        if !matches!(self.peek(), Some(TokenKind::LParen)) {
            return self.fail("expected annotation targets list '(...)'.");
        }
        self.pos += 1;
        // (name, where) of each target, checked once all are read.
        let mut listed = Vec::new();
        loop {
            let at = self.here();
            let name = if self.eat_op("*") {
                "*".to_string()
            } else {
                self.ident()?.text
            };
            listed.push((name, at));
            if self.comma_or_close(TokenKind::RParen)? {
                break;
            }
        }
        let mut targets = Targets::default();
        for (name, at) in &listed {
            if name == "*" {
                if listed.len() > 1 {
                    self.diags.error(
                        *at,
                        "Wildcard should not be specified together with other targets.",
                    );
                }
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
                continue;
            }
            let slot = match name.as_str() {
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
                "param" => &mut targets.param,
                "annotation" => &mut targets.annotation,
                _ => {
                    self.diags.error(*at, "Not a valid annotation target.");
                    continue;
                }
            };
            if *slot {
                self.diags.error(*at, "Duplicate target specification.");
            }
            *slot = true;
        }
        Ok(targets)
    }

    /// `union { ... }` (unnamed; the official grammar gives it no annotations).
    fn unnamed_union(&mut self, mut d: Decl) -> PResult<Decl> {
        d.name = Name {
            text: String::new(),
            span: self.toks[0].span,
        };
        d.kind = DeclKind::Union;
        self.finish(true)?;
        Ok(d)
    }
}
