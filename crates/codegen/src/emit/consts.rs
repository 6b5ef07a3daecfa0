//! Constants: `const` items for scalars, text and data, functions for pointer values.

use super::*;

impl Generator<'_> {
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
