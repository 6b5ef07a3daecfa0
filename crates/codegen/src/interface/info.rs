//! An interface's method table: the methods a server of it answers (own, then
//! inherited), with their ordinals and Rust names, and the `INFO` static cara reads
//! it from at run time.

use std::collections::HashSet;

use cara_schema::{InterfaceNode, Method, Node, NodeKind, StructNode};
use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::Generator;
use crate::names::snake;
use crate::types::Site;

/// A method as a server of some interface answers it (own or inherited).
pub(super) struct Flat<'a> {
    /// The interface that declares the method.
    pub owner: &'a Node,
    pub method: &'a Method,
    /// The method's name in its interface's trait.
    pub trait_name: String,
    /// The client method's name (unique across inherited interfaces, and clear
    /// of the client's own methods).
    pub rust_name: String,
    /// The client's pipelining variant, for a method whose result is one
    /// interface: `<rust_name>_pipelined`, made unique like `rust_name`.
    pub pipelined_name: Option<String>,
    /// Generic arguments of `owner` as seen from the served interface.
    pub owner_args: Vec<TokenStream>,
    /// The method's ordinal in `owner`.
    pub ordinal: u16,
}

/// The client's own methods: a schema method of that name gets a `_` suffix.
const CLIENT_OWN: [&str; 7] = [
    "new",
    "connect",
    "connect_with",
    "with_timeout",
    "from_server",
    "from_stub",
    "stub",
];

impl Generator<'_> {
    /// Own methods, then inherited ones (each interface once), with unique Rust names.
    pub(super) fn flat_methods<'n>(
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
        let mut names: HashSet<String> = CLIENT_OWN.iter().map(|n| n.to_string()).collect();
        while !queue.is_empty() {
            let (owner, iface, owner_args) = queue.remove(0);
            // `generate` rejects interfaces with more methods than u16 ordinals
            // can number, so the zip never cuts one off.
            for (method, ordinal) in iface.methods.iter().zip(0..=u16::MAX) {
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
                    pipelined_name: None,
                    owner_args: owner_args.clone(),
                    ordinal,
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
        // After every method has its name, so that a variant never takes one.
        for f in &mut out {
            if self.returns_one_interface(f.method) {
                // From the name without the `_`s that kept it clear of others,
                // which would make `connect__pipelined`.
                let mut name = format!("{}_pipelined", f.rust_name.trim_end_matches('_'));
                while !names.insert(name.clone()) {
                    name.push('_');
                }
                f.pipelined_name = Some(name);
            }
        }
        out
    }

    /// Whether a method's results are one interface (not a struct holding one):
    /// the methods a client can pipeline on.
    fn returns_one_interface(&self, method: &Method) -> bool {
        let Some(node) = self.node(method.result_struct_type) else {
            return false;
        };
        let NodeKind::Struct(s) = &node.kind else {
            return false;
        };
        // A named struct type as the result list is that struct.
        node.scope_id == 0
            && matches!(
                s.fields.as_slice(),
                [single] if single.discriminant_value == cara_schema::NO_DISCRIMINANT
                    && matches!(
                        single.kind,
                        cara_schema::FieldKind::Slot { ty: cara_schema::Type::Interface { .. }, .. }
                    )
            )
    }

    fn own_args(&self, id: u64) -> Vec<TokenStream> {
        self.params(id).into_iter().map(|p| quote!(#p)).collect()
    }

    /// `INFO` and the results structs, in the interface's module.
    pub(crate) fn interface_module_items(
        &self,
        site: &Site<'_>,
        node: &Node,
        i: &InterfaceNode,
    ) -> TokenStream {
        let rt = self.runtime();
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
                #rt::MethodInfo {
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
            pub static INFO: #rt::InterfaceInfo = #rt::InterfaceInfo {
                id: #id,
                name: #type_name,
                methods: &[#(#methods)*],
            };
        }
    }
}

/// An interface's name on the wire: its path inside its file (`Outer.Inner`).
fn qualified(node: &Node) -> String {
    node.display_name
        .split_once(':')
        .map(|(_, path)| path.to_string())
        .unwrap_or_else(|| node.name().to_string())
}
