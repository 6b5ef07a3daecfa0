//! Brands: compiling branded declarations into model brands (reporting their errors once)
//! and rebuilding branded declarations from compiled types (the official
//! `BrandScope::evaluateBrand` and `decompileType`).

use super::*;

impl Compilation {
    /// Rebuilds brand scopes for `target` from compiled brand scopes (the official
    /// `BrandScope::evaluateBrand`): `inherit` takes the parameters bound in `base`.
    pub(super) fn evaluate_brand(
        &mut self,
        base: &Rc<BindingScope>,
        target: Target,
        scopes: &[ModelBrandScope],
        mut index: usize,
    ) -> Rc<BindingScope> {
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
        Rc::new(BindingScope {
            parent,
            leaf_id: id,
            leaf_param_count: count,
            inherited,
            params,
            source: Default::default(),
        })
    }

    /// Turns a compiled type back into a branded declaration (`BrandScope::decompileType`).
    pub(super) fn decompile_type(&mut self, base: &Rc<BindingScope>, t: &Type) -> BrandedDecl {
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
            Type::AnyPointer(AnyPointer::ImplicitMethodParameter { index }) => BrandedDecl::Param {
                scope_id: 0,
                index: *index,
            },
            Type::AnyPointer(AnyPointer::Parameter { scope_id, index }) => {
                match base.lookup_parameter(*scope_id, *index) {
                    Some(Some(b)) => b,
                    Some(None) => self.any_pointer(),
                    None => BrandedDecl::Param {
                        scope_id: *scope_id,
                        index: *index,
                    },
                }
            }
            Type::List(e) => {
                let elem = self.decompile_type(base, e);
                let list = BindingScope::root(0).push(Builtin::List.id(), 1);
                BrandedDecl::Decl {
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
                    BrandedDecl::Decl {
                        target: Target::Node(n),
                        id: *type_id,
                        brand: s,
                    }
                }
                None => self.any_pointer(),
            },
        }
    }

    /// Compiles a brand, ignoring errors (used where they were reported already).
    pub(super) fn brand_of(&mut self, brand: &BindingScope) -> Brand {
        let mut errs = Vec::new();
        self.brand_collect(brand, &mut errs)
    }

    /// Compiles a brand, collecting the errors of its bound types.
    pub(super) fn brand_collect(
        &mut self,
        brand: &BindingScope,
        errs: &mut Vec<(Option<Span>, String)>,
    ) -> Brand {
        compile_brand(brand, |p| match self.compile_as_type_inner(p, errs) {
            Some(t) => t,
            None => Type::AnyPointer(AnyPointer::AnyKind),
        })
    }

    /// Compiles a brand and reports errors of its bound types at `span`.
    pub(crate) fn brand_reported(&mut self, brand: &BindingScope, span: Span) -> Brand {
        let mut errs = Vec::new();
        let b = self.brand_collect(brand, &mut errs);
        self.report_type_errors(&errs, span);
        b
    }

    /// Reports the first type error, at its own location when known.
    pub(super) fn report_type_errors(&mut self, errs: &[(Option<Span>, String)], fallback: Span) {
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
}
