//! Compilation phases: `bootstrap` (a node's shape: layout and types) and `finalize`
//! (pointer defaults, constants and annotation values, which may need other layouts).

use super::*;

impl Compilation {
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

    pub(super) fn model_value(&mut self, v: &Val, ty: &Type) -> Value {
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

pub(super) fn collect_struct_ids(v: &Val, out: &mut Vec<u64>) {
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

pub(super) fn apply_loc(c: &mut Compiled, loc: &Loc, value: Value, literal: Option<Val>) {
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
