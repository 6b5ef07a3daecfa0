//! What `cara call`, `cara list` and `cara describe` read from a compiled schema:
//! declarations by name, an interface's methods (own and inherited) with the names
//! they are served under, and types written in Cap'n Proto syntax.

use cara_schema::{
    AnyPointer, Binding, Brand, BrandScopeKind, Field, Method, Node, NodeKind, SchemaSet,
    StructNode, Type,
};

/// The generic bindings in force where a value is read: for each generic scope (a
/// struct's or interface's id), the types its parameters are bound to.
pub type Bindings = Vec<(u64, Vec<Type>)>;

/// What an unbound generic parameter reads as.
static ANY: Type = Type::AnyPointer(AnyPointer::AnyKind);

/// A name that does not resolve.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// Nothing of that kind has that name.
    #[error("no {kind} named {name:?} in the schema; {kind}s: {}", list(.candidates))]
    Unknown {
        /// What was looked for ("interface", "declaration").
        kind: &'static str,
        /// The name given.
        name: String,
        /// What exists.
        candidates: Vec<String>,
    },
    /// Several declarations have that name.
    #[error("{name:?} is ambiguous; it may be {}", list(.candidates))]
    Ambiguous {
        /// The name given.
        name: String,
        /// The declarations it may mean (full names with their files).
        candidates: Vec<String>,
    },
    /// The interface has no such method.
    #[error("interface {interface} has no method {method:?}; its methods: {}", list(.methods))]
    NoMethod {
        /// The interface's full name.
        interface: String,
        /// The method name given.
        method: String,
        /// Its methods, inherited ones included.
        methods: Vec<String>,
    },
    /// The call target has no `.method` part.
    #[error("{0:?} is not of the form Interface.method")]
    NotAMethod(String),
}

fn list(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_string()
    } else {
        items.join(", ")
    }
}

/// A method as a server of some interface answers it.
#[derive(Debug, Clone)]
pub struct FlatMethod<'a> {
    /// The interface that declares it.
    pub owner: &'a Node,
    /// The method.
    pub method: &'a Method,
    /// Its ordinal in `owner`.
    pub ordinal: usize,
    /// `<Interface>.<method>` (or `<Interface>.<Declaring>.<method>` for an inherited
    /// method whose name an earlier one took), as `cara::serve` registers it.
    pub served_name: String,
}

/// A compiled schema set, read by name.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    set: &'a SchemaSet,
}

/// A node's full name inside its file (`Outer.Inner`), the name interfaces are served under.
pub fn qualified(node: &Node) -> &str {
    node.display_name
        .split_once(':')
        .map(|(_, path)| path)
        .unwrap_or_else(|| node.name())
}

impl<'a> View<'a> {
    /// A view of `set`.
    pub fn new(set: &'a SchemaSet) -> Self {
        View { set }
    }

