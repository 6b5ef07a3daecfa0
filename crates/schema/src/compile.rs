//! The resolver and node translator: names, imports, aliases, generics, ids, layout, values,
//! annotations.  Nodes are compiled lazily and the set of emitted nodes follows the official
//! compiler's eager traversal (requested files with children, plus dependencies and their
//! parents).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::ast::{AnnotationApp, Decl, DeclId, DeclKind, Expr, ExprKind, Param, ParamList};
use crate::brand::{BDecl, BScope, Builtin, Target, compile_brand};
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

pub(crate) struct DNode {
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

pub(crate) struct Ctx {
    pub opts: Options,
    pub modules: Vec<Module>,
    pub files: Vec<(String, String)>,
    pub nodes: Vec<DNode>,
    by_id: HashMap<u64, usize>,
    by_path: HashMap<String, usize>,
    pub diags: Diagnostics,
    next_bogus: u64,
    alias_cache: HashMap<(usize, String), Option<BDecl>>,
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
    /// Structs whose implied first field is being compiled (a struct reached again would
    /// recurse forever: `(group = 1)` where the group's first field is the struct itself).
    implying: Vec<u64>,
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

/// Bundled standard schema files, by canonical name.
pub fn bundled(name: &str) -> Option<&'static str> {
    crate::stdlib::FILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, s)| *s)
}

