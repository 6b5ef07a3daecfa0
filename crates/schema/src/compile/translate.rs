//! Node translation: turns one declaration into a [`Node`] (plus its groups or method
//! parameter structs), following the official compiler's member ordering, discriminant and
//! layout rules.

use super::*;
use crate::ast::ParamDecl;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MKind {
    Root,
    Field,
    Union,
    Group,
}

struct Member {
    parent: Option<usize>,
    code_order: u16,
    index: u16,
    child_count: u16,
    union_discr: u16,
    in_union: bool,
    name: String,
    ordinal: Option<(u64, Span)>,
    kind: MKind,
    is_param: bool,
    ty: Option<Expr>,
    default: Option<Expr>,
    annotations: Vec<AnnotationApp>,
    doc: Option<String>,
    /// Where the member's name is (for errors).
    span: Span,
    field_scope: Scope,
    union_scope: Option<usize>,
    field: Option<Field>,
    order: Vec<usize>,
    aux: Option<usize>,
    node_id: u64,
    display_name: String,
    prefix_len: u32,
}

struct St {
    n: usize,
    implicit: Implicit,
    layout: Layout,
    members: Vec<Member>,
    by_ordinal: BTreeMap<u64, Vec<usize>>,
    all: Vec<usize>,
    root_aux: Option<usize>,
    next_aux: usize,
    is_generic: bool,
}

/// The official compiler's refusal for layouts that capnp 0.5 computed wrongly.
const ISSUE_344: &str = "Bad news: Cap'n Proto 0.5.x and previous contained a bug which would cause this schema to be compiled incorrectly. Please see: https://github.com/sandstorm-io/capnproto/issues/344";

struct Ordinals {
    expected: u64,
    last: Option<(u64, Span)>,
}

impl Ordinals {
    fn new() -> Self {
        Ordinals {
            expected: 0,
            last: None,
        }
    }
    fn check(&mut self, diags: &mut Diagnostics, value: u64, span: Span) {
        if value < self.expected {
            diags.error(span, "Duplicate ordinal number.");
            if let Some((v, s)) = self.last.take() {
                diags.error(s, format!("Ordinal @{v} originally used here."));
            }
        } else if value > self.expected {
            diags.error(
                span,
                format!(
                    "Skipped ordinal @{}.  Ordinals must be sequential with no holes.",
                    self.expected
                ),
            );
            self.expected = value + 1;
        } else {
            self.expected += 1;
            self.last = Some((value, span));
        }
    }
}

fn ordinal_of(d: &Decl) -> Option<(u64, Span)> {
    match d.id {
        DeclId::Ordinal(v, s) => Some((v, s)),
        _ => None,
    }
}

impl St {
    fn new_member(
        &mut self,
        parent: usize,
        code_order: u16,
        d: &Decl,
        kind: MKind,
        in_union: bool,
        scope: Scope,
    ) -> usize {
        let (ty, default) = match &d.kind {
            DeclKind::Field { ty, default } => (Some(ty.clone()), default.clone()),
            _ => (None, None),
        };
        let idx = self.members.len();
        let (aux, display_name, prefix_len) = if kind == MKind::Group || kind == MKind::Union {
            let a = self.next_aux;
            self.next_aux += 1;
            let pd = self.members[parent].display_name.clone();
            let dn = format!("{}.{}", pd, d.name.text);
            let pl = (dn.len() - d.name.text.len()) as u32;
            (Some(a), dn, pl)
        } else {
            (None, String::new(), 0)
        };
        self.members.push(Member {
            parent: Some(parent),
            code_order,
            index: 0,
            child_count: 0,
            union_discr: 0,
            in_union,
            name: d.name.text.clone(),
            ordinal: ordinal_of(d),
            kind,
            is_param: false,
            ty,
            default,
            annotations: d.annotations.clone(),
            doc: d.doc.clone(),
            span: if d.name.text.is_empty() {
                d.span
            } else {
                d.name.span
            },
            field_scope: scope,
            union_scope: None,
            field: None,
            order: Vec::new(),
            aux,
            node_id: 0,
            display_name,
            prefix_len,
        });
        self.members[parent].child_count += 1;
        self.all.push(idx);
        idx
    }

    fn traverse_top_or_group(
        &mut self,
        ctx: &mut Ctx,
        decls: &[Decl],
        parent: usize,
        scope: Scope,
    ) {
        let mut code_order: u16 = 0;
        for d in decls {
            match &d.kind {
                DeclKind::Field { .. } => {
                    let m = self.new_member(parent, code_order, d, MKind::Field, false, scope);
                    code_order += 1;
                    if let Some((o, _)) = ordinal_of(d) {
                        self.by_ordinal.entry(o).or_default().push(m);
                    }
                }
                DeclKind::Union => {
                    let u = self.layout.new_union(scope);
                    if d.name.text.is_empty() {
                        self.members[parent].union_scope = Some(u);
                        self.traverse_union(ctx, d, parent, u, &mut code_order);
                        if let Some((o, _)) = ordinal_of(d) {
                            self.by_ordinal.entry(o).or_default().push(parent);
                        }
                    } else {
                        let m = self.new_member(parent, code_order, d, MKind::Union, false, scope);
                        code_order += 1;
                        self.members[m].union_scope = Some(u);
                        let mut sub = 0;
                        self.traverse_union(ctx, d, m, u, &mut sub);
                        if let Some((o, _)) = ordinal_of(d) {
                            self.by_ordinal.entry(o).or_default().push(m);
                        }
                    }
                }
                DeclKind::Group => {
                    let m = self.new_member(parent, code_order, d, MKind::Group, false, scope);
                    code_order += 1;
                    self.traverse_group(ctx, d, m, scope);
                }
                _ => {}
            }
        }
    }

    fn traverse_group(&mut self, ctx: &mut Ctx, d: &Decl, m: usize, scope: Scope) {
        let members = d.nested.iter().filter(|x| is_member(x)).count();
        if members < 1 {
            ctx.diags
                .error(d.span, "Group must have at least one member.");
        }
        self.traverse_top_or_group(ctx, &d.nested, m, scope);
    }

