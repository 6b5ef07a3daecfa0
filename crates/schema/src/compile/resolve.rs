//! Name resolution: members, `using` aliases (and their naming rule), generic parameters,
//! builtins, and turning a resolved name into a branded declaration.

use super::*;

impl Compilation {
    /// Resolves a member of node `n`: (target, parent scope id) or an alias result.
    pub(super) fn resolve_member(&mut self, n: usize, name: &str) -> Option<Resolved> {
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
                    if let Some(BrandedDecl::Decl { brand, .. }) = &r {
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
    pub(super) fn check_alias_case(
        &mut self,
        name: &crate::ast::Name,
        target: Option<&BrandedDecl>,
    ) {
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

    pub(super) fn resolve(&mut self, n: usize, name: &str) -> Option<Resolved> {
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

    pub(super) fn target_info(&self, t: Target) -> (u64, u16) {
        match t {
            Target::Node(n) => (self.nodes[n].id, self.nodes[n].param_count),
            Target::Builtin(b) => (b.id(), b.param_count()),
        }
    }

    pub(super) fn interpret(&mut self, scope: &Rc<BindingScope>, r: Resolved) -> BrandedDecl {
        match r {
            Resolved::Decl(target, scope_id) => {
                let (id, count) = self.target_info(target);
                let s = scope.pop(scope_id).push(id, count);
                BrandedDecl::Decl {
                    target,
                    id,
                    brand: s,
                }
            }
            Resolved::Alias(b, parent_id) => match b {
                // Re-evaluate the alias's brand in the context of this use, like the official
                // compiler does (so `Gen(Text).Alias` binds what the alias inherits).
                BrandedDecl::Decl { target, id, brand } => {
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
                    BrandedDecl::Decl {
                        target,
                        id,
                        brand: s,
                    }
                }
                BrandedDecl::Param { scope_id, index } => {
                    match scope.lookup_parameter(scope_id, index) {
                        Some(Some(b)) => b,
                        Some(None) => self.any_pointer(),
                        None => BrandedDecl::Param { scope_id, index },
                    }
                }
            },
            Resolved::Param(scope_id, index) => match scope.lookup_parameter(scope_id, index) {
                Some(Some(b)) => b,
                Some(None) => self.any_pointer(),
                None => BrandedDecl::Param { scope_id, index },
            },
        }
    }

    pub(super) fn builtin_decl(&self, b: Builtin) -> BrandedDecl {
        BrandedDecl::Decl {
            target: Target::Builtin(b),
            id: b.id(),
            brand: BindingScope::root(0).push(b.id(), b.param_count()),
        }
    }

    pub(super) fn any_pointer(&self) -> BrandedDecl {
        BrandedDecl::Decl {
            target: Target::Builtin(Builtin::AnyPointer),
            id: Builtin::AnyPointer.id(),
            brand: BindingScope::root(0).push(Builtin::AnyPointer.id(), 0),
        }
    }

    pub(super) fn decl_kind_name(&self, d: &BrandedDecl) -> Option<Kind> {
        match d {
            BrandedDecl::Decl {
                target: Target::Node(n),
                ..
            } => Some(self.nodes[*n].kind),
            _ => None,
        }
    }
}
