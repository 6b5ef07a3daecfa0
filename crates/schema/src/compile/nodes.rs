//! The declaration tree: one `DeclNode` per declaration, created when its parent is
//! expanded, with its id, display name and lexical scope.

use super::*;

impl Compilation {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new_node(
        &mut self,
        id: u64,
        parent: Option<usize>,
        module: usize,
        path: Vec<u32>,
        kind: Kind,
        display_name: String,
        param_count: u16,
        span: Span,
    ) -> usize {
        let idx = self.nodes.len();
        let mut id = id;
        loop {
            match self.by_id.get(&id) {
                None => break,
                Some(&other) => {
                    if id & (1 << 63) != 0 {
                        self.diags.error(span, format!("Duplicate ID @0x{id:x}."));
                        let other_span = self.node_span(other);
                        self.diags
                            .error(other_span, format!("ID @0x{id:x} originally used here."));
                    }
                    id = self.next_bogus;
                    self.next_bogus += 1;
                }
            }
        }
        self.by_id.insert(id, idx);
        self.nodes.push(DeclNode {
            id,
            parent,
            module,
            path,
            kind,
            display_name,
            param_count,
            expanded: None,
            boot: None,
            fin: None,
            const_val: None,
            in_boot: false,
            in_fin: false,
        });
        idx
    }

    pub(super) fn node_span(&self, n: usize) -> Span {
        let node = &self.nodes[n];
        let m = &self.modules[node.module];
        if node.parent.is_none() {
            return Span::new(m.file, 0, 0);
        }
        let d = walk(&m.ast, &node.path);
        if d.name.text.is_empty() {
            d.span
        } else {
            d.name.span
        }
    }

    pub(super) fn decl_of(&self, n: usize) -> (Rc<Decl>, Vec<u32>) {
        let node = &self.nodes[n];
        (self.modules[node.module].ast.clone(), node.path.clone())
    }

    pub(super) fn expand(&mut self, n: usize) -> Rc<Expanded> {
        if let Some(e) = &self.nodes[n].expanded {
            return e.clone();
        }
        let (ast, path) = self.decl_of(n);
        let decl = walk(&ast, &path);
        let mut ex = Expanded::default();
        let parent_id = self.nodes[n].id;
        let is_file = self.nodes[n].parent.is_none();
        let module = self.nodes[n].module;
        for (i, d) in decl.nested.iter().enumerate() {
            let mut p = path.clone();
            p.push(i as u32);
            if let Some(kind) = kind_of(d) {
                let id = match d.id {
                    DeclId::Uid(v, sp) => {
                        if v & (1 << 63) == 0 {
                            self.diags.error(
                                sp,
                                "Invalid ID.  Please generate a new one with 'capnpc -i'.",
                            );
                        }
                        v
                    }
                    _ => ids::child_id(parent_id, &d.name.text),
                };
                let sep = if is_file { ':' } else { '.' };
                let dn = format!("{}{}{}", self.nodes[n].display_name, sep, d.name.text);
                let span = d.name.span;
                let c = self.new_node(
                    id,
                    Some(n),
                    module,
                    p,
                    kind,
                    dn,
                    d.params.len() as u16,
                    span,
                );
                ex.children.push(c);
                ex.members.entry(d.name.text.clone()).or_insert(c);
            } else if let DeclKind::Using(_) = d.kind {
                ex.aliases.entry(d.name.text.clone()).or_insert(p);
            }
        }
        let ex = Rc::new(ex);
        self.nodes[n].expanded = Some(ex.clone());
        ex
    }

    pub(super) fn lexical_chain(&self, n: usize) -> Vec<(u64, u16)> {
        let mut out = Vec::new();
        let mut cur = Some(n);
        while let Some(c) = cur {
            out.push((self.nodes[c].id, self.nodes[c].param_count));
            cur = self.nodes[c].parent;
        }
        out
    }

    pub(super) fn local_brand(&self, n: usize) -> Rc<BindingScope> {
        BindingScope::lexical(&self.lexical_chain(n))
    }

    /// Node index for an id.
    pub fn node_index(&self, id: u64) -> Option<usize> {
        self.by_id.get(&id).copied()
    }

    /// Lexical parent.
    pub fn parent_of(&self, n: usize) -> Option<usize> {
        self.nodes[n].parent
    }

    /// Nested nodes.
    pub fn children_of(&mut self, n: usize) -> Vec<usize> {
        self.expand(n).children.clone()
    }

    /// Compiles every `using` alias declared directly in node `n` (reporting their errors),
    /// as the official compiler does for nodes traversed with their children.
    pub fn compile_aliases(&mut self, n: usize) {
        let ex = self.expand(n);
        let mut names: Vec<&String> = ex.aliases.keys().collect();
        names.sort();
        for name in names {
            let _ = self.resolve_member(n, name);
        }
    }
}
