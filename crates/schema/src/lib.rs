//! `cara-schema`: a pure-Rust front-end for Cap'n Proto schema files.
//!
//! It parses `.capnp` files, resolves names, imports, aliases and generics, derives ids,
//! lays out structs exactly like the official compiler, evaluates defaults, constants and
//! annotations, and produces a [`SchemaSet`]: the resolved model, which can also be written
//! as a standard `CodeGeneratorRequest` (what `capnp compile -o-` prints).
//!
//! ```no_run
//! let set = cara_schema::Compiler::new()
//!     .include("schemas")
//!     .compile(&["schemas/foo.capnp"])
//!     .map_err(|d| d.to_string())?;
//! for node in set.nodes() {
//!     println!("{:x} {}", node.id, node.display_name);
//! }
//! # Ok::<(), String>(())
//! ```
#![warn(missing_docs)]

// The public surface is the compiler, its result (`model`, `values`), diagnostics and the
// bundled standard files; everything else is internal.
mod ast;
mod brand;
mod compile;
pub mod diagnostics;
mod encode;
#[cfg(test)]
mod fuzz;
mod ids;
mod layout;
mod lexer;
pub mod model;
mod parser;
mod source_order;
pub mod stdlib;
pub mod values;

use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

pub use diagnostics::{Diagnostic, Diagnostics};
pub use model::*;

use ast::{Decl, DeclKind, Expr, ExprKind, ParamList};

/// Builder-style entry point.
#[derive(Debug, Clone, Default)]
pub struct Compiler {
    opts: compile::Options,
}

/// Where requested files are read from.
#[derive(Debug, Clone, Copy)]
enum Origin {
    /// The file system (`Compiler::compile`).
    Disk,
    /// In-memory sources and bundled files (`Compiler::compile_sources`).
    Memory,
}

/// The result of compiling: every node the official compiler would emit, plus the list of
/// requested files.
#[derive(Debug, Clone)]
pub struct SchemaSet {
    nodes: Vec<Node>,
    by_id: HashMap<u64, usize>,
    requested: Vec<RequestedFile>,
    /// Ids of auto-generated method param/result structs (in creation order).
    param_structs: Vec<u64>,
    /// Files read from disk (requested files and imports), for build-script rerun rules.
    sources: Vec<std::path::PathBuf>,
}

impl Compiler {
    /// A compiler with default options (standard imports enabled).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an import directory (`-I`).
    pub fn include(mut self, dir: impl Into<PathBuf>) -> Self {
        self.opts.include.push(dir.into());
        self
    }

    /// Adds a source prefix stripped from requested file names (`--src-prefix`).
    pub fn src_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.opts.src_prefix.push(prefix.into());
        self
    }

    /// Resolves relative file names and `-I` directories against `dir` instead of the
    /// process's working directory (display names stay as given).
    pub fn base_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.opts.base_dir = Some(dir.into());
        self
    }

    /// Reads only the language of capnp 0.9 (the release the tests cross-check against):
    /// rejects the Cap'n Proto 1.0 additions the front-end otherwise accepts (a struct value
    /// given as its first field's value, `field :Struct = "x"`).
    pub fn capnp_0_9(mut self) -> Self {
        self.opts.capnp_0_9 = true;
        self
    }

    /// Disables the standard import directories and the bundled standard files.
    pub fn no_standard_import(mut self) -> Self {
        self.opts.no_standard_import = true;
        self
    }

    /// Compiles in-memory sources: `(name, text)` pairs.  All of them are requested; they can
    /// import each other by relative name, and the bundled standard files are available.
    pub fn compile_sources(&self, sources: &[(&str, &str)]) -> Result<SchemaSet, Diagnostics> {
        let mut ctx = compile::Compilation::new(self.opts.clone());
        for (name, text) in sources {
            ctx.virtual_files
                .insert((*name).to_string(), (*text).to_string());
        }
        let names: Vec<String> = sources.iter().map(|(n, _)| (*n).to_string()).collect();
        Self::run(ctx, &names, Origin::Memory)
    }

    /// Compiles the given files.
    pub fn compile<P: AsRef<std::path::Path>>(
        &self,
        files: &[P],
    ) -> Result<SchemaSet, Diagnostics> {
        let _span = tracing::debug_span!("compile", files = files.len()).entered();
        let ctx = compile::Compilation::new(self.opts.clone());
        let names: Vec<String> = files
            .iter()
            .map(|f| f.as_ref().to_string_lossy().into_owned())
            .collect();
        Self::run(ctx, &names, Origin::Disk)
    }

    fn run(
        mut ctx: compile::Compilation,
        files: &[String],
        origin: Origin,
    ) -> Result<SchemaSet, Diagnostics> {
        let mut requested = Vec::new();
        let mut io_errors = Vec::new();
        // Eager traversal after each file, as `capnp compile` does (so a file imported by an
        // earlier one keeps the name it was first loaded under).
        let mut seen: HashMap<usize, u32> = HashMap::new();
        let mut order: Vec<usize> = Vec::new();
        for name in files {
            let loaded = match origin {
                Origin::Memory => ctx.add_virtual_requested(name),
                Origin::Disk => ctx.add_requested(name),
            };
            match loaded {
                Ok(m) => {
                    requested.push(m);
                    let root = ctx.modules[m].root;
                    traverse(
                        &mut ctx,
                        root,
                        NODE | CHILDREN | DEPENDENCIES | DEPENDENCY_PARENTS,
                        &mut seen,
                        &mut order,
                    );
                }
                Err(e) => io_errors.push(e),
            }
        }
        let mut nodes = Vec::new();
        for &n in &order {
            if let Some(c) = ctx.finalize(n) {
                nodes.push(c.node.clone());
                nodes.extend(c.aux.iter().cloned());
            }
        }
        let mut req_files = Vec::new();
        for &m in &requested {
            let mut names = BTreeSet::new();
            let ast = ctx.modules[m].ast.clone();
            find_imports_decl(&ast, &mut names);
            let mut imports = Vec::new();
            for name in names {
                if let Some(im) = ctx.import_for_table(m, &name) {
                    imports.push((im, name));
                }
            }
            req_files.push(RequestedFile {
                id: ctx.nodes[ctx.modules[m].root].id,
                filename: ctx.modules[m].name.clone(),
                imports,
            });
        }
        let mut diags = std::mem::take(&mut ctx.diags);
        diags.resolve(&ctx.files);
        for e in io_errors {
            diags.errors.push(Diagnostic {
                file: String::new(),
                line: 0,
                end_line: 0,
                col: 0,
                end_col: 0,
                message: e.to_string(),
                source_line: String::new(),
            });
        }
        if !diags.errors.is_empty() {
            return Err(diags);
        }
        let by_id = nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
        Ok(SchemaSet {
            nodes,
            by_id,
            requested: req_files,
            param_structs: ctx.param_struct_order.clone(),
            sources: ctx.modules.iter().filter_map(|m| m.path.clone()).collect(),
        })
    }
}

