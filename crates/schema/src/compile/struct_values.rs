//! Struct values: tuples filled field by field, implied first fields (Cap'n Proto 1.0),
//! constants read by name, and generic bindings substituted into member types.

use super::*;

/// Substitutes the generic bindings of `brand` (the brand of the struct a value is written
/// for) into a member's type.
pub(super) fn apply_brand(ty: &Type, brand: &Brand) -> Type {
    match ty {
        Type::AnyPointer(AnyPointer::Parameter { scope_id, index }) => {
            match brand.scopes.iter().find(|s| s.scope_id == *scope_id) {
                Some(BrandScope {
                    kind: BrandScopeKind::Bind(bs),
                    ..
                }) => match bs.get(*index as usize) {
                    Some(Binding::Type(t)) => t.clone(),
                    _ => Type::AnyPointer(AnyPointer::AnyKind),
                },
                // Inside the generic's own scope the parameter stays a parameter.
                Some(_) => ty.clone(),
                // A brand without that scope leaves it unbound: `AnyPointer`, as capnp
                // reads a bare `Gen` named from outside.
                None => Type::AnyPointer(AnyPointer::AnyKind),
            }
        }
        Type::List(e) => Type::List(Box::new(apply_brand(e, brand))),
        Type::Struct { type_id, brand: b } => Type::Struct {
            type_id: *type_id,
            brand: rebrand(b, brand),
        },
        Type::Enum { type_id, brand: b } => Type::Enum {
            type_id: *type_id,
            brand: rebrand(b, brand),
        },
        Type::Interface { type_id, brand: b } => Type::Interface {
            type_id: *type_id,
            brand: rebrand(b, brand),
        },
        t => t.clone(),
    }
}

pub(super) fn rebrand(inner: &Brand, outer: &Brand) -> Brand {
    Brand {
        scopes: inner
            .scopes
            .iter()
            .map(|s| match &s.kind {
                BrandScopeKind::Inherit => outer
                    .scopes
                    .iter()
                    .find(|o| o.scope_id == s.scope_id)
                    .cloned()
                    .unwrap_or_else(|| s.clone()),
                BrandScopeKind::Bind(bs) => BrandScope {
                    scope_id: s.scope_id,
                    kind: BrandScopeKind::Bind(
                        bs.iter()
                            .map(|b| match b {
                                Binding::Type(t) => Binding::Type(apply_brand(t, outer)),
                                Binding::Unbound => Binding::Unbound,
                            })
                            .collect(),
                    ),
                },
            })
            .collect(),
    }
}

impl Compilation {
    /// Whether a value for a struct type may be a value for its first field (Cap'n Proto 1.0:
    /// `service = "internet"` means `(name = "internet")`). As in 1.0's `compileValue`, only a
    /// value whose type is plain from the literal itself qualifies: a number, a string, data,
    /// or `true`/`false`/`void`/`inf`/`nan` — not a tuple, list, constant name or embed.
    pub(super) fn implies_first_field(&self, e: &Expr) -> bool {
        if self.opts.capnp_0_9 {
            return false;
        }
        match &e.kind {
            ExprKind::PositiveInt(_)
            | ExprKind::NegativeInt(_)
            | ExprKind::Float(_)
            | ExprKind::String(_)
            | ExprKind::Binary(_) => true,
            ExprKind::RelativeName(n) => {
                matches!(n.text.as_str(), "true" | "false" | "void" | "inf" | "nan")
            }
            _ => false,
        }
    }

    /// `(firstField = e)` for struct (or group) `type_id`: the first field in ordinal order
    /// must be a slot whose type the literal has. Otherwise a type mismatch, named `expected`
    /// (the struct's type name, or "group").
    pub(super) fn implied_first_field(
        &mut self,
        n: usize,
        e: &Expr,
        type_id: u64,
        brand: &Brand,
    ) -> Option<Val> {
        let node = self.struct_node_by_id(type_id)?;
        let NodeKind::Struct(s) = &node.kind else {
            return None;
        };
        let first = s.fields.first().and_then(|f| match &f.kind {
            FieldKind::Slot { ty, .. } => Some(apply_brand(ty, brand)),
            FieldKind::Group { .. } => None,
        });
        match first {
            Some(ty) if literal_fits(e, &ty) => {
                let (v, written_as) = self.compile_value_as(n, e, &ty)?;
                Some(Val::Struct(type_id, vec![(0, written_as, v)]))
            }
            _ => {
                let expected = if s.is_group {
                    "group".to_string()
                } else {
                    self.type_name(&Type::Struct {
                        type_id,
                        brand: brand.clone(),
                    })
                };
                self.diags
                    .error(e.span, format!("Type mismatch; expected {expected}."));
                None
            }
        }
    }

