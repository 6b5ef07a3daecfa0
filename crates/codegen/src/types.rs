//! Schema types as Rust types, brands (generic bindings) included.

use std::collections::HashMap;

use cara_schema::{AnyPointer, Binding, Brand, BrandScopeKind, Type};
use proc_macro2::TokenStream;
use quote::quote;

use crate::Generator;
use crate::names::ident;

/// Where code is being emitted: what paths are relative to, and what generic
/// parameters are in scope.
#[derive(Clone)]
pub struct Site<'g> {
    pub generator: &'g Generator<'g>,
    pub file: u64,
    pub module: Vec<String>,
    /// The implicit generic parameters of the method being emitted, if any.
    pub method_params: Vec<String>,
    /// Generic scopes whose parameters are declared by the item being emitted.
    pub scopes: Vec<u64>,
    /// The interface being emitted (0 outside interfaces).
    pub iface: u64,
    /// Generic parameters bound to types here (an inherited method's interface).
    pub subst: HashMap<u64, Vec<TokenStream>>,
}

impl<'g> Site<'g> {
    /// A site one module deeper.
    pub fn inside(&self, module: &str) -> Site<'g> {
        let mut s = self.clone();
        s.module.push(module.to_string());
        s
    }

    /// The path to a node's item, or `cara::Dynamic` if it has no Rust home.
    pub fn path(&self, id: u64) -> TokenStream {
        let rt = self.generator.runtime();
        self.generator
            .places
            .path(id, self.file, &self.module)
            .unwrap_or_else(|| quote!(#rt::Dynamic))
    }

    /// The path to a node's item with its generic arguments from `brand`.
    pub fn branded(&self, id: u64, brand: &Brand) -> TokenStream {
        let path = self.path(id);
        let args = self.brand_args(id, brand);
        if args.is_empty() {
            path
        } else {
            quote!(#path<#(#args),*>)
        }
    }

    /// The generic arguments for node `id` under `brand`, in declaration order.
    pub fn brand_args(&self, id: u64, brand: &Brand) -> Vec<TokenStream> {
        let rt = self.generator.runtime();
        let mut args = Vec::new();
        for (scope, names) in self.generator.generic_scopes(id) {
            let bound = brand.scopes.iter().find(|s| s.scope_id == scope);
            for (i, name) in names.iter().enumerate() {
                let arg = match bound.map(|b| &b.kind) {
                    Some(BrandScopeKind::Bind(bindings)) => match bindings.get(i) {
                        Some(Binding::Type(t)) => self.rust_type(t),
                        _ => quote!(#rt::Dynamic),
                    },
                    Some(BrandScopeKind::Inherit) => {
                        match self.subst.get(&scope).and_then(|v| v.get(i)) {
                            Some(bound) => bound.clone(),
                            None if self.in_scope(scope) => {
                                let p = ident(name);
                                quote!(#p)
                            }
                            None => quote!(#rt::Dynamic),
                        }
                    }
                    None => quote!(#rt::Dynamic),
                };
                args.push(arg);
            }
        }
        args
    }

    /// The Rust type of a schema type.
    pub fn rust_type(&self, ty: &Type) -> TokenStream {
        let rt = self.generator.runtime();
        match ty {
            Type::Void => quote!(()),
            Type::Bool => quote!(bool),
            Type::Int8 => quote!(i8),
            Type::Int16 => quote!(i16),
            Type::Int32 => quote!(i32),
            Type::Int64 => quote!(i64),
            Type::Uint8 => quote!(u8),
            Type::Uint16 => quote!(u16),
            Type::Uint32 => quote!(u32),
            Type::Uint64 => quote!(u64),
            Type::Float32 => quote!(f32),
            Type::Float64 => quote!(f64),
            Type::Text => quote!(::std::string::String),
            Type::Data => quote!(#rt::Data),
            Type::List(inner) => {
                let inner = self.rust_type(inner);
                quote!(::std::vec::Vec<#inner>)
            }
            Type::Enum { type_id, .. } => self.path(*type_id),
            Type::Struct { type_id, brand } => self.branded(*type_id, brand),
            // An interface value is a live capability: the interface's client.
            Type::Interface { type_id, brand } => {
                match self
                    .generator
                    .places
                    .client_path(*type_id, self.file, &self.module)
                {
                    Some(path) => {
                        let args = self.brand_args(*type_id, brand);
                        if args.is_empty() {
                            path
                        } else {
                            quote!(#path<#(#args),*>)
                        }
                    }
                    None => quote!(#rt::Dynamic),
                }
            }
            Type::AnyPointer(any) => match any {
                AnyPointer::Parameter { scope_id, index } => {
                    if let Some(bound) = self
                        .subst
                        .get(scope_id)
                        .and_then(|v| v.get(usize::from(*index)))
                    {
                        return bound.clone();
                    }
                    match self
                        .generator
                        .node(*scope_id)
                        .and_then(|n| n.parameters.get(usize::from(*index)))
                    {
                        Some(name) if self.in_scope(*scope_id) => {
                            let p = ident(name);
                            quote!(#p)
                        }
                        _ => quote!(#rt::Dynamic),
                    }
                }
                AnyPointer::ImplicitMethodParameter { index } => {
                    match self.method_params.get(usize::from(*index)) {
                        Some(name) => {
                            let p = ident(name);
                            quote!(#p)
                        }
                        None => quote!(#rt::Dynamic),
                    }
                }
                _ => quote!(#rt::Dynamic),
            },
        }
    }

    /// Whether the generic parameters of `scope` are declared where we emit.
    fn in_scope(&self, scope: u64) -> bool {
        self.scopes.contains(&scope)
    }
}