impl SchemaSet {
    /// All nodes, in traversal order.
    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    /// Looks a node up by id.
    pub fn node(&self, id: u64) -> Option<&Node> {
        self.by_id.get(&id).map(|&i| &self.nodes[i])
    }

    /// The key cara's value encoding writes a field under: its ordinal; for a group
    /// (which has none), the smallest ordinal inside it.
    pub fn wire_key(&self, field: &Field) -> u16 {
        match &field.kind {
            FieldKind::Slot { .. } => field.ordinal.unwrap_or(field.code_order),
            FieldKind::Group { type_id } => {
                self.min_ordinal(*type_id, 0).unwrap_or(field.code_order)
            }
        }
    }

    /// The smallest ordinal inside a group, through nested groups (bounded depth).
    fn min_ordinal(&self, group: u64, depth: u32) -> Option<u16> {
        let NodeKind::Struct(s) = &self.node(group).filter(|_| depth <= 32)?.kind else {
            return None;
        };
        s.fields
            .iter()
            .filter_map(|f| match &f.kind {
                FieldKind::Slot { .. } => f.ordinal,
                FieldKind::Group { type_id } => self.min_ordinal(*type_id, depth + 1),
            })
            .min()
    }

    /// The requested files.
    pub fn requested_files(&self) -> &[RequestedFile] {
        &self.requested
    }

    /// The schema files read from disk (requested files and every import), so that
    /// build scripts can rerun when any of them changes.
    pub fn source_files(&self) -> &[std::path::PathBuf] {
        &self.sources
    }

    /// Ids of generated `$Params`/`$Results` structs, in creation order.
    pub fn param_struct_ids(&self) -> &[u64] {
        &self.param_structs
    }

    /// Encodes a `CodeGeneratorRequest` (unpacked, with segment table), as
    /// `capnp compile -o-` writes it.
    pub fn to_request_bytes(&self) -> Vec<u8> {
        encode::request_bytes(self)
    }
}

pub(crate) const NODE: u32 = 1;
pub(crate) const CHILDREN: u32 = 2;
pub(crate) const PARENTS: u32 = 4;
pub(crate) const DEPENDENCIES: u32 = 8;
pub(crate) const DEPENDENCY_PARENTS: u32 = PARENTS * DEPENDENCIES;

