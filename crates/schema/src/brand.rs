//! Generic brand scopes: which generic parameters are bound where while a type expression is
//! interpreted (a port of the official compiler's `BrandScope` semantics).

use std::rc::Rc;

use crate::model::{Brand, BrandScope as ModelScope, BrandScopeKind, Type};

/// Built-in declarations of the global scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// `Void`
    Void,
    /// `Bool`
    Bool,
    /// `Int8`
    Int8,
    /// `Int16`
    Int16,
    /// `Int32`
    Int32,
    /// `Int64`
    Int64,
    /// `UInt8`
    Uint8,
    /// `UInt16`
    Uint16,
    /// `UInt32`
    Uint32,
    /// `UInt64`
    Uint64,
    /// `Float32`
    Float32,
    /// `Float64`
    Float64,
    /// `Text`
    Text,
    /// `Data`
    Data,
    /// `List`
    List,
    /// `AnyPointer`
    AnyPointer,
    /// `AnyStruct`
    AnyStruct,
    /// `AnyList`
    AnyList,
    /// `Capability`
    Capability,
    /// `Object` (obsolete name of AnyPointer)
    Object,
}

/// The primitive types: name in the language, builtin and model type. The one list
/// the resolver, the type translation and [`Type::builtin_name`] all read.
pub(crate) const PRIMITIVES: [(&str, Builtin, Type); 14] = [
    ("Void", Builtin::Void, Type::Void),
    ("Bool", Builtin::Bool, Type::Bool),
    ("Int8", Builtin::Int8, Type::Int8),
    ("Int16", Builtin::Int16, Type::Int16),
    ("Int32", Builtin::Int32, Type::Int32),
    ("Int64", Builtin::Int64, Type::Int64),
    ("UInt8", Builtin::Uint8, Type::Uint8),
    ("UInt16", Builtin::Uint16, Type::Uint16),
    ("UInt32", Builtin::Uint32, Type::Uint32),
    ("UInt64", Builtin::Uint64, Type::Uint64),
    ("Float32", Builtin::Float32, Type::Float32),
    ("Float64", Builtin::Float64, Type::Float64),
    ("Text", Builtin::Text, Type::Text),
    ("Data", Builtin::Data, Type::Data),
];

impl Type {
    /// The Cap'n Proto name of a built-in type (`Void` … `Data`, `UInt8` spelled as
    /// the language does); `None` for lists, named types and `AnyPointer` kinds.
    pub fn builtin_name(&self) -> Option<&'static str> {
        PRIMITIVES
            .iter()
            .find(|(_, _, t)| t == self)
            .map(|(name, _, _)| *name)
    }
}

impl Builtin {
    /// Looks up a builtin by name.
    pub fn from_name(name: &str) -> Option<Builtin> {
        if let Some((_, builtin, _)) = PRIMITIVES.iter().find(|(n, _, _)| *n == name) {
            return Some(*builtin);
        }
        Some(match name {
            "List" => Builtin::List,
            "AnyPointer" => Builtin::AnyPointer,
            "AnyStruct" => Builtin::AnyStruct,
            "AnyList" => Builtin::AnyList,
            "Capability" => Builtin::Capability,
            "Object" => Builtin::Object,
            _ => return None,
        })
    }

    /// The model type of a primitive builtin (`None` for lists and pointer kinds).
    pub fn primitive(self) -> Option<Type> {
        PRIMITIVES
            .iter()
            .find(|(_, b, _)| *b == self)
            .map(|(_, _, t)| t.clone())
    }

    /// A pseudo id (never emitted), unique per builtin.
    pub fn id(self) -> u64 {
        1000 + self as u64
    }

    /// Number of generic parameters.
    pub fn param_count(self) -> u16 {
        u16::from(self == Builtin::List)
    }
}

/// What a name resolved to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// A schema node (index in the compiler's node table).
    Node(usize),
    /// A builtin.
    Builtin(Builtin),
}

/// A declaration with generic bindings, or an unbound generic parameter.
#[derive(Debug, Clone)]
pub enum BrandedDecl {
    /// A declaration.
    Decl {
        /// The declaration.
        target: Target,
        /// Its id.
        id: u64,
        /// Brand bindings in effect.
        brand: Rc<BindingScope>,
    },
    /// An unbound generic parameter of scope `scope_id` (0 = method implicit parameter).
    Param {
        /// Generic node id, or 0 for a method's implicit parameter.
        scope_id: u64,
        /// Parameter index.
        index: u16,
    },
}