    /// A node by id.
    pub fn node(&self, id: u64) -> Option<&'a Node> {
        self.set.node(id)
    }

    /// A struct (or group) node by id.
    pub fn struct_node(&self, id: u64) -> Option<(&'a Node, &'a StructNode)> {
        let node = self.set.node(id)?;
        match &node.kind {
            NodeKind::Struct(s) => Some((node, s)),
            _ => None,
        }
    }

    /// Every interface, in schema order.
    pub fn interfaces(&self) -> Vec<&'a Node> {
        self.declarations()
            .into_iter()
            .filter(|n| matches!(n.kind, NodeKind::Interface(_)))
            .collect()
    }

    /// Named structs, enums and interfaces (no groups, no method parameter structs).
    pub fn declarations(&self) -> Vec<&'a Node> {
        self.set
            .nodes()
            .iter()
            .filter(|n| match &n.kind {
                NodeKind::Struct(s) => !s.is_group && n.scope_id != 0,
                NodeKind::Enum(_) | NodeKind::Interface(_) => true,
                _ => false,
            })
            .collect()
    }

    /// Finds an interface by its full name (`Outer.Iface`), by `file.capnp:Outer.Iface`,
    /// or by its own name when only one interface has it.
    pub fn interface(&self, name: &str) -> Result<&'a Node, LookupError> {
        find(self.interfaces(), name, "interface")
    }

    /// Finds a struct, enum or interface by name (as [`View::interface`] does).
    pub fn declaration(&self, name: &str) -> Result<&'a Node, LookupError> {
        find(self.declarations(), name, "declaration")
    }

    /// An interface's methods: its own, then inherited ones (each interface once,
    /// breadth first), as `cara::serve` serves them.
    pub fn methods(&self, iface: &'a Node) -> Vec<FlatMethod<'a>> {
        let mut out: Vec<FlatMethod<'a>> = Vec::new();
        let mut seen = vec![iface.id];
        let mut queue = vec![iface];
        while !queue.is_empty() {
            let owner = queue.remove(0);
            let NodeKind::Interface(i) = &owner.kind else {
                continue;
            };
            for (ordinal, method) in i.methods.iter().enumerate() {
                let served_name = if out.iter().any(|m| m.method.name == method.name) {
                    format!("{}.{}.{}", qualified(iface), qualified(owner), method.name)
                } else {
                    format!("{}.{}", qualified(iface), method.name)
                };
                out.push(FlatMethod {
                    owner,
                    method,
                    ordinal,
                    served_name,
                });
            }
            for sc in &i.superclasses {
                if !seen.contains(&sc.id)
                    && let Some(base) = self.node(sc.id)
                {
                    seen.push(sc.id);
                    queue.push(base);
                }
            }
        }
        out
    }

    /// Resolves `Interface.method` (the interface part may be nested: `Outer.Iface.m`).
    pub fn target(&self, target: &str) -> Result<(&'a Node, FlatMethod<'a>), LookupError> {
        let Some((iface_name, method_name)) = target.rsplit_once('.') else {
            return Err(LookupError::NotAMethod(target.to_string()));
        };
        let iface = self.interface(iface_name)?;
        let methods = self.methods(iface);
        match methods.iter().find(|m| m.method.name == method_name) {
            Some(m) => Ok((iface, m.clone())),
            None => Err(LookupError::NoMethod {
                interface: qualified(iface).to_string(),
                method: method_name.to_string(),
                methods: methods.iter().fold(Vec::new(), |mut names, m| {
                    if !names.contains(&m.method.name) {
                        names.push(m.method.name.clone());
                    }
                    names
                }),
            }),
        }
    }

    /// The bindings inside a type branded `brand` (`Pair(Text, Data)`), seen from where
    /// `outer` holds. Scopes the brand does not bind keep their outer bindings.
    pub fn enter(&self, brand: &Brand, outer: &Bindings) -> Bindings {
        let mut inner = outer.clone();
        for scope in &brand.scopes {
            if let BrandScopeKind::Bind(bindings) = &scope.kind {
                let types = bindings
                    .iter()
                    .map(|b| match b {
                        Binding::Unbound => ANY.clone(),
                        Binding::Type(t) => self.resolve(t, outer).clone(),
                    })
                    .collect();
                inner.retain(|(id, _)| *id != scope.scope_id);
                inner.push((scope.scope_id, types));
            }
        }
        inner
    }

    /// `ty`, or the type a generic parameter is bound to in `bindings` (`AnyPointer`
    /// when unbound).
    pub fn resolve<'t>(&self, ty: &'t Type, bindings: &'t Bindings) -> &'t Type {
        match ty {
            Type::AnyPointer(AnyPointer::Parameter { scope_id, index }) => bindings
                .iter()
                .find(|(id, _)| id == scope_id)
                .and_then(|(_, types)| types.get(usize::from(*index)))
                .unwrap_or(&ANY),
            other => other,
        }
    }

    /// The wire key of a field: its ordinal; for a group, the smallest ordinal inside.
    pub fn field_key(&self, field: &Field) -> u16 {
        self.set.wire_key(field)
    }

    /// A type in Cap'n Proto syntax (`List(Text)`, `Outer.Inner`, `Pair(Text, Data)`).
    /// `implicit` names a method's own generic parameters.
    pub fn type_name(&self, ty: &Type, implicit: &[String]) -> String {
        let named = |type_id: u64, brand: &cara_schema::Brand| {
            let Some(node) = self.node(type_id) else {
                return format!("<unknown type {type_id:#x}>");
            };
            let args: Vec<String> = brand
                .scopes
                .iter()
                .filter(|s| s.scope_id == type_id)
                .flat_map(|s| match &s.kind {
                    BrandScopeKind::Bind(bindings) => bindings
                        .iter()
                        .map(|b| match b {
                            Binding::Unbound => "AnyPointer".to_string(),
                            Binding::Type(t) => self.type_name(t, implicit),
                        })
                        .collect(),
                    BrandScopeKind::Inherit => Vec::new(),
                })
                .collect();
            if args.is_empty() {
                qualified(node).to_string()
            } else {
                format!("{}({})", qualified(node), args.join(", "))
            }
        };
        match ty {
            Type::List(inner) => format!("List({})", self.type_name(inner, implicit)),
            Type::Enum { type_id, brand }
            | Type::Struct { type_id, brand }
            | Type::Interface { type_id, brand } => named(*type_id, brand),
            Type::AnyPointer(a) => match a {
                AnyPointer::AnyKind => "AnyPointer".into(),
                AnyPointer::Struct => "AnyStruct".into(),
                AnyPointer::List => "AnyList".into(),
                AnyPointer::Capability => "Capability".into(),
                AnyPointer::Parameter { scope_id, index } => self
                    .node(*scope_id)
                    .and_then(|n| n.parameters.get(usize::from(*index)))
                    .cloned()
                    .unwrap_or_else(|| "AnyPointer".into()),
                AnyPointer::ImplicitMethodParameter { index } => implicit
                    .get(usize::from(*index))
                    .cloned()
                    .unwrap_or_else(|| "AnyPointer".into()),
            },
            builtin => builtin.builtin_name().unwrap_or("AnyPointer").into(),
        }
    }
}