/// The official compiler's eager traversal (`Compiler::Node::traverse`), done with an
/// explicit work list so that long dependency chains cannot overflow the stack.  The set of
/// (node, eagerness) pairs reached does not depend on the visiting order.
fn traverse(
    ctx: &mut compile::Compilation,
    start: usize,
    eagerness: u32,
    seen: &mut HashMap<usize, u32>,
    order: &mut Vec<usize>,
) {
    let mut work = vec![(start, eagerness)];
    while let Some((n, eagerness)) = work.pop() {
        let slot = seen.entry(n).or_insert(0);
        if *slot & eagerness == eagerness {
            continue;
        }
        let first = *slot == 0;
        *slot |= eagerness;
        if first {
            order.push(n);
        }
        if eagerness & CHILDREN != 0 {
            ctx.compile_aliases(n);
            for c in ctx.children_of(n).into_iter().rev() {
                work.push((c, eagerness));
            }
        }
        if eagerness & PARENTS != 0
            && let Some(p) = ctx.parent_of(n)
        {
            work.push((p, eagerness));
        }
        if let Some(c) = ctx.finalize(n)
            && eagerness / DEPENDENCIES != 0
        {
            let new_e = (eagerness & !(DEPENDENCIES - 1)) | (eagerness / DEPENDENCIES);
            let mut deps = Vec::new();
            node_deps(&c.node, &mut deps);
            for a in &c.aux {
                node_deps(a, &mut deps);
            }
            for id in deps.into_iter().rev() {
                if let Some(d) = ctx.node_index(id) {
                    work.push((d, new_e));
                }
            }
        }
    }
}

fn type_deps(t: &Type, out: &mut Vec<u64>) {
    match t {
        Type::Struct { type_id, brand }
        | Type::Enum { type_id, brand }
        | Type::Interface { type_id, brand } => {
            out.push(*type_id);
            brand_deps(brand, out);
        }
        Type::List(e) => type_deps(e, out),
        _ => {}
    }
}

fn brand_deps(b: &Brand, out: &mut Vec<u64>) {
    for s in &b.scopes {
        if let BrandScopeKind::Bind(bs) = &s.kind {
            for x in bs {
                if let Binding::Type(t) = x {
                    type_deps(t, out);
                }
            }
        }
    }
}

fn ann_deps(a: &[Annotation], out: &mut Vec<u64>) {
    out.extend(a.iter().map(|a| a.id));
}

fn node_deps(n: &Node, out: &mut Vec<u64>) {
    match &n.kind {
        NodeKind::Struct(s) => {
            for f in &s.fields {
                if let FieldKind::Slot { ty, .. } = &f.kind {
                    type_deps(ty, out);
                }
                ann_deps(&f.annotations, out);
            }
        }
        NodeKind::Enum(es) => es.iter().for_each(|e| ann_deps(&e.annotations, out)),
        NodeKind::Interface(i) => {
            for s in &i.superclasses {
                out.push(s.id);
                brand_deps(&s.brand, out);
            }
            for m in &i.methods {
                out.push(m.param_struct_type);
                brand_deps(&m.param_brand, out);
                out.push(m.result_struct_type);
                brand_deps(&m.result_brand, out);
                ann_deps(&m.annotations, out);
            }
        }
        NodeKind::Const { ty, .. } | NodeKind::Annotation { ty, .. } => type_deps(ty, out),
        NodeKind::File => {}
    }
    ann_deps(&n.annotations, out);
}

fn find_imports_expr(e: &Expr, out: &mut BTreeSet<String>) {
    match &e.kind {
        ExprKind::Import(n) => {
            out.insert(n.text.clone());
        }
        ExprKind::List(items) => items.iter().for_each(|i| find_imports_expr(i, out)),
        ExprKind::Tuple(ps) => ps.iter().for_each(|p| find_imports_expr(&p.value, out)),
        ExprKind::Application(f, ps) => {
            find_imports_expr(f, out);
            ps.iter().for_each(|p| find_imports_expr(&p.value, out));
        }
        ExprKind::Member(p, _) => find_imports_expr(p, out),
        _ => {}
    }
}

fn find_imports_params(p: &ParamList, out: &mut BTreeSet<String>) {
    match p {
        ParamList::Named(ps, _) => {
            for p in ps {
                find_imports_expr(&p.ty, out);
                for a in &p.annotations {
                    find_imports_expr(&a.name, out);
                }
            }
        }
        ParamList::Type(t) => find_imports_expr(t, out),
    }
}

fn find_imports_decl(d: &Decl, out: &mut BTreeSet<String>) {
    match &d.kind {
        DeclKind::Using(t) => find_imports_expr(t, out),
        DeclKind::Const { ty, .. } => find_imports_expr(ty, out),
        DeclKind::Field { ty, .. } => find_imports_expr(ty, out),
        DeclKind::Interface { superclasses } => {
            superclasses.iter().for_each(|s| find_imports_expr(s, out))
        }
        DeclKind::Method { params, results } => {
            find_imports_params(params, out);
            if let Some(r) = results {
                find_imports_params(r, out);
            }
        }
        _ => {}
    }
    for a in &d.annotations {
        find_imports_expr(&a.name, out);
    }
    for n in &d.nested {
        find_imports_decl(n, out);
    }
}