    fn traverse_union(
        &mut self,
        ctx: &mut Ctx,
        d: &Decl,
        parent: usize,
        u: usize,
        code_order: &mut u16,
    ) {
        if d.nested.iter().filter(|x| is_member(x)).count() < 2 {
            ctx.diags
                .error(d.span, "Union must have at least two members.");
        }
        for md in &d.nested {
            match &md.kind {
                DeclKind::Field { .. } => {
                    let g = self.layout.new_group(u);
                    let m = self.new_member(
                        parent,
                        *code_order,
                        md,
                        MKind::Field,
                        true,
                        Scope::Group(g),
                    );
                    *code_order += 1;
                    if let Some((o, _)) = ordinal_of(md) {
                        self.by_ordinal.entry(o).or_default().push(m);
                    }
                }
                DeclKind::Union => {
                    if md.name.text.is_empty() {
                        ctx.diags
                            .error(md.span, "Unions cannot contain unnamed unions.");
                        continue;
                    }
                    let g = self.layout.new_group(u);
                    let inner = self.layout.new_union(Scope::Group(g));
                    let m = self.new_member(
                        parent,
                        *code_order,
                        md,
                        MKind::Union,
                        true,
                        Scope::Group(g),
                    );
                    *code_order += 1;
                    self.members[m].union_scope = Some(inner);
                    let mut sub = 0;
                    self.traverse_union(ctx, md, m, inner, &mut sub);
                    if let Some((o, _)) = ordinal_of(md) {
                        self.by_ordinal.entry(o).or_default().push(m);
                    }
                }
                DeclKind::Group => {
                    let g = self.layout.new_group(u);
                    let m = self.new_member(
                        parent,
                        *code_order,
                        md,
                        MKind::Group,
                        true,
                        Scope::Group(g),
                    );
                    *code_order += 1;
                    self.traverse_group(ctx, md, m, Scope::Group(g));
                }
                _ => {}
            }
        }
    }

    fn traverse_params(&mut self, params: &[ParamDecl], parent: usize) {
        for (i, p) in params.iter().enumerate() {
            let idx = self.members.len();
            self.members.push(Member {
                parent: Some(parent),
                code_order: i as u16,
                index: 0,
                child_count: 0,
                union_discr: 0,
                in_union: false,
                name: p.name.text.clone(),
                ordinal: None,
                kind: MKind::Field,
                is_param: true,
                ty: Some(p.ty.clone()),
                default: p.default.clone(),
                annotations: p.annotations.clone(),
                doc: None,
                span: p.name.span,
                field_scope: Scope::Top,
                union_scope: None,
                field: None,
                order: Vec::new(),
                aux: None,
                node_id: 0,
                display_name: String::new(),
                prefix_len: 0,
            });
            self.members[parent].child_count += 1;
            self.all.push(idx);
            self.by_ordinal.entry(i as u64).or_default().push(idx);
        }
    }

    fn get_schema(&mut self, m: usize) {
        if self.members[m].field.is_some() {
            return;
        }
        let Some(p) = self.members[m].parent else {
            return;
        };
        if self.members[p].order.is_empty() && self.members[p].parent.is_some() {
            self.get_schema(p);
        }
        self.members[m].index = self.members[p].order.len() as u16;
        self.members[p].order.push(m);
        let discriminant_value = if self.members[m].in_union {
            let v = self.members[p].union_discr;
            self.members[p].union_discr += 1;
            v
        } else {
            NO_DISCRIMINANT
        };
        let mem = &self.members[m];
        self.members[m].field = Some(Field {
            name: mem.name.clone(),
            code_order: mem.code_order,
            annotations: Vec::new(),
            discriminant_value,
            kind: FieldKind::Group { type_id: 0 },
            ordinal: None,
        });
    }

    /// Aux index of the node holding member `m`'s field.
    fn field_loc(&self, m: usize) -> (Option<usize>, usize) {
        let p = self.members[m].parent.unwrap_or(0);
        let aux = if self.members[p].kind == MKind::Root {
            self.root_aux
        } else {
            self.members[p].aux
        };
        (aux, self.members[m].index as usize)
    }

    fn finish_group(&mut self, ctx: &mut Ctx, m: usize) {
        if let Some(u) = self.members[m].union_scope {
            self.layout.add_discriminant(u);
        }
        if let Some(p) = self.members[m].parent {
            self.get_schema(m);
            let pid = self.members[p].node_id;
            let id = ids::group_id(pid, self.members[m].index);
            self.members[m].node_id = id;
            if let Some(f) = &mut self.members[m].field {
                f.kind = FieldKind::Group { type_id: id };
            }
        }
        let _ = ctx;
    }

    fn run(&mut self, ctx: &mut Ctx, jobs: &mut Vec<Job>) {
        let mut ords = Ordinals::new();
        let entries: Vec<(u64, Vec<usize>)> = self
            .by_ordinal
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        for (ord, list) in entries {
            for m in list {
                if let Some((v, s)) = self.members[m].ordinal {
                    ords.check(&mut ctx.diags, v, s);
                }
                self.get_schema(m);
                if let Some(f) = &mut self.members[m].field {
                    f.ordinal = Some(ord as u16);
                }
                let before = self.layout.hit_issue_344();
                match self.members[m].kind {
                    MKind::Field => self.compile_field(ctx, m, jobs),
                    MKind::Union => {
                        if let Some(u) = self.members[m].union_scope
                            && !self.layout.add_discriminant(u)
                            && let Some((_, s)) = self.members[m].ordinal
                        {
                            ctx.diags.error(s, "Union ordinal, if specified, must be greater than no more than one of its member ordinals (i.e. there can only be one field retroactively unionized).");
                        }
                    }
                    _ => {}
                }
                if !before && self.layout.hit_issue_344() {
                    ctx.diags.error(self.members[m].span, ISSUE_344);
                }
            }
        }
        self.finish_group(ctx, 0);
        for i in 0..self.all.len() {
            let m = self.all[i];
            let flag = if self.members[m].is_param {
                TargetFlag::Param
            } else {
                match self.members[m].kind {
                    MKind::Field => TargetFlag::Field,
                    MKind::Union => {
                        self.finish_group(ctx, m);
                        TargetFlag::Union
                    }
                    _ => {
                        self.finish_group(ctx, m);
                        TargetFlag::Group
                    }
                }
            };
            self.get_schema(m);
            let (aux, idx) = self.field_loc(m);
            let anns = self.members[m].annotations.clone();
            let compiled =
                ctx.compile_annotations(self.n, &anns, flag, AnnLoc::Field(aux, idx), jobs);
            if let Some(f) = &mut self.members[m].field {
                f.annotations = compiled;
            }
        }
    }

