//! Values: literals checked against their types (defaults, constants, annotation values).

use super::*;

pub(super) fn same_type(a: &Type, b: &Type) -> bool {
    match (a, b) {
        (Type::List(x), Type::List(y)) => same_type(x, y),
        (Type::Enum { type_id: x, .. }, Type::Enum { type_id: y, .. })
        | (Type::Struct { type_id: x, .. }, Type::Struct { type_id: y, .. })
        | (Type::Interface { type_id: x, .. }, Type::Interface { type_id: y, .. }) => x == y,
        (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

pub(super) fn zero_val(t: &Type) -> Val {
    match t {
        Type::Void => Val::Void,
        Type::Bool => Val::Bool(false),
        Type::Float32 | Type::Float64 => Val::Float(0.0),
        Type::Enum { .. } => Val::Enum(0),
        t if t.is_pointer() => Val::Null,
        _ => Val::Int(0),
    }
}

impl Compilation {
    pub(super) fn compile_value(&mut self, n: usize, e: &Expr, ty: &Type) -> Option<Val> {
        self.compile_value_as(n, e, ty).map(|(v, _)| v)
    }

    /// [`Self::compile_value`], and the type the value is written as: a constant assigned to
    /// an `AnyPointer` keeps its own type (`anyField = .structConst`).
    pub(super) fn compile_value_as(
        &mut self,
        n: usize,
        e: &Expr,
        ty: &Type,
    ) -> Option<(Val, Type)> {
        if let Type::AnyPointer(
            AnyPointer::Parameter { .. } | AnyPointer::ImplicitMethodParameter { .. },
        ) = ty
            && !matches!(e.kind, ExprKind::Unknown)
        {
            self.diags.error(
                e.span,
                "Cannot interpret value because the type is a generic type parameter which is not yet bound. We don't know what type to expect here.",
            );
            return None;
        }
        let (v, src_ty) = self.compile_value_inner(n, e, ty)?;
        if let (Type::AnyPointer(kind), Some(src)) = (ty, &src_ty) {
            let fits = match kind {
                // As capnp: struct and list constants, not Text or Data ones.
                AnyPointer::AnyKind => matches!(src, Type::Struct { .. } | Type::List(_)),
                AnyPointer::Struct => matches!(src, Type::Struct { .. }),
                AnyPointer::List => matches!(src, Type::List(_)),
                _ => false,
            };
            if fits {
                return Some((v, src.clone()));
            }
        }
        let ok = match (&v, ty) {
            (Val::Void, Type::Void) => true,
            (Val::Bool(_), Type::Bool) => true,
            (Val::Int(i), t) => {
                let (min, max): (i128, i128) = match t {
                    Type::Int8 => (i8::MIN.into(), i8::MAX.into()),
                    Type::Int16 => (i16::MIN.into(), i16::MAX.into()),
                    Type::Int32 => (i32::MIN.into(), i32::MAX.into()),
                    Type::Int64 => (i64::MIN.into(), i64::MAX.into()),
                    Type::Uint8 => (0, u8::MAX.into()),
                    Type::Uint16 => (0, u16::MAX.into()),
                    Type::Uint32 => (0, u32::MAX.into()),
                    Type::Uint64 => (0, u64::MAX.into()),
                    Type::Float32 | Type::Float64 => (i64::MIN.into(), u64::MAX.into()),
                    _ => (1, 0),
                };
                if min > max {
                    false
                } else if *i < min || *i > max {
                    self.diags.error(e.span, "Integer value out of range.");
                    return Some((Val::Int(if *i < min { min } else { max }), ty.clone()));
                } else {
                    true
                }
            }
            (Val::Float(_), Type::Float32 | Type::Float64) => true,
            (Val::Text(_), Type::Text) => true,
            (Val::Data(_), Type::Data) => true,
            (Val::List(_), Type::List(_)) => src_ty.as_ref().is_none_or(|s| same_type(s, ty)),
            (Val::Enum(_), Type::Enum { .. }) => src_ty.as_ref().is_none_or(|s| same_type(s, ty)),
            (Val::Struct(id, _), Type::Struct { type_id, .. }) => id == type_id,
            _ => false,
        };
        if ok {
            Some((v, ty.clone()))
        } else {
            let tn = self.type_name(ty);
            self.diags
                .error(e.span, format!("Type mismatch; expected {tn}."));
            None
        }
    }

    pub(super) fn type_name(&self, ty: &Type) -> String {
        let node_name = |id: &u64| {
            self.by_id
                .get(id)
                .map(|&n| {
                    let dn = &self.nodes[n].display_name;
                    let p = dn.rfind([':', '.']).map(|i| i + 1).unwrap_or(0);
                    dn[p..].to_string()
                })
                .unwrap_or_default()
        };
        match ty {
            Type::List(e) => format!("List({})", self.type_name(e)),
            Type::Enum { type_id, .. }
            | Type::Struct { type_id, .. }
            | Type::Interface { type_id, .. } => node_name(type_id),
            Type::AnyPointer(_) => "AnyPointer".into(),
            builtin => builtin.builtin_name().unwrap_or("AnyPointer").into(),
        }
    }

    pub(super) fn mismatch(&mut self, e: &Expr, ty: &Type) {
        let tn = self.type_name(ty);
        self.diags
            .error(e.span, format!("Type mismatch; expected {tn}."));
    }

    pub(super) fn compile_value_inner(
        &mut self,
        n: usize,
        e: &Expr,
        ty: &Type,
    ) -> Option<(Val, Option<Type>)> {
        if let Type::Struct { type_id, brand } = ty
            && self.implies_first_field(e)
        {
            let v = self.implied_first_field(n, e, *type_id, brand)?;
            return Some((v, None));
        }
        match &e.kind {
            ExprKind::RelativeName(name) => {
                if let Type::Enum { type_id, .. } = ty {
                    if let Some(&en) = self.by_id.get(type_id)
                        && let Some(c) = self.bootstrap(en)
                        && let NodeKind::Enum(es) = &c.node.kind
                        && let Some(i) = es.iter().position(|x| x.name == name.text)
                    {
                        return Some((Val::Enum(i as u16), None));
                    }
                } else {
                    match name.text.as_str() {
                        "void" => return Some((Val::Void, None)),
                        "true" => return Some((Val::Bool(true), None)),
                        "false" => return Some((Val::Bool(false), None)),
                        "nan" => return Some((Val::Float(f64::NAN), None)),
                        "inf" => return Some((Val::Float(f64::INFINITY), None)),
                        _ => {}
                    }
                }
                self.read_constant(n, e, ty)
            }
            ExprKind::AbsoluteName(_)
            | ExprKind::Import(_)
            | ExprKind::Application(..)
            | ExprKind::Member(..) => self.read_constant(n, e, ty),
            ExprKind::PositiveInt(v) => Some((Val::Int(i128::from(*v)), None)),
            ExprKind::NegativeInt(v) => {
                if *v > (1u64 << 63) {
                    self.diags
                        .error(e.span, "Integer is too big to be negative.");
                    None
                } else {
                    Some((Val::Int(-i128::from(*v)), None))
                }
            }
            ExprKind::Float(f) => Some((Val::Float(*f), None)),
            ExprKind::String(s) => {
                if *ty == Type::Data {
                    return Some((Val::Data(s.clone()), None));
                }
                match String::from_utf8(s.clone()) {
                    Ok(t) => Some((Val::Text(t), None)),
                    Err(_) => {
                        self.diags.error(
                            e.span,
                            "Text literal is not valid UTF-8 (use Data for bytes).",
                        );
                        None
                    }
                }
            }
            ExprKind::Binary(b) => {
                if *ty != Type::Data {
                    self.mismatch(e, ty);
                    return None;
                }
                Some((Val::Data(b.clone()), None))
            }
            ExprKind::Embed(name) => {
                let m = self.nodes[n].module;
                match self.read_embed(m, &name.text) {
                    Some(bytes) => match ty {
                        Type::Data => Some((Val::Data(bytes), None)),
                        Type::Text => Some((
                            Val::Text(String::from_utf8_lossy(&bytes).into_owned()),
                            None,
                        )),
                        Type::Struct { .. } | Type::List(_) => {
                            let read = super::embed::read_root(
                                &bytes,
                                ty,
                                &mut |id| self.struct_node_by_id(id),
                                &apply_brand,
                            );
                            match read {
                                Ok(v) => Some((v, None)),
                                Err(why) => {
                                    tracing::debug!(file = %name.text, why, "bad embedded message");
                                    self.diags.error(
                                        e.span,
                                        "Embedded file is not a valid Cap'n Proto message.",
                                    );
                                    None
                                }
                            }
                        }
                        _ => {
                            self.diags.error(
                                e.span,
                                "Embeds can only be used when Text, Data, or a struct is expected.",
                            );
                            None
                        }
                    },
                    None => {
                        self.diags.error(
                            name.span,
                            format!("Couldn't read file for embed: {}", name.text),
                        );
                        None
                    }
                }
            }
            ExprKind::List(items) => {
                let Type::List(elem) = ty else {
                    self.mismatch(e, ty);
                    return None;
                };
                let mut out = Vec::new();
                for it in items {
                    let v = self
                        .compile_value(n, it, elem)
                        .unwrap_or_else(|| zero_val(elem));
                    out.push(v);
                }
                Some((Val::List(out), None))
            }
            ExprKind::Tuple(params) => {
                let Type::Struct { type_id, brand } = ty else {
                    self.mismatch(e, ty);
                    return None;
                };
                let node = self.struct_node_by_id(*type_id)?;
                let fields = self.fill_struct(n, &node, brand, params);
                Some((Val::Struct(*type_id, fields), None))
            }
            ExprKind::Unknown => None,
        }
    }
}
