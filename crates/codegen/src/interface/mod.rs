//! Interfaces: the async server trait and its dispatcher (`server`), the typed
//! client stub (`client`) and the method table (`info`). This module holds what
//! they share: the interface being emitted and how its methods' parameters and
//! results appear in Rust.

use std::collections::HashMap;

use cara_schema::{FieldKind, InterfaceNode, Method, Node, NodeKind};
use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};

use crate::Generator;
use crate::emit::generics;
use crate::names::ident;
use crate::types::Site;

mod client;
mod info;
mod server;

use info::Flat;

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

/// The interface being emitted: its names, generics and flattened methods, shared
/// by the functions emitting its items.
struct Iface<'n, 's> {
    node: &'n Node,
    i: &'n InterfaceNode,
    /// The server trait (the interface's own name).
    name: Ident,
    /// `<Name>Server`: the dispatcher.
    server: Ident,
    /// `<Name>Client`: the client stub.
    client: Ident,
    /// The interface's name in the schema.
    type_name: &'n str,
    /// The interface's child module (where `INFO` lives).
    module: Ident,
    params: Vec<Ident>,
    decl: TokenStream,
    impl_generics: TokenStream,
    ty_args: TokenStream,
    /// The marker type of the generic parameters.
    phantom_ty: TokenStream,
    site: Site<'s>,
    flat: Vec<Flat<'n>>,
}

impl Generator<'_> {
    /// The trait, the dispatcher and the client of an interface.
    pub(crate) fn interface(&self, site: &Site<'_>, node: &Node, i: &InterfaceNode) -> TokenStream {
        let iface = self.iface(site, node, i);
        let server_trait = self.server_trait(&iface);
        let server = self.server_type(&iface);
        let client = self.client_type(&iface);
        let upcasts = self.client_upcasts(&iface);
        let client_impl = self.client_impl(&iface);
        quote! {
            #server_trait
            #server
            #client
            #(#upcasts)*
            #client_impl
        }
    }

    fn iface<'n, 's>(
        &'n self,
        site: &Site<'s>,
        node: &'n Node,
        i: &'n InterfaceNode,
    ) -> Iface<'n, 's> {
        let name = self.item_name(node);
        let server = format_ident!("{}Server", name.to_string().trim_start_matches("r#"));
        let client = format_ident!("{}Client", name.to_string().trim_start_matches("r#"));
        let module = self
            .places
            .places
            .get(&node.id)
            .and_then(|p| p.child_module.clone())
            .unwrap_or_default();
        let params = self.params(node.id);
        let (decl, impl_generics, ty_args) = generics(&params, self.runtime());
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
        Iface {
            node,
            i,
            name,
            server,
            client,
            type_name: node.name(),
            module: ident(&module),
            params,
            decl,
            impl_generics,
            ty_args,
            phantom_ty,
            site,
            flat,
        }
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
        let rt = self.runtime();
        let mut s = site.clone();
        if owner != site.iface {
            // Inherited: the owner's parameters are not declared here; bind them.
            let mut subst: HashMap<u64, Vec<TokenStream>> = HashMap::new();
            let mut args = owner_args.iter();
            for (scope, names) in self.generic_scopes(owner) {
                subst.insert(
                    scope,
                    names
                        .iter()
                        .map(|_| args.next().cloned().unwrap_or_else(|| quote!(#rt::Dynamic)))
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

    /// The method's own generic parameters, declared (`<T: Param>`) and as idents.
    fn method_generics(&self, method: &Method) -> (TokenStream, Vec<Ident>) {
        let rt = self.runtime();
        let ps: Vec<Ident> = method
            .implicit_parameters
            .iter()
            .map(|p| ident(p))
            .collect();
        if ps.is_empty() {
            (quote!(), ps)
        } else {
            (quote!(<#(#ps: #rt::Param),*>), ps)
        }
    }
}

/// `site` with the generic parameters that `brand` binds substituted (how a
/// method's `$Params`/`$Results` struct sees the method's own `[T]`).
fn bound_site<'s>(site: &Site<'s>, brand: &cara_schema::Brand, method_struct: &Node) -> Site<'s> {
    let rt = site.generator.runtime();
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
                None => quote!(#rt::Dynamic),
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
                    cara_schema::Binding::Unbound => quote!(#rt::Dynamic),
                })
                .collect();
            bound.subst.insert(scope.scope_id, types);
        }
    }
    bound
}
