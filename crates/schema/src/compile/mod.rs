//! The resolver and node translator: names, imports, aliases, generics, ids, layout, values,
//! annotations.  Nodes are compiled lazily and the set of emitted nodes follows the official
//! compiler's eager traversal (requested files with children, plus dependencies and their
//! parents).
//!
//! This module holds the shared state ([`Compilation`]); each concern is a submodule: `load`
//! (files and imports), `nodes` (the declaration tree), `resolve` (names and aliases),
//! `decl_expr` (declaration expressions and types), `brands`, `phases` (bootstrap and
//! finalize), `translate` (one declaration to model nodes) and `embed` (embedded messages).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::ast::{
    AnnotationApp, Decl, DeclId, DeclKind, Expr, ExprKind, Param, ParamDecl, ParamList,
};
use crate::brand::{BindingScope, BrandedDecl, Builtin, Target, compile_brand};
use crate::diagnostics::{Diagnostics, Span};
use crate::ids;
use crate::layout::{Layout, Scope};
use crate::model::BrandScope as ModelBrandScope;
use crate::model::*;
use crate::values::{Val, default_value, to_value};

/// Options controlling import resolution.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `-I` directories.
    pub include: Vec<PathBuf>,
    /// `--src-prefix` values.
    pub src_prefix: Vec<String>,
    /// `--no-standard-import`.
    pub no_standard_import: bool,
    /// Only the language capnp 0.9 reads (no Cap'n Proto 1.0 additions).
    pub capnp_0_9: bool,
    /// Directory that relative file names and `-I` directories are resolved against
    /// (the process's working directory when `None`).
    pub base_dir: Option<PathBuf>,
}

impl Options {
    fn resolve(&self, p: &Path) -> PathBuf {
        match &self.base_dir {
            Some(b) if p.is_relative() => b.join(p),
            _ => p.to_path_buf(),
        }
    }
}

pub(crate) struct Module {
    pub name: String,
    pub path: Option<PathBuf>,
    /// Where it was found (names the file in errors).
    source: SourceName,
    pub ast: Rc<Decl>,
    pub root: usize,
    pub file: usize,
    imports: HashMap<String, Option<usize>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    File,
    Const,
    Annotation,
    Enum,
    Struct,
    Interface,
}

#[derive(Default)]
struct Expanded {
    children: Vec<usize>,
    members: HashMap<String, usize>,
    aliases: HashMap<String, Vec<u32>>,
}

/// One declaration (file, struct, enum, interface, const or annotation) known to the
/// compiler: where it is, what it is, and its compiled forms once needed.
pub(crate) struct DeclNode {
    pub id: u64,
    parent: Option<usize>,
    pub module: usize,
    path: Vec<u32>,
    kind: Kind,
    pub display_name: String,
    param_count: u16,
    expanded: Option<Rc<Expanded>>,
    boot: Option<Rc<Compiled>>,
    fin: Option<Rc<Compiled>>,
    const_val: Option<Val>,
    in_boot: bool,
    in_fin: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub node: Node,
    pub aux: Vec<Node>,
}

enum Loc {
    Const,
    FieldDefault(Option<usize>, usize),
    Ann(AnnLoc, usize),
}

#[derive(Clone, Copy)]
enum AnnLoc {
    Node(Option<usize>),
    Field(Option<usize>, usize),
    Enumerant(usize),
    Method(usize),
}

struct Job {
    expr: Expr,
    ty: Type,
    loc: Loc,
}

/// The state of one compilation: loaded files, the declaration tree, caches, diagnostics.
pub(crate) struct Compilation {
    pub opts: Options,
    pub modules: Vec<Module>,
    pub files: Vec<(String, String)>,
    pub nodes: Vec<DeclNode>,
    by_id: HashMap<u64, usize>,
    by_path: HashMap<String, usize>,
    pub diags: Diagnostics,
    next_bogus: u64,
    alias_cache: HashMap<(usize, String), Option<BrandedDecl>>,
    alias_busy: HashSet<(usize, String)>,
    /// Order in which param structs were created (for the sourceInfo id-0 quirk).
    pub param_struct_order: Vec<u64>,
    pending_jobs: HashMap<usize, Vec<Job>>,
    /// Owner node of each group / param struct id.
    aux_owner: HashMap<u64, usize>,
    /// In-memory files (canonical name → source), consulted before the bundled files.
    pub virtual_files: HashMap<String, String>,
    /// Current depth of nested on-demand compilation (bounded to keep the stack safe).
    depth: u32,
}

