//! Declaration expressions: names, imports, members and generic applications compiled to
//! branded declarations, and those checked as types.

use super::*;

impl Compilation {
    pub(super) fn compile_decl_expr(
        &mut self,
        n: usize,
        scope: &Rc<BindingScope>,
        e: &Expr,
        implicit: &Implicit,
    ) -> Option<BrandedDecl> {
        let r = self.compile_decl_expr_inner(n, scope, e, implicit);
        // The innermost expression that produced a brand names it in errors: a generic
        // application refused for its arity returns the bare name's brand, and errors
        // about it point at that name (as the official compiler's do).
        if let Some(BrandedDecl::Decl { brand, .. }) = &r
            && brand.source.get().is_none()
        {
            brand.source.set(Some(e.span));
        }
        r
    }

    pub(super) fn compile_decl_expr_inner(
        &mut self,
        n: usize,
        scope: &Rc<BindingScope>,
        e: &Expr,
        implicit: &Implicit,
    ) -> Option<BrandedDecl> {
        match &e.kind {
            ExprKind::Unknown => None,
            ExprKind::RelativeName(name) => {
                if let Some(i) = implicit.names.iter().position(|p| *p == name.text) {
                    return Some(BrandedDecl::Param {
                        scope_id: implicit.scope_id,
                        index: i as u16,
                    });
                }
                match self.resolve(n, &name.text) {
                    Some(r) => Some(self.interpret(scope, r)),
                    None => {
                        self.diags
                            .error(name.span, format!("Not defined: {}", name.text));
                        None
                    }
                }
            }
            ExprKind::AbsoluteName(name) => {
                let root = self.modules[self.nodes[n].module].root;
                match self.resolve_member(root, &name.text) {
                    Some(r) => Some(self.interpret(scope, r)),
                    None => {
                        self.diags
                            .error(name.span, format!("Not defined: {}", name.text));
                        None
                    }
                }
            }
            ExprKind::Import(name) => {
                let m = self.nodes[n].module;
                match self.import(m, &name.text) {
                    Some(im) => {
                        let root = self.modules[im].root;
                        let id = self.nodes[root].id;
                        Some(BrandedDecl::Decl {
                            target: Target::Node(root),
                            id,
                            brand: BindingScope::lexical(&[(id, 0)]),
                        })
                    }
                    // `-> stream` imports the standard file implicitly (its span is the
                    // keyword, not a string literal).
                    None if self.span_text(name.span) == "stream" => {
                        self.diags.error(name.span, "A method declaration uses streaming, but '/capnp/stream.capnp' is not found in the import path. This is a standard file that should always be installed with the Cap'n Proto compiler.");
                        None
                    }
                    None => {
                        self.diags
                            .error(name.span, format!("Import failed: {}", name.text));
                        None
                    }
                }
            }
            ExprKind::Application(f, params) => {
                let decl = self.compile_decl_expr(n, scope, f, implicit)?;
                let mut compiled = Vec::new();
                let mut failed = false;
                for p in params {
                    if let Some(name) = &p.name {
                        self.diags
                            .error(name.span, "Named parameter not allowed here.");
                    }
                    match self.compile_decl_expr(n, scope, &p.value, implicit) {
                        Some(d) => compiled.push(d),
                        None => failed = true,
                    }
                }
                if failed {
                    return Some(decl);
                }
                match &decl {
                    // Like the official compiler, parameters applied to a generic parameter
                    // are ignored without an error.
                    BrandedDecl::Param { .. } => Some(decl),
                    BrandedDecl::Decl { target, id, brand } => {
                        if !brand.params.is_empty() {
                            self.diags
                                .error(e.span, "Double-application of generic parameters.");
                            return Some(decl);
                        }
                        let count = brand.leaf_param_count as usize;
                        if compiled.len() > count {
                            let msg = if count == 0 {
                                "Declaration does not accept generic parameters."
                            } else {
                                "Too many generic parameters."
                            };
                            self.diags.error(e.span, msg);
                            return Some(decl);
                        }
                        if compiled.len() < count {
                            self.diags.error(e.span, "Not enough generic parameters.");
                            return Some(decl);
                        }
                        if *target != Target::Builtin(Builtin::List) {
                            for (p, src) in compiled.iter().zip(params) {
                                if let BrandedDecl::Decl { target, .. } = p {
                                    let ok = match target {
                                        // As in capnp 0.9: AnyStruct, AnyList and
                                        // Capability are not accepted here.
                                        Target::Builtin(b) => matches!(
                                            b,
                                            Builtin::List
                                                | Builtin::Text
                                                | Builtin::Data
                                                | Builtin::AnyPointer
                                        ),
                                        Target::Node(x) => matches!(
                                            self.nodes[*x].kind,
                                            Kind::Struct | Kind::Interface
                                        ),
                                    };
                                    if !ok {
                                        self.diags.error(
                                            src.value.span,
                                            "Sorry, only pointer types can be used as generic parameters.",
                                        );
                                    }
                                }
                            }
                        }
                        Some(BrandedDecl::Decl {
                            target: *target,
                            id: *id,
                            brand: brand.with_params(compiled),
                        })
                    }
                }
            }
            ExprKind::Member(parent, name) => {
                let decl = self.compile_decl_expr(n, scope, parent, implicit)?;
                let r = match &decl {
                    BrandedDecl::Decl {
                        target: Target::Node(x),
                        brand,
                        ..
                    } => {
                        let x = *x;
                        let brand = brand.clone();
                        self.resolve_member(x, &name.text)
                            .map(|r| self.interpret(&brand, r))
                    }
                    _ => None,
                };
                if r.is_none() {
                    self.diags.error(
                        name.span,
                        format!(
                            "'{}' has no member named '{}'",
                            expr_string(parent),
                            name.text
                        ),
                    );
                }
                r
            }
            _ => {
                self.diags.error(e.span, "Expected name.");
                None
            }
        }
    }

