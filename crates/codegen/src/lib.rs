//! # cara-codegen
//!
//! Turns Cap'n Proto schemas into Rust: structs, unions and enums as plain types
//! with cara's msgpack codec, constants, and for each interface an async server
//! trait, a dispatcher and a typed client stub. One entry, [`generate`] with
//! [`Options`], serves the `cara-build` helper, the `cara::schema!` macro and
//! `cara gen`:
//!
//! ```no_run
//! use cara_codegen::{Input, Options, generate};
//!
//! let generated = generate(&Options::new().include("schemas"), &Input::files(["schemas/calculator.capnp"]))?;
//! let rust_source = generated.source()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Generated code depends on the `cara` crate alone, through absolute paths
//! (`::cara::…` unless [`Options::runtime`] names another path, `::core::…`,
//! `::std::…`), so it compiles whatever names surround it. Each schema file becomes
//! one module named after it (`calculator.capnp` → `calculator_capnp`); files refer
//! to each other as sibling modules.

mod emit;
mod generate;
mod interface;
mod literal;
mod names;
mod options;
mod place;
mod types;

use std::collections::HashMap;

use cara_schema::{FieldKind, NO_DISCRIMINANT, Node, NodeKind, SchemaSet, StructNode};
use proc_macro2::TokenStream;
use quote::quote;

pub use generate::{GenerateError, Generated, GeneratedFile, Input, PrettyError, generate, pretty};
pub use names::file_module;
pub use options::{DEFAULT_RUNTIME, Options, StandardImports};

use emit::UnionEnum;
use place::{MethodStruct, Places};
use types::Site;

/// The generator for one schema set.
pub(crate) struct Generator<'a> {
    set: &'a SchemaSet,
    /// The path of the runtime crate (`::cara`): generated code reaches it only so.
    runtime: TokenStream,
    nodes: HashMap<u64, &'a Node>,
    places: Places,
    /// Strongly connected component of each struct in the "contains by value" graph:
    /// a field whose struct type is in its owner's component needs a `Box`.
    components: HashMap<u64, usize>,
}

impl<'a> Generator<'a> {
    /// Prepares code generation for every node of `set`, reaching the runtime
    /// crate through `runtime`.
    pub(crate) fn new(set: &'a SchemaSet, runtime: TokenStream) -> Self {
        let nodes: HashMap<u64, &Node> = set.nodes().iter().map(|n| (n.id, n)).collect();
        let components = by_value_components(&nodes);
        Generator {
            set,
            runtime,
            nodes,
            places: Places::new(set),
            components,
        }
    }

    /// Whether a field of struct type `target` inside struct `owner` must be boxed
    /// (`Option<Box<_>>`) because `target` contains `owner` by value again.
    pub(crate) fn needs_box(&self, owner: u64, target: u64) -> bool {
        match (self.components.get(&owner), self.components.get(&target)) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    }

    /// Whether struct `id` holds itself by value through some path (its fields of that
    /// cycle are boxed).
    pub(crate) fn in_cycle(&self, id: u64) -> bool {
        self.components.contains_key(&id)
    }

    /// The runtime crate's path, for `#rt::…` in generated code.
    pub(crate) fn runtime(&self) -> &TokenStream {
        &self.runtime
    }

