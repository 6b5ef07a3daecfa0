//! Where each schema node lives in the generated Rust: its file module, the module
//! path inside it, and its item name; and the paths that refer to it from elsewhere.

use std::collections::{HashMap, HashSet};

use cara_schema::{FieldKind, Node, NodeKind, SchemaSet};
use proc_macro2::TokenStream;
use quote::quote;

use crate::names::{camel, file_module, ident, shouty, snake};

/// The Rust home of one node.
#[derive(Debug, Clone)]
pub struct Place {
    /// The file node.
    pub file: u64,
    /// Modules inside the file module, outermost first.
    pub modules: Vec<String>,
    /// The item's name (type or constant).
    pub name: String,
    /// The module holding this node's nested items, if it has any.
    pub child_module: Option<String>,
}

/// Placement of every node of a schema set.
pub struct Places {
    pub places: HashMap<u64, Place>,
    pub file_modules: HashMap<u64, String>,
    /// Auto-generated method param/result structs: id → (interface id, method index, role).
    pub method_structs: HashMap<u64, (u64, usize, MethodStruct)>,
}

/// Which of a method's auto-generated structs a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodStruct {
    /// `$Params`: travels flattened into the call's arguments.
    Params,
    /// `$Results`: a struct only for several results, keyed by name.
    Results,
}

impl Places {
    pub fn new(set: &SchemaSet) -> Self {
        let mut p = Places {
            places: HashMap::new(),
            file_modules: HashMap::new(),
            method_structs: HashMap::new(),
        };
        let mut used_file_modules = HashSet::new();
        for node in set.nodes() {
            if let NodeKind::File = node.kind {
                let filename = node.display_name.as_str();
                let mut name = file_module(filename);
                if !used_file_modules.insert(name.clone()) {
                    name = format!("{name}_{:016x}", node.id);
                    used_file_modules.insert(name.clone());
                }
                p.file_modules.insert(node.id, name);
            }
        }
        for node in set.nodes() {
            if let NodeKind::File = node.kind {
                p.place_children(set, node, node.id, &[]);
            }
        }
        p
    }

    /// Places the nested items of `parent`, whose children module path is `modules`.
    fn place_children(&mut self, set: &SchemaSet, parent: &Node, file: u64, modules: &[String]) {
        // (id, item name) of every item that lands in this module.
        let mut items: Vec<(u64, String)> = Vec::new();
        for (name, id) in &parent.nested_nodes {
            let Some(node) = set.node(*id) else { continue };
            let item = match node.kind {
                NodeKind::Const { .. } => shouty(name),
                _ => camel(name),
            };
            items.push((*id, item));
        }
        match &parent.kind {
            NodeKind::Struct(s) => {
                for field in &s.fields {
                    if let FieldKind::Group { type_id } = field.kind {
                        items.push((type_id, camel(&field.name)));
                    }
                }
            }
            NodeKind::Interface(i) => {
                for (index, method) in i.methods.iter().enumerate() {
                    for (id, suffix, role) in [
                        (method.param_struct_type, "Params", MethodStruct::Params),
                        (method.result_struct_type, "Results", MethodStruct::Results),
                    ] {
                        if set.node(id).is_some_and(|n| n.scope_id == 0) {
                            self.method_structs.insert(id, (parent.id, index, role));
                            items.push((id, format!("{}{suffix}", camel(&method.name))));
                        }
                    }
                }
            }
            _ => {}
        }
        // Reserved names in every child module: the union enum and the module's own
        // helper names.
        let mut used: HashSet<String> = HashSet::new();
        if matches!(&parent.kind, NodeKind::Struct(s) if s.discriminant_count > 0) {
            used.insert("Which".into());
        }
        if let NodeKind::Interface(_) = parent.kind {
            used.insert("INFO".into());
        }
        let mut module_names: HashSet<String> = HashSet::new();
        for (id, mut item) in items {
            if self.places.contains_key(&id) {
                continue;
            }
            let Some(node) = set.node(id) else { continue };
            let is_interface = matches!(node.kind, NodeKind::Interface(_));
            // An interface also brings `<Name>Server` and `<Name>Client`.
            while used.contains(&item)
                || (is_interface
                    && (used.contains(&format!("{item}Server"))
                        || used.contains(&format!("{item}Client"))))
            {
                item.push('_');
            }
            used.insert(item.clone());
            if is_interface {
                used.insert(format!("{item}Server"));
                used.insert(format!("{item}Client"));
            }
            // A named union (a group that is only a union) is itself the enum.
            let pure_union = matches!(&node.kind, NodeKind::Struct(s) if s.is_group
                && s.discriminant_count > 0
                && s.fields.iter().all(|f| f.discriminant_value != cara_schema::NO_DISCRIMINANT));
            let has_children = !node.nested_nodes.is_empty()
                || matches!(&node.kind, NodeKind::Struct(s) if (s.discriminant_count > 0 && !pure_union)
                    || s.fields.iter().any(|f| matches!(f.kind, FieldKind::Group { .. })))
                || matches!(&node.kind, NodeKind::Interface(_));
            let child_module = has_children.then(|| {
                let mut m = snake(&item);
                while used.contains(&m) || !module_names.insert(m.clone()) {
                    m.push('_');
                }
                used.insert(m.clone());
                m
            });
            self.places.insert(
                id,
                Place {
                    file,
                    modules: modules.to_vec(),
                    name: item,
                    child_module: child_module.clone(),
                },
            );
            if let Some(m) = child_module {
                let mut inner = modules.to_vec();
                inner.push(m);
                self.place_children(set, node, file, &inner);
            }
        }
    }

