//! The server side of an interface: the async trait users implement and the
//! `<Name>Server` dispatcher that decodes calls into its methods.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::{Flat, Iface, Params};
use crate::Generator;
use crate::emit::doc;
use crate::names::{ident, snake};
use crate::types::Site;

impl Generator<'_> {
    /// The trait: own methods; inherited ones come from the supertraits.
    pub(super) fn server_trait(&self, iface: &Iface<'_, '_>) -> TokenStream {
        let rt = self.runtime();
        let Iface {
            node,
            i,
            name,
            server,
            type_name,
            params,
            site,
            flat,
            ..
        } = iface;
        let supertraits: Vec<TokenStream> = i
            .superclasses
            .iter()
            .map(|sc| site.branded(sc.id, &sc.brand))
            .collect();
        let trait_methods = flat
            .iter()
            .filter(|f| f.owner.id == node.id)
            .map(|f| self.trait_method(iface, f));
        let trait_doc = doc(node.doc.as_deref(), || {
            format!(
                "Server side of the interface `{type_name}` (id `{:#018x}`): implement it, then serve it with [`{server}`].",
                node.id
            )
        });
        let bounds = if supertraits.is_empty() {
            quote!(::core::marker::Send + ::core::marker::Sync + 'static)
        } else {
            quote!(#(#supertraits +)* ::core::marker::Send + ::core::marker::Sync + 'static)
        };
        // The doc link follows the runtime path too (`::cara::caller`).
        let caller_doc = format!(
            " Inside a method, [`cara::caller()`]({}::caller) gives the call's caller:",
            rt.to_string().replace(' ', "")
        );
        let trait_generics = if params.is_empty() {
            quote!()
        } else {
            quote!(<#(#params: #rt::Param),*>)
        };
        quote! {
            #trait_doc
            ///
            #[doc = #caller_doc]
            /// its user id (under PLAIN) and a remote to call it back.
            // Method and parameter names and counts come from the schema.
            #[allow(
                clippy::wrong_self_convention,
                clippy::new_ret_no_self,
                clippy::too_many_arguments,
                clippy::disallowed_names
            )]
            pub trait #name #trait_generics: #bounds {
                #(#trait_methods)*
            }
        }
    }

    /// One method of the server trait.
    fn trait_method(&self, iface: &Iface<'_, '_>, f: &Flat<'_>) -> TokenStream {
        let rt = self.runtime();
        let msite = self.method_site(&iface.site, f);
        let m = ident(&f.trait_name);
        let (mgen, _) = self.method_generics(f.method);
        let args = match self.params_of(&msite, f.method) {
            Params::Fields(fields) => fields
                .into_iter()
                .map(|(n, t, _)| {
                    let n = ident(&snake(n));
                    quote!(#n: #t)
                })
                .collect::<Vec<_>>(),
            Params::Struct { ty, .. } => vec![quote!(params: #ty)],
        };
        let result = self.results_of(&msite, f.method).ty();
        let d = doc(
            self.member_doc(iface.node, f.method.code_order).as_deref(),
            || {
                format!(
                    "`{}.{}` (ordinal {}).",
                    iface.type_name, f.method.name, f.ordinal
                )
            },
        );
        quote! {
            #d
            fn #m #mgen (&self, #(#args),*) -> impl ::core::future::Future<Output = ::core::result::Result<#result, #rt::Fault>> + ::core::marker::Send;
        }
    }

    /// `<Name>Server`: the struct wrapping an implementation and its `Dispatch`.
    pub(super) fn server_type(&self, iface: &Iface<'_, '_>) -> TokenStream {
        let rt = self.runtime();
        let Iface {
            name,
            server,
            module,
            params,
            phantom_ty,
            ..
        } = iface;
        let arms = iface
            .flat
            .iter()
            .enumerate()
            .map(|(index, f)| self.dispatch_arm(iface, index, f));
        let server_doc = format!(
            " Serves an implementation of [`{name}`]: `cara::serve(server.registry(), {server}::new(implementation))`."
        );
        let impl_params_i = if params.is_empty() {
            quote!(<CaraImpl: #name>)
        } else {
            quote!(<CaraImpl: #name<#(#params),*>, #(#params: #rt::Param),*>)
        };
        let server_args = quote!(<CaraImpl, #(#params),*>);
        quote! {
            #[doc = #server_doc]
            // The generic marker type grows with the parameters; it is never spelled out.
            #[allow(clippy::type_complexity)]
            pub struct #server<CaraImpl, #(#params),*>(#rt::__private::Arc<CaraImpl>, #phantom_ty);

            impl #impl_params_i #server #server_args {
                /// Wraps an implementation for serving.
                pub fn new(implementation: CaraImpl) -> Self {
                    Self(#rt::__private::Arc::new(implementation), ::core::marker::PhantomData)
                }
            }

            impl #impl_params_i #rt::Dispatch for #server #server_args {
                fn info(&self) -> &'static #rt::InterfaceInfo {
                    &#module::INFO
                }

                #[allow(unused_mut, unused_variables, clippy::let_unit_value, clippy::match_single_binding)]
                fn dispatch(
                    &self,
                    method: usize,
                    args: ::std::vec::Vec<::core::option::Option<#rt::Value>>,
                    caps: #rt::Caps<'_>,
                ) -> #rt::BoxFuture<::core::result::Result<#rt::Reply, #rt::Fault>> {
                    // Trait methods by path: generated code may sit where the prelude is not.
                    let this = ::core::clone::Clone::clone(&self.0);
                    let mut args = ::core::iter::IntoIterator::into_iter(args);
                    let mut next = move || ::core::iter::Iterator::next(&mut args).flatten();
                    match method {
                        #(#arms)*
                        _ => ::std::boxed::Box::pin(async move {
                            ::core::result::Result::Err(#rt::Fault::type_error(::std::format!("no method #{method}")))
                        }),
                    }
                }
            }
        }
    }

    /// The dispatcher's arm for method number `index`: decode the arguments, call
    /// the implementation, box the result.
    fn dispatch_arm(&self, iface: &Iface<'_, '_>, index: usize, f: &Flat<'_>) -> TokenStream {
        let rt = self.runtime();
        let Iface {
            node,
            name,
            ty_args,
            site,
            ..
        } = iface;
        let msite = self.method_site(
            &Site {
                method_params: Vec::new(),
                ..site.clone()
            },
            f,
        );
        let msite = Site {
            method_params: Vec::new(),
            ..msite
        };
        let m = ident(&f.trait_name);
        let owner_trait = if f.owner.id == node.id {
            quote!(#name #ty_args)
        } else {
            let sc_path = site.path(f.owner.id);
            let args = &f.owner_args;
            if args.is_empty() {
                sc_path
            } else {
                quote!(#sc_path<#(#args),*>)
            }
        };
        let turbofish = if f.method.implicit_parameters.is_empty() {
            quote!()
        } else {
            let d = f
                .method
                .implicit_parameters
                .iter()
                .map(|_| quote!(#rt::Dynamic));
            quote!(::<#(#d),*>)
        };
        let (decodes, call_args) = self.dispatch_args(&msite, f);
        quote! {
            #index => {
                #(#decodes)*
                ::std::boxed::Box::pin(async move {
                    let result = <CaraImpl as #owner_trait>::#m #turbofish(&*this, #(#call_args),*).await?;
                    ::core::result::Result::Ok(::std::boxed::Box::new(result) as #rt::Reply)
                })
            }
        }
    }

    /// The statements decoding a method's arguments, and the expressions passing
    /// them to the implementation.
    fn dispatch_args(
        &self,
        msite: &Site<'_>,
        f: &Flat<'_>,
    ) -> (Vec<TokenStream>, Vec<TokenStream>) {
        let rt = self.runtime();
        let mname = f.method.name.as_str();
        match self.params_of(msite, f.method) {
            Params::Fields(fields) => fields
                .into_iter()
                .map(|(n, t, default)| {
                    let v = format_ident!("p_{}", snake(n));
                    // An absent argument takes the schema's default, if it gives one.
                    let absent = match default {
                        Some(default) => quote!(::core::result::Result::Ok(#default)),
                        None => quote!(::core::result::Result::Err(#rt::__private::missing_param(#mname, #n))),
                    };
                    (
                        quote! {
                            let #v = match next() {
                                ::core::option::Option::Some(value) => #rt::__private::decode_param::<#t>(#mname, #n, value, caps),
                                ::core::option::Option::None => #absent,
                            };
                        },
                        quote!(#v?),
                    )
                })
                .unzip(),
            Params::Struct { ty, keys, .. } => {
                let n = keys.len();
                (
                    vec![quote! {
                        // A struct parameter list: absent fields take the struct's defaults.
                        let mut all: ::std::vec::Vec<#rt::Value> = ::std::vec::Vec::with_capacity(#n);
                        for _ in 0..#n {
                            all.push(next().unwrap_or(#rt::Value::Nil));
                        }
                        let params = #rt::__private::decode_param::<#ty>(#mname, "params", #rt::__private::implode(all, &[#(#keys),*]), caps);
                    }],
                    vec![quote!(params?)],
                )
            }
        }
    }
}
