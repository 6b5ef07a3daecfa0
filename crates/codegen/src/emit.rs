//! Structs, unions, groups, enums and constants.

use cara_schema::values::Val;
use cara_schema::{Enumerant, Field, FieldKind, NO_DISCRIMINANT, Node, NodeKind, StructNode, Type};
use proc_macro2::{Ident, TokenStream};
use quote::quote;

use crate::Generator;
use crate::names::{camel, distinct, ident, shouty, snake};
use crate::types::Site;

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
    fn own_site(&self, id: u64) -> Option<Site<'_>> {
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
        match &field.kind {
            FieldKind::Slot { .. } => field.ordinal.unwrap_or(field.code_order),
            FieldKind::Group { type_id } => {
                self.min_ordinal(*type_id, 0).unwrap_or(field.code_order)
            }
        }
    }

    fn min_ordinal(&self, group: u64, depth: u32) -> Option<u16> {
        if depth > 32 {
            return None;
        }
        let Some(NodeKind::Struct(s)) = self.node(group).map(|n| &n.kind) else {
            return None;
        };
        s.fields
            .iter()
            .filter_map(|f| match &f.kind {
                FieldKind::Slot { .. } => f.ordinal,
                FieldKind::Group { type_id } => self.min_ordinal(*type_id, depth + 1),
            })
            .min()
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

    /// A struct or group that is not a pure union.
    pub(crate) fn structure(&self, site: &Site<'_>, node: &Node, s: &StructNode) -> TokenStream {
        let name = self.item_name(node);
        // A method's results struct is known by its Rust name, not `name$Results`.
        let rust_name = name.to_string();
        let type_name = if self.places.method_structs.contains_key(&node.id) {
            rust_name.as_str()
        } else {
            node.name()
        };
        let params = self.params(node.id);
        let (decl, impl_generics, ty_args) = generics(&params);
        // Only a parameter no field mentions needs a marker field.
        let needs_phantom = self.has_unused_params(node.id);
        let phantom = needs_phantom.then(|| {
            quote! {
                #[doc(hidden)]
                // Many generic parameters make a long marker type; it is never spelled out.
                #[allow(clippy::type_complexity)]
                pub __params: ::core::marker::PhantomData<fn() -> (#(#params,)*)>,
            }
        });
        let phantom_default = needs_phantom.then(|| quote!(__params: ::core::marker::PhantomData,));
        let item_doc = doc(node.doc.as_deref(), || {
            if s.is_group {
                format!("The group `{type_name}`.")
            } else {
                format!("The struct `{type_name}` (id `{:#018x}`).", node.id)
            }
        });
        let plain: Vec<&Field> = s
            .fields
            .iter()
            .filter(|f| f.discriminant_value == NO_DISCRIMINANT)
            .collect();
        let is_results = matches!(self.places.method_structs.get(&node.id), Some((_, _, true)));
        let field_decls = plain.iter().map(|f| {
            let fname = field_ident(s, f);
            let fty = self.field_type(site, node.id, f);
            let key = if is_results {
                format!("{:?}", f.name)
            } else {
                self.field_key(f).to_string()
            };
            let d = doc(self.member_doc(node, f.code_order).as_deref(), || {
                format!("Field `{}` (wire key {key}).", f.name)
            });
            quote!(#d pub #fname: #fty,)
        });
        let which = self.which_field(s);
        let union = (s.discriminant_count > 0)
            .then(|| self.union_enum_path(site, node.id))
            .flatten();
        let union_expr = (s.discriminant_count > 0)
            .then(|| self.union_enum_expr_path(site, node.id))
            .flatten();
        let union_decl = union.as_ref().map(|u| {
            quote! {
                /// The active member of the unnamed union.
                pub #which: #u,
            }
        });
        let union_default_tokens = union
            .as_ref()
            .map(|_| quote!(#which: ::core::default::Default::default(),));
        let field_defaults: Vec<TokenStream> = plain
            .iter()
            .map(|f| {
                let fname = field_ident(s, f);
                let value = self.field_default(site, node.id, f);
                quote!(#fname: #value,)
            })
            .collect();
        // Clippy wants a derive where every default is the type's own.
        let explicit_defaults = plain.iter().any(|f| {
            matches!(
                &f.kind,
                FieldKind::Slot {
                    default_literal: Some(_),
                    ..
                }
            )
        }) || (s.discriminant_count > 0
            && !self.union_default_is_derivable(s))
            // A derived Default would bound parameters by `Default`, but field types such as
            // clients need `Param`.
            || !params.is_empty();
        let (derive_default, default_impl) = if explicit_defaults {
            (
                quote!(),
                quote! {
                    impl #impl_generics ::core::default::Default for #name #ty_args {
                        // Schema literals are the user's values, kept as written.
                        #[allow(clippy::approx_constant, clippy::excessive_precision)]
                        fn default() -> Self {
                            Self {
                                #(#field_defaults)*
                                #union_default_tokens
                                #phantom_default
                            }
                        }
                    }
                },
            )
        } else {
            (quote!(Default,), quote!())
        };

        let fields_table = self.fields_table(s);
        let encode_plain: Vec<TokenStream> = plain
            .iter()
            .map(|f| {
                let fname = field_ident(s, f);
                let key = self.field_key(f);
                quote!((#key, ::cara::Encode::encode(&self.#fname)),)
            })
            .collect();
        // Several results travel keyed by result *name*: the form the original
        // cara reads (it drops ordinal keys without a word). Decoding takes both.
        let encode_named: Vec<TokenStream> = plain
            .iter()
            .map(|f| {
                let fname = field_ident(s, f);
                let key = &f.name;
                quote!((#key, ::cara::Encode::encode(&self.#fname)),)
            })
            .collect();
        let encode_body = match union_expr.as_ref() {
            None if is_results => {
                quote!(::cara::__private::named_map(::std::vec![#(#encode_named)*]))
            }
            Some(u) => {
                let arms = self.union_encode_arms(u, s);
                quote! {
                    let mut entries: ::std::vec::Vec<(u16, ::cara::Value)> = ::std::vec![#(#encode_plain)*];
                    match &self.#which { #arms }
                    ::cara::__private::struct_map(entries)
                }
            }
            None => quote!(::cara::__private::struct_map(
                ::std::vec![#(#encode_plain)*]
            )),
        };
        let decode_arms = s.fields.iter().enumerate().map(|(position, f)| {
            let key_name = &f.name;
            let decoded = quote!(::cara::Decode::decode(value).map_err(|e| e.at(#key_name))?);
            if f.discriminant_value == NO_DISCRIMINANT {
                let fname = field_ident(s, f);
                quote!(#position => out.#fname = #decoded,)
            } else {
                let variant = union_variant(s, f);
                let u = union_expr.clone().unwrap_or_default();
                if is_void(f) {
                    quote!(#position => {
                        let _ = value;
                        out.#which = #u::#variant;
                    })
                } else {
                    quote!(#position => out.#which = #u::#variant(#decoded),)
                }
            }
        });
        let decode_body = if s.fields.is_empty() {
            quote! {
                // Nothing to read, but it must be a struct.
                ::cara::__private::struct_fields(value, #type_name, &[])?;
                ::core::result::Result::Ok(<Self as ::core::default::Default>::default())
            }
        } else {
            quote! {
                const FIELDS: &[(u16, &str)] = &[#fields_table];
                let mut out = <Self as ::core::default::Default>::default();
                for (position, value) in ::cara::__private::struct_fields(value, #type_name, FIELDS)? {
                    match position {
                        #(#decode_arms)*
                        _ => {}
                    }
                }
                ::core::result::Result::Ok(out)
            }
        };
        quote! {
            #item_doc
            #[derive(Debug, Clone, PartialEq, #derive_default)]
            pub struct #name #decl {
                #(#field_decls)*
                #union_decl
                #phantom
            }

            #default_impl

            impl #impl_generics ::cara::Encode for #name #ty_args {
                fn encode(&self) -> ::cara::Value {
                    #encode_body
                }
            }

            impl #impl_generics ::cara::Decode for #name #ty_args {
                // The match covers any number of fields; with one it is a single arm.
                #[allow(clippy::single_match)]
                fn decode(value: ::cara::Value) -> ::core::result::Result<Self, ::cara::DecodeError> {
                    #decode_body
                }
            }
        }
    }

    /// Whether a struct's union enum derives `Default` (its first member is void),
    /// so the struct's own default is derivable too.
    fn union_default_is_derivable(&self, s: &StructNode) -> bool {
        let mut members: Vec<&Field> = s
            .fields
            .iter()
            .filter(|f| f.discriminant_value != NO_DISCRIMINANT)
            .collect();
        members.sort_by_key(|f| f.discriminant_value);
        members.first().is_some_and(|f| is_void(f))
    }

    fn fields_table(&self, s: &StructNode) -> TokenStream {
        let entries = s.fields.iter().map(|f| {
            let key = self.field_key(f);
            let name = &f.name;
            quote!((#key, #name),)
        });
        quote!(#(#entries)*)
    }

    fn union_encode_arms(&self, u: &TokenStream, s: &StructNode) -> TokenStream {
        let arms = s
            .fields
            .iter()
            .filter(|f| f.discriminant_value != NO_DISCRIMINANT)
            .map(|f| {
                let variant = union_variant(s, f);
                let key = self.field_key(f);
                if is_void(f) {
                    quote!(#u::#variant => entries.push((#key, ::cara::Value::Nil)),)
                } else {
                    quote!(#u::#variant(v) => entries.push((#key, ::cara::Encode::encode(v))),)
                }
            });
        quote!(#(#arms)* #[allow(unreachable_patterns)] _ => {})
    }

    /// The enum of a union: a struct's unnamed union (`Which`, in the struct's
    /// module) or a named union (a group that is only a union).
    pub(crate) fn union_enum(
        &self,
        site: &Site<'_>,
        node: &Node,
        s: &StructNode,
        standalone: bool,
    ) -> TokenStream {
        let name = if standalone {
            self.item_name(node)
        } else {
            ident("Which")
        };
        let type_name = node.name();
        let params = self.params(node.id);
        let (decl, impl_generics, ty_args) = generics(&params);
        let members: Vec<&Field> = {
            let mut m: Vec<&Field> = s
                .fields
                .iter()
                .filter(|f| f.discriminant_value != NO_DISCRIMINANT)
                .collect();
            m.sort_by_key(|f| f.discriminant_value);
            m
        };
        let variants = members.iter().map(|f| {
            let v = union_variant(s, f);
            let d = doc(self.member_doc(node, f.code_order).as_deref(), || {
                format!(
                    "Union member `{}` (wire key {}).",
                    f.name,
                    self.field_key(f)
                )
            });
            if is_void(f) {
                quote!(#d #v,)
            } else {
                let ty = self.field_type(site, node.id, f);
                quote!(#d #v(#ty),)
            }
        });
        let phantom = self.union_has_unused_params(node.id).then(|| {
            quote! {
                #[doc(hidden)]
                #[allow(clippy::type_complexity)]
                __Params(::core::marker::PhantomData<fn() -> (#(#params,)*)>),
            }
        });
        let default = members.first().map(|f| {
            let v = union_variant(s, f);
            if is_void(f) {
                quote!(Self::#v)
            } else {
                let value = self.field_default(site, node.id, f);
                quote!(Self::#v(#value))
            }
        });
        let doc_text = if standalone {
            doc(node.doc.as_deref(), || {
                format!("The union `{type_name}`: one of its members.")
            })
        } else {
            let text = format!(" The unnamed union of `{type_name}`: one of its members.");
            quote!(#[doc = #text])
        };
        let first_is_unit = members.first().is_some_and(|f| is_void(f));
        let (derive_default, default_impl) = if first_is_unit {
            (quote!(Default,), quote!())
        } else {
            (
                quote!(),
                quote! {
                    impl #impl_generics ::core::default::Default for #name #ty_args {
                        fn default() -> Self {
                            #default
                        }
                    }
                },
            )
        };
        let variants = variants.enumerate().map(|(i, v)| {
            if i == 0 && first_is_unit {
                quote!(#[default] #v)
            } else {
                v
            }
        });
        let mut out = quote! {
            #doc_text
            #[derive(Debug, Clone, PartialEq, #derive_default)]
            // Members are stored inline, as the schema declares them.
            #[allow(clippy::large_enum_variant)]
            pub enum #name #decl {
                #(#variants)*
                #phantom
            }

            #default_impl
        };
        if standalone {
            let self_path = quote!(Self);
            let arms = self.union_encode_arms(&self_path, s);
            let fields_table = self.fields_table(s);
            let decode_arms = s.fields.iter().enumerate().map(|(position, f)| {
                let key_name = &f.name;
                let variant = union_variant(s, f);
                if is_void(f) {
                    quote!(#position => {
                        let _ = value;
                        out = Self::#variant;
                    })
                } else {
                    quote!(#position => out = Self::#variant(::cara::Decode::decode(value).map_err(|e| e.at(#key_name))?),)
                }
            });
            out.extend(quote! {
                impl #impl_generics ::cara::Encode for #name #ty_args {
                    fn encode(&self) -> ::cara::Value {
                        let mut entries: ::std::vec::Vec<(u16, ::cara::Value)> = ::std::vec::Vec::new();
                        match self { #arms }
                        ::cara::__private::struct_map(entries)
                    }
                }

                impl #impl_generics ::cara::Decode for #name #ty_args {
                    // The match covers any number of fields; with one it is a single arm.
                #[allow(clippy::single_match)]
                fn decode(value: ::cara::Value) -> ::core::result::Result<Self, ::cara::DecodeError> {
                        const FIELDS: &[(u16, &str)] = &[#fields_table];
                        let mut out = <Self as ::core::default::Default>::default();
                        for (position, value) in ::cara::__private::struct_fields(value, #type_name, FIELDS)? {
                            match position {
                                #(#decode_arms)*
                                _ => {}
                            }
                        }
                        ::core::result::Result::Ok(out)
                    }
                }
            });
        }
        out
    }

    pub(crate) fn enumeration(
        &self,
        _site: &Site<'_>,
        node: &Node,
        es: &[Enumerant],
    ) -> TokenStream {
        let name = self.item_name(node);
        let type_name = node.name();
        let item_doc = doc(node.doc.as_deref(), || {
            format!("The enum `{type_name}` (id `{:#018x}`).", node.id)
        });
        let variants: Vec<Ident> = enumerant_variants(es);
        let docs = es.iter().enumerate().map(|(i, e)| {
            doc(self.member_doc(node, e.code_order).as_deref(), || {
                format!("`{}` (ordinal {i}).", e.name)
            })
        });
        let default_attr = |i: usize| (i == 0).then(|| quote!(#[default]));
        let decls = variants.iter().zip(docs).enumerate().map(|(i, (v, d))| {
            let attr = default_attr(i);
            quote!(#d #attr #v,)
        });
        let ordinals: Vec<u16> = (0..es.len())
            .filter_map(|i| u16::try_from(i).ok())
            .collect();
        let names: Vec<&str> = es.iter().map(|e| e.name.as_str()).collect();
        let (derive_default, manual_default) = if es.is_empty() {
            (
                quote!(),
                quote! {
                    impl ::core::default::Default for #name {
                        fn default() -> Self {
                            Self::Unknown(0)
                        }
                    }
                },
            )
        } else {
            (quote!(Default,), quote!())
        };
        quote! {
            #item_doc
            #[derive(Debug, Clone, Copy, #derive_default)]
            pub enum #name {
                #(#decls)*
                /// An enumerant this code does not know (from a newer schema); kept as is.
                Unknown(u16),
            }

            #manual_default

            impl #name {
                /// The enumerant's ordinal.
                pub fn ordinal(self) -> u16 {
                    match self {
                        #(Self::#variants => #ordinals,)*
                        Self::Unknown(n) => n,
                    }
                }

                /// The enumerant with this ordinal.
                pub fn from_ordinal(n: u16) -> Self {
                    match n {
                        #(#ordinals => Self::#variants,)*
                        n => Self::Unknown(n),
                    }
                }
            }

            // Equality is by ordinal, so `Unknown(n)` equals the enumerant `n` names.
            impl ::core::cmp::PartialEq for #name {
                fn eq(&self, other: &Self) -> bool {
                    self.ordinal() == other.ordinal()
                }
            }

            impl ::core::cmp::Eq for #name {}

            impl ::core::hash::Hash for #name {
                fn hash<H: ::core::hash::Hasher>(&self, state: &mut H) {
                    self.ordinal().hash(state);
                }
            }

            impl ::cara::Encode for #name {
                fn encode(&self) -> ::cara::Value {
                    ::cara::Value::from(self.ordinal())
                }
            }

            impl ::cara::Decode for #name {
                // The match covers any number of fields; with one it is a single arm.
                #[allow(clippy::single_match)]
                fn decode(value: ::cara::Value) -> ::core::result::Result<Self, ::cara::DecodeError> {
                    const NAMES: &[&str] = &[#(#names),*];
                    ::cara::__private::enum_ordinal(&value, #type_name, NAMES).map(Self::from_ordinal)
                }
            }
        }
    }

    pub(crate) fn constant(
        &self,
        site: &Site<'_>,
        node: &Node,
        ty: &Type,
        literal: Option<&Val>,
    ) -> TokenStream {
        let mut site = site.clone();
        // A constant cannot use generic parameters.
        site.scopes.clear();
        let type_name = node.name();
        let doc = doc(node.doc.as_deref(), || {
            format!("The constant `{type_name}`.")
        });
        let const_name = ident(&shouty(type_name));
        // Schema literals are the user's values, kept as written.
        let doc = quote!(#doc #[allow(clippy::approx_constant, clippy::excessive_precision)]);
        let val = literal.cloned().unwrap_or(Val::Null);
        match (ty, &val) {
            (Type::Text, Val::Text(t)) => quote!(#doc pub const #const_name: &str = #t;),
            (Type::Data, Val::Data(d)) => {
                let bytes = d.iter().map(|b| proc_macro2::Literal::u8_unsuffixed(*b));
                quote!(#doc pub const #const_name: &[u8] = &[#(#bytes),*];)
            }
            (Type::Void, _) => quote!(#doc pub const #const_name: () = ();),
            (t, _) if t.lg_size().is_some() => {
                let rust = site.rust_type(t);
                let value = site.literal(t, &val);
                quote!(#doc pub const #const_name: #rust = #value;)
            }
            _ => {
                let rust = site.rust_type(ty);
                let value = site.literal(ty, &val);
                let f = ident(&snake(type_name));
                quote! {
                    #doc
                    pub fn #f() -> #rust {
                        #value
                    }
                }
            }
        }
    }
}

/// Whether `tokens` mention `name` outside the generic arguments of `own` (the item being
/// defined: a recursive reference does not use a parameter).
fn mentions_outside(tokens: &TokenStream, name: &Ident, own: Option<&Ident>) -> bool {
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
fn mentions(tokens: &TokenStream, name: &Ident) -> bool {
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

fn is_void(f: &Field) -> bool {
    matches!(&f.kind, FieldKind::Slot { ty: Type::Void, .. })
}

/// (`<T, U>`, `<T: Param, U: Param>`, `<T, U>`) or three empty streams.
pub(crate) fn generics(params: &[Ident]) -> (TokenStream, TokenStream, TokenStream) {
    if params.is_empty() {
        return (quote!(), quote!(), quote!());
    }
    (
        quote!(<#(#params),*>),
        quote!(<#(#params: ::cara::Param),*>),
        quote!(<#(#params),*>),
    )
}