    /// The path to node `id`'s item, from code inside module `from` of file `from_file`.
    pub fn path(&self, id: u64, from_file: u64, from: &[String]) -> Option<TokenStream> {
        let place = self.places.get(&id)?;
        self.path_to(place.file, &place.modules, &place.name, from_file, from)
    }

    /// The path to the enum of node `id`'s unnamed union (`<child module>::Which`).
    pub fn union_path(&self, id: u64, from_file: u64, from: &[String]) -> Option<TokenStream> {
        let place = self.places.get(&id)?;
        let mut modules = place.modules.clone();
        modules.push(place.child_module.clone()?);
        self.path_to(place.file, &modules, "Which", from_file, from)
    }

    /// The path to the client stub type of interface `id` (`<Name>Client`).
    pub fn client_path(&self, id: u64, from_file: u64, from: &[String]) -> Option<TokenStream> {
        let place = self.places.get(&id)?;
        let name = format!("{}Client", place.name);
        self.path_to(place.file, &place.modules, &name, from_file, from)
    }

    /// The path to interface `id`'s `INFO` static.
    pub fn info_path(&self, id: u64, from_file: u64, from: &[String]) -> Option<TokenStream> {
        let place = self.places.get(&id)?;
        let mut modules = place.modules.clone();
        modules.push(place.child_module.clone()?);
        self.path_to(place.file, &modules, "INFO", from_file, from)
    }

    /// The path to item `name` in module path `modules` of `file`, from `from`.
    fn path_to(
        &self,
        file: u64,
        modules: &[String],
        name: &str,
        from_file: u64,
        from: &[String],
    ) -> Option<TokenStream> {
        let (supers, rest): (usize, Vec<TokenStream>) = if file == from_file {
            // Share the common prefix instead of climbing all the way up.
            let common = from.iter().zip(modules).take_while(|(a, b)| a == b).count();
            let rest = modules[common..].iter().map(|m| {
                let m = ident(m);
                quote!(#m)
            });
            (from.len() - common, rest.collect())
        } else {
            let f = ident(self.file_modules.get(&file)?);
            let rest = std::iter::once(quote!(#f)).chain(modules.iter().map(|m| {
                let m = ident(m);
                quote!(#m)
            }));
            (from.len() + 1, rest.collect())
        };
        let name = ident(name);
        let sup = (0..supers).map(|_| quote!(super::));
        Some(quote!(#(#sup)* #(#rest::)* #name))
    }
}