    fn compile_field(&mut self, ctx: &mut Ctx, m: usize, jobs: &mut Vec<Job>) {
        let Some(ty_expr) = self.members[m].ty.clone() else {
            return;
        };
        let ty = ctx.compile_type(self.n, &ty_expr, &self.implicit);
        let (aux, idx) = self.field_loc(m);
        let (ty, default, explicit, literal) = match ty {
            Some(t) => match self.members[m].default.clone() {
                // A parameter may default to `null` (before any name lookup, as the
                // official compiler does); only a pointer can be null.
                Some(Expr {
                    kind: ExprKind::RelativeName(name),
                    span,
                }) if self.members[m].is_param && name.text == "null" => {
                    if !t.is_pointer() {
                        ctx.diags.error(
                            span,
                            "Only pointer parameters can declare their default as 'null'.",
                        );
                    }
                    let d = default_value(&t);
                    (t, d, true, Some(Val::Null))
                }
                Some(e) => {
                    let (v, lit) = if t.is_pointer() {
                        jobs.push(Job {
                            expr: e,
                            ty: t.clone(),
                            loc: Loc::FieldDefault(aux, idx),
                        });
                        (default_value(&t), None)
                    } else {
                        match ctx.compile_value(self.n, &e, &t) {
                            Some(v) => (to_value(&v, &t, &|_| None), Some(v)),
                            None => (default_value(&t), None),
                        }
                    };
                    (t, v, true, lit)
                }
                None => {
                    let d = default_value(&t);
                    (t, d, false, None)
                }
            },
            None => (Type::Void, Value::Void, false, None),
        };
        let scope = self.members[m].field_scope;
        let offset = if let Some(lg) = ty.lg_size() {
            self.layout.add_data(scope, lg)
        } else if ty.is_pointer() {
            self.layout.add_pointer(scope)
        } else {
            self.layout.add_void(scope);
            0
        };
        if let Some(f) = &mut self.members[m].field {
            f.kind = FieldKind::Slot {
                offset,
                ty,
                default,
                had_explicit_default: explicit,
                default_literal: literal,
            };
        }
    }

    /// Builds the struct node content for member `m` (root, group or union).
    fn struct_node(&self, m: usize, is_group: bool) -> (StructNode, Vec<Option<String>>) {
        let mem = &self.members[m];
        let fields: Vec<Field> = mem
            .order
            .iter()
            .filter_map(|&c| self.members[c].field.clone())
            .collect();
        let docs = mem
            .order
            .iter()
            .map(|&c| self.members[c].doc.clone())
            .collect();
        let (dc, doff) = match mem.union_scope {
            Some(u) => (
                mem.union_discr,
                self.layout.discriminant_offset(u).unwrap_or(0),
            ),
            None => (0, 0),
        };
        (
            StructNode {
                data_word_count: self.layout.data_words as u16,
                pointer_count: self.layout.pointers as u16,
                preferred_list_encoding: 7,
                is_group,
                discriminant_count: dc,
                discriminant_offset: doff,
                fields,
            },
            docs,
        )
    }

    fn group_nodes(&self, root_id: u64) -> Vec<(usize, Node)> {
        let mut out = Vec::new();
        for &m in &self.all {
            let mem = &self.members[m];
            let Some(aux) = mem.aux else { continue };
            let (s, docs) = self.struct_node(m, true);
            let p = mem.parent.unwrap_or(0);
            let scope_id = if p == 0 {
                root_id
            } else {
                self.members[p].node_id
            };
            out.push((
                aux,
                Node {
                    id: mem.node_id,
                    display_name: mem.display_name.clone(),
                    display_name_prefix_length: mem.prefix_len,
                    scope_id,
                    parameters: Vec::new(),
                    is_generic: self.is_generic,
                    nested_nodes: Vec::new(),
                    annotations: Vec::new(),
                    kind: NodeKind::Struct(s),
                    doc: mem.doc.clone(),
                    member_docs: docs,
                },
            ));
        }
        out
    }
}

fn is_member(_d: &Decl) -> bool {
    // The official compiler counts every nested declaration here.
    true
}

/// Which `targets*` flag an annotation application needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TargetFlag {
    File,
    Const,
    Enum,
    Enumerant,
    Struct,
    Field,
    Union,
    Group,
    Interface,
    Method,
    Param,
    Annotation,
}

impl TargetFlag {
    fn allowed(self, t: &Targets) -> bool {
        match self {
            TargetFlag::File => t.file,
            TargetFlag::Const => t.const_,
            TargetFlag::Enum => t.enum_,
            TargetFlag::Enumerant => t.enumerant,
            TargetFlag::Struct => t.struct_,
            TargetFlag::Field => t.field,
            TargetFlag::Union => t.union_,
            TargetFlag::Group => t.group,
            TargetFlag::Interface => t.interface,
            TargetFlag::Method => t.method,
            TargetFlag::Param => t.param,
            TargetFlag::Annotation => t.annotation,
        }
    }
}

fn root_member(node_id: u64, display_name: String) -> Member {
    Member {
        parent: None,
        code_order: 0,
        index: 0,
        child_count: 0,
        union_discr: 0,
        in_union: false,
        name: String::new(),
        ordinal: None,
        kind: MKind::Root,
        is_param: false,
        ty: None,
        default: None,
        annotations: Vec::new(),
        doc: None,
        span: Span::default(),
        field_scope: Scope::Top,
        union_scope: None,
        field: None,
        order: Vec::new(),
        aux: None,
        node_id,
        display_name,
        prefix_len: 0,
    }
}

