//! The client side of an interface: `<Name>Client`, a typed stub with one async
//! method per method the interface answers, its codec, and conversions to the
//! clients of its super-interfaces.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::quote;

use super::{Flat, Iface, Params};
use crate::Generator;
use crate::emit::doc;
use crate::names::{ident, snake};

impl Generator<'_> {
    /// The client struct, its null default and its codec (a capability travels as
    /// a reference to its stub).
    pub(super) fn client_type(&self, iface: &Iface<'_, '_>) -> TokenStream {
        let rt = self.runtime();
        let Iface {
            type_name,
            client,
            module,
            decl,
            impl_generics,
            ty_args,
            phantom_ty,
            ..
        } = iface;
        let client_doc = format!(
            " Typed client of the interface `{type_name}`; cheap to clone, callable from any task."
        );
        quote! {
            #[doc = #client_doc]
            #[derive(::core::fmt::Debug, ::core::clone::Clone, ::core::cmp::PartialEq)]
            #[allow(clippy::type_complexity)]
            pub struct #client #decl {
                stub: #rt::Stub,
                params: #phantom_ty,
            }

            impl #impl_generics ::core::default::Default for #client #ty_args {
                /// A null capability: calls fail.
                fn default() -> Self {
                    Self::from_stub(#rt::Stub::null(&#module::INFO))
                }
            }

            impl #impl_generics #rt::Encode for #client #ty_args {
                fn encode(&self, caps: #rt::Caps<'_>) -> ::core::result::Result<#rt::Value, #rt::EncodeError> {
                    self.stub.encode(caps)
                }
            }

            impl #impl_generics #rt::Interface for #client #ty_args {
                fn info() -> &'static #rt::InterfaceInfo {
                    &#module::INFO
                }

                fn from_stub(stub: #rt::Stub) -> Self {
                    Self::from_stub(stub)
                }
            }

            impl #impl_generics #rt::Decode for #client #ty_args {
                fn decode(value: #rt::Value, caps: #rt::Caps<'_>) -> ::core::result::Result<Self, #rt::DecodeError> {
                    #rt::Stub::decode(value, &#module::INFO, caps).map(Self::from_stub)
                }
            }
        }
    }

    /// A sub-interface client is usable where a super-interface is expected: one
    /// `From` per inherited interface.
    pub(super) fn client_upcasts(&self, iface: &Iface<'_, '_>) -> Vec<TokenStream> {
        let Iface {
            node,
            client,
            impl_generics,
            ty_args,
            site,
            flat,
            ..
        } = iface;
        let mut seen_supers = HashSet::new();
        flat.iter()
            .filter(|f| f.owner.id != node.id && seen_supers.insert(f.owner.id))
            .filter_map(|f| {
                let base_client = self
                    .places
                    .client_path(f.owner.id, site.file, &site.module)?;
                let base_info = self.places.info_path(f.owner.id, site.file, &site.module)?;
                let args = &f.owner_args;
                let base = if args.is_empty() {
                    base_client
                } else {
                    quote!(#base_client<#(#args),*>)
                };
                Some(quote! {
                    impl #impl_generics ::core::convert::From<#client #ty_args> for #base {
                        fn from(sub: #client #ty_args) -> Self {
                            Self::from_stub(sub.stub.with_info(&#base_info))
                        }
                    }
                })
            })
            .collect()
    }

    /// The client's constructors and its method calls.
    pub(super) fn client_impl(&self, iface: &Iface<'_, '_>) -> TokenStream {
        let rt = self.runtime();
        let Iface {
            name,
            server,
            client,
            module,
            params,
            impl_generics,
            ty_args,
            flat,
            ..
        } = iface;
        let client_methods = flat
            .iter()
            .enumerate()
            .map(|(index, f)| self.client_method(iface, index, f));
        quote! {
            // Method and parameter names and counts come from the schema.
            #[allow(
                clippy::wrong_self_convention,
                clippy::new_ret_no_self,
                clippy::too_many_arguments,
                clippy::disallowed_names
            )]
            impl #impl_generics #client #ty_args {
                /// A client calling the interface on `remote` (a `cara::Client`'s server,
                /// or a peer from `Server::send_to`).
                pub fn new(remote: #rt::Remote) -> Self {
                    Self { stub: #rt::Stub::new(remote, &#module::INFO), params: ::core::marker::PhantomData }
                }

                /// Connects to the server at `endpoint` (named `server`, no security,
                /// 5 s timeouts); the connection lives as long as this client and its clones.
                pub fn connect(endpoint: &str) -> ::core::result::Result<Self, #rt::Error> {
                    Self::connect_with(#rt::Client::builder(), endpoint)
                }

                /// Connects with `builder`'s settings: `server_name`, `security`, `timeout`, ….
                pub fn connect_with(builder: #rt::ClientBuilder, endpoint: &str) -> ::core::result::Result<Self, #rt::Error> {
                    ::core::result::Result::Ok(Self::from_stub(#rt::Stub::connect(builder, endpoint, &#module::INFO)?))
                }

                /// The same client with another timeout for its calls.
                pub fn with_timeout(&self, timeout: #rt::__private::Duration) -> Self {
                    Self { stub: self.stub.with_timeout(timeout), params: ::core::marker::PhantomData }
                }

                /// A capability on a local implementation: pass it to a peer and its
                /// calls come back here.
                pub fn from_server<CaraImpl: #name #ty_args>(implementation: CaraImpl) -> Self {
                    Self::from_stub(#rt::Stub::local(#server::<CaraImpl, #(#params),*>::new(implementation)))
                }

                /// Wraps an untyped stub of this interface.
                #[doc(hidden)]
                pub fn from_stub(stub: #rt::Stub) -> Self {
                    Self { stub, params: ::core::marker::PhantomData }
                }

                /// The untyped stub underneath.
                pub fn stub(&self) -> &#rt::Stub {
                    &self.stub
                }

                #(#client_methods)*
            }
        }
    }

    /// The client's call of method number `index`: encode the arguments, call,
    /// decode the result.
    fn client_method(&self, iface: &Iface<'_, '_>, index: usize, f: &Flat<'_>) -> TokenStream {
        let rt = self.runtime();
        let msite = self.method_site(&iface.site, f);
        let m = ident(&f.rust_name);
        let (mgen, _) = self.method_generics(f.method);
        // The closure encodes the arguments for the callee's `Caps`.
        let (args, encoded) = match self.params_of(&msite, f.method) {
            Params::Fields(fields) if fields.is_empty() => (
                Vec::new(),
                quote!(|_| ::core::result::Result::Ok(::std::vec![])),
            ),
            Params::Fields(fields) => {
                let (a, e): (Vec<_>, Vec<_>) = fields
                    .into_iter()
                    .map(|(n, t, _)| {
                        let n = ident(&snake(n));
                        (quote!(#n: #t), quote!(#rt::Encode::encode(&#n, caps)?))
                    })
                    .unzip();
                (
                    a,
                    quote!(|caps| ::core::result::Result::Ok(::std::vec![#(#e),*])),
                )
            }
            Params::Struct { ty, keys, .. } => (
                vec![quote!(params: #ty)],
                quote!(|caps| ::core::result::Result::Ok(#rt::__private::explode(#rt::Encode::encode(&params, caps)?, &[#(#keys),*]))),
            ),
        };
        let result = self.results_of(&msite, f.method).ty();
        let d = doc(
            self.member_doc(f.owner, f.method.code_order).as_deref(),
            || format!("Calls `{}.{}`.", f.owner.name(), f.method.name),
        );
        let pipelined = f.pipelined_name.as_ref().map(|name| {
            let p = ident(name);
            let doc = format!(
                " Calls `{}.{}` and returns its result at once, pipelined: calls on it go out before it arrives.",
                f.owner.name(),
                f.method.name
            );
            quote! {
                #[doc = #doc]
                pub fn #p #mgen (&self, #(#args),*) -> #result {
                    #rt::__private::pipeline::<#result>(&self.stub, #index, move #encoded)
                }
            }
        });
        quote! {
            #d
            pub async fn #m #mgen (&self, #(#args),*) -> ::core::result::Result<#result, #rt::Error> {
                self.stub.call::<#result>(#index, #encoded).await
            }

            #pipelined
        }
    }
}