/// One level of brand bindings.
#[derive(Debug)]
pub struct BindingScope {
    /// Enclosing level.
    pub parent: Option<Rc<BindingScope>>,
    /// Node id of this level (0 = root).
    pub leaf_id: u64,
    /// Number of generic parameters of that node.
    pub leaf_param_count: u16,
    /// Whether the parameters are inherited from the referring context.
    pub inherited: bool,
    /// Bound parameters.
    pub params: Vec<BrandedDecl>,
    /// Where the declaration using this level was written (for error messages).
    pub source: std::cell::Cell<Option<crate::diagnostics::Span>>,
}

impl BindingScope {
    /// A root scope for `id` with nothing bound.
    pub fn root(id: u64) -> Rc<BindingScope> {
        Rc::new(BindingScope {
            parent: None,
            leaf_id: id,
            leaf_param_count: 0,
            inherited: false,
            params: Vec::new(),
            source: Default::default(),
        })
    }

    /// The lexical scope chain of a node: `chain` is (id, param count) from the node up to
    /// the file, all inherited.
    pub fn lexical(chain: &[(u64, u16)]) -> Rc<BindingScope> {
        let mut parent: Option<Rc<BindingScope>> = None;
        for &(id, count) in chain.iter().rev() {
            parent = Some(Rc::new(BindingScope {
                parent,
                leaf_id: id,
                leaf_param_count: count,
                inherited: true,
                params: Vec::new(),
                source: Default::default(),
            }));
        }
        parent.unwrap_or_else(|| BindingScope::root(0))
    }

    /// Whether any level has generic parameters.
    pub fn is_generic(&self) -> bool {
        self.leaf_param_count > 0 || self.parent.as_ref().is_some_and(|p| p.is_generic())
    }

    /// A child level for `id`.
    pub fn push(self: &Rc<Self>, id: u64, count: u16) -> Rc<BindingScope> {
        Rc::new(BindingScope {
            parent: Some(self.clone()),
            leaf_id: id,
            leaf_param_count: count,
            inherited: false,
            params: Vec::new(),
            source: Default::default(),
        })
    }

    /// The same level with `params` bound.
    pub fn with_params(&self, params: Vec<BrandedDecl>) -> Rc<BindingScope> {
        Rc::new(BindingScope {
            parent: self.parent.clone(),
            leaf_id: self.leaf_id,
            leaf_param_count: self.leaf_param_count,
            inherited: false,
            params,
            source: Default::default(),
        })
    }

    /// Walks up to the level for `id`, or a fresh root.
    pub fn pop(self: &Rc<Self>, id: u64) -> Rc<BindingScope> {
        if self.leaf_id == id {
            return self.clone();
        }
        match &self.parent {
            Some(p) => p.pop(id),
            None => BindingScope::root(id),
        }
    }

    /// The binding of parameter `index` of `scope_id`: `None` = inherit (stay a parameter);
    /// `Some(None)` = bind to AnyPointer.
    pub fn lookup_parameter(&self, scope_id: u64, index: u16) -> Option<Option<BrandedDecl>> {
        if scope_id == self.leaf_id {
            if let Some(p) = self.params.get(index as usize) {
                Some(Some(p.clone()))
            } else if self.inherited {
                None
            } else {
                Some(None)
            }
        } else {
            self.parent.as_ref()?.lookup_parameter(scope_id, index)
        }
    }

    /// Parameters bound at `scope_id`: `None` when inherited.
    pub fn get_params(&self, scope_id: u64) -> Option<Vec<BrandedDecl>> {
        if scope_id == self.leaf_id {
            if self.inherited {
                None
            } else {
                Some(self.params.clone())
            }
        } else {
            self.parent.as_ref()?.get_params(scope_id)
        }
    }

    /// Levels that must appear in a compiled [`Brand`].
    pub fn levels(&self) -> Vec<&BindingScope> {
        let mut out = Vec::new();
        let mut cur = Some(self);
        while let Some(s) = cur {
            if !s.params.is_empty() || (s.inherited && s.leaf_param_count > 0) {
                out.push(s);
            }
            cur = s.parent.as_deref();
        }
        out
    }
}

/// Builds a [`Brand`] from the levels, using `compile` to turn each bound parameter into a type.
pub fn compile_brand(
    scope: &BindingScope,
    mut compile: impl FnMut(&BrandedDecl) -> crate::model::Type,
) -> Brand {
    let mut scopes = Vec::new();
    for level in scope.levels() {
        let kind = if level.inherited {
            BrandScopeKind::Inherit
        } else {
            BrandScopeKind::Bind(
                level
                    .params
                    .iter()
                    .map(|p| crate::model::Binding::Type(compile(p)))
                    .collect(),
            )
        };
        scopes.push(ModelScope {
            scope_id: level.leaf_id,
            kind,
        });
    }
    Brand { scopes }
}