/// Resolves `.` and `..` components without touching the file system.
fn lexical_normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in path.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|l| *l != "..") {
                    parts.pop();
                } else {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

impl Ctx {
    pub fn new(opts: Options) -> Ctx {
        Ctx {
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
            implying: Vec::new(),
            pending_jobs: HashMap::new(),
            aux_owner: HashMap::new(),
            virtual_files: HashMap::new(),
            depth: 0,
        }
    }

    // ------------------------------------------------------------------ modules

    fn add_module(
        &mut self,
        name: String,
        path: Option<PathBuf>,
        key: String,
        src: String,
    ) -> usize {
        let file = self.files.len();
        self.files.push((name.clone(), src));
        let ast = {
            let src = &self.files[file].1;
            crate::parser::parse_file(src, file, &mut self.diags)
        };
        let ast = Rc::new(ast);
        let m = self.modules.len();
        let id = match ast.id {
            DeclId::Uid(v, sp) => {
                if v & (1 << 63) == 0 {
                    self.diags.error(
                        sp,
                        "Invalid ID.  Please generate a new one with 'capnpc -i'.",
                    );
                }
                v
            }
            _ => {
                let suggested = ids::child_id(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_nanos() as u64)
                        .unwrap_or(0),
                    &name,
                );
                self.diags.error(
                    Span::new(file, 0, 0),
                    format!("File does not declare an ID.  I've generated one for you.  Add this line to your file: @0x{suggested:x};"),
                );
                ids::child_id(0, &name)
            }
        };
        let root = self.new_node(
            id,
            None,
            m,
            Vec::new(),
            Kind::File,
            name.clone(),
            0,
            Span::new(file, 0, 0),
        );
        self.modules.push(Module {
            name,
            path,
            ast,
            root,
            file,
            imports: HashMap::new(),
        });
        self.by_path.insert(key, m);
        m
    }

    /// Loads a file named on the command line.
    pub fn add_requested(&mut self, file: &str) -> Result<usize, String> {
        // Display name, as the official compiler computes it: the path made absolute and
        // normalized, then relative to the longest matching `--src-prefix`, else to the
        // working directory, else absolute without its leading `/`.
        let cwd = match &self.opts.base_dir {
            Some(b) if b.is_absolute() => b.clone(),
            other => {
                let here = std::env::current_dir().map_err(|e| format!("{file}: {e}"))?;
                match other {
                    Some(b) => here.join(b),
                    None => here,
                }
            }
        };
        let cwd = lexical_normalize(&cwd);
        let abs = lexical_normalize(&cwd.join(file));
        let mut best: Option<PathBuf> = None;
        let mut best_len = 0;
        for p in &self.opts.src_prefix {
            let prefix = lexical_normalize(&cwd.join(p));
            if let Ok(rest) = abs.strip_prefix(&prefix)
                && prefix.as_os_str().len() >= best_len
            {
                best_len = prefix.as_os_str().len();
                best = Some(rest.to_path_buf());
            }
        }
        let rel = match best {
            Some(r) => r,
            None => match abs.strip_prefix(&cwd) {
                Ok(r) => r.to_path_buf(),
                Err(_) => abs.strip_prefix("/").unwrap_or(&abs).to_path_buf(),
            },
        };
        let name = rel.to_string_lossy().into_owned();
        let path = abs;
        let key = std::fs::canonicalize(&path)
            .map(|p| p.to_string_lossy().into_owned())
            .map_err(|e| format!("{file}: {e}"))?;
        if let Some(&m) = self.by_path.get(&key) {
            return Ok(m);
        }
        let src = std::fs::read_to_string(&path).map_err(|e| format!("{file}: {e}"))?;
        Ok(self.add_module(name, Some(path), key, src))
    }

    fn load_path(&mut self, name: String, path: PathBuf) -> Option<usize> {
        let key = std::fs::canonicalize(&path)
            .ok()?
            .to_string_lossy()
            .into_owned();
        if let Some(&m) = self.by_path.get(&key) {
            return Some(m);
        }
        let src = std::fs::read_to_string(&path).ok()?;
        Some(self.add_module(name, Some(path), key, src))
    }

    fn import(&mut self, from: usize, name: &str) -> Option<usize> {
        if let Some(r) = self.modules[from].imports.get(name) {
            return *r;
        }
        let result = self.import_uncached(from, name);
        self.modules[from].imports.insert(name.to_string(), result);
        result
    }

    fn import_uncached(&mut self, from: usize, name: &str) -> Option<usize> {
        if let Some(abs) = name.strip_prefix('/') {
            let canonical = normalize(abs);
            let mut dirs: Vec<PathBuf> = self
                .opts
                .include
                .iter()
                .map(|d| self.opts.resolve(d))
                .collect();
            if !self.opts.no_standard_import {
                dirs.push(PathBuf::from("/usr/local/include"));
                dirs.push(PathBuf::from("/usr/include"));
            }
            for d in dirs {
                let p = d.join(&canonical);
                if p.is_file() {
                    return self.load_path(canonical, p);
                }
            }
            if !self.opts.no_standard_import {
                return self.load_bundled(&canonical);
            }
            None
        } else {
            let m = &self.modules[from];
            let dir_name = match m.name.rfind('/') {
                Some(i) => &m.name[..=i],
                None => "",
            };
            let canonical = normalize(&format!("{dir_name}{name}"));
            match &m.path {
                Some(p) => {
                    let base = p.parent().unwrap_or(Path::new(""));
                    let full = base.join(name);
                    self.load_path(canonical, full)
                }
                None => self.load_bundled(&canonical),
            }
        }
    }

    /// Adds an in-memory requested file.
    pub fn add_virtual_requested(&mut self, name: &str) -> Option<usize> {
        self.load_bundled(name)
    }

    fn load_bundled(&mut self, canonical: &str) -> Option<usize> {
        let src = match self.virtual_files.get(canonical) {
            Some(s) => s.clone(),
            None => bundled(canonical)?.to_string(),
        };
        let key = format!("<bundled>/{canonical}");
        if let Some(&m) = self.by_path.get(&key) {
            return Some(m);
        }
        Some(self.add_module(canonical.to_string(), None, key, src))
    }

    fn read_embed(&mut self, from: usize, name: &str) -> Option<Vec<u8>> {
        let m = &self.modules[from];
        if let Some(abs) = name.strip_prefix('/') {
            let mut dirs: Vec<PathBuf> = self
                .opts
                .include
                .iter()
                .map(|d| self.opts.resolve(d))
                .collect();
            if !self.opts.no_standard_import {
                dirs.push(PathBuf::from("/usr/local/include"));
                dirs.push(PathBuf::from("/usr/include"));
            }
            dirs.iter().find_map(|d| std::fs::read(d.join(abs)).ok())
        } else {
            let base = m.path.as_ref()?.parent()?.to_path_buf();
            std::fs::read(base.join(name)).ok()
        }
    }

    // ------------------------------------------------------------------ nodes

    #[allow(clippy::too_many_arguments)]
    fn new_node(
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
        self.nodes.push(DNode {
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

    fn node_span(&self, n: usize) -> Span {
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

    fn decl_of(&self, n: usize) -> (Rc<Decl>, Vec<u32>) {
        let node = &self.nodes[n];
        (self.modules[node.module].ast.clone(), node.path.clone())
    }

    fn expand(&mut self, n: usize) -> Rc<Expanded> {
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

    fn lexical_chain(&self, n: usize) -> Vec<(u64, u16)> {
        let mut out = Vec::new();
        let mut cur = Some(n);
        while let Some(c) = cur {
            out.push((self.nodes[c].id, self.nodes[c].param_count));
            cur = self.nodes[c].parent;
        }
        out
    }

    fn local_brand(&self, n: usize) -> Rc<BScope> {
        BScope::lexical(&self.lexical_chain(n))
    }

    // ------------------------------------------------------------------ name resolution

    /// Resolves a member of node `n`: (target, parent scope id) or an alias result.
    fn resolve_member(&mut self, n: usize, name: &str) -> Option<Resolved> {
        let ex = self.expand(n);
        if let Some(&c) = ex.members.get(name) {
            return Some(Resolved::Decl(Target::Node(c), self.nodes[n].id));
        }
        if let Some(path) = ex.aliases.get(name) {
            let key = (n, name.to_string());
            if let Some(r) = self.alias_cache.get(&key) {
                let pid = self.nodes[n].id;
                return r.clone().map(|b| Resolved::Alias(b, pid));
            }
            if self.alias_busy.contains(&key) {
                let (ast, _) = self.decl_of(n);
                let span = walk(&ast, path).name.span;
                self.diags
                    .error(span, "Declaration recursively depends on itself.");
                return None;
            }
            if self.depth >= MAX_DEPTH {
                let (ast, _) = self.decl_of(n);
                let span = walk(&ast, path).name.span;
                self.diags
                    .error(span, "Declarations depend on each other too deeply.");
                return None;
            }
            self.alias_busy.insert(key.clone());
            self.depth += 1;
            let (ast, _) = self.decl_of(n);
            let d = walk(&ast, path);
            let result = match &d.kind {
                DeclKind::Using(target) => {
                    let scope = self.local_brand(n);
                    let r = self.compile_decl_expr(n, &scope, target, &Implicit::none());
                    self.check_alias_case(&d.name, r.as_ref());
                    // Bound types are compiled (and checked) where the alias is declared.
                    if let Some(BDecl::Decl { brand, .. }) = &r {
                        let brand = brand.clone();
                        self.brand_reported(&brand, target.span);
                    }
                    r
                }
                _ => None,
            };
            self.depth -= 1;
            self.alias_busy.remove(&key);
            self.alias_cache.insert(key, result.clone());
            let pid = self.nodes[n].id;
            return result.map(|b| Resolved::Alias(b, pid));
        }
        None
    }

    /// As the official compiler: an alias of a constant or an annotation is named like
    /// one (lower case); an alias of anything else, or of nothing found, like a type.
    fn check_alias_case(&mut self, name: &crate::ast::Name, target: Option<&BDecl>) {
        let non_type = matches!(
            target.and_then(|t| self.decl_kind_name(t)),
            Some(Kind::Const | Kind::Annotation)
        );
        let Some(first) = name.text.chars().next() else {
            return;
        };
        if non_type && !first.is_ascii_lowercase() {
            self.diags.error(
                name.span,
                "Non-type names must begin with a lower-case letter.",
            );
        } else if !non_type && !first.is_ascii_uppercase() {
            self.diags
                .error(name.span, "Type names must begin with a capital letter.");
        }
    }

    fn resolve(&mut self, n: usize, name: &str) -> Option<Resolved> {
        if let Some(r) = self.resolve_member(n, name) {
            return Some(r);
        }
        let (ast, path) = self.decl_of(n);
        let decl = walk(&ast, &path);
        if let Some(i) = decl.params.iter().position(|p| p.text == name)
            && self.nodes[n].parent.is_some()
        {
            return Some(Resolved::Param(self.nodes[n].id, i as u16));
        }
        match self.nodes[n].parent {
            Some(p) => self.resolve(p, name),
            None => Builtin::from_name(name).map(|b| Resolved::Decl(Target::Builtin(b), 0)),
        }
    }

    fn target_info(&self, t: Target) -> (u64, u16) {
        match t {
            Target::Node(n) => (self.nodes[n].id, self.nodes[n].param_count),
            Target::Builtin(b) => (b.id(), b.param_count()),
        }
    }

    fn interpret(&mut self, scope: &Rc<BScope>, r: Resolved) -> BDecl {
        match r {
            Resolved::Decl(target, scope_id) => {
                let (id, count) = self.target_info(target);
                let s = scope.pop(scope_id).push(id, count);
                BDecl::Decl {
                    target,
                    id,
                    brand: s,
                }
            }
            Resolved::Alias(b, parent_id) => match b {
                // Re-evaluate the alias's brand in the context of this use, like the official
                // compiler does (so `Gen(Text).Alias` binds what the alias inherits).
                BDecl::Decl { target, id, brand } => {
                    let compiled = self.brand_of(&brand);
                    let base = scope.pop(parent_id);
                    // An alias whose brand is empty behaves like a plain member found in
                    // the alias's scope (the official compiler keeps no brand for it).
                    let s = if compiled.scopes.is_empty() {
                        let (_, count) = self.target_info(target);
                        base.push(id, count)
                    } else {
                        self.evaluate_brand(&base, target, &compiled.scopes, 0)
                    };
                    BDecl::Decl {
                        target,
                        id,
                        brand: s,
                    }
                }
                BDecl::Param { scope_id, index } => match scope.lookup_parameter(scope_id, index) {
                    Some(Some(b)) => b,
                    Some(None) => self.any_pointer(),
                    None => BDecl::Param { scope_id, index },
                },
            },
            Resolved::Param(scope_id, index) => match scope.lookup_parameter(scope_id, index) {
                Some(Some(b)) => b,
                Some(None) => self.any_pointer(),
                None => BDecl::Param { scope_id, index },
            },
        }
    }

    fn builtin_decl(&self, b: Builtin) -> BDecl {
        BDecl::Decl {
            target: Target::Builtin(b),
            id: b.id(),
            brand: BScope::root(0).push(b.id(), b.param_count()),
        }
    }

    /// Rebuilds brand scopes for `target` from compiled brand scopes (the official
    /// `BrandScope::evaluateBrand`): `inherit` takes the parameters bound in `base`.
    fn evaluate_brand(
        &mut self,
        base: &Rc<BScope>,
        target: Target,
        scopes: &[ModelBrandScope],
        mut index: usize,
    ) -> Rc<BScope> {
        let (id, count) = self.target_info(target);
        let mut params = Vec::new();
        let mut inherited = false;
        if let Some(next) = scopes.get(index)
            && next.scope_id == id
        {
            match &next.kind {
                BrandScopeKind::Bind(bs) => {
                    for b in bs {
                        params.push(match b {
                            Binding::Unbound => self.builtin_decl(Builtin::AnyPointer),
                            Binding::Type(t) => self.decompile_type(base, t),
                        });
                    }
                }
                BrandScopeKind::Inherit => match base.get_params(id) {
                    Some(p) => params = p,
                    None => inherited = true,
                },
            }
            index += 1;
        }
        let parent = match target {
            Target::Node(n) => self.nodes[n].parent,
            Target::Builtin(_) => None,
        };
        let parent = parent.map(|p| self.evaluate_brand(base, Target::Node(p), scopes, index));
        Rc::new(BScope {
            parent,
            leaf_id: id,
            leaf_param_count: count,
            inherited,
            params,
            source: Default::default(),
        })
    }

    /// Turns a compiled type back into a branded declaration (`BrandScope::decompileType`).
    fn decompile_type(&mut self, base: &Rc<BScope>, t: &Type) -> BDecl {
        let builtin = |b| self.builtin_decl(b);
        match t {
            Type::Void => builtin(Builtin::Void),
            Type::Bool => builtin(Builtin::Bool),
            Type::Int8 => builtin(Builtin::Int8),
            Type::Int16 => builtin(Builtin::Int16),
            Type::Int32 => builtin(Builtin::Int32),
            Type::Int64 => builtin(Builtin::Int64),
            Type::Uint8 => builtin(Builtin::Uint8),
            Type::Uint16 => builtin(Builtin::Uint16),
            Type::Uint32 => builtin(Builtin::Uint32),
            Type::Uint64 => builtin(Builtin::Uint64),
            Type::Float32 => builtin(Builtin::Float32),
            Type::Float64 => builtin(Builtin::Float64),
            Type::Text => builtin(Builtin::Text),
            Type::Data => builtin(Builtin::Data),
            Type::AnyPointer(AnyPointer::AnyKind) => builtin(Builtin::AnyPointer),
            Type::AnyPointer(AnyPointer::Struct) => builtin(Builtin::AnyStruct),
            Type::AnyPointer(AnyPointer::List) => builtin(Builtin::AnyList),
            Type::AnyPointer(AnyPointer::Capability) => builtin(Builtin::Capability),
            Type::AnyPointer(AnyPointer::ImplicitMethodParameter { index }) => BDecl::Param {
                scope_id: 0,
                index: *index,
            },
            Type::AnyPointer(AnyPointer::Parameter { scope_id, index }) => {
                match base.lookup_parameter(*scope_id, *index) {
                    Some(Some(b)) => b,
                    Some(None) => self.any_pointer(),
                    None => BDecl::Param {
                        scope_id: *scope_id,
                        index: *index,
                    },
                }
            }
            Type::List(e) => {
                let elem = self.decompile_type(base, e);
                let list = BScope::root(0).push(Builtin::List.id(), 1);
                BDecl::Decl {
                    target: Target::Builtin(Builtin::List),
                    id: Builtin::List.id(),
                    brand: list.with_params(vec![elem]),
                }
            }
            Type::Enum { type_id, brand }
            | Type::Struct { type_id, brand }
            | Type::Interface { type_id, brand } => match self.by_id.get(type_id) {
                Some(&n) => {
                    let s = self.evaluate_brand(base, Target::Node(n), &brand.scopes, 0);
                    BDecl::Decl {
                        target: Target::Node(n),
                        id: *type_id,
                        brand: s,
                    }
                }
                None => self.any_pointer(),
            },
        }
    }

    fn any_pointer(&self) -> BDecl {
        BDecl::Decl {
            target: Target::Builtin(Builtin::AnyPointer),
            id: Builtin::AnyPointer.id(),
            brand: BScope::root(0).push(Builtin::AnyPointer.id(), 0),
        }
    }

    fn compile_decl_expr(
        &mut self,
        n: usize,
        scope: &Rc<BScope>,
        e: &Expr,
        implicit: &Implicit,
    ) -> Option<BDecl> {
        let r = self.compile_decl_expr_inner(n, scope, e, implicit);
        if let Some(BDecl::Decl { brand, .. }) = &r {
            brand.source.set(Some(e.span));
        }
        r
    }

    fn compile_decl_expr_inner(
        &mut self,
        n: usize,
        scope: &Rc<BScope>,
        e: &Expr,
        implicit: &Implicit,
    ) -> Option<BDecl> {
        match &e.kind {
            ExprKind::Unknown => None,
            ExprKind::RelativeName(name) => {
                if let Some(i) = implicit.names.iter().position(|p| *p == name.text) {
                    return Some(BDecl::Param {
                        scope_id: implicit.scope_id,
                        index: i as u16,
                    });
                }
                match self.resolve(n, &name.text) {
                    Some(r) => Some(self.interpret(scope, r)),
                    None => {
                        self.diags
                            .error(name.span, format!("Not defined: {}", name.text));
                        None
                    }
                }
            }
            ExprKind::AbsoluteName(name) => {
                let root = self.modules[self.nodes[n].module].root;
                match self.resolve_member(root, &name.text) {
                    Some(r) => Some(self.interpret(scope, r)),
                    None => {
                        self.diags
                            .error(name.span, format!("Not defined: {}", name.text));
                        None
                    }
                }
            }
            ExprKind::Import(name) => {
                let m = self.nodes[n].module;
                match self.import(m, &name.text) {
                    Some(im) => {
                        let root = self.modules[im].root;
                        let id = self.nodes[root].id;
                        Some(BDecl::Decl {
                            target: Target::Node(root),
                            id,
                            brand: BScope::lexical(&[(id, 0)]),
                        })
                    }
                    // `-> stream` imports the standard file implicitly (its span is the
                    // keyword, not a string literal).
                    None if self.span_text(name.span) == "stream" => {
                        self.diags.error(name.span, "A method declaration uses streaming, but '/capnp/stream.capnp' is not found in the import path. This is a standard file that should always be installed with the Cap'n Proto compiler.");
                        None
                    }
                    None => {
                        self.diags
                            .error(name.span, format!("Import failed: {}", name.text));
                        None
                    }
                }
            }
            ExprKind::Application(f, params) => {
                let decl = self.compile_decl_expr(n, scope, f, implicit)?;
                let mut compiled = Vec::new();
                let mut failed = false;
                for p in params {
                    if let Some(name) = &p.name {
                        self.diags
                            .error(name.span, "Named parameter not allowed here.");
                    }
                    match self.compile_decl_expr(n, scope, &p.value, implicit) {
                        Some(d) => compiled.push(d),
                        None => failed = true,
                    }
                }
                if failed {
                    return Some(decl);
                }
                match &decl {
                    // Like the official compiler, parameters applied to a generic parameter
                    // are ignored without an error.
                    BDecl::Param { .. } => Some(decl),
                    BDecl::Decl { target, id, brand } => {
                        if !brand.params.is_empty() {
                            self.diags
                                .error(e.span, "Double-application of generic parameters.");
                            return Some(decl);
                        }
                        let count = brand.leaf_param_count as usize;
                        if compiled.len() > count {
                            let msg = if count == 0 {
                                "Declaration does not accept generic parameters."
                            } else {
                                "Too many generic parameters."
                            };
                            self.diags.error(e.span, msg);
                            return Some(decl);
                        }
                        if compiled.len() < count {
                            self.diags.error(e.span, "Not enough generic parameters.");
                            return Some(decl);
                        }
                        if *target != Target::Builtin(Builtin::List) {
                            for (p, src) in compiled.iter().zip(params) {
                                if let BDecl::Decl { target, .. } = p {
                                    let ok = match target {
                                        // As in capnp 0.9: AnyStruct, AnyList and
                                        // Capability are not accepted here.
                                        Target::Builtin(b) => matches!(
                                            b,
                                            Builtin::List
                                                | Builtin::Text
                                                | Builtin::Data
                                                | Builtin::AnyPointer
                                        ),
                                        Target::Node(x) => matches!(
                                            self.nodes[*x].kind,
                                            Kind::Struct | Kind::Interface
                                        ),
                                    };
                                    if !ok {
                                        self.diags.error(
                                            src.value.span,
                                            "Sorry, only pointer types can be used as generic parameters.",
                                        );
                                    }
                                }
                            }
                        }
                        Some(BDecl::Decl {
                            target: *target,
                            id: *id,
                            brand: brand.with_params(compiled),
                        })
                    }
                }
            }
            ExprKind::Member(parent, name) => {
                let decl = self.compile_decl_expr(n, scope, parent, implicit)?;
                let r = match &decl {
                    BDecl::Decl {
                        target: Target::Node(x),
                        brand,
                        ..
                    } => {
                        let x = *x;
                        let brand = brand.clone();
                        self.resolve_member(x, &name.text)
                            .map(|r| self.interpret(&brand, r))
                    }
                    _ => None,
                };
                if r.is_none() {
                    self.diags.error(
                        name.span,
                        format!(
                            "'{}' has no member named '{}'",
                            expr_string(parent),
                            name.text
                        ),
                    );
                }
                r
            }
            _ => {
                self.diags.error(e.span, "Expected name.");
                None
            }
        }
    }

    fn decl_kind_name(&self, d: &BDecl) -> Option<Kind> {
        match d {
            BDecl::Decl {
                target: Target::Node(n),
                ..
            } => Some(self.nodes[*n].kind),
            _ => None,
        }
    }

    /// Compiles a brand, ignoring errors (used where they were reported already).
    fn brand_of(&mut self, brand: &BScope) -> Brand {
        let mut errs = Vec::new();
        self.brand_collect(brand, &mut errs)
    }

    /// Compiles a brand, collecting the errors of its bound types.
    fn brand_collect(&mut self, brand: &BScope, errs: &mut Vec<(Option<Span>, String)>) -> Brand {
        compile_brand(brand, |p| match self.compile_as_type_inner(p, errs) {
            Some(t) => t,
            None => Type::AnyPointer(AnyPointer::AnyKind),
        })
    }

    /// Compiles a brand and reports errors of its bound types at `span`.
    pub(crate) fn brand_reported(&mut self, brand: &BScope, span: Span) -> Brand {
        let mut errs = Vec::new();
        let b = self.brand_collect(brand, &mut errs);
        self.report_type_errors(&errs, span);
        b
    }

    /// Reports the first type error, at its own location when known.
    fn report_type_errors(&mut self, errs: &[(Option<Span>, String)], fallback: Span) {
        if let Some((at, msg)) = errs.first() {
            let span = at.unwrap_or(fallback);
            let msg = if msg == "not a type" {
                format!("'{}' is not a type.", self.span_text(span))
            } else {
                msg.clone()
            };
            self.diags.error(span, msg);
        }
    }

    fn span_text(&self, span: Span) -> String {
        self.files
            .get(span.file)
            .and_then(|(_, src)| src.get(span.start..span.end))
            .unwrap_or("")
            .to_string()
    }

    fn compile_as_type_inner(
        &mut self,
        d: &BDecl,
        errs: &mut Vec<(Option<Span>, String)>,
    ) -> Option<Type> {
        let at = match d {
            BDecl::Decl { brand, .. } => brand.source.get(),
            BDecl::Param { .. } => None,
        };
        match d {
            BDecl::Param { scope_id, index } => Some(Type::AnyPointer(if *scope_id == 0 {
                AnyPointer::ImplicitMethodParameter { index: *index }
            } else {
                AnyPointer::Parameter {
                    scope_id: *scope_id,
                    index: *index,
                }
            })),
            BDecl::Decl { target, id, brand } => match target {
                Target::Node(n) => {
                    let kind = self.nodes[*n].kind;
                    let brand_c = self.brand_collect(brand, errs);
                    match kind {
                        Kind::Struct => Some(Type::Struct {
                            type_id: *id,
                            brand: brand_c,
                        }),
                        Kind::Enum => Some(Type::Enum {
                            type_id: *id,
                            brand: brand_c,
                        }),
                        Kind::Interface => Some(Type::Interface {
                            type_id: *id,
                            brand: brand_c,
                        }),
                        _ => {
                            errs.push((at, "not a type".into()));
                            None
                        }
                    }
                }
                Target::Builtin(b) => Some(match b {
                    Builtin::Void => Type::Void,
                    Builtin::Bool => Type::Bool,
                    Builtin::Int8 => Type::Int8,
                    Builtin::Int16 => Type::Int16,
                    Builtin::Int32 => Type::Int32,
                    Builtin::Int64 => Type::Int64,
                    Builtin::Uint8 => Type::Uint8,
                    Builtin::Uint16 => Type::Uint16,
                    Builtin::Uint32 => Type::Uint32,
                    Builtin::Uint64 => Type::Uint64,
                    Builtin::Float32 => Type::Float32,
                    Builtin::Float64 => Type::Float64,
                    Builtin::Text => Type::Text,
                    Builtin::Data => Type::Data,
                    Builtin::AnyPointer => Type::AnyPointer(AnyPointer::AnyKind),
                    Builtin::Object => {
                        errs.push((at, "As of Cap'n Proto 0.4, 'Object' has been renamed to 'AnyPointer'.  Sorry for the inconvenience, and thanks for being an early adopter.  :)".into()));
                        Type::AnyPointer(AnyPointer::AnyKind)
                    }
                    Builtin::AnyStruct => Type::AnyPointer(AnyPointer::Struct),
                    Builtin::AnyList => Type::AnyPointer(AnyPointer::List),
                    Builtin::Capability => Type::AnyPointer(AnyPointer::Capability),
                    Builtin::List => {
                        let params = brand.get_params(*id).unwrap_or_default();
                        if params.len() != 1 {
                            errs.push((at, "'List' requires exactly one parameter.".into()));
                            return None;
                        }
                        let elem = self.compile_as_type_inner(&params[0], errs)?;
                        match elem {
                            Type::AnyPointer(AnyPointer::Struct) => {
                                errs.push((at, "'List(AnyStruct)' is not supported.".into()));
                                return None;
                            }
                            Type::AnyPointer(AnyPointer::List | AnyPointer::Capability) => {}
                            Type::AnyPointer(_) => {
                                errs.push((at, "'List(AnyPointer)' is not supported.".into()));
                                return None;
                            }
                            _ => {}
                        }
                        Type::List(Box::new(elem))
                    }
                }),
            },
        }
    }

    fn compile_type(&mut self, n: usize, e: &Expr, implicit: &Implicit) -> Option<Type> {
        let scope = self.local_brand(n);
        let d = self.compile_decl_expr(n, &scope, e, implicit)?;
        let mut errs = Vec::new();
        let t = self.compile_as_type_inner(&d, &mut errs);
        if !errs.is_empty() {
            self.report_type_errors(&errs, e.span);
            return None;
        }
        t
    }

    // ------------------------------------------------------------------ compile

    pub fn bootstrap(&mut self, n: usize) -> Option<Rc<Compiled>> {
        if let Some(c) = &self.nodes[n].boot {
            return Some(c.clone());
        }
        if self.nodes[n].in_boot {
            let span = self.node_span(n);
            self.diags
                .error(span, "Declaration recursively depends on itself.");
            return None;
        }
        if self.depth >= MAX_DEPTH {
            let span = self.node_span(n);
            self.diags
                .error(span, "Declarations depend on each other too deeply.");
            return None;
        }
        self.nodes[n].in_boot = true;
        self.depth += 1;
        let mut jobs = Vec::new();
        let compiled = self.translate(n, &mut jobs);
        self.depth -= 1;
        self.nodes[n].in_boot = false;
        for a in &compiled.aux {
            self.aux_owner.insert(a.id, n);
        }
        let rc = Rc::new(compiled);
        self.nodes[n].boot = Some(rc.clone());
        self.pending_jobs.insert(n, jobs);
        Some(rc)
    }

    pub fn finalize(&mut self, n: usize) -> Option<Rc<Compiled>> {
        if let Some(c) = &self.nodes[n].fin {
            return Some(c.clone());
        }
        let boot = self.bootstrap(n)?;
        if self.nodes[n].in_fin {
            let span = self.node_span(n);
            self.diags
                .error(span, "Declaration recursively depends on itself.");
            return None;
        }
        if self.depth >= MAX_DEPTH {
            let span = self.node_span(n);
            self.diags
                .error(span, "Declarations depend on each other too deeply.");
            return None;
        }
        self.nodes[n].in_fin = true;
        self.depth += 1;
        let jobs = self.pending_jobs.remove(&n).unwrap_or_default();
        let mut c = (*boot).clone();
        for job in jobs {
            let val = self.compile_value(n, &job.expr, &job.ty);
            let value = match &val {
                Some(v) => self.model_value(v, &job.ty),
                None => default_value(&job.ty),
            };
            if let Loc::Const = job.loc {
                self.nodes[n].const_val = val.clone();
            }
            apply_loc(&mut c, &job.loc, value, val);
        }
        self.depth -= 1;
        self.nodes[n].in_fin = false;
        let rc = Rc::new(c);
        self.nodes[n].fin = Some(rc.clone());
        Some(rc)
    }

    /// Node index for an id.
    pub fn node_index(&self, id: u64) -> Option<usize> {
        self.by_id.get(&id).copied()
    }

    /// Lexical parent.
    pub fn parent_of(&self, n: usize) -> Option<usize> {
        self.nodes[n].parent
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

    /// Nested nodes.
    pub fn children_of(&mut self, n: usize) -> Vec<usize> {
        self.expand(n).children.clone()
    }

    /// Id of the file an import string refers to (for the request's import table).
    pub fn import_for_table(&mut self, m: usize, name: &str) -> Option<u64> {
        let im = self.import(m, name)?;
        Some(self.nodes[self.modules[im].root].id)
    }

    fn model_value(&mut self, v: &Val, ty: &Type) -> Value {
        // Make sure all struct layouts involved are available.
        let mut ids = Vec::new();
        collect_struct_ids(v, &mut ids);
        let mut map: HashMap<u64, Node> = HashMap::new();
        for id in ids {
            if map.contains_key(&id) {
                continue;
            }
            // Structs are nodes; groups are auxiliary nodes of their struct.
            let owner = self
                .by_id
                .get(&id)
                .or_else(|| self.aux_owner.get(&id))
                .copied();
            if let Some(n) = owner
                && let Some(c) = self.bootstrap(n)
            {
                map.insert(c.node.id, c.node.clone());
                for a in &c.aux {
                    map.insert(a.id, a.clone());
                }
            }
        }
        let lookup = |id: u64| map.get(&id).cloned();
        to_value(v, ty, &lookup)
    }
}

/// The result of looking a name up in a scope.
#[derive(Clone)]
pub(crate) enum Resolved {
    /// A node or builtin, and the id of the scope it was found in.
    Decl(Target, u64),
    /// An alias target, and the id of the node declaring the alias.
    Alias(BDecl, u64),
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

fn collect_struct_ids(v: &Val, out: &mut Vec<u64>) {
    match v {
        Val::Struct(id, fields) => {
            out.push(*id);
            for (_, _, f) in fields {
                collect_struct_ids(f, out);
            }
        }
        Val::List(items) => items.iter().for_each(|i| collect_struct_ids(i, out)),
        _ => {}
    }
}

fn apply_loc(c: &mut Compiled, loc: &Loc, value: Value, literal: Option<Val>) {
    fn node_mut(c: &mut Compiled, aux: Option<usize>) -> Option<&mut Node> {
        match aux {
            None => Some(&mut c.node),
            Some(i) => c.aux.get_mut(i),
        }
    }
    match loc {
        Loc::Const => {
            if let NodeKind::Const {
                value: v,
                literal: l,
                ..
            } = &mut c.node.kind
            {
                *v = value;
                *l = literal;
            }
        }
        Loc::FieldDefault(aux, f) => {
            if let Some(node) = node_mut(c, *aux)
                && let NodeKind::Struct(s) = &mut node.kind
                && let Some(FieldKind::Slot {
                    default,
                    default_literal,
                    ..
                }) = s.fields.get_mut(*f).map(|x| &mut x.kind)
            {
                *default = value;
                *default_literal = literal;
            }
        }
        Loc::Ann(al, i) => {
            let anns = match *al {
                AnnLoc::Node(aux) => node_mut(c, aux).map(|n| &mut n.annotations),
                AnnLoc::Field(aux, f) => node_mut(c, aux).and_then(|n| match &mut n.kind {
                    NodeKind::Struct(s) => s.fields.get_mut(f).map(|x| &mut x.annotations),
                    _ => None,
                }),
                AnnLoc::Enumerant(e) => match &mut c.node.kind {
                    NodeKind::Enum(es) => es.get_mut(e).map(|x| &mut x.annotations),
                    _ => None,
                },
                AnnLoc::Method(m) => match &mut c.node.kind {
                    NodeKind::Interface(i) => i.methods.get_mut(m).map(|x| &mut x.annotations),
                    _ => None,
                },
            };
            if let Some(a) = anns.and_then(|a| a.get_mut(*i)) {
                a.value = value;
            }
        }
    }
}

mod embed;
mod translate;