/// Full name match first (`Outer.Iface` or `file.capnp:Outer.Iface`), then own name.
fn find<'a>(nodes: Vec<&'a Node>, name: &str, kind: &'static str) -> Result<&'a Node, LookupError> {
    let passes: [&dyn Fn(&Node) -> bool; 2] = [
        &|n: &Node| n.display_name == name || qualified(n) == name,
        &|n: &Node| n.name() == name || qualified(n).ends_with(&format!(".{name}")),
    ];
    for pass in passes {
        let found: Vec<&Node> = nodes.iter().copied().filter(|n| pass(n)).collect();
        match found.as_slice() {
            [one] => return Ok(one),
            [] => {}
            many => {
                return Err(LookupError::Ambiguous {
                    name: name.to_string(),
                    candidates: many.iter().map(|n| n.display_name.clone()).collect(),
                });
            }
        }
    }
    Err(LookupError::Unknown {
        kind,
        name: name.to_string(),
        candidates: nodes.iter().map(|n| qualified(n).to_string()).collect(),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A schema with every kind of type (shared with the converters' and describe's tests).
    pub(crate) const SRC: &str = r#"@0xd1a3c8f2b4e63102;
enum Kind { tool @0; toy @1; food @2; }
struct Size { width @0 :UInt16; height @1 :UInt16; }
struct All {
  v @0 :Void; b @1 :Bool;
  i8 @2 :Int8; i16 @3 :Int16; i32 @4 :Int32; i64 @5 :Int64;
  u8 @6 :UInt8; u16 @7 :UInt16; u32 @8 :UInt32; u64 @9 :UInt64;
  f32 @10 :Float32; f64 @11 :Float64; text @12 :Text; data @13 :Data;
  list @14 :List(Size); kind @15 :Kind; size @16 :Size; cap @17 :Svc; any @18 :AnyPointer;
  union { weight @19 :Float32; count @20 :UInt16; none @21 :Void; }
  where :group { shelf @22 :UInt8; row @23 :Int8; }
  label :union { name @24 :Text; code @25 :UInt32; }
}
interface Svc { echo @0 (all :All) -> (all :All); }
struct Pair(X, Y) { first @0 :X; second @1 :Y; }
struct Wrap(T) { p @0 :Pair(T, Text); }
struct Gen { pair @0 :Pair(Size, List(Kind)); open @1 :Pair; wrap @2 :Wrap(List(Kind)); }
"#;

    pub(crate) fn set() -> SchemaSet {
        cara_schema::Compiler::new()
            .compile_sources(&[("all.capnp", SRC)])
            .unwrap()
    }

    const SMALL: &str = "@0xd1a3c8f2b4e63101;\n\
        interface Base { ping @0 () -> (reply :Text); echo @1 (x :Text) -> (x :Text); }\n\
        interface Sub extends(Base) { echo @0 (x :Int32) -> (x :Int32); }\n\
        struct Outer { interface Nested { ping @0 (); } }\n\
        struct A { interface Svc { a @0 (); } }\n\
        struct B { interface Svc { b @0 (); } }\n\
        struct Pair(X, Y) { first @0 :X; second @1 :Y; }\n\
        struct UsesPair { p @0 :Pair(Text, List(Data)); }\n";

    fn small() -> SchemaSet {
        cara_schema::Compiler::new()
            .compile_sources(&[("t.capnp", SMALL)])
            .unwrap()
    }

    #[test]
    fn interfaces_by_full_name_own_name_and_errors() {
        let set = small();
        let v = View::new(&set);
        assert_eq!(
            qualified(v.interface("Outer.Nested").unwrap()),
            "Outer.Nested"
        );
        assert_eq!(qualified(v.interface("Nested").unwrap()), "Outer.Nested");
        assert_eq!(qualified(v.interface("t.capnp:Sub").unwrap()), "Sub");
        let e = v.interface("Svc").unwrap_err().to_string();
        assert!(
            e.contains("ambiguous") && e.contains("t.capnp:A.Svc"),
            "{e}"
        );
        let e = v.interface("Nope").unwrap_err().to_string();
        assert!(
            e.contains("interfaces: Base, Sub, Outer.Nested, A.Svc, B.Svc"),
            "{e}"
        );
    }

    #[test]
    fn inherited_methods_and_served_names() {
        let set = small();
        let v = View::new(&set);
        let sub = v.interface("Sub").unwrap();
        let names: Vec<String> = v.methods(sub).into_iter().map(|m| m.served_name).collect();
        assert_eq!(names, ["Sub.echo", "Sub.ping", "Sub.Base.echo"]);
        let (_, m) = v.target("Sub.ping").unwrap();
        assert_eq!(qualified(m.owner), "Base");
        let (_, m) = v.target("Outer.Nested.ping").unwrap();
        assert_eq!(m.served_name, "Outer.Nested.ping");
        let e = v.target("Sub.pong").unwrap_err().to_string();
        assert_eq!(
            e,
            "interface Sub has no method \"pong\"; its methods: echo, ping"
        );
        assert!(matches!(v.target("Sub"), Err(LookupError::NotAMethod(_))));
    }

    #[test]
    fn types_in_capnp_syntax() {
        let set = small();
        let v = View::new(&set);
        let (_, s) = v
            .struct_node(v.declaration("UsesPair").unwrap().id)
            .unwrap();
        let cara_schema::FieldKind::Slot { ty, .. } = &s.fields[0].kind else {
            panic!()
        };
        assert_eq!(v.type_name(ty, &[]), "Pair(Text, List(Data))");
    }
}
