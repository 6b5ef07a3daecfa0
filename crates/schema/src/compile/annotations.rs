//! Annotation applications: resolution (through brands), targets, values.

use super::*;

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
    pub(super) fn allowed(self, t: &Targets) -> bool {
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

impl Compilation {
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
}