    pub(super) fn span_text(&self, span: Span) -> String {
        self.files
            .get(span.file)
            .and_then(|(_, src)| src.get(span.start..span.end))
            .unwrap_or("")
            .to_string()
    }

    pub(super) fn compile_as_type_inner(
        &mut self,
        d: &BrandedDecl,
        errs: &mut Vec<(Option<Span>, String)>,
    ) -> Option<Type> {
        let at = match d {
            BrandedDecl::Decl { brand, .. } => brand.source.get(),
            BrandedDecl::Param { .. } => None,
        };
        match d {
            BrandedDecl::Param { scope_id, index } => Some(Type::AnyPointer(if *scope_id == 0 {
                AnyPointer::ImplicitMethodParameter { index: *index }
            } else {
                AnyPointer::Parameter {
                    scope_id: *scope_id,
                    index: *index,
                }
            })),
            BrandedDecl::Decl { target, id, brand } => match target {
                Target::Node(n) => {
                    let kind = self.nodes[*n].kind;
                    let brand_c = self.brand_collect(brand, errs);
                    match kind {
                        Kind::Struct => Some(Type::Struct {
                            type_id: *id,
                            brand: brand_c,
                        }),
                        Kind::Enum => Some(Type::Enum {
                            type_id: *id,
                            brand: brand_c,
                        }),
                        Kind::Interface => Some(Type::Interface {
                            type_id: *id,
                            brand: brand_c,
                        }),
                        _ => {
                            errs.push((at, "not a type".into()));
                            None
                        }
                    }
                }
                Target::Builtin(b) => Some(match b {
                    // The primitives: from the one table (`Builtin::primitive`).
                    Builtin::Void
                    | Builtin::Bool
                    | Builtin::Int8
                    | Builtin::Int16
                    | Builtin::Int32
                    | Builtin::Int64
                    | Builtin::Uint8
                    | Builtin::Uint16
                    | Builtin::Uint32
                    | Builtin::Uint64
                    | Builtin::Float32
                    | Builtin::Float64
                    | Builtin::Text
                    | Builtin::Data => b.primitive().unwrap_or(Type::Void),
                    Builtin::AnyPointer => Type::AnyPointer(AnyPointer::AnyKind),
                    Builtin::Object => {
                        errs.push((at, "As of Cap'n Proto 0.4, 'Object' has been renamed to 'AnyPointer'.  Sorry for the inconvenience, and thanks for being an early adopter.  :)".into()));
                        Type::AnyPointer(AnyPointer::AnyKind)
                    }
                    Builtin::AnyStruct => Type::AnyPointer(AnyPointer::Struct),
                    Builtin::AnyList => Type::AnyPointer(AnyPointer::List),
                    Builtin::Capability => Type::AnyPointer(AnyPointer::Capability),
                    Builtin::List => {
                        let params = brand.get_params(*id).unwrap_or_default();
                        if params.len() != 1 {
                            errs.push((at, "'List' requires exactly one parameter.".into()));
                            return None;
                        }
                        let elem = self.compile_as_type_inner(&params[0], errs)?;
                        match elem {
                            Type::AnyPointer(AnyPointer::Struct) => {
                                errs.push((at, "'List(AnyStruct)' is not supported.".into()));
                                return None;
                            }
                            Type::AnyPointer(AnyPointer::List | AnyPointer::Capability) => {}
                            Type::AnyPointer(_) => {
                                errs.push((at, "'List(AnyPointer)' is not supported.".into()));
                                return None;
                            }
                            _ => {}
                        }
                        Type::List(Box::new(elem))
                    }
                }),
            },
        }
    }

    pub(super) fn compile_type(&mut self, n: usize, e: &Expr, implicit: &Implicit) -> Option<Type> {
        let scope = self.local_brand(n);
        let d = self.compile_decl_expr(n, &scope, e, implicit)?;
        let mut errs = Vec::new();
        let t = self.compile_as_type_inner(&d, &mut errs);
        if !errs.is_empty() {
            self.report_type_errors(&errs, e.span);
            return None;
        }
        t
    }
}
