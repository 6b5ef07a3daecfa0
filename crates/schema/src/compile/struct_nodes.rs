//! Fields through the layout, then the struct and group nodes of a translated struct.

use super::*;

impl StructTranslator {
    pub(super) fn get_schema(&mut self, m: usize) {
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
    pub(super) fn field_loc(&self, m: usize) -> (Option<usize>, usize) {
        let p = self.members[m].parent.unwrap_or(0);
        let aux = if self.members[p].kind == MemberKind::Root {
            self.root_aux
        } else {
            self.members[p].aux
        };
        (aux, self.members[m].index as usize)
    }

    pub(super) fn finish_group(&mut self, ctx: &mut Compilation, m: usize) {
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

    pub(super) fn run(&mut self, ctx: &mut Compilation, jobs: &mut Vec<Job>) {
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
                    MemberKind::Field => self.compile_field(ctx, m, jobs),
                    MemberKind::Union => {
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
                    MemberKind::Field => TargetFlag::Field,
                    MemberKind::Union => {
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

    pub(super) fn compile_field(&mut self, ctx: &mut Compilation, m: usize, jobs: &mut Vec<Job>) {
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
    pub(super) fn struct_node(
        &self,
        m: usize,
        is_group: bool,
    ) -> (StructNode, Vec<Option<String>>) {
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

    pub(super) fn group_nodes(&self, root_id: u64) -> Vec<(usize, Node)> {
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
