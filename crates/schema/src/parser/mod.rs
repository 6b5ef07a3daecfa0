//! Parser: statements → declarations ([`crate::ast`]).
//!
//! `cursor` holds the token cursor and its small helpers, `expr` expressions, annotation
//! applications and parameter lists, `decl` one function per declaration keyword, and
//! `member` the members of structs, enums and interfaces.

mod cursor;
mod decl;
mod expr;
mod member;

use crate::ast::*;
use crate::diagnostics::{Diagnostics, Span};
use crate::lexer::{Statement, lex};
use cursor::Parser;

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
}

fn parse_block(
    stmts: &[Statement],
    file: usize,
    diags: &mut Diagnostics,
    ctx: BlockCtx,
) -> Vec<Decl> {
    let mut out = Vec::new();
    for s in stmts {
        let mut p = Parser::new(s, diags, file, ctx);
        match p.decl() {
            Ok(d) if misplaced(ctx, &d.kind).is_some() => {
                // The official grammar has a declaration list per kind of block: anything
                // else is a parse error there, and the declaration is not kept.
                let why = misplaced(ctx, &d.kind).unwrap_or_default();
                diags.error(d.name.span, format!("Parse error: {why}"));
            }
            Ok(mut d) => {
                d.doc = s.doc.clone();
                // A block on a declaration that takes none was reported; its content is
                // not read.
                let inner = match d.kind {
                    DeclKind::Struct | DeclKind::Union | DeclKind::Group => Some(BlockCtx::Struct),
                    DeclKind::Enum => Some(BlockCtx::Enum),
                    DeclKind::Interface { .. } => Some(BlockCtx::Interface),
                    _ => None,
                };
                if let (Some(block), Some(inner)) = (&s.block, inner) {
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

/// Why a declaration of `kind` cannot appear in a `ctx` block, if it cannot.
fn misplaced(ctx: BlockCtx, kind: &DeclKind) -> Option<&'static str> {
    let generic = matches!(
        kind,
        DeclKind::Using(_)
            | DeclKind::Const { .. }
            | DeclKind::Enum
            | DeclKind::Struct
            | DeclKind::Interface { .. }
            | DeclKind::Annotation { .. }
    );
    match kind {
        DeclKind::NakedId | DeclKind::NakedAnnotation if ctx != BlockCtx::File => {
            Some("a file id or file annotation can only appear at file level.")
        }
        DeclKind::Field { .. } | DeclKind::Union | DeclKind::Group if ctx != BlockCtx::Struct => {
            Some("fields, unions and groups can only appear in structs.")
        }
        DeclKind::Enumerant if ctx != BlockCtx::Enum => {
            Some("enumerants can only appear in enums.")
        }
        DeclKind::Method { .. } if ctx != BlockCtx::Interface => {
            Some("methods can only appear in interfaces.")
        }
        _ if generic && ctx == BlockCtx::Enum => Some("only enumerants can appear in an enum."),
        _ => None,
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
