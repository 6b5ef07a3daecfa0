//! Union enums: a struct's unnamed union (`Which`) or a named union.

use super::*;

/// Which union enum to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnionEnum {
    /// A named union (a group that is only a union): an item of its own, named
    /// after it, with its own codec.
    Named,
    /// A struct's unnamed union: `Which`, in the struct's module, encoded with the
    /// struct.
    Which,
}

impl Generator<'_> {
    /// The enum of a union: a struct's unnamed union (`Which`, in the struct's
    /// module) or a named union (a group that is only a union).
    pub(crate) fn union_enum(
        &self,
        site: &Site<'_>,
        node: &Node,
        s: &StructNode,
        form: UnionEnum,
    ) -> TokenStream {
        let rt = self.runtime();
        let standalone = form == UnionEnum::Named;
        let name = if standalone {
            self.item_name(node)
        } else {
            ident("Which")
        };
        let type_name = node.name();
        let params = self.params(node.id);
        let (decl, impl_generics, ty_args) = generics(&params, rt);
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
            (quote!(::core::default::Default,), quote!())
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
            #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq, #derive_default)]
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
                    quote!(#position => out = Self::#variant(#rt::Decode::decode(value, caps).map_err(|e| e.at(#key_name))?),)
                }
            });
            let body = structs::decode_fields(rt, type_name, &fields_table, decode_arms);
            let caps = structs::caps_binding(s);
            let decode_impl =
                structs::decode_impl(rt, &name, &impl_generics, &ty_args, &caps, &body);
            let encode_body = quote! {
                let mut entries: ::std::vec::Vec<(u16, #rt::Value)> = ::std::vec::Vec::new();
                match self { #arms }
                ::core::result::Result::Ok(#rt::__private::struct_map(entries))
            };
            let encode_impl =
                structs::encode_impl(rt, &name, &impl_generics, &ty_args, &caps, &encode_body);
            out.extend(quote! {
                #encode_impl

                #decode_impl
            });
        }
        out
    }
}
