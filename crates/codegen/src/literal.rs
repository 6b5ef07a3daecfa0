//! Schema literals (defaults and constants) as Rust expressions.

use cara_schema::values::Val;
use cara_schema::{FieldKind, NO_DISCRIMINANT, NodeKind, Type};
use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::types::Site;

impl Site<'_> {
    /// An expression of type `rust_type(ty)` for the literal `val`.
    pub fn literal(&self, ty: &Type, val: &Val) -> TokenStream {
        let rt = self.generator.runtime();
        match (ty, val) {
            (_, Val::Null) => quote!(::core::default::Default::default()),
            (Type::Void, _) => quote!(()),
            (Type::Bool, Val::Bool(b)) => quote!(#b),
            (Type::Float32, v) => float(number(v), Precision::Single),
            (Type::Float64, v) => float(number(v), Precision::Double),
            (int, Val::Int(i)) if int.lg_size().is_some() => integer(int, *i),
            (Type::Text, Val::Text(t)) => quote!(::std::borrow::ToOwned::to_owned(#t)),
            (Type::Data, Val::Data(d)) => {
                let bytes = d.iter().map(|b| Literal::u8_unsuffixed(*b));
                quote!(#rt::Data(::std::vec![#(#bytes),*]))
            }
            (Type::Enum { type_id, .. }, Val::Enum(e)) => self.enumerant(*type_id, *e),
            (Type::List(inner), Val::List(items)) => {
                let items = items.iter().map(|v| self.literal(inner, v));
                quote!(::std::vec![#(#items),*])
            }
            (Type::Struct { type_id, .. }, Val::Struct(_, entries)) => {
                self.struct_literal(ty, *type_id, entries)
            }
            _ => quote!(::core::default::Default::default()),
        }
    }

    /// `Path::Variant` of enum `id` for ordinal `e` (`Unknown(e)` if out of range).
    pub fn enumerant(&self, id: u64, e: u16) -> TokenStream {
        let path = self.path(id);
        let name = match self.generator.node(id).map(|n| &n.kind) {
            Some(NodeKind::Enum(es)) => crate::emit::enumerant_variants(es)
                .into_iter()
                .nth(usize::from(e)),
            _ => None,
        };
        match name {
            Some(v) => quote!(#path::#v),
            None => quote!(#path::Unknown(#e)),
        }
    }

    fn struct_literal(&self, ty: &Type, id: u64, entries: &[(usize, Type, Val)]) -> TokenStream {
        let rt = self.generator.runtime();
        let Some(NodeKind::Struct(s)) = self.generator.node(id).map(|n| &n.kind) else {
            return quote!(::core::default::Default::default());
        };
        let rust = self.rust_type(ty);
        let bare = self.path(id);
        let union_path = self.generator.union_enum_expr_path(self, id);
        let which = self.generator.which_field(s);
        let mut inits = Vec::new();
        let mut plain_set = 0usize;
        let mut union_set = false;
        for (index, field_ty, val) in entries {
            let Some(field) = s.fields.get(*index) else {
                continue;
            };
            let value = match &field.kind {
                FieldKind::Slot {
                    ty:
                        Type::Struct {
                            type_id: target, ..
                        },
                    ..
                } if self.generator.needs_box(id, *target) && !matches!(val, Val::Null) => {
                    let v = self.literal(field_ty, val);
                    quote!(::core::option::Option::Some(::std::boxed::Box::new(#v)))
                }
                // A typed constant stored in an untyped pointer field: the field holds its
                // encoded value.
                FieldKind::Slot {
                    ty: Type::AnyPointer(kind),
                    ..
                } if !matches!(
                    kind,
                    cara_schema::AnyPointer::Parameter { .. }
                        | cara_schema::AnyPointer::ImplicitMethodParameter { .. }
                ) && !matches!(field_ty, Type::AnyPointer(_)) =>
                {
                    let v = self.literal(field_ty, val);
                    quote!(#rt::Dynamic(#rt::__private::literal(&#v)))
                }
                FieldKind::Slot { .. } => self.literal(field_ty, val),
                FieldKind::Group { type_id } => {
                    let group_ty = Type::Struct {
                        type_id: *type_id,
                        brand: Default::default(),
                    };
                    self.literal(&group_ty, val)
                }
            };
            if field.discriminant_value == NO_DISCRIMINANT {
                let f = crate::emit::field_ident(s, field);
                inits.push(quote!(#f: #value,));
                plain_set += 1;
                continue;
            }
            let Some(union_path) = &union_path else {
                continue;
            };
            let variant = crate::emit::union_variant(s, field);
            let is_void = matches!(&field.kind, FieldKind::Slot { ty: Type::Void, .. });
            if self.generator.is_pure_union(id) {
                return if is_void {
                    quote!(#bare::#variant)
                } else {
                    quote!(#bare::#variant(#value))
                };
            }
            union_set = true;
            inits.push(if is_void {
                quote!(#which: #union_path::#variant,)
            } else {
                quote!(#which: #union_path::#variant(#value),)
            });
        }
        let plain_total = s
            .fields
            .iter()
            .filter(|f| f.discriminant_value == NO_DISCRIMINANT)
            .count();
        let complete = plain_set == plain_total
            && (s.discriminant_count == 0 || union_set)
            && !self.generator.has_unused_params(id);
        // A struct on a by-value cycle cannot take its other fields from its own `Default`:
        // that default may hold this very literal (`selfField :Self = (...)`) and would
        // recurse forever. Its unset fields are listed instead, boxed ones as `None`.
        let rest = if complete {
            None
        } else if self.generator.in_cycle(id) {
            let mut rest = Vec::new();
            for (index, f) in s.fields.iter().enumerate() {
                if f.discriminant_value != NO_DISCRIMINANT
                    || entries.iter().any(|(i, _, _)| *i == index)
                {
                    continue;
                }
                let name = crate::emit::field_ident(s, f);
                let boxed = matches!(&f.kind, FieldKind::Slot { ty: Type::Struct { type_id, .. }, .. }
                    if self.generator.needs_box(id, *type_id));
                let value = if boxed {
                    quote!(::core::option::Option::None)
                } else {
                    self.generator.field_default(self, id, f)
                };
                rest.push(quote!(#name: #value,));
            }
            if s.discriminant_count > 0 && !union_set {
                rest.push(quote!(#which: ::core::default::Default::default(),));
            }
            if self.generator.has_unused_params(id) {
                rest.push(quote!(__params: ::core::marker::PhantomData,));
            }
            Some(quote!(#(#rest)*))
        } else {
            Some(quote!(..::core::default::Default::default()))
        };
        // The annotated `let` gives the struct expression its generic arguments.
        quote!({
            let value: #rust = #bare { #(#inits)* #rest };
            value
        })
    }
}

fn number(v: &Val) -> f64 {
    match v {
        Val::Float(f) => *f,
        Val::Int(i) => *i as f64,
        _ => 0.0,
    }
}

/// Which Rust float type a literal is written as.
#[derive(Clone, Copy, PartialEq)]
enum Precision {
    /// `f32` (`Float32`).
    Single,
    /// `f64` (`Float64`).
    Double,
}

fn float(f: f64, precision: Precision) -> TokenStream {
    let t = match precision {
        Precision::Single => quote!(f32),
        Precision::Double => quote!(f64),
    };
    if f.is_nan() {
        quote!(#t::NAN)
    } else if f.is_infinite() {
        if f > 0.0 {
            quote!(#t::INFINITY)
        } else {
            quote!(#t::NEG_INFINITY)
        }
    } else if precision == Precision::Single {
        let l = Literal::f32_suffixed(f as f32);
        quote!(#l)
    } else {
        let l = Literal::f64_suffixed(f);
        quote!(#l)
    }
}

fn integer(ty: &Type, i: i128) -> TokenStream {
    // Values were range-checked by the front-end; casts keep their bits.
    let l = match ty {
        Type::Int8 => Literal::i8_suffixed(i as i8),
        Type::Int16 => Literal::i16_suffixed(i as i16),
        Type::Int32 => Literal::i32_suffixed(i as i32),
        Type::Int64 => Literal::i64_suffixed(i as i64),
        Type::Uint8 => Literal::u8_suffixed(i as u8),
        Type::Uint16 => Literal::u16_suffixed(i as u16),
        Type::Uint32 => Literal::u32_suffixed(i as u32),
        Type::Uint64 => Literal::u64_suffixed(i as u64),
        _ => Literal::i64_unsuffixed(i as i64),
    };
    quote!(#l)
}