    pub(super) fn struct_node_by_id(&mut self, id: u64) -> Option<Node> {
        if let Some(&sn) = self.by_id.get(&id) {
            let c = self.bootstrap(sn)?;
            return Some(c.node.clone());
        }
        // A group: find it among its owner's auxiliary nodes.
        let owner = *self.aux_owner.get(&id)?;
        let c = self.nodes[owner].boot.clone()?;
        c.aux.iter().find(|a| a.id == id).cloned()
    }

    pub(super) fn fill_struct(
        &mut self,
        n: usize,
        node: &Node,
        brand: &Brand,
        params: &[Param],
    ) -> Vec<(usize, Type, Val)> {
        let NodeKind::Struct(s) = &node.kind else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for p in params {
            let Some(fname) = &p.name else {
                self.diags.error(p.value.span, "Missing field name.");
                continue;
            };
            let Some(idx) = s.fields.iter().position(|f| f.name == fname.text) else {
                self.diags.error(
                    fname.span,
                    format!("Struct has no field named '{}'.", fname.text),
                );
                continue;
            };
            match &s.fields[idx].kind {
                FieldKind::Slot { ty, .. } => {
                    let ty = apply_brand(ty, brand);
                    if let Some((v, written_as)) = self.compile_value_as(n, &p.value, &ty) {
                        out.push((idx, written_as, v));
                    }
                }
                FieldKind::Group { type_id } => {
                    let gid = *type_id;
                    if let ExprKind::Tuple(inner) = &p.value.kind {
                        if let Some(g) = self.struct_node_by_id(gid) {
                            let v = self.fill_struct(n, &g, brand, inner);
                            let gty = Type::Struct {
                                type_id: gid,
                                brand: brand.clone(),
                            };
                            out.push((idx, gty, Val::Struct(gid, v)));
                        }
                    } else if self.implies_first_field(&p.value) {
                        if let Some(v) = self.implied_first_field(n, &p.value, gid, brand) {
                            let gty = Type::Struct {
                                type_id: gid,
                                brand: brand.clone(),
                            };
                            out.push((idx, gty, v));
                        }
                    } else {
                        self.diags
                            .error(p.value.span, "Type mismatch; expected group.");
                    }
                }
            }
        }
        out
    }

    pub(super) fn read_constant(
        &mut self,
        n: usize,
        e: &Expr,
        ty: &Type,
    ) -> Option<(Val, Option<Type>)> {
        let scope = self.local_brand(n);
        let d = self.compile_decl_expr(n, &scope, e, &Implicit::none())?;
        let cn = match (&d, self.decl_kind_name(&d)) {
            (
                BrandedDecl::Decl {
                    target: Target::Node(c),
                    ..
                },
                Some(Kind::Const),
            ) => *c,
            _ => {
                self.diags.error(
                    e.span,
                    format!("'{}' does not refer to a constant.", expr_string(e)),
                );
                return None;
            }
        };
        let c = if ty.is_pointer() {
            self.finalize(cn)?
        } else {
            self.bootstrap(cn)?
        };
        let NodeKind::Const { ty: cty, .. } = &c.node.kind else {
            return None;
        };
        let cty = cty.clone();
        if let ExprKind::RelativeName(name) = &e.kind {
            let parent = match self.nodes[cn].parent {
                Some(p) if self.nodes[p].parent.is_some() => {
                    let dn = &self.nodes[p].display_name;
                    let i = dn.rfind([':', '.']).map(|i| i + 1).unwrap_or(0);
                    dn[i..].to_string()
                }
                _ => String::new(),
            };
            self.diags.error(
                e.span,
                format!(
                    "Constant names must be qualified to avoid confusion.  Please replace '{}' with '{}.{}', if that's what you intended.",
                    name.text, parent, name.text
                ),
            );
        }
        let v = self.nodes[cn].const_val.clone()?;
        Some((v, Some(cty)))
    }
}

/// Whether the type a literal has by itself is `ty` (integers fit any number type).
fn literal_fits(e: &Expr, ty: &Type) -> bool {
    let number = matches!(
        ty,
        Type::Int8
            | Type::Int16
            | Type::Int32
            | Type::Int64
            | Type::Uint8
            | Type::Uint16
            | Type::Uint32
            | Type::Uint64
            | Type::Float32
            | Type::Float64
    );
    let float = matches!(ty, Type::Float32 | Type::Float64);
    match &e.kind {
        ExprKind::PositiveInt(_) | ExprKind::NegativeInt(_) => number,
        ExprKind::Float(_) => float,
        ExprKind::String(_) => *ty == Type::Text,
        ExprKind::Binary(_) => *ty == Type::Data,
        ExprKind::RelativeName(name) => match name.text.as_str() {
            "true" | "false" => *ty == Type::Bool,
            "void" => *ty == Type::Void,
            _ => float,
        },
        _ => false,
    }
}
