//! Node translation: turns one declaration into a [`Node`] (plus its groups or method
//! parameter structs), following the official compiler's member ordering, discriminant and
//! layout rules.

use super::*;

impl Compilation {
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
                let mut st = StructTranslator {
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
                        ids::MethodList::Params,
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
                        ids::MethodList::Results,
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
}
