//! Method parameter and result lists: generated `$Params`/`$Results` structs or named
//! struct types.

use super::*;

impl Compilation {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn compile_param_list(
        &mut self,
        n: usize,
        iface_id: u64,
        iface_name: &str,
        iface_generic: bool,
        method: &str,
        ordinal: u16,
        list_kind: ids::MethodList,
        list: Option<&ParamList>,
        implicit: &[String],
        aux: &mut Vec<Node>,
        jobs: &mut Vec<Job>,
    ) -> (u64, Brand) {
        let empty = ParamList::Named(Vec::new(), Span::default());
        let list = list.unwrap_or(&empty);
        match list {
            ParamList::Named(params, _) => {
                let id = ids::method_params_id(iface_id, ordinal, list_kind);
                let type_name = format!("{method}{}", list_kind.suffix());
                let dn = format!("{iface_name}.{type_name}");
                let prefix = (dn.len() - type_name.len()) as u32;
                let is_generic = iface_generic || !implicit.is_empty();
                let aux_index = aux.len();
                let mut st = StructTranslator {
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
}
