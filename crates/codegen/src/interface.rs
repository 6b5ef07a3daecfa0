//! Interfaces: the async server trait, its dispatcher and the typed client stub.

use std::collections::{HashMap, HashSet};

use cara_schema::{FieldKind, InterfaceNode, Method, Node, NodeKind, StructNode};
use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use crate::Generator;
use crate::emit::{doc, generics};
use crate::names::{ident, snake};
use crate::types::Site;

/// A method as a server of some interface answers it (own or inherited).
struct Flat<'a> {
    /// The interface that declares the method.
    owner: &'a Node,
    method: &'a Method,
    /// The method's name in its interface's trait.
    trait_name: String,
    /// The client method's name (unique across inherited interfaces, and clear
    /// of the client's own methods).
    rust_name: String,
    /// Generic arguments of `owner` as seen from the served interface.
    owner_args: Vec<TokenStream>,
    /// The method's ordinal in `owner`.
    ordinal: u16,
}

/// How a method's parameters travel and appear in Rust.
enum Params<'a> {
    /// An auto-generated `$Params` struct: one Rust parameter per field, with the
    /// value an absent argument takes where the schema gives a default.
    Fields(Vec<(&'a str, TokenStream, Option<TokenStream>)>),
    /// A user struct: one Rust parameter of that type; its fields travel positionally.
    Struct { ty: TokenStream, keys: Vec<u16> },
}

/// How a method's results come back.
enum Results {
    /// No results: `()`.
    Unit,
    /// One result, unboxed.
    Single(TokenStream),
    /// Several results or a user struct: a struct.
    Struct(TokenStream),
}

impl Results {
    fn ty(&self) -> TokenStream {
        match self {
            Results::Unit => quote!(()),
            Results::Single(t) | Results::Struct(t) => t.clone(),
        }
    }
}

impl Generator<'_> {
    /// Own methods, then inherited ones (each interface once), with unique Rust names.
    fn flat_methods<'n>(
        &'n self,
        site: &Site<'_>,
        node: &'n Node,
        i: &'n InterfaceNode,
    ) -> Vec<Flat<'n>> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut queue: Vec<(&Node, &InterfaceNode, Vec<TokenStream>)> =
            vec![(node, i, self.own_args(node.id))];
        seen.insert(node.id);
        // The client's own methods: a schema method of that name gets a `_` suffix.
        const CLIENT_OWN: [&str; 7] = [
            "new",
            "connect",
            "connect_with",
            "with_timeout",
            "from_server",
            "from_stub",
            "stub",
        ];
        let mut names: HashSet<String> = CLIENT_OWN.iter().map(|n| n.to_string()).collect();
        while !queue.is_empty() {
            let (owner, iface, owner_args) = queue.remove(0);
            for (ordinal, method) in iface.methods.iter().enumerate() {
                let trait_name = snake(&method.name);
                let mut rust_name = trait_name.clone();
                if names.contains(&rust_name) && !CLIENT_OWN.contains(&rust_name.as_str()) {
                    // An inherited method named like an earlier one: prefix its interface.
                    rust_name = format!("{}_{}", snake(owner.name()), rust_name);
                }
                while !names.insert(rust_name.clone()) {
                    rust_name.push('_');
                }
                out.push(Flat {
                    owner,
                    method,
                    trait_name,
                    rust_name,
                    owner_args: owner_args.clone(),
                    ordinal: u16::try_from(ordinal).unwrap_or(u16::MAX),
                });
            }
            for sc in &iface.superclasses {
                if !seen.insert(sc.id) {
                    continue;
                }
                if let Some(base) = self.node(sc.id)
                    && let NodeKind::Interface(bi) = &base.kind
                {
                    // A superclass's brand may name the owner's parameters
                    // (`SubHolder(U) extends(Holder(U))`): bind them first.
                    let owner_site = self.owner_site(site, owner.id, &owner_args);
                    queue.push((base, bi, owner_site.brand_args(sc.id, &sc.brand)));
                }
            }
        }
        out
    }

    fn own_args(&self, id: u64) -> Vec<TokenStream> {
        self.params(id).into_iter().map(|p| quote!(#p)).collect()
    }

    /// A site for a method of `owner`, with its own generic parameters bound to `args`.
    fn method_site<'s>(&self, site: &Site<'s>, flat: &Flat<'_>) -> Site<'s> {
        let mut s = self.owner_site(site, flat.owner.id, &flat.owner_args);
        s.method_params = flat.method.implicit_parameters.clone();
        s
    }

    /// `site` seen from interface `owner` (the site's own or an inherited one, whose generic
    /// parameters are then bound to `owner_args`).
    fn owner_site<'s>(&self, site: &Site<'s>, owner: u64, owner_args: &[TokenStream]) -> Site<'s> {
        let mut s = site.clone();
        if owner != site_interface(site) {
            // Inherited: the owner's parameters are not declared here; bind them.
            let mut subst: HashMap<u64, Vec<TokenStream>> = HashMap::new();
            let mut args = owner_args.iter();
            for (scope, names) in self.generic_scopes(owner) {
                subst.insert(
                    scope,
                    names
                        .iter()
                        .map(|_| {
                            args.next()
                                .cloned()
                                .unwrap_or_else(|| quote!(::cara::Dynamic))
                        })
                        .collect(),
                );
            }
            s.subst = subst;
        }
        s
    }

    fn params_of<'n>(&'n self, site: &Site<'_>, method: &'n Method) -> Params<'n> {
        let Some(node) = self.node(method.param_struct_type) else {
            return Params::Fields(Vec::new());
        };
        let NodeKind::Struct(s) = &node.kind else {
            return Params::Fields(Vec::new());
        };
        if node.scope_id == 0 {
            let site = bound_site(site, &method.param_brand, node);
            Params::Fields(
                s.fields
                    .iter()
                    .map(|f| {
                        let explicit = matches!(
                            &f.kind,
                            FieldKind::Slot {
                                had_explicit_default: true,
                                ..
                            }
                        );
                        (
                            f.name.as_str(),
                            self.field_type(&site, node.id, f),
                            explicit.then(|| self.field_default(&site, node.id, f)),
                        )
                    })
                    .collect(),
            )
        } else {
            Params::Struct {
                ty: site.branded(node.id, &method.param_brand),
                keys: s.fields.iter().map(|f| self.field_key(f)).collect(),
            }
        }
    }

    fn results_of(&self, site: &Site<'_>, method: &Method) -> Results {
        let Some(node) = self.node(method.result_struct_type) else {
            return Results::Unit;
        };
        let NodeKind::Struct(s) = &node.kind else {
            return Results::Unit;
        };
        if node.scope_id != 0 {
            return Results::Struct(site.branded(node.id, &method.result_brand));
        }
        let bound = bound_site(site, &method.result_brand, node);
        match s.fields.as_slice() {
            [] => Results::Unit,
            [single] if single.discriminant_value == cara_schema::NO_DISCRIMINANT => {
                Results::Single(self.field_type(&bound, node.id, single))
            }
            // The generated `<Method>Results` struct.
            _ => Results::Struct(site.branded(node.id, &method.result_brand)),
        }
    }

    fn method_generics(method: &Method) -> (TokenStream, Vec<Ident>) {
        let ps: Vec<Ident> = method
            .implicit_parameters
            .iter()
            .map(|p| ident(p))
            .collect();
        if ps.is_empty() {
            (quote!(), ps)
        } else {
            (quote!(<#(#ps: ::cara::Param),*>), ps)
        }
    }

    /// The trait, the dispatcher and the client of an interface.
    pub(crate) fn interface(&self, site: &Site<'_>, node: &Node, i: &InterfaceNode) -> TokenStream {
        let name = self.item_name(node);
        let server = format_ident!("{}Server", name.to_string().trim_start_matches("r#"));
        let client = format_ident!("{}Client", name.to_string().trim_start_matches("r#"));
        let type_name = node.name();
        let module = self
            .places
            .places
            .get(&node.id)
            .and_then(|p| p.child_module.clone())
            .unwrap_or_default();
        let module = ident(&module);
        let params = self.params(node.id);
        let (decl, impl_generics, ty_args) = generics(&params);
        let phantom_ty = quote!(::core::marker::PhantomData<fn() -> (#(#params,)*)>);
        let mut site = site.clone();
        site.scopes = self
            .generic_scopes(node.id)
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        let site = Site {
            iface: node.id,
            ..site
        };
        let flat = self.flat_methods(&site, node, i);

        // The trait: own methods; inherited ones come from the supertraits.
        let supertraits: Vec<TokenStream> = i
            .superclasses
            .iter()
            .map(|sc| site.branded(sc.id, &sc.brand))
            .collect();
        let trait_methods = flat.iter().filter(|f| f.owner.id == node.id).map(|f| {
            let msite = self.method_site(&site, f);
            let m = ident(&f.trait_name);
            let (mgen, _) = Self::method_generics(f.method);
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
            let d = doc(self.member_doc(node, f.method.code_order).as_deref(), || {
                format!("`{}.{}` (ordinal {}).", type_name, f.method.name, f.ordinal)
            });
            quote! {
                #d
                fn #m #mgen (&self, #(#args),*) -> impl ::core::future::Future<Output = ::core::result::Result<#result, ::cara::Fault>> + ::core::marker::Send;
            }
        });
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
        let trait_generics = if params.is_empty() {
            quote!()
        } else {
            quote!(<#(#params: ::cara::Param),*>)
        };

        // The dispatcher.
        let arms = flat.iter().enumerate().map(|(index, f)| {
            let msite = self.method_site(&Site { method_params: Vec::new(), ..site.clone() }, f);
            let msite = Site { method_params: Vec::new(), ..msite };
            let mname = f.method.name.as_str();
            let m = ident(&f.trait_name);
            let owner_trait = if f.owner.id == node.id {
                quote!(#name #ty_args)
            } else {
                let sc_path = site.path(f.owner.id);
                let args = &f.owner_args;
                if args.is_empty() { sc_path } else { quote!(#sc_path<#(#args),*>) }
            };
            let turbofish = if f.method.implicit_parameters.is_empty() {
                quote!()
            } else {
                let d = f.method.implicit_parameters.iter().map(|_| quote!(::cara::Dynamic));
                quote!(::<#(#d),*>)
            };
            let (decodes, call_args): (Vec<TokenStream>, Vec<TokenStream>) = match self.params_of(&msite, f.method) {
                Params::Fields(fields) => fields
                    .into_iter()
                    .map(|(n, t, default)| {
                        let v = format_ident!("p_{}", snake(n));
                        // An absent argument takes the schema's default, if it gives one.
                        let absent = match default {
                            Some(default) => quote!(::core::result::Result::Ok(#default)),
                            None => quote!(::core::result::Result::Err(::cara::__private::missing_param(#mname, #n))),
                        };
                        (
                            quote! {
                                let #v = match next() {
                                    ::core::option::Option::Some(value) => ::cara::__private::decode_param::<#t>(#mname, #n, value),
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
                            let all: ::std::vec::Vec<::cara::Value> = (0..#n).map(|_| next().unwrap_or(::cara::Value::Nil)).collect();
                            let params = ::cara::__private::decode_param::<#ty>(#mname, "params", ::cara::__private::implode(all, &[#(#keys),*]));
                        }],
                        vec![quote!(params?)],
                    )
                }
            };
            quote! {
                #index => {
                    #(#decodes)*
                    ::std::boxed::Box::pin(async move {
                        let result = <CaraImpl as #owner_trait>::#m #turbofish(&*this, #(#call_args),*).await?;
                        ::core::result::Result::Ok(::std::boxed::Box::new(result) as ::cara::Reply)
                    })
                }
            }
        });

        // The client.
        let client_methods = flat.iter().enumerate().map(|(index, f)| {
            let msite = self.method_site(&site, f);
            let m = ident(&f.rust_name);
            let mname = f.method.name.as_str();
            let (mgen, _) = Self::method_generics(f.method);
            let (args, encoded) = match self.params_of(&msite, f.method) {
                Params::Fields(fields) => {
                    let (a, e): (Vec<_>, Vec<_>) = fields
                        .into_iter()
                        .map(|(n, t, _)| {
                            let n = ident(&snake(n));
                            (quote!(#n: #t), quote!(::cara::Encode::encode(&#n)))
                        })
                        .unzip();
                    (a, quote!(::std::vec![#(#e),*]))
                }
                Params::Struct { ty, keys, .. } => (
                    vec![quote!(params: #ty)],
                    quote!(::cara::__private::explode(::cara::Encode::encode(&params), &[#(#keys),*])),
                ),
            };
            let result = self.results_of(&msite, f.method).ty();
            let d = doc(self.member_doc(f.owner, f.method.code_order).as_deref(), || {
                format!("Calls `{}.{}`.", f.owner.name(), f.method.name)
            });
            let _ = mname;
            quote! {
                #d
                pub async fn #m #mgen (&self, #(#args),*) -> ::core::result::Result<#result, ::cara::Error> {
                    self.stub.call::<#result>(#index, || #encoded).await
                }
            }
        });
        // A sub-interface client is usable where a super-interface is expected.
        let mut seen_supers = std::collections::HashSet::new();
        let upcasts: Vec<TokenStream> = flat
            .iter()
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
            .collect();
        let server_doc = format!(
            " Serves an implementation of [`{name}`]: `cara::serve(server.registry(), {server}::new(implementation))`."
        );
        let client_doc = format!(
            " Typed client of the interface `{type_name}`; cheap to clone, callable from any task."
        );
        let impl_params_i = if params.is_empty() {
            quote!(<CaraImpl: #name>)
        } else {
            quote!(<CaraImpl: #name<#(#params),*>, #(#params: ::cara::Param),*>)
        };
        let server_args = quote!(<CaraImpl, #(#params),*>);
        quote! {
            #trait_doc
            ///
            /// Inside a method, [`cara::caller()`](::cara::caller) gives the call's caller:
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

            #[doc = #server_doc]
            // The generic marker type grows with the parameters; it is never spelled out.
            #[allow(clippy::type_complexity)]
            pub struct #server<CaraImpl, #(#params),*>(::cara::__private::Arc<CaraImpl>, #phantom_ty);

            impl #impl_params_i #server #server_args {
                /// Wraps an implementation for serving.
                pub fn new(implementation: CaraImpl) -> Self {
                    Self(::cara::__private::Arc::new(implementation), ::core::marker::PhantomData)
                }
            }

            impl #impl_params_i ::cara::Dispatch for #server #server_args {
                fn info(&self) -> &'static ::cara::InterfaceInfo {
                    &#module::INFO
                }

                #[allow(unused_mut, unused_variables, clippy::let_unit_value, clippy::match_single_binding)]
                fn dispatch(
                    &self,
                    method: usize,
                    args: ::std::vec::Vec<::core::option::Option<::cara::Value>>,
                ) -> ::cara::BoxFuture<::core::result::Result<::cara::Reply, ::cara::Fault>> {
                    let this = self.0.clone();
                    let mut args = args.into_iter();
                    let mut next = move || args.next().flatten();
                    match method {
                        #(#arms)*
                        _ => ::std::boxed::Box::pin(async move {
                            ::core::result::Result::Err(::cara::Fault::type_error(::std::format!("no method #{method}")))
                        }),
                    }
                }
            }

            #[doc = #client_doc]
            #[derive(Debug, Clone, PartialEq)]
            #[allow(clippy::type_complexity)]
            pub struct #client #decl {
                stub: ::cara::Stub,
                params: #phantom_ty,
            }

            impl #impl_generics ::core::default::Default for #client #ty_args {
                /// A null capability: calls fail.
                fn default() -> Self {
                    Self::from_stub(::cara::Stub::null(&#module::INFO))
                }
            }

            impl #impl_generics ::cara::Encode for #client #ty_args {
                fn encode(&self) -> ::cara::Value {
                    self.stub.to_value()
                }
            }

            impl #impl_generics ::cara::Decode for #client #ty_args {
                fn decode(value: ::cara::Value) -> ::core::result::Result<Self, ::cara::DecodeError> {
                    ::cara::Stub::from_value(value, &#module::INFO).map(Self::from_stub)
                }
            }

            #(#upcasts)*

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
                pub fn new(remote: ::cara::Remote) -> Self {
                    Self { stub: ::cara::Stub::new(remote, &#module::INFO), params: ::core::marker::PhantomData }
                }

                /// Connects to the server at `endpoint` (named `server`, no security,
                /// 5 s timeouts); the connection lives as long as this client and its clones.
                pub fn connect(endpoint: &str) -> ::core::result::Result<Self, ::cara::Error> {
                    Self::connect_with(::cara::Client::builder(), endpoint)
                }

                /// Connects with `builder`'s settings: `server_name`, `security`, `timeout`, ….
                pub fn connect_with(builder: ::cara::ClientBuilder, endpoint: &str) -> ::core::result::Result<Self, ::cara::Error> {
                    ::core::result::Result::Ok(Self::from_stub(::cara::Stub::connect(builder, endpoint, &#module::INFO)?))
                }

                /// The same client with another timeout for its calls.
                pub fn with_timeout(&self, timeout: ::cara::__private::Duration) -> Self {
                    Self { stub: self.stub.with_timeout(timeout), params: ::core::marker::PhantomData }
                }

                /// A capability on a local implementation: pass it to a peer and its
                /// calls come back here.
                pub fn from_server<CaraImpl: #name #ty_args>(implementation: CaraImpl) -> Self {
                    Self::from_stub(::cara::Stub::local(#server::<CaraImpl, #(#params),*>::new(implementation)))
                }

                /// Wraps an untyped stub of this interface.
                #[doc(hidden)]
                pub fn from_stub(stub: ::cara::Stub) -> Self {
                    Self { stub, params: ::core::marker::PhantomData }
                }

                /// The untyped stub underneath.
                pub fn stub(&self) -> &::cara::Stub {
                    &self.stub
                }

                #(#client_methods)*
            }
        }
    }

    /// `INFO` and the results structs, in the interface's module.
    pub(crate) fn interface_module_items(
        &self,
        site: &Site<'_>,
        node: &Node,
        i: &InterfaceNode,
    ) -> TokenStream {
        let iface_site = Site {
            iface: node.id,
            ..site.clone()
        };
        let flat = self.flat_methods(&iface_site, node, i);
        let id = Literal::u64_unsuffixed(node.id);
        let type_name = qualified(node);
        let methods = flat.iter().map(|f| {
            let name = f.method.name.as_str();
            let wire = format!("{}.{}", qualified(f.owner), f.method.name);
            let owner = Literal::u64_unsuffixed(f.owner.id);
            let ordinal = f.ordinal;
            let params: Vec<String> = match self.node(f.method.param_struct_type).map(|n| &n.kind) {
                Some(NodeKind::Struct(StructNode { fields, .. })) => {
                    fields.iter().map(|f| f.name.clone()).collect()
                }
                _ => Vec::new(),
            };
            quote! {
                ::cara::MethodInfo {
                    name: #name,
                    wire_name: #wire,
                    interface_id: #owner,
                    ordinal: #ordinal,
                    params: &[#(#params),*],
                },
            }
        });
        let doc = format!(" What cara knows of `{type_name}`: id, name and methods.");
        quote! {
            #[doc = #doc]
            pub static INFO: ::cara::InterfaceInfo = ::cara::InterfaceInfo {
                id: #id,
                name: #type_name,
                methods: &[#(#methods)*],
            };
        }
    }
}

/// `site` with the generic parameters that `brand` binds substituted (how a
/// method's `$Params`/`$Results` struct sees the method's own `[T]`).
fn bound_site<'s>(site: &Site<'s>, brand: &cara_schema::Brand, method_struct: &Node) -> Site<'s> {
    let mut bound = site.clone();
    // The struct's own parameters are the method's `[T]`s, position for position
    // (the default when the brand does not say).
    if !method_struct.parameters.is_empty() {
        let implicit = method_struct
            .parameters
            .iter()
            .enumerate()
            .map(|(i, _)| match site.method_params.get(i) {
                Some(p) => {
                    let p = ident(p);
                    quote!(#p)
                }
                None => quote!(::cara::Dynamic),
            })
            .collect();
        bound.subst.insert(method_struct.id, implicit);
    }
    for scope in &brand.scopes {
        if let cara_schema::BrandScopeKind::Bind(bindings) = &scope.kind {
            let types = bindings
                .iter()
                .map(|b| match b {
                    cara_schema::Binding::Type(t) => site.rust_type(t),
                    cara_schema::Binding::Unbound => quote!(::cara::Dynamic),
                })
                .collect();
            bound.subst.insert(scope.scope_id, types);
        }
    }
    bound
}

/// An interface's name on the wire: its path inside its file (`Outer.Inner`).
fn qualified(node: &Node) -> String {
    node.display_name
        .split_once(':')
        .map(|(_, path)| path.to_string())
        .unwrap_or_else(|| node.name().to_string())
}

fn site_interface(site: &Site<'_>) -> u64 {
    site.iface
}
