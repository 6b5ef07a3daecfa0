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
                _ => ty.clone(),
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
    /// Whether a value for a struct type is a value for its first field (Cap'n Proto 1.0:
    /// `service = "internet"` means `(name = "internet")`): anything but a tuple, a constant
    /// name or an embed.
    pub(super) fn implies_first_field(&self, e: &Expr) -> bool {
        if self.opts.capnp_0_9 {
            return false;
        }
        match &e.kind {
            ExprKind::Tuple(_) | ExprKind::Embed(_) | ExprKind::Unknown => false,
            ExprKind::RelativeName(n) => {
                matches!(n.text.as_str(), "true" | "false" | "void" | "inf" | "nan")
            }
            ExprKind::AbsoluteName(_)
            | ExprKind::Member(..)
            | ExprKind::Import(_)
            | ExprKind::Application(..) => false,
            _ => true,
        }
    }

    /// `(firstField = e)` for struct or group `type_id` (the first field in ordinal order;
    /// a group there takes the value for its own first field).
    pub(super) fn implied_first_field(
        &mut self,
        n: usize,
        e: &Expr,
        type_id: u64,
        brand: &Brand,
    ) -> Option<Val> {
        if self.implying.contains(&type_id) || self.implying.len() >= MAX_DEPTH as usize {
            let is_group = self
                .struct_node_by_id(type_id)
                .is_some_and(|g| matches!(&g.kind, NodeKind::Struct(s) if s.is_group));
            let expected = if is_group {
                "group".to_string()
            } else {
                self.type_name(&Type::Struct {
                    type_id,
                    brand: brand.clone(),
                })
            };
            self.diags
                .error(e.span, format!("Type mismatch; expected {expected}."));
            return None;
        }
        self.implying.push(type_id);
        let v = self.implied_first_field_of(n, e, type_id, brand);
        self.implying.pop();
        v
    }

    pub(super) fn implied_first_field_of(
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
        let Some(first) = s.fields.first() else {
            self.diags
                .error(e.span, "Type mismatch; struct has no fields.");
            return None;
        };
        let entry = match &first.kind {
            FieldKind::Slot { ty, .. } => {
                let ty = apply_brand(ty, brand);
                let (v, written_as) = self.compile_value_as(n, e, &ty)?;
                (0, written_as, v)
            }
            FieldKind::Group { type_id: gid } => {
                let gid = *gid;
                let v = self.implied_first_field(n, e, gid, brand)?;
                let gty = Type::Struct {
                    type_id: gid,
                    brand: brand.clone(),
                };
                (0, gty, v)
            }
        };
        Some(Val::Struct(type_id, vec![entry]))
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
