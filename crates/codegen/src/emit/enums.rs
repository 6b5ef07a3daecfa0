//! Enums: variants with the catch-all `Unknown(u16)`, ordinals, encoding.

use super::*;

impl Generator<'_> {
    pub(crate) fn enumeration(
        &self,
        _site: &Site<'_>,
        node: &Node,
        es: &[Enumerant],
    ) -> TokenStream {
        let rt = self.runtime();
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
            (quote!(::core::default::Default,), quote!())
        };
        let decode_body = quote! {
            const NAMES: &[&str] = &[#(#names),*];
            #rt::__private::enum_ordinal(&value, #type_name, NAMES).map(Self::from_ordinal)
        };
        // An enumerant holds no capabilities: the `Caps` argument goes unused.
        let decode_impl =
            structs::decode_impl(rt, &name, &quote!(), &quote!(), &quote!(_), &decode_body);
        let encode_body = quote! {
            ::core::result::Result::Ok(<#rt::Value as ::core::convert::From<u16>>::from(self.ordinal()))
        };
        let encode_impl =
            structs::encode_impl(rt, &name, &quote!(), &quote!(), &quote!(_), &encode_body);
        quote! {
            #item_doc
            #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::marker::Copy, #derive_default)]
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
                    ::core::hash::Hash::hash(&self.ordinal(), state);
                }
            }

            #encode_impl

            #decode_impl
        }
    }
}
