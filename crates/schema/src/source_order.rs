//! Which generated param/result struct gives the request's shared `sourceInfo` entry id 0.
//!
//! The official compiler (0.9) never sets the id of a generated param/result struct's
//! `sourceInfo`, so they all collide on id 0 and the first one collected is kept. It collects
//! source info during its eager traversal (`Compiler::Node::traverse`): a node's
//! dependencies first (field, parameter and result types, superclasses, generic arguments,
//! annotations, then the fields of its groups and generated param/result structs), then the
//! node's own entries (an interface's param structs in method order, params before results),
//! then its parents (for dependencies) and children (for requested files). This module
//! replays that traversal on the finished model; only the order matters, not the set (which
//! `lib.rs` computes).

use std::collections::{HashMap, HashSet};

use crate::model::{Annotation, Binding, Brand, BrandScopeKind, FieldKind, Node, NodeKind, Type};
use crate::{CHILDREN, DEPENDENCIES, DEPENDENCY_PARENTS, NODE, PARENTS, SchemaSet};

/// Recursion bound: dependency chains in real schemas are far shorter; past it the choice of
/// the shared entry may differ from capnp's, but the stack stays safe on crafted input.
const MAX_DEPTH: u32 = 400;

/// The param/result struct whose (id-less) `sourceInfo` the official compiler keeps.
pub(crate) fn shared_param_source(set: &SchemaSet) -> Option<&Node> {
    let mut t = Traversal {
        set,
        generated: set.param_struct_ids().iter().copied().collect(),
        seen: HashMap::new(),
        found: None,
        depth: 0,
    };
    if t.generated.is_empty() {
        return None;
    }
    for f in set.requested_files() {
        t.node(f.id, NODE | CHILDREN | DEPENDENCIES | DEPENDENCY_PARENTS);
        if t.found.is_some() {
            break;
        }
    }
    // Every generated struct belongs to a traversed interface; this is only a fallback.
    t.found
        .or_else(|| set.param_struct_ids().first().copied())
        .and_then(|id| set.node(id))
}

struct Traversal<'a> {
    set: &'a SchemaSet,
    generated: HashSet<u64>,
    seen: HashMap<u64, u32>,
    found: Option<u64>,
    depth: u32,
}

impl Traversal<'_> {
    fn node(&mut self, id: u64, eagerness: u32) {
        // Generated structs are not declarations: the official lookup does not find them.
        if self.found.is_some() || self.generated.contains(&id) || self.depth > MAX_DEPTH {
            return;
        }
        let Some(n) = self.set.node(id) else {
            return;
        };
        let slot = self.seen.entry(id).or_insert(0);
        if *slot & eagerness == eagerness {
            return;
        }
        *slot |= eagerness;
        self.depth += 1;
        if eagerness / DEPENDENCIES != 0 {
            let deps = (eagerness & !(DEPENDENCIES - 1)) | (eagerness / DEPENDENCIES);
            self.deps(n, deps);
            for aux in self.aux(n) {
                self.deps(aux, deps);
            }
        }
        if self.found.is_none()
            && let NodeKind::Interface(i) = &n.kind
        {
            self.found = i
                .methods
                .iter()
                .flat_map(|m| [m.param_struct_type, m.result_struct_type])
                .find(|s| self.generated.contains(s));
        }
        if eagerness & PARENTS != 0 && n.scope_id != 0 {
            self.node(n.scope_id, eagerness);
        }
        if eagerness & CHILDREN != 0 {
            for (_, child) in &n.nested_nodes {
                self.node(*child, eagerness);
            }
        }
        self.depth -= 1;
    }

    /// Groups of a struct (nested ones too), generated param/result structs of an interface.
    fn aux<'a>(&self, n: &'a Node) -> Vec<&'a Node>
    where
        Self: 'a,
    {
        let set: &'a SchemaSet = self.set;
        let mut out = Vec::new();
        match &n.kind {
            NodeKind::Struct(_) => {
                let mut stack = vec![n];
                while let Some(s) = stack.pop() {
                    if let NodeKind::Struct(st) = &s.kind {
                        for f in st.fields.iter().rev() {
                            if let FieldKind::Group { type_id } = f.kind
                                && let Some(g) = set.node(type_id)
                            {
                                stack.push(g);
                            }
                        }
                    }
                    if !std::ptr::eq(s, n) {
                        out.push(s);
                    }
                }
            }
            NodeKind::Interface(i) => {
                for m in &i.methods {
                    for id in [m.param_struct_type, m.result_struct_type] {
                        if self.generated.contains(&id)
                            && let Some(p) = set.node(id)
                        {
                            out.push(p);
                        }
                    }
                }
            }
            _ => {}
        }
        out
    }

    /// `traverseNodeDependencies`: what one node's content mentions, in order.
    fn deps(&mut self, n: &Node, e: u32) {
        match &n.kind {
            NodeKind::Struct(s) => {
                for f in &s.fields {
                    if let FieldKind::Slot { ty, .. } = &f.kind {
                        self.ty(ty, e);
                    }
                    self.annotations(&f.annotations, e);
                }
            }
            NodeKind::Enum(es) => {
                for x in es {
                    self.annotations(&x.annotations, e);
                }
            }
            NodeKind::Interface(i) => {
                for s in &i.superclasses {
                    self.node(s.id, e);
                    self.brand(&s.brand, e);
                }
                for m in &i.methods {
                    self.node(m.param_struct_type, e);
                    self.brand(&m.param_brand, e);
                    self.node(m.result_struct_type, e);
                    self.brand(&m.result_brand, e);
                    self.annotations(&m.annotations, e);
                }
            }
            NodeKind::Const { ty, .. } | NodeKind::Annotation { ty, .. } => self.ty(ty, e),
            _ => {}
        }
        self.annotations(&n.annotations, e);
    }

    fn ty(&mut self, ty: &Type, e: u32) {
        match ty {
            Type::List(elem) => self.ty(elem, e),
            Type::Enum { type_id, brand }
            | Type::Struct { type_id, brand }
            | Type::Interface { type_id, brand } => {
                self.node(*type_id, e);
                self.brand(brand, e);
            }
            _ => {}
        }
    }

    fn brand(&mut self, brand: &Brand, e: u32) {
        for s in &brand.scopes {
            if let BrandScopeKind::Bind(bs) = &s.kind {
                for b in bs {
                    if let Binding::Type(t) = b {
                        self.ty(t, e);
                    }
                }
            }
        }
    }

    fn annotations(&mut self, anns: &[Annotation], e: u32) {
        for a in anns {
            self.node(a.id, e);
            self.brand(&a.brand, e);
        }
    }
}
