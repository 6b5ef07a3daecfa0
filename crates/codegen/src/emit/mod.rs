//! Structs, unions, groups, enums and constants: shared helpers here (field types,
//! defaults, generic markers, member names), one module per kind of item.

use cara_schema::values::Val;
use cara_schema::{Enumerant, Field, FieldKind, NO_DISCRIMINANT, Node, NodeKind, StructNode, Type};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::Generator;
use crate::names::{camel, distinct, ident, shouty, snake};
use crate::place::MethodStruct;
use crate::types::Site;

mod consts;
mod enums;
mod structs;
mod unions;

pub(crate) use unions::UnionEnum;

/// `#[doc = "..."]` from a schema doc comment, or a fallback sentence.
pub(crate) fn doc(text: Option<&str>, fallback: impl FnOnce() -> String) -> TokenStream {
    let text = match text.map(str::trim) {
        Some(t) if !t.is_empty() => t.to_string(),
        _ => fallback(),
    };
    let lines: Vec<String> = text.lines().map(|l| format!(" {}", l.trim_end())).collect();
    // Schema comments are plain text laid out by hand, not Markdown: clippy's Markdown
    // list lints do not apply to them.
    let allow = (lines.len() > 1).then(
        || quote!(#[allow(clippy::doc_lazy_continuation, clippy::doc_overindented_list_items)]),
    );
    quote!(#(#[doc = #lines])* #allow)
}

impl Generator<'_> {
    /// The Rust name of a node's item (type, trait or constant).
    pub(crate) fn item_name(&self, node: &Node) -> Ident {
        ident(
            self.places
                .places
                .get(&node.id)
                .map(|p| p.name.as_str())
                .unwrap_or("Unplaced"),
        )
    }

    /// A site inside node `id`'s own declaration, with its generics in scope.
    pub(super) fn own_site(&self, id: u64) -> Option<Site<'_>> {
        let place = self.places.places.get(&id)?;
        Some(Site {
            generator: self,
            file: place.file,
            module: place.modules.clone(),
            method_params: Vec::new(),
            scopes: self
                .generic_scopes(id)
                .into_iter()
                .map(|(s, _)| s)
                .collect(),
            iface: 0,
            subst: Default::default(),
        })
    }

    /// Whether struct `id` has a generic parameter that none of its fields
    /// (its union enum counting as mentioning them all) mentions.
    pub(crate) fn has_unused_params(&self, id: u64) -> bool {
        let params = self.params(id);
        let (Some(site), Some(NodeKind::Struct(s))) =
            (self.own_site(id), self.node(id).map(|n| &n.kind))
        else {
            return !params.is_empty();
        };
        if params.is_empty() {
            return false;
        }
        if s.discriminant_count > 0 && !self.is_pure_union(id) {
            return false;
        }
        let types: Vec<TokenStream> = s
            .fields
            .iter()
            .filter(|f| f.discriminant_value == NO_DISCRIMINANT)
            .map(|f| self.field_type(&site, id, f))
            .collect();
        // A parameter only passed back to the struct itself (`next: Box<Self<T>>`) does not
        // count: Rust wants it used elsewhere.
        let own = self.node(id).map(|n| self.item_name(n));
        params
            .iter()
            .any(|p| !types.iter().any(|t| mentions_outside(t, p, own.as_ref())))
    }

    /// Whether the union enum of struct `id` has a parameter no member mentions.
    pub(crate) fn union_has_unused_params(&self, id: u64) -> bool {
        let params = self.params(id);
        let (Some(site), Some(NodeKind::Struct(s))) =
            (self.own_site(id), self.node(id).map(|n| &n.kind))
        else {
            return !params.is_empty();
        };
        let types: Vec<TokenStream> = s
            .fields
            .iter()
            .filter(|f| f.discriminant_value != NO_DISCRIMINANT)
            .map(|f| self.field_type(&site, id, f))
            .collect();
        params.iter().any(|p| !types.iter().any(|t| mentions(t, p)))
    }

    /// The generic parameter idents declared by node `id`'s items.
    pub(crate) fn params(&self, id: u64) -> Vec<Ident> {
        self.generic_scopes(id)
            .into_iter()
            .flat_map(|(_, names)| names.into_iter().map(|n| ident(&n)))
            .collect()
    }

    pub(crate) fn member_doc(&self, node: &Node, code_order: u16) -> Option<String> {
        node.member_docs
            .get(usize::from(code_order))
            .cloned()
            .flatten()
    }

    /// The wire key of a field: its ordinal; for a group, the smallest ordinal inside.
    pub(crate) fn field_key(&self, field: &Field) -> u16 {
        self.set.wire_key(field)
    }

    /// The Rust type of a field of struct `owner`.
    pub(crate) fn field_type(&self, site: &Site<'_>, owner: u64, field: &Field) -> TokenStream {
        match &field.kind {
            FieldKind::Slot {
                ty: ty @ Type::Struct { type_id, .. },
                ..
            } if self.needs_box(owner, *type_id) => {
                let t = site.rust_type(ty);
                quote!(::core::option::Option<::std::boxed::Box<#t>>)
            }
            FieldKind::Slot { ty, .. } => site.rust_type(ty),
            FieldKind::Group { type_id } => {
                let path = site.path(*type_id);
                let params = self.params(*type_id);
                if params.is_empty() {
                    path
                } else {
                    quote!(#path<#(#params),*>)
                }
            }
        }
    }

    /// The default value expression of a field of struct `owner`.
    pub(crate) fn field_default(&self, site: &Site<'_>, owner: u64, field: &Field) -> TokenStream {
        match &field.kind {
            FieldKind::Slot {
                ty: ty @ Type::Struct { type_id, .. },
                default_literal: Some(val),
                ..
            } if self.needs_box(owner, *type_id) => {
                if matches!(val, Val::Null) {
                    quote!(::core::option::Option::None)
                } else {
                    let v = site.literal(ty, val);
                    quote!(::core::option::Option::Some(::std::boxed::Box::new(#v)))
                }
            }
            FieldKind::Slot {
                ty,
                default_literal: Some(val),
                ..
            } => site.literal(ty, val),
            _ => quote!(::core::default::Default::default()),
        }
    }
}

/// Whether `tokens` mention `name` outside the generic arguments of `own` (the item being
/// defined: a recursive reference does not use a parameter).
pub(super) fn mentions_outside(tokens: &TokenStream, name: &Ident, own: Option<&Ident>) -> bool {
    let mut iter = tokens.clone().into_iter().peekable();
    while let Some(t) = iter.next() {
        match t {
            proc_macro2::TokenTree::Ident(i) if Some(&i) == own => {
                // Skip `<...>` after the item's own name.
                if matches!(iter.peek(), Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == '<')
                {
                    let mut depth = 0usize;
                    for t in iter.by_ref() {
                        if let proc_macro2::TokenTree::Punct(p) = &t {
                            match p.as_char() {
                                '<' => depth += 1,
                                '>' => {
                                    depth -= 1;
                                    if depth == 0 {
                                        break;
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                }
            }
            proc_macro2::TokenTree::Ident(i) if i == *name => return true,
            proc_macro2::TokenTree::Group(g) if mentions_outside(&g.stream(), name, own) => {
                return true;
            }
            _ => {}
        }
    }
    false
}

/// Whether `tokens` contain the identifier `name`.
pub(super) fn mentions(tokens: &TokenStream, name: &Ident) -> bool {
    tokens.clone().into_iter().any(|t| match t {
        proc_macro2::TokenTree::Ident(i) => i == *name,
        proc_macro2::TokenTree::Group(g) => mentions(&g.stream(), name),
        _ => false,
    })
}

/// The variant names of an enum's enumerants, in ordinal order (`Unknown` is the
/// generated catch-all).
pub(crate) fn enumerant_variants(es: &[Enumerant]) -> Vec<Ident> {
    distinct(es.iter().map(|e| camel(&e.name)), &["Unknown"])
        .iter()
        .map(|n| ident(n))
        .collect()
}

/// The variant of union member `f` of struct `s`: CamelCase, made distinct from the
/// members before it in discriminant order.
pub(crate) fn union_variant(s: &StructNode, f: &Field) -> Ident {
    let mut members: Vec<&Field> = s
        .fields
        .iter()
        .filter(|m| m.discriminant_value != NO_DISCRIMINANT)
        .collect();
    members.sort_by_key(|m| m.discriminant_value);
    let names = distinct(members.iter().map(|m| camel(&m.name)), &[]);
    let at = members
        .iter()
        .position(|m| m.discriminant_value == f.discriminant_value)
        .unwrap_or(0);
    ident(names.get(at).map(String::as_str).unwrap_or("Unnamed"))
}

/// The Rust field of plain (non-union) field `f` of struct `s`: snake_case, made distinct
/// from the fields before it (`__params` is the generic marker).
pub(crate) fn field_ident(s: &StructNode, f: &Field) -> Ident {
    let plain: Vec<&Field> = s
        .fields
        .iter()
        .filter(|m| m.discriminant_value == NO_DISCRIMINANT)
        .collect();
    let names = distinct(plain.iter().map(|m| snake(&m.name)), &["__params"]);
    let at = plain.iter().position(|m| m.name == f.name).unwrap_or(0);
    ident(names.get(at).map(String::as_str).unwrap_or("unnamed"))
}

pub(super) fn is_void(f: &Field) -> bool {
    matches!(&f.kind, FieldKind::Slot { ty: Type::Void, .. })
}

/// (`<T, U>`, `<T: Param, U: Param>`, `<T, U>`) or three empty streams.
pub(crate) fn generics(
    params: &[Ident],
    rt: &TokenStream,
) -> (TokenStream, TokenStream, TokenStream) {
    if params.is_empty() {
        return (quote!(), quote!(), quote!());
    }
    (
        quote!(<#(#params),*>),
        quote!(<#(#params: #rt::Param),*>),
        quote!(<#(#params),*>),
    )
}