impl Ctx {
    pub(super) fn translate(&mut self, n: usize, jobs: &mut Vec<Job>) -> Compiled {
        let (ast, path) = self.decl_of(n);
        let decl = walk(&ast, &path);
        let ex = self.expand(n);
        let node = &self.nodes[n];
        let id = node.id;
        let display_name = node.display_name.clone();
        let mut prefix = display_name.rfind('.').map(|i| i + 1).unwrap_or(0);
        if let Some(c) = display_name.rfind(':')
            && c + 1 > prefix
        {
            prefix = c + 1;
        }
        let scope_id = node.parent.map(|p| self.nodes[p].id).unwrap_or(0);
        let nested_nodes = ex
            .children
            .iter()
            .map(|&c| {
                let (a, p) = self.decl_of(c);
                (walk(&a, &p).name.text.clone(), self.nodes[c].id)
            })
            .collect();
        let is_generic = self.local_brand(n).is_generic();
        self.check_names(&decl.nested, &decl.kind);
        let mut aux = Vec::new();
        let mut member_docs = Vec::new();
        let flag;
        let kind = match &decl.kind {
            DeclKind::File => {
                flag = TargetFlag::File;
                NodeKind::File
            }
            DeclKind::Const { ty, value } => {
                flag = TargetFlag::Const;
                match self.compile_type(n, ty, &Implicit::none()) {
                    Some(t) => {
                        let (v, literal) = if t.is_pointer() {
                            jobs.push(Job {
                                expr: value.clone(),
                                ty: t.clone(),
                                loc: Loc::Const,
                            });
                            (default_value(&t), None)
                        } else {
                            match self.compile_value(n, value, &t) {
                                Some(v) => {
                                    let mv = to_value(&v, &t, &|_| None);
                                    self.nodes[n].const_val = Some(v.clone());
                                    (mv, Some(v))
                                }
                                None => (default_value(&t), None),
                            }
                        };
                        NodeKind::Const {
                            ty: t,
                            value: v,
                            literal,
                        }
                    }
                    None => NodeKind::Const {
                        ty: Type::Void,
                        value: Value::Void,
                        literal: None,
                    },
                }
            }
            DeclKind::Annotation { ty, targets } => {
                flag = TargetFlag::Annotation;
                let t = self
                    .compile_type(n, ty, &Implicit::none())
                    .unwrap_or(Type::Void);
                NodeKind::Annotation {
                    ty: t,
                    targets: *targets,
                }
            }
            DeclKind::Enum => {
                flag = TargetFlag::Enum;
                let mut es: Vec<(u64, u16, &Decl)> = Vec::new();
                for d in &decl.nested {
                    if let DeclKind::Enumerant = d.kind {
                        let o = ordinal_of(d).map(|x| x.0).unwrap_or(0);
                        es.push((o, es.len() as u16, d));
                    }
                }
                es.sort_by_key(|e| e.0);
                let mut ords = Ordinals::new();
                let mut out = Vec::new();
                for (i, (_, co, d)) in es.iter().enumerate() {
                    if let Some((v, s)) = ordinal_of(d) {
                        ords.check(&mut self.diags, v, s);
                    }
                    let anns = self.compile_annotations(
                        n,
                        &d.annotations,
                        TargetFlag::Enumerant,
                        AnnLoc::Enumerant(i),
                        jobs,
                    );
                    member_docs.push(d.doc.clone());
                    out.push(Enumerant {
                        name: d.name.text.clone(),
                        code_order: *co,
                        annotations: anns,
                    });
                }
                NodeKind::Enum(out)
            }
            DeclKind::Struct => {
                flag = TargetFlag::Struct;
                let mut st = St {
                    n,
                    implicit: Implicit::none(),
                    layout: Layout::default(),
                    members: vec![root_member(id, display_name.clone())],
                    by_ordinal: BTreeMap::new(),
                    all: Vec::new(),
                    root_aux: None,
                    next_aux: 0,
                    is_generic,
                };
                st.traverse_top_or_group(self, &decl.nested, 0, Scope::Top);
                st.run(self, jobs);
                let (s, docs) = st.struct_node(0, false);
                member_docs = docs;
                let mut groups = st.group_nodes(id);
                groups.sort_by_key(|g| g.0);
                aux = groups.into_iter().map(|g| g.1).collect();
                NodeKind::Struct(s)
            }
            DeclKind::Interface { superclasses } => {
                flag = TargetFlag::Interface;
                let mut supers = Vec::new();
                let scope = self.local_brand(n);
                for sc in superclasses {
                    let Some(d) = self.compile_decl_expr(n, &scope, sc, &Implicit::none()) else {
                        continue;
                    };
                    match (&d, self.decl_kind_name(&d)) {
                        (BrandedDecl::Decl { id, brand, .. }, Some(Kind::Interface)) => {
                            let brand = brand.clone();
                            let b = self.brand_reported(&brand, sc.span);
                            supers.push(Superclass { id: *id, brand: b });
                        }
                        (BrandedDecl::Param { .. }, _) => self.diags.error(
                            sc.span,
                            format!("'{}' is an unbound generic parameter. Currently we don't support extending these.", expr_string(sc)),
                        ),
                        _ => self.diags.error(
                            sc.span,
                            format!("'{}' is not an interface.", expr_string(sc)),
                        ),
                    }
                }
                let mut ms: Vec<(u64, u16, &Decl)> = Vec::new();
                for d in &decl.nested {
                    if let DeclKind::Method { .. } = d.kind {
                        let o = ordinal_of(d).map(|x| x.0).unwrap_or(0);
                        ms.push((o, ms.len() as u16, d));
                    }
                }
                ms.sort_by_key(|e| e.0);
                let mut ords = Ordinals::new();
                let mut methods = Vec::new();
                for (i, (ord, co, d)) in ms.iter().enumerate() {
                    if let Some((v, s)) = ordinal_of(d) {
                        ords.check(&mut self.diags, v, s);
                    }
                    let DeclKind::Method { params, results } = &d.kind else {
                        continue;
                    };
                    let implicit: Vec<String> = d.params.iter().map(|p| p.text.clone()).collect();
                    let (pid, pbrand) = self.compile_param_list(
                        n,
                        id,
                        &display_name,
                        is_generic,
                        &d.name.text,
                        *ord as u16,
                        false,
                        Some(params),
                        &implicit,
                        &mut aux,
                        jobs,
                    );
                    let (rid, rbrand) = self.compile_param_list(
                        n,
                        id,
                        &display_name,
                        is_generic,
                        &d.name.text,
                        *ord as u16,
                        true,
                        results.as_ref(),
                        &implicit,
                        &mut aux,
                        jobs,
                    );
                    let anns = self.compile_annotations(
                        n,
                        &d.annotations,
                        TargetFlag::Method,
                        AnnLoc::Method(i),
                        jobs,
                    );
                    member_docs.push(d.doc.clone());
                    methods.push(Method {
                        name: d.name.text.clone(),
                        code_order: *co,
                        implicit_parameters: implicit,
                        param_struct_type: pid,
                        param_brand: pbrand,
                        result_struct_type: rid,
                        result_brand: rbrand,
                        annotations: anns,
                    });
                }
                NodeKind::Interface(InterfaceNode {
                    methods,
                    superclasses: supers,
                })
            }
            _ => {
                flag = TargetFlag::File;
                NodeKind::File
            }
        };
        let annotations =
            self.compile_annotations(n, &decl.annotations, flag, AnnLoc::Node(None), jobs);
        let parameters = decl.params.iter().map(|p| p.text.clone()).collect();
        Compiled {
            node: Node {
                id,
                display_name,
                display_name_prefix_length: prefix as u32,
                scope_id,
                parameters,
                is_generic,
                nested_nodes,
                annotations,
                kind,
                doc: decl.doc.clone(),
                member_docs,
            },
            aux,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn compile_param_list(
        &mut self,
        n: usize,
        iface_id: u64,
        iface_name: &str,
        iface_generic: bool,
        method: &str,
        ordinal: u16,
        is_results: bool,
        list: Option<&ParamList>,
        implicit: &[String],
        aux: &mut Vec<Node>,
        jobs: &mut Vec<Job>,
    ) -> (u64, Brand) {
        let empty = ParamList::Named(Vec::new(), Span::default());
        let list = list.unwrap_or(&empty);
        match list {
            ParamList::Named(params, _) => {
                let id = ids::method_params_id(iface_id, ordinal, is_results);
                let type_name = format!(
                    "{method}{}",
                    if is_results { "$Results" } else { "$Params" }
                );
                let dn = format!("{iface_name}.{type_name}");
                let prefix = (dn.len() - type_name.len()) as u32;
                let is_generic = iface_generic || !implicit.is_empty();
                let aux_index = aux.len();
                let mut st = St {
                    n,
                    implicit: Implicit {
                        scope_id: id,
                        names: implicit.to_vec(),
                    },
                    layout: Layout::default(),
                    members: vec![root_member(id, dn.clone())],
                    by_ordinal: BTreeMap::new(),
                    all: Vec::new(),
                    root_aux: Some(aux_index),
                    next_aux: aux_index + 1,
                    is_generic,
                };
                // The official compiler only notices this in schema validation ("Internal
                // compiler bug"); report it properly.
                let mut seen: HashMap<&str, Span> = HashMap::new();
                for p in params {
                    if let Some(prev) = seen.insert(p.name.text.as_str(), p.name.span) {
                        self.diags.error(
                            p.name.span,
                            format!("'{}' is already defined in this scope.", p.name.text),
                        );
                        self.diags
                            .error(prev, format!("'{}' previously defined here.", p.name.text));
                    }
                }
                st.traverse_params(params, 0);
                // Reserve the slot before translating so annotation locations line up.
                aux.push(Node {
                    id,
                    display_name: dn.clone(),
                    display_name_prefix_length: prefix,
                    scope_id: 0,
                    parameters: implicit.to_vec(),
                    is_generic,
                    nested_nodes: Vec::new(),
                    annotations: Vec::new(),
                    kind: NodeKind::File,
                    doc: None,
                    member_docs: Vec::new(),
                });
                st.run(self, jobs);
                let (s, docs) = st.struct_node(0, false);
                if let Some(node) = aux.get_mut(aux_index) {
                    node.kind = NodeKind::Struct(s);
                    node.member_docs = docs.iter().map(|_| None).collect();
                }
                self.param_struct_order.push(id);
                let brand = self.local_brand(n).push(id, implicit.len() as u16);
                (id, self.brand_of(&brand))
            }
            ParamList::Type(e) => {
                let scope = self.local_brand(n);
                let imp = Implicit {
                    scope_id: 0,
                    names: implicit.to_vec(),
                };
                let Some(d) = self.compile_decl_expr(n, &scope, e, &imp) else {
                    return (0, Brand::default());
                };
                match (&d, self.decl_kind_name(&d)) {
                    (BrandedDecl::Decl { id, brand, .. }, Some(Kind::Struct)) => {
                        let brand = brand.clone();
                        (*id, self.brand_reported(&brand, e.span))
                    }
                    (BrandedDecl::Param { .. }, _) => {
                        self.diags.error(e.span, "Cannot use generic parameter as whole input or output of a method. Instead, use a parameter/result list containing a field with this type.");
                        (0, Brand::default())
                    }
                    _ => {
                        self.diags.error(
                            e.span,
                            format!("'{}' is not a struct type.", expr_string(e)),
                        );
                        (0, Brand::default())
                    }
                }
            }
        }
    }

    fn check_names(&mut self, nested: &[Decl], parent: &DeclKind) {
        let mut names: HashMap<String, Span> = HashMap::new();
        self.check_names_into(nested, parent, &mut names);
    }

    fn check_names_into(
        &mut self,
        nested: &[Decl],
        parent: &DeclKind,
        names: &mut HashMap<String, Span>,
    ) {
        for d in nested {
            let name = &d.name.text;
            if let Some(prev) = names.get(name).copied() {
                if name.is_empty() && matches!(d.kind, DeclKind::Union) {
                    self.diags.error(
                        d.name.span,
                        "An unnamed union is already defined in this scope.",
                    );
                    self.diags.error(prev, "Previously defined here.");
                } else {
                    self.diags.error(
                        d.name.span,
                        format!("'{name}' is already defined in this scope."),
                    );
                    self.diags
                        .error(prev, format!("'{name}' previously defined here."));
                }
            } else {
                names.insert(name.clone(), d.name.span);
            }
            let first = name.chars().next();
            match d.kind {
                // An alias is checked when it is compiled: its case follows what it names.
                DeclKind::Using(_) => {}
                DeclKind::Enum | DeclKind::Struct | DeclKind::Interface { .. } => {
                    if first.is_some_and(|c| !c.is_ascii_uppercase()) {
                        self.diags
                            .error(d.name.span, "Type names must begin with a capital letter.");
                    }
                }
                _ => {
                    if first.is_some_and(|c| !c.is_ascii_lowercase()) {
                        self.diags.error(
                            d.name.span,
                            "Non-type names must begin with a lower-case letter.",
                        );
                    }
                }
            }
            if name.contains('_') {
                self.diags.error(d.name.span, "Cap'n Proto declaration names should use camelCase and must not contain underscores. (Code generators may convert names to the appropriate style for the target language.)");
            }
            match &d.kind {
                DeclKind::Using(_)
                | DeclKind::Const { .. }
                | DeclKind::Enum
                | DeclKind::Struct
                | DeclKind::Interface { .. }
                | DeclKind::Annotation { .. } => {
                    if !matches!(
                        parent,
                        DeclKind::File | DeclKind::Struct | DeclKind::Interface { .. }
                    ) {
                        self.diags
                            .error(d.span, "This kind of declaration doesn't belong here.");
                    }
                }
                DeclKind::Enumerant => {
                    if !matches!(parent, DeclKind::Enum) {
                        self.diags
                            .error(d.span, "Enumerants can only appear in enums.");
                    }
                }
                DeclKind::Method { .. } => {
                    if !matches!(parent, DeclKind::Interface { .. }) {
                        self.diags
                            .error(d.span, "Methods can only appear in interfaces.");
                    }
                }
                DeclKind::Field { .. } | DeclKind::Union | DeclKind::Group => {
                    if !matches!(parent, DeclKind::Struct | DeclKind::Union | DeclKind::Group) {
                        self.diags
                            .error(d.span, "This declaration can only appear in structs.");
                    }
                    if d.name.text.is_empty() {
                        self.check_names_into(&d.nested, &d.kind, names);
                    } else {
                        self.check_names(&d.nested, &d.kind);
                    }
                }
                _ => {
                    self.diags
                        .error(d.span, "This kind of declaration doesn't belong here.");
                }
            }
        }
    }

    pub(super) fn compile_annotations(
        &mut self,
        n: usize,
        anns: &[AnnotationApp],
        flag: TargetFlag,
        loc: AnnLoc,
        jobs: &mut Vec<Job>,
    ) -> Vec<Annotation> {
        let mut out = Vec::new();
        for (i, a) in anns.iter().enumerate() {
            let mut result = Annotation {
                id: 0,
                brand: Brand::default(),
                value: Value::Void,
            };
            let scope = self.local_brand(n);
            if let Some(d) = self.compile_decl_expr(n, &scope, &a.name, &Implicit::none()) {
                match (&d, self.decl_kind_name(&d)) {
                    (
                        BrandedDecl::Decl {
                            target: Target::Node(an),
                            id,
                            brand,
                        },
                        Some(Kind::Annotation),
                    ) => {
                        let an = *an;
                        result.id = *id;
                        let brand = brand.clone();
                        result.brand = self.brand_reported(&brand, a.name.span);
                        if let Some(c) = self.bootstrap(an)
                            && let NodeKind::Annotation { ty, targets } = &c.node.kind
                        {
                            // An annotation declared in a generic scope takes its type from
                            // the brand it is applied through (`$Gen(Text).ann("x")`).
                            let ty = &apply_brand(ty, &result.brand);
                            if !flag.allowed(targets) {
                                self.diags.error(
                                    a.name.span,
                                    format!(
                                        "'{}' cannot be applied to this kind of declaration.",
                                        expr_string(&a.name)
                                    ),
                                );
                            }
                            match &a.value {
                                None => {
                                    if *ty == Type::Void {
                                        result.value = Value::Void;
                                    } else {
                                        self.diags.error(
                                            a.name.span,
                                            format!("'{}' requires a value.", expr_string(&a.name)),
                                        );
                                        result.value = default_value(ty);
                                    }
                                }
                                Some(e) => {
                                    if ty.is_pointer() {
                                        result.value = default_value(ty);
                                        jobs.push(Job {
                                            expr: e.clone(),
                                            ty: ty.clone(),
                                            loc: Loc::Ann(loc, i),
                                        });
                                    } else {
                                        result.value = match self.compile_value(n, e, ty) {
                                            Some(v) => to_value(&v, ty, &|_| None),
                                            None => default_value(ty),
                                        };
                                    }
                                }
                            }
                        }
                    }
                    _ => self.diags.error(
                        a.name.span,
                        format!("'{}' is not an annotation.", expr_string(&a.name)),
                    ),
                }
            }
            out.push(result);
        }
        out
    }

    // ------------------------------------------------------------------ values

    pub(super) fn compile_value(&mut self, n: usize, e: &Expr, ty: &Type) -> Option<Val> {
        self.compile_value_as(n, e, ty).map(|(v, _)| v)
    }

    /// [`Self::compile_value`], and the type the value is written as: a constant assigned to
    /// an `AnyPointer` keeps its own type (`anyField = .structConst`).
    pub(super) fn compile_value_as(
        &mut self,
        n: usize,
        e: &Expr,
        ty: &Type,
    ) -> Option<(Val, Type)> {
        let (v, src_ty) = self.compile_value_inner(n, e, ty)?;
        if let (Type::AnyPointer(kind), Some(src)) = (ty, &src_ty) {
            let fits = match kind {
                // As capnp: struct and list constants, not Text or Data ones.
                AnyPointer::AnyKind => matches!(src, Type::Struct { .. } | Type::List(_)),
                AnyPointer::Struct => matches!(src, Type::Struct { .. }),
                AnyPointer::List => matches!(src, Type::List(_)),
                _ => false,
            };
            if fits {
                return Some((v, src.clone()));
            }
        }
        let ok = match (&v, ty) {
            (Val::Void, Type::Void) => true,
            (Val::Bool(_), Type::Bool) => true,
            (Val::Int(i), t) => {
                let (min, max): (i128, i128) = match t {
                    Type::Int8 => (i8::MIN.into(), i8::MAX.into()),
                    Type::Int16 => (i16::MIN.into(), i16::MAX.into()),
                    Type::Int32 => (i32::MIN.into(), i32::MAX.into()),
                    Type::Int64 => (i64::MIN.into(), i64::MAX.into()),
                    Type::Uint8 => (0, u8::MAX.into()),
                    Type::Uint16 => (0, u16::MAX.into()),
                    Type::Uint32 => (0, u32::MAX.into()),
                    Type::Uint64 => (0, u64::MAX.into()),
                    Type::Float32 | Type::Float64 => (i64::MIN.into(), u64::MAX.into()),
                    _ => (1, 0),
                };
                if min > max {
                    false
                } else if *i < min || *i > max {
                    self.diags.error(e.span, "Integer value out of range.");
                    return Some((Val::Int(if *i < min { min } else { max }), ty.clone()));
                } else {
                    true
                }
            }
            (Val::Float(_), Type::Float32 | Type::Float64) => true,
            (Val::Text(_), Type::Text) => true,
            (Val::Data(_), Type::Data) => true,
            (Val::List(_), Type::List(_)) => src_ty.as_ref().is_none_or(|s| same_type(s, ty)),
            (Val::Enum(_), Type::Enum { .. }) => src_ty.as_ref().is_none_or(|s| same_type(s, ty)),
            (Val::Struct(id, _), Type::Struct { type_id, .. }) => id == type_id,
            _ => false,
        };
        if ok {
            Some((v, ty.clone()))
        } else {
            let tn = self.type_name(ty);
            self.diags
                .error(e.span, format!("Type mismatch; expected {tn}."));
            None
        }
    }

    fn type_name(&self, ty: &Type) -> String {
        let node_name = |id: &u64| {
            self.by_id
                .get(id)
                .map(|&n| {
                    let dn = &self.nodes[n].display_name;
                    let p = dn.rfind([':', '.']).map(|i| i + 1).unwrap_or(0);
                    dn[p..].to_string()
                })
                .unwrap_or_default()
        };
        match ty {
            Type::Void => "Void".into(),
            Type::Bool => "Bool".into(),
            Type::Int8 => "Int8".into(),
            Type::Int16 => "Int16".into(),
            Type::Int32 => "Int32".into(),
            Type::Int64 => "Int64".into(),
            Type::Uint8 => "UInt8".into(),
            Type::Uint16 => "UInt16".into(),
            Type::Uint32 => "UInt32".into(),
            Type::Uint64 => "UInt64".into(),
            Type::Float32 => "Float32".into(),
            Type::Float64 => "Float64".into(),
            Type::Text => "Text".into(),
            Type::Data => "Data".into(),
            Type::List(e) => format!("List({})", self.type_name(e)),
            Type::Enum { type_id, .. }
            | Type::Struct { type_id, .. }
            | Type::Interface { type_id, .. } => node_name(type_id),
            Type::AnyPointer(_) => "AnyPointer".into(),
        }
    }

    fn mismatch(&mut self, e: &Expr, ty: &Type) {
        let tn = self.type_name(ty);
        self.diags
            .error(e.span, format!("Type mismatch; expected {tn}."));
    }

    fn compile_value_inner(
        &mut self,
        n: usize,
        e: &Expr,
        ty: &Type,
    ) -> Option<(Val, Option<Type>)> {
        if let Type::Struct { type_id, brand } = ty
            && self.implies_first_field(e)
        {
            let v = self.implied_first_field(n, e, *type_id, brand)?;
            return Some((v, None));
        }
        match &e.kind {
            ExprKind::RelativeName(name) => {
                if let Type::Enum { type_id, .. } = ty {
                    if let Some(&en) = self.by_id.get(type_id)
                        && let Some(c) = self.bootstrap(en)
                        && let NodeKind::Enum(es) = &c.node.kind
                        && let Some(i) = es.iter().position(|x| x.name == name.text)
                    {
                        return Some((Val::Enum(i as u16), None));
                    }
                } else {
                    match name.text.as_str() {
                        "void" => return Some((Val::Void, None)),
                        "true" => return Some((Val::Bool(true), None)),
                        "false" => return Some((Val::Bool(false), None)),
                        "nan" => return Some((Val::Float(f64::NAN), None)),
                        "inf" => return Some((Val::Float(f64::INFINITY), None)),
                        _ => {}
                    }
                }
                self.read_constant(n, e, ty)
            }
            ExprKind::AbsoluteName(_)
            | ExprKind::Import(_)
            | ExprKind::Application(..)
            | ExprKind::Member(..) => self.read_constant(n, e, ty),
            ExprKind::PositiveInt(v) => Some((Val::Int(i128::from(*v)), None)),
            ExprKind::NegativeInt(v) => {
                if *v > (1u64 << 63) {
                    self.diags
                        .error(e.span, "Integer is too big to be negative.");
                    None
                } else {
                    Some((Val::Int(-i128::from(*v)), None))
                }
            }
            ExprKind::Float(f) => Some((Val::Float(*f), None)),
            ExprKind::String(s) => {
                if *ty == Type::Data {
                    return Some((Val::Data(s.clone()), None));
                }
                match String::from_utf8(s.clone()) {
                    Ok(t) => Some((Val::Text(t), None)),
                    Err(_) => {
                        self.diags.error(
                            e.span,
                            "Text literal is not valid UTF-8 (use Data for bytes).",
                        );
                        None
                    }
                }
            }
            ExprKind::Binary(b) => {
                if *ty != Type::Data {
                    self.mismatch(e, ty);
                    return None;
                }
                Some((Val::Data(b.clone()), None))
            }
            ExprKind::Embed(name) => {
                let m = self.nodes[n].module;
                match self.read_embed(m, &name.text) {
                    Some(bytes) => match ty {
                        Type::Data => Some((Val::Data(bytes), None)),
                        Type::Text => Some((
                            Val::Text(String::from_utf8_lossy(&bytes).into_owned()),
                            None,
                        )),
                        Type::Struct { .. } | Type::List(_) => {
                            let read = super::embed::read_root(
                                &bytes,
                                ty,
                                &mut |id| self.struct_node_by_id(id),
                                &apply_brand,
                            );
                            match read {
                                Ok(v) => Some((v, None)),
                                Err(why) => {
                                    tracing::debug!(file = %name.text, why, "bad embedded message");
                                    self.diags.error(
                                        e.span,
                                        "Embedded file is not a valid Cap'n Proto message.",
                                    );
                                    None
                                }
                            }
                        }
                        _ => {
                            self.diags.error(
                                e.span,
                                "Embeds can only be used when Text, Data, or a struct is expected.",
                            );
                            None
                        }
                    },
                    None => {
                        self.diags.error(
                            name.span,
                            format!("Couldn't read file for embed: {}", name.text),
                        );
                        None
                    }
                }
            }
            ExprKind::List(items) => {
                let Type::List(elem) = ty else {
                    self.mismatch(e, ty);
                    return None;
                };
                let mut out = Vec::new();
                for it in items {
                    let v = self
                        .compile_value(n, it, elem)
                        .unwrap_or_else(|| zero_val(elem));
                    out.push(v);
                }
                Some((Val::List(out), None))
            }
            ExprKind::Tuple(params) => {
                let Type::Struct { type_id, brand } = ty else {
                    self.mismatch(e, ty);
                    return None;
                };
                let node = self.struct_node_by_id(*type_id)?;
                let fields = self.fill_struct(n, &node, brand, params);
                Some((Val::Struct(*type_id, fields), None))
            }
            ExprKind::Unknown => None,
        }
    }

    /// Whether a value for a struct type is a value for its first field (Cap'n Proto 1.0:
    /// `service = "internet"` means `(name = "internet")`): anything but a tuple, a constant
    /// name or an embed.
    fn implies_first_field(&self, e: &Expr) -> bool {
        if self.opts.capnp_0_9 {
            return false;
        }
        match &e.kind {
            ExprKind::Tuple(_) | ExprKind::Embed(_) | ExprKind::Unknown => false,
            ExprKind::RelativeName(n) => {
                matches!(n.text.as_str(), "true" | "false" | "void" | "inf" | "nan")
            }
            ExprKind::AbsoluteName(_)
            | ExprKind::Member(..)
            | ExprKind::Import(_)
            | ExprKind::Application(..) => false,
            _ => true,
        }
    }

    /// `(firstField = e)` for struct or group `type_id` (the first field in ordinal order;
    /// a group there takes the value for its own first field).
    fn implied_first_field(
        &mut self,
        n: usize,
        e: &Expr,
        type_id: u64,
        brand: &Brand,
    ) -> Option<Val> {
        if self.implying.contains(&type_id) || self.implying.len() >= MAX_DEPTH as usize {
            let is_group = self
                .struct_node_by_id(type_id)
                .is_some_and(|g| matches!(&g.kind, NodeKind::Struct(s) if s.is_group));
            let expected = if is_group {
                "group".to_string()
            } else {
                self.type_name(&Type::Struct {
                    type_id,
                    brand: brand.clone(),
                })
            };
            self.diags
                .error(e.span, format!("Type mismatch; expected {expected}."));
            return None;
        }
        self.implying.push(type_id);
        let v = self.implied_first_field_of(n, e, type_id, brand);
        self.implying.pop();
        v
    }

    fn implied_first_field_of(
        &mut self,
        n: usize,
        e: &Expr,
        type_id: u64,
        brand: &Brand,
    ) -> Option<Val> {
        let node = self.struct_node_by_id(type_id)?;
        let NodeKind::Struct(s) = &node.kind else {
            return None;
        };
        let Some(first) = s.fields.first() else {
            self.diags
                .error(e.span, "Type mismatch; struct has no fields.");
            return None;
        };
        let entry = match &first.kind {
            FieldKind::Slot { ty, .. } => {
                let ty = apply_brand(ty, brand);
                let (v, written_as) = self.compile_value_as(n, e, &ty)?;
                (0, written_as, v)
            }
            FieldKind::Group { type_id: gid } => {
                let gid = *gid;
                let v = self.implied_first_field(n, e, gid, brand)?;
                let gty = Type::Struct {
                    type_id: gid,
                    brand: brand.clone(),
                };
                (0, gty, v)
            }
        };
        Some(Val::Struct(type_id, vec![entry]))
    }

    fn struct_node_by_id(&mut self, id: u64) -> Option<Node> {
        if let Some(&sn) = self.by_id.get(&id) {
            let c = self.bootstrap(sn)?;
            return Some(c.node.clone());
        }
        // A group: find it among its owner's auxiliary nodes.
        let owner = *self.aux_owner.get(&id)?;
        let c = self.nodes[owner].boot.clone()?;
        c.aux.iter().find(|a| a.id == id).cloned()
    }

    fn fill_struct(
        &mut self,
        n: usize,
        node: &Node,
        brand: &Brand,
        params: &[Param],
    ) -> Vec<(usize, Type, Val)> {
        let NodeKind::Struct(s) = &node.kind else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for p in params {
            let Some(fname) = &p.name else {
                self.diags.error(p.value.span, "Missing field name.");
                continue;
            };
            let Some(idx) = s.fields.iter().position(|f| f.name == fname.text) else {
                self.diags.error(
                    fname.span,
                    format!("Struct has no field named '{}'.", fname.text),
                );
                continue;
            };
            match &s.fields[idx].kind {
                FieldKind::Slot { ty, .. } => {
                    let ty = apply_brand(ty, brand);
                    if let Some((v, written_as)) = self.compile_value_as(n, &p.value, &ty) {
                        out.push((idx, written_as, v));
                    }
                }
                FieldKind::Group { type_id } => {
                    let gid = *type_id;
                    if let ExprKind::Tuple(inner) = &p.value.kind {
                        if let Some(g) = self.struct_node_by_id(gid) {
                            let v = self.fill_struct(n, &g, brand, inner);
                            let gty = Type::Struct {
                                type_id: gid,
                                brand: brand.clone(),
                            };
                            out.push((idx, gty, Val::Struct(gid, v)));
                        }
                    } else if self.implies_first_field(&p.value) {
                        if let Some(v) = self.implied_first_field(n, &p.value, gid, brand) {
                            let gty = Type::Struct {
                                type_id: gid,
                                brand: brand.clone(),
                            };
                            out.push((idx, gty, v));
                        }
                    } else {
                        self.diags
                            .error(p.value.span, "Type mismatch; expected group.");
                    }
                }
            }
        }
        out
    }

    fn read_constant(&mut self, n: usize, e: &Expr, ty: &Type) -> Option<(Val, Option<Type>)> {
        let scope = self.local_brand(n);
        let d = self.compile_decl_expr(n, &scope, e, &Implicit::none())?;
        let cn = match (&d, self.decl_kind_name(&d)) {
            (
                BrandedDecl::Decl {
                    target: Target::Node(c),
                    ..
                },
                Some(Kind::Const),
            ) => *c,
            _ => {
                self.diags.error(
                    e.span,
                    format!("'{}' does not refer to a constant.", expr_string(e)),
                );
                return None;
            }
        };
        let c = if ty.is_pointer() {
            self.finalize(cn)?
        } else {
            self.bootstrap(cn)?
        };
        let NodeKind::Const { ty: cty, .. } = &c.node.kind else {
            return None;
        };
        let cty = cty.clone();
        if let ExprKind::RelativeName(name) = &e.kind {
            let parent = match self.nodes[cn].parent {
                Some(p) if self.nodes[p].parent.is_some() => {
                    let dn = &self.nodes[p].display_name;
                    let i = dn.rfind([':', '.']).map(|i| i + 1).unwrap_or(0);
                    dn[i..].to_string()
                }
                _ => String::new(),
            };
            self.diags.error(
                e.span,
                format!(
                    "Constant names must be qualified to avoid confusion.  Please replace '{}' with '{}.{}', if that's what you intended.",
                    name.text, parent, name.text
                ),
            );
        }
        let v = self.nodes[cn].const_val.clone()?;
        Some((v, Some(cty)))
    }
}

/// Substitutes the generic bindings of `brand` (the brand of the struct a value is written
/// for) into a member's type.
pub(super) fn apply_brand(ty: &Type, brand: &Brand) -> Type {
    match ty {
        Type::AnyPointer(AnyPointer::Parameter { scope_id, index }) => {
            match brand.scopes.iter().find(|s| s.scope_id == *scope_id) {
                Some(BrandScope {
                    kind: BrandScopeKind::Bind(bs),
                    ..
                }) => match bs.get(*index as usize) {
                    Some(Binding::Type(t)) => t.clone(),
                    _ => Type::AnyPointer(AnyPointer::AnyKind),
                },
                _ => ty.clone(),
            }
        }
        Type::List(e) => Type::List(Box::new(apply_brand(e, brand))),
        Type::Struct { type_id, brand: b } => Type::Struct {
            type_id: *type_id,
            brand: rebrand(b, brand),
        },
        Type::Enum { type_id, brand: b } => Type::Enum {
            type_id: *type_id,
            brand: rebrand(b, brand),
        },
        Type::Interface { type_id, brand: b } => Type::Interface {
            type_id: *type_id,
            brand: rebrand(b, brand),
        },
        t => t.clone(),
    }
}

fn rebrand(inner: &Brand, outer: &Brand) -> Brand {
    Brand {
        scopes: inner
            .scopes
            .iter()
            .map(|s| match &s.kind {
                BrandScopeKind::Inherit => outer
                    .scopes
                    .iter()
                    .find(|o| o.scope_id == s.scope_id)
                    .cloned()
                    .unwrap_or_else(|| s.clone()),
                BrandScopeKind::Bind(bs) => BrandScope {
                    scope_id: s.scope_id,
                    kind: BrandScopeKind::Bind(
                        bs.iter()
                            .map(|b| match b {
                                Binding::Type(t) => Binding::Type(apply_brand(t, outer)),
                                Binding::Unbound => Binding::Unbound,
                            })
                            .collect(),
                    ),
                },
            })
            .collect(),
    }
}

fn same_type(a: &Type, b: &Type) -> bool {
    match (a, b) {
        (Type::List(x), Type::List(y)) => same_type(x, y),
        (Type::Enum { type_id: x, .. }, Type::Enum { type_id: y, .. })
        | (Type::Struct { type_id: x, .. }, Type::Struct { type_id: y, .. })
        | (Type::Interface { type_id: x, .. }, Type::Interface { type_id: y, .. }) => x == y,
        (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

fn zero_val(t: &Type) -> Val {
    match t {
        Type::Void => Val::Void,
        Type::Bool => Val::Bool(false),
        Type::Float32 | Type::Float64 => Val::Float(0.0),
        Type::Enum { .. } => Val::Enum(0),
        t if t.is_pointer() => Val::Null,
        _ => Val::Int(0),
    }
}