/// Maximum depth of declarations compiled on demand from one another (alias and constant
/// chains); deeper chains are reported instead of overflowing the stack.
const MAX_DEPTH: u32 = 200;

fn walk<'a>(root: &'a Decl, path: &[u32]) -> &'a Decl {
    let mut d = root;
    for &i in path {
        match d.nested.get(i as usize) {
            Some(n) => d = n,
            None => return d,
        }
    }
    d
}

fn expr_string(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Unknown => "<parse error>".into(),
        ExprKind::PositiveInt(v) => v.to_string(),
        ExprKind::NegativeInt(v) => format!("-{v}"),
        ExprKind::Float(f) => f.to_string(),
        ExprKind::String(s) => format!("{:?}", String::from_utf8_lossy(s)),
        ExprKind::Binary(_) => "0x\"...\"".into(),
        ExprKind::RelativeName(n) => n.text.clone(),
        ExprKind::AbsoluteName(n) => format!(".{}", n.text),
        ExprKind::Import(n) => format!("import {:?}", n.text),
        ExprKind::Embed(n) => format!("embed {:?}", n.text),
        ExprKind::List(items) => format!(
            "[ {} ]",
            items.iter().map(expr_string).collect::<Vec<_>>().join(", ")
        ),
        ExprKind::Tuple(ps) => tuple_string(ps),
        ExprKind::Application(f, ps) => format!("{}({})", expr_string(f), tuple_string(ps)),
        ExprKind::Member(p, n) => format!("{}.{}", expr_string(p), n.text),
    }
}

fn tuple_string(ps: &[Param]) -> String {
    let parts: Vec<String> = ps
        .iter()
        .map(|p| match &p.name {
            Some(n) => format!("{} = {}", n.text, expr_string(&p.value)),
            None => expr_string(&p.value),
        })
        .collect();
    format!("( {} )", parts.join(", "))
}

fn kind_of(d: &Decl) -> Option<Kind> {
    Some(match d.kind {
        DeclKind::Const { .. } => Kind::Const,
        DeclKind::Annotation { .. } => Kind::Annotation,
        DeclKind::Enum => Kind::Enum,
        DeclKind::Struct => Kind::Struct,
        DeclKind::Interface { .. } => Kind::Interface,
        _ => return None,
    })
}

impl Compilation {
    pub fn new(opts: Options) -> Compilation {
        Compilation {
            opts,
            modules: Vec::new(),
            files: Vec::new(),
            nodes: Vec::new(),
            by_id: HashMap::new(),
            by_path: HashMap::new(),
            diags: Diagnostics::default(),
            next_bogus: 1000,
            alias_cache: HashMap::new(),
            alias_busy: HashSet::new(),
            param_struct_order: Vec::new(),
            pending_jobs: HashMap::new(),
            aux_owner: HashMap::new(),
            virtual_files: HashMap::new(),
            depth: 0,
        }
    }
}

/// The result of looking a name up in a scope.
#[derive(Clone)]
pub(crate) enum Resolved {
    /// A node or builtin, and the id of the scope it was found in.
    Decl(Target, u64),
    /// An alias target, and the id of the node declaring the alias.
    Alias(BrandedDecl, u64),
    /// A generic parameter: (id of the generic node, index).
    Param(u64, u16),
}

struct Implicit {
    scope_id: u64,
    names: Vec<String>,
}

impl Implicit {
    fn none() -> Implicit {
        Implicit {
            scope_id: 0,
            names: Vec::new(),
        }
    }
}

mod annotations;
mod brands;
mod decl_expr;
mod embed;
mod load;
mod members;
mod naming;
mod nodes;
mod params;
mod phases;
mod resolve;
mod source_name;
mod struct_nodes;
mod struct_values;
mod translate;
mod values;

// Shared between the translation modules.
use annotations::TargetFlag;
use members::*;
use source_name::SourceName;
use struct_values::apply_brand;
