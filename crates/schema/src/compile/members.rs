//! Members of a struct, group, union or parameter list in declaration order, and the
//! official compiler's traversal of them (ordinals, unions, groups, code order).

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum MemberKind {
    Root,
    Field,
    Union,
    Group,
}

pub(super) struct Member {
    pub(super) parent: Option<usize>,
    pub(super) code_order: u16,
    pub(super) index: u16,
    pub(super) child_count: u16,
    pub(super) union_discr: u16,
    pub(super) in_union: bool,
    pub(super) name: String,
    pub(super) ordinal: Option<(u64, Span)>,
    pub(super) kind: MemberKind,
    pub(super) is_param: bool,
    pub(super) ty: Option<Expr>,
    pub(super) default: Option<Expr>,
    pub(super) annotations: Vec<AnnotationApp>,
    pub(super) doc: Option<String>,
    /// Where the member's name is (for errors).
    pub(super) span: Span,
    pub(super) field_scope: Scope,
    pub(super) union_scope: Option<usize>,
    pub(super) field: Option<Field>,
    pub(super) order: Vec<usize>,
    pub(super) aux: Option<usize>,
    pub(super) node_id: u64,
    pub(super) display_name: String,
    pub(super) prefix_len: u32,
}

/// The members of one struct (or one method's parameter list) being translated: the
/// official `StructTranslator`, with the layout they are placed in.
pub(super) struct StructTranslator {
    pub(super) n: usize,
    pub(super) implicit: Implicit,
    pub(super) layout: Layout,
    pub(super) members: Vec<Member>,
    pub(super) by_ordinal: BTreeMap<u64, Vec<usize>>,
    pub(super) all: Vec<usize>,
    pub(super) root_aux: Option<usize>,
    pub(super) next_aux: usize,
    pub(super) is_generic: bool,
}

/// The official compiler's refusal for layouts that capnp 0.5 computed wrongly.
pub(super) const ISSUE_344: &str = "Bad news: Cap'n Proto 0.5.x and previous contained a bug which would cause this schema to be compiled incorrectly. Please see: https://github.com/sandstorm-io/capnproto/issues/344";

pub(super) struct Ordinals {
    pub(super) expected: u64,
    pub(super) last: Option<(u64, Span)>,
}

pub(super) fn ordinal_of(d: &Decl) -> Option<(u64, Span)> {
    match d.id {
        DeclId::Ordinal(v, s) => Some((v, s)),
        _ => None,
    }
}

pub(super) fn is_member(_d: &Decl) -> bool {
    // The official compiler counts every nested declaration here.
    true
}

pub(super) fn root_member(node_id: u64, display_name: String) -> Member {
    Member {
        parent: None,
        code_order: 0,
        index: 0,
        child_count: 0,
        union_discr: 0,
        in_union: false,
        name: String::new(),
        ordinal: None,
        kind: MemberKind::Root,
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

impl Ordinals {
    pub(super) fn new() -> Self {
        Ordinals {
            expected: 0,
            last: None,
        }
    }

    pub(super) fn check(&mut self, diags: &mut Diagnostics, value: u64, span: Span) {
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
            // Saturating: `@0xffffffffffffffff` is an error, not an overflow.
            self.expected = value.saturating_add(1);
        } else {
            self.expected = self.expected.saturating_add(1);
            self.last = Some((value, span));
        }
    }
}

impl StructTranslator {
    pub(super) fn new_member(
        &mut self,
        parent: usize,
        code_order: u16,
        d: &Decl,
        kind: MemberKind,
        in_union: bool,
        scope: Scope,
    ) -> usize {
        let (ty, default) = match &d.kind {
            DeclKind::Field { ty, default } => (Some(ty.clone()), default.clone()),
            _ => (None, None),
        };
        let idx = self.members.len();
        let (aux, display_name, prefix_len) =
            if kind == MemberKind::Group || kind == MemberKind::Union {
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

    pub(super) fn traverse_top_or_group(
        &mut self,
        ctx: &mut Compilation,
        decls: &[Decl],
        parent: usize,
        scope: Scope,
    ) {
        let mut code_order: u16 = 0;
        for d in decls {
            match &d.kind {
                DeclKind::Field { .. } => {
                    let m = self.new_member(parent, code_order, d, MemberKind::Field, false, scope);
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
                        let m =
                            self.new_member(parent, code_order, d, MemberKind::Union, false, scope);
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
                    let m = self.new_member(parent, code_order, d, MemberKind::Group, false, scope);
                    code_order += 1;
                    self.traverse_group(ctx, d, m, scope);
                }
                _ => {}
            }
        }
    }

    pub(super) fn traverse_group(
        &mut self,
        ctx: &mut Compilation,
        d: &Decl,
        m: usize,
        scope: Scope,
    ) {
        let members = d.nested.iter().filter(|x| is_member(x)).count();
        if members < 1 {
            ctx.diags
                .error(d.span, "Group must have at least one member.");
        }
        self.traverse_top_or_group(ctx, &d.nested, m, scope);
    }

    pub(super) fn traverse_union(
        &mut self,
        ctx: &mut Compilation,
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
                        MemberKind::Field,
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
                        MemberKind::Union,
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
                        MemberKind::Group,
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

    pub(super) fn traverse_params(&mut self, params: &[ParamDecl], parent: usize) {
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
                kind: MemberKind::Field,
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
}