    pub(crate) fn node(&self, id: u64) -> Option<&'a Node> {
        self.nodes.get(&id).copied()
    }

    /// Code for every file of the set (requested files and the imports they reach).
    pub(crate) fn files(&self) -> Vec<GeneratedFile> {
        let mut files: Vec<&Node> = self
            .set
            .nodes()
            .iter()
            .filter(|n| matches!(n.kind, NodeKind::File))
            .collect();
        files.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        files
            .into_iter()
            .map(|file| GeneratedFile {
                schema: file_label(&file.display_name),
                module: self
                    .places
                    .file_modules
                    .get(&file.id)
                    .cloned()
                    .unwrap_or_default(),
                tokens: self.file(file),
            })
            .collect()
    }

    fn file(&self, file: &Node) -> TokenStream {
        let site = Site {
            generator: self,
            file: file.id,
            module: Vec::new(),
            method_params: Vec::new(),
            scopes: Vec::new(),
            iface: 0,
            subst: HashMap::new(),
        };
        self.scope_items(&site, file)
    }

    /// The items of every child of `parent` (placed at `site`), with their modules.
    pub(crate) fn scope_items(&self, site: &Site<'_>, parent: &Node) -> TokenStream {
        let mut out = TokenStream::new();
        for id in self.children(parent) {
            let Some(node) = self.node(id) else { continue };
            let Some(place) = self.places.places.get(&id) else {
                continue;
            };
            if place.modules != site.module || place.file != site.file {
                continue;
            }
            let mut item_site = site.clone();
            item_site.scopes = self
                .generic_scopes(id)
                .into_iter()
                .map(|(s, _)| s)
                .collect();
            out.extend(self.item(&item_site, node));
            if let Some(module) = &place.child_module {
                let inner = site.inside(module);
                let mut body = self.scope_items(&inner, node);
                body.extend(self.extra_module_items(&inner, node));
                let m = names::ident(module);
                let doc = format!(" Items nested in `{}`.", node.name());
                out.extend(quote! {
                    #[doc = #doc]
                    pub mod #m {
                        #body
                    }
                });
            }
        }
        out
    }

    /// The ids of the nodes whose items sit directly in `parent`'s child scope.
    fn children(&self, parent: &Node) -> Vec<u64> {
        let mut ids: Vec<u64> = parent.nested_nodes.iter().map(|(_, id)| *id).collect();
        match &parent.kind {
            NodeKind::Struct(s) => ids.extend(s.fields.iter().filter_map(|f| match f.kind {
                FieldKind::Group { type_id } => Some(type_id),
                FieldKind::Slot { .. } => None,
            })),
            NodeKind::Interface(i) => {
                for m in &i.methods {
                    for id in [m.param_struct_type, m.result_struct_type] {
                        if self.places.method_structs.contains_key(&id) {
                            ids.push(id);
                        }
                    }
                }
            }
            _ => {}
        }
        ids
    }

    /// One node's item(s) at its place.
    fn item(&self, site: &Site<'_>, node: &Node) -> TokenStream {
        match &node.kind {
            NodeKind::Struct(s) => {
                if let Some((_, _, role)) = self.places.method_structs.get(&node.id) {
                    // Parameters travel flattened and a single result unboxed: only
                    // several results need a struct.
                    let needed = *role == MethodStruct::Results && s.fields.len() > 1;
                    if !needed {
                        return TokenStream::new();
                    }
                }
                if self.is_pure_union(node.id) {
                    self.union_enum(site, node, s, UnionEnum::Named)
                } else {
                    self.structure(site, node, s)
                }
            }
            NodeKind::Enum(es) => self.enumeration(site, node, es),
            NodeKind::Interface(i) => self.interface(site, node, i),
            NodeKind::Const { ty, literal, .. } => self.constant(site, node, ty, literal.as_ref()),
            NodeKind::Annotation { .. } | NodeKind::File => TokenStream::new(),
        }
    }

    /// Items that live in a node's child module besides its nested nodes.
    fn extra_module_items(&self, site: &Site<'_>, node: &Node) -> TokenStream {
        match &node.kind {
            NodeKind::Struct(s) if s.discriminant_count > 0 && !self.is_pure_union(node.id) => {
                let mut inner = site.clone();
                inner.scopes = self
                    .generic_scopes(node.id)
                    .into_iter()
                    .map(|(s, _)| s)
                    .collect();
                self.union_enum(&inner, node, s, UnionEnum::Which)
            }
            NodeKind::Interface(i) => self.interface_module_items(site, node, i),
            _ => TokenStream::new(),
        }
    }

    /// Generic scopes visible in node `id`, outermost first: (scope id, parameter names).
    pub(crate) fn generic_scopes(&self, id: u64) -> Vec<(u64, Vec<String>)> {
        let mut chain = Vec::new();
        let mut current = Some(id);
        let mut guard = 0;
        while let Some(cid) = current {
            guard += 1;
            if guard > 64 {
                break;
            }
            let Some(node) = self.node(cid) else { break };
            if !node.parameters.is_empty() {
                chain.push((cid, node.parameters.clone()));
            }
            current = if node.scope_id != 0 {
                Some(node.scope_id)
            } else {
                self.places
                    .method_structs
                    .get(&cid)
                    .map(|(iface, _, _)| *iface)
            };
        }
        chain.reverse();
        chain
    }

    /// Whether a struct node is a group that is nothing but a union (a named union).
    pub(crate) fn is_pure_union(&self, id: u64) -> bool {
        matches!(self.node(id).map(|n| &n.kind), Some(NodeKind::Struct(s))
            if s.is_group && s.discriminant_count > 0
                && s.fields.iter().all(|f| f.discriminant_value != NO_DISCRIMINANT))
    }

    /// The path to the enum of struct `id`'s unnamed union, from `site`.
    pub(crate) fn union_enum_path(&self, site: &Site<'_>, id: u64) -> Option<TokenStream> {
        self.union_enum_path_in(site, id, PathUse::Type)
    }

    /// [`Self::union_enum_path`] for expressions and patterns: generic arguments take a
    /// turbofish there (`foo::Which::<T>::Bar`).
    pub(crate) fn union_enum_expr_path(&self, site: &Site<'_>, id: u64) -> Option<TokenStream> {
        self.union_enum_path_in(site, id, PathUse::Expr)
    }

    fn union_enum_path_in(&self, site: &Site<'_>, id: u64, used: PathUse) -> Option<TokenStream> {
        if self.is_pure_union(id) {
            return Some(site.path(id));
        }
        let path = self.places.union_path(id, site.file, &site.module)?;
        let params: Vec<TokenStream> = self
            .generic_scopes(id)
            .iter()
            .flat_map(|(_, ns)| {
                ns.iter().map(|n| {
                    let p = names::ident(n);
                    quote!(#p)
                })
            })
            .collect();
        Some(if params.is_empty() {
            path
        } else if used == PathUse::Expr {
            quote!(#path::<#(#params),*>)
        } else {
            quote!(#path<#(#params),*>)
        })
    }

    /// The field name of a struct's union (`which`, or `which_` if a field took it).
    pub(crate) fn which_field(&self, s: &StructNode) -> proc_macro2::Ident {
        let mut name = "which".to_string();
        while s.fields.iter().any(|f| names::snake(&f.name) == name) {
            name.push('_');
        }
        names::ident(&name)
    }
}

/// Where a path is written: generic arguments take a turbofish in expressions
/// and patterns (`foo::Which::<T>::Bar`), not in types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PathUse {
    Type,
    Expr,
}

/// Tarjan's strongly connected components over "struct A holds struct B by value"
/// (struct fields, group fields and union members; lists do not count), keeping only
/// components that really are cycles.
fn by_value_components(nodes: &HashMap<u64, &Node>) -> HashMap<u64, usize> {
    use cara_schema::Type;
    let edges = |id: u64| -> Vec<u64> {
        match nodes.get(&id).map(|n| &n.kind) {
            Some(NodeKind::Struct(s)) => s
                .fields
                .iter()
                .filter_map(|f| match &f.kind {
                    FieldKind::Slot {
                        ty: Type::Struct { type_id, .. },
                        ..
                    } => Some(*type_id),
                    FieldKind::Group { type_id } => Some(*type_id),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        }
    };
    struct State {
        index: HashMap<u64, usize>,
        low: HashMap<u64, usize>,
        stack: Vec<u64>,
        on_stack: std::collections::HashSet<u64>,
        next: usize,
        out: HashMap<u64, usize>,
        components: usize,
    }
    fn visit(v: u64, edges: &dyn Fn(u64) -> Vec<u64>, st: &mut State) {
        st.index.insert(v, st.next);
        st.low.insert(v, st.next);
        st.next += 1;
        st.stack.push(v);
        st.on_stack.insert(v);
        let successors = edges(v);
        let self_loop = successors.contains(&v);
        for w in successors {
            if !st.index.contains_key(&w) {
                visit(w, edges, st);
                let lw = st.low[&w];
                let lv = st.low[&v];
                st.low.insert(v, lv.min(lw));
            } else if st.on_stack.contains(&w) {
                let iw = st.index[&w];
                let lv = st.low[&v];
                st.low.insert(v, lv.min(iw));
            }
        }
        if st.low[&v] == st.index[&v] {
            let mut members = Vec::new();
            while let Some(w) = st.stack.pop() {
                st.on_stack.remove(&w);
                members.push(w);
                if w == v {
                    break;
                }
            }
            if members.len() > 1 || self_loop {
                for m in members {
                    st.out.insert(m, st.components);
                }
                st.components += 1;
            }
        }
    }
    let mut st = State {
        index: HashMap::new(),
        low: HashMap::new(),
        stack: Vec::new(),
        on_stack: Default::default(),
        next: 0,
        out: HashMap::new(),
        components: 0,
    };
    let mut ids: Vec<u64> = nodes.keys().copied().collect();
    ids.sort_unstable();
    for id in ids {
        if matches!(nodes.get(&id).map(|n| &n.kind), Some(NodeKind::Struct(_)))
            && !st.index.contains_key(&id)
        {
            visit(id, &edges, &mut st);
        }
    }
    st.out
}

/// How generated code names a schema file: its base name, so output does not
/// depend on where the schemas sit on the build machine.
fn file_label(display_name: &str) -> String {
    display_name
        .rsplit('/')
        .next()
        .unwrap_or(display_name)
        .to_string()
}
