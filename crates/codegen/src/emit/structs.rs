//! Structs and groups that are not pure unions: the Rust struct, its `Default`, and
//! its `Encode`/`Decode` through the field table.

use super::*;

impl Generator<'_> {
    /// A struct or group that is not a pure union.
    pub(crate) fn structure(&self, site: &Site<'_>, node: &Node, s: &StructNode) -> TokenStream {
        let rt = self.runtime();
        let name = self.item_name(node);
        // A method's results struct is known by its Rust name, not `name$Results`.
        let rust_name = name.to_string();
        let type_name = if self.places.method_structs.contains_key(&node.id) {
            rust_name.as_str()
        } else {
            node.name()
        };
        let params = self.params(node.id);
        let (decl, impl_generics, ty_args) = generics(&params, rt);
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
        let is_results = matches!(
            self.places.method_structs.get(&node.id),
            Some((_, _, MethodStruct::Results))
        );
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
            (quote!(::core::default::Default,), quote!())
        };

        let fields_table = self.fields_table(s);
        let encode_plain: Vec<TokenStream> = plain
            .iter()
            .map(|f| {
                let fname = field_ident(s, f);
                let key = self.field_key(f);
                quote!((#key, #rt::Encode::encode(&self.#fname, caps)?),)
            })
            .collect();
        // Several results travel keyed by result *name*: the form the original
        // cara reads (it drops ordinal keys without a word). Decoding takes both.
        let encode_named: Vec<TokenStream> = plain
            .iter()
            .map(|f| {
                let fname = field_ident(s, f);
                let key = &f.name;
                quote!((#key, #rt::Encode::encode(&self.#fname, caps)?),)
            })
            .collect();
        let encode_body = match union_expr.as_ref() {
            None if is_results => {
                quote!(::core::result::Result::Ok(#rt::__private::named_map(::std::vec![#(#encode_named)*])))
            }
            Some(u) => {
                let arms = self.union_encode_arms(u, s);
                quote! {
                    let mut entries: ::std::vec::Vec<(u16, #rt::Value)> = ::std::vec![#(#encode_plain)*];
                    match &self.#which { #arms }
                    ::core::result::Result::Ok(#rt::__private::struct_map(entries))
                }
            }
            None => quote!(::core::result::Result::Ok(#rt::__private::struct_map(
                ::std::vec![#(#encode_plain)*]
            ))),
        };
        let decode_arms = s.fields.iter().enumerate().map(|(position, f)| {
            let key_name = &f.name;
            let decoded = quote!(#rt::Decode::decode(value, caps).map_err(|e| e.at(#key_name))?);
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
                #rt::__private::struct_fields(value, #type_name, &[])?;
                ::core::result::Result::Ok(<Self as ::core::default::Default>::default())
            }
        } else {
            decode_fields(rt, type_name, &fields_table, decode_arms)
        };
        let caps = caps_binding(s);
        let decode_impl = decode_impl(rt, &name, &impl_generics, &ty_args, &caps, &decode_body);
        let encode_impl = encode_impl(rt, &name, &impl_generics, &ty_args, &caps, &encode_body);
        quote! {
            #item_doc
            #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq, #derive_default)]
            pub struct #name #decl {
                #(#field_decls)*
                #union_decl
                #phantom
            }

            #default_impl

            #encode_impl

            #decode_impl
        }
    }

    /// Whether a struct's union enum derives `Default` (its first member is void),
    /// so the struct's own default is derivable too.
    pub(super) fn union_default_is_derivable(&self, s: &StructNode) -> bool {
        let mut members: Vec<&Field> = s
            .fields
            .iter()
            .filter(|f| f.discriminant_value != NO_DISCRIMINANT)
            .collect();
        members.sort_by_key(|f| f.discriminant_value);
        members.first().is_some_and(|f| is_void(f))
    }

    pub(super) fn fields_table(&self, s: &StructNode) -> TokenStream {
        let entries = s.fields.iter().map(|f| {
            let key = self.field_key(f);
            let name = &f.name;
            quote!((#key, #name),)
        });
        quote!(#(#entries)*)
    }

    pub(super) fn union_encode_arms(&self, u: &TokenStream, s: &StructNode) -> TokenStream {
        let rt = self.runtime();
        let arms = s
            .fields
            .iter()
            .filter(|f| f.discriminant_value != NO_DISCRIMINANT)
            .map(|f| {
                let variant = union_variant(s, f);
                let key = self.field_key(f);
                if is_void(f) {
                    quote!(#u::#variant => entries.push((#key, #rt::Value::Nil)),)
                } else {
                    quote!(#u::#variant(v) => entries.push((#key, #rt::Encode::encode(v, caps)?)),)
                }
            });
        quote!(#(#arms)* #[allow(unreachable_patterns)] _ => {})
    }
}

/// How the encode and decode functions of `s` bind their `Caps` argument: `caps`
/// where a member passes it on, `_` where none does (no fields, or only void
/// union members), so generated code has no unused variable.
pub(super) fn caps_binding(s: &StructNode) -> TokenStream {
    let passes_it_on = s
        .fields
        .iter()
        .any(|f| f.discriminant_value == NO_DISCRIMINANT || !is_void(f));
    if passes_it_on {
        quote!(caps)
    } else {
        quote!(_)
    }
}

/// `impl Encode`, with `body` making the `Value` of `self` (capabilities for
/// the peer of the `Caps` argument, bound as `caps`).
pub(super) fn encode_impl(
    rt: &TokenStream,
    name: &Ident,
    impl_generics: &TokenStream,
    ty_args: &TokenStream,
    caps: &TokenStream,
    body: &TokenStream,
) -> TokenStream {
    quote! {
        impl #impl_generics #rt::Encode for #name #ty_args {
            fn encode(&self, #caps: #rt::Caps<'_>) -> ::core::result::Result<#rt::Value, #rt::EncodeError> {
                #body
            }
        }
    }
}

/// `impl Decode`, with `body` reading `value` into `Self` (capabilities from
/// the peer of the `Caps` argument, bound as `caps`).
pub(super) fn decode_impl(
    rt: &TokenStream,
    name: &Ident,
    impl_generics: &TokenStream,
    ty_args: &TokenStream,
    caps: &TokenStream,
    body: &TokenStream,
) -> TokenStream {
    quote! {
        impl #impl_generics #rt::Decode for #name #ty_args {
            // The match covers any number of fields; with one it is a single arm.
            #[allow(clippy::single_match)]
            fn decode(value: #rt::Value, #caps: #rt::Caps<'_>) -> ::core::result::Result<Self, #rt::DecodeError> {
                #body
            }
        }
    }
}

/// The decode body of a struct or named union: start from the default, then let
/// each field present (found through the key/name table) set its member.
pub(super) fn decode_fields(
    rt: &TokenStream,
    type_name: &str,
    fields_table: &TokenStream,
    arms: impl Iterator<Item = TokenStream>,
) -> TokenStream {
    quote! {
        const FIELDS: &[(u16, &str)] = &[#fields_table];
        let mut out = <Self as ::core::default::Default>::default();
        for (position, value) in #rt::__private::struct_fields(value, #type_name, FIELDS)? {
            match position {
                #(#arms)*
                _ => {}
            }
        }
        ::core::result::Result::Ok(out)
    }
}
