//! The resolved schema model.
//!
//! It mirrors `schema.capnp` (the official compiler's output format) closely, so that a code
//! generator can use it directly and so that it converts 1:1 into a `CodeGeneratorRequest`.
//! Doc comments are kept on nodes and members.

pub use crate::ast::Targets;

/// Sentinel `discriminant_value` for fields not in a union.
pub const NO_DISCRIMINANT: u16 = 0xffff;

/// A compiled schema node (file, struct, enum, interface, const or annotation).
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The 64-bit id.
    pub id: u64,
    /// `file.capnp:Outer.Inner`.
    pub display_name: String,
    /// Length of the prefix of `display_name` that is not the node's own name.
    pub display_name_prefix_length: u32,
    /// Id of the lexical parent (0 for files and method param/result structs).
    pub scope_id: u64,
    /// Generic parameter names.
    pub parameters: Vec<String>,
    /// Whether this node or any lexical parent is generic.
    pub is_generic: bool,
    /// Nested nodes (name, id) in declaration order.
    pub nested_nodes: Vec<(String, u64)>,
    /// Annotations applied to the node.
    pub annotations: Vec<Annotation>,
    /// Kind-specific content.
    pub kind: NodeKind,
    /// Doc comment of the node.
    pub doc: Option<String>,
    /// Doc comments of the members (fields / enumerants / methods), in member order.
    pub member_docs: Vec<Option<String>>,
}

impl Node {
    /// The node's own (unqualified) name.
    pub fn name(&self) -> &str {
        self.display_name
            .get(self.display_name_prefix_length as usize..)
            .unwrap_or("")
    }
}

/// Kind-specific node content.
#[derive(Debug, Clone, PartialEq)]
pub enum NodeKind {
    /// A file.
    File,
    /// A struct or a group.
    Struct(StructNode),
    /// An enum and its enumerants (in ordinal order).
    Enum(Vec<Enumerant>),
    /// An interface.
    Interface(InterfaceNode),
    /// A constant.
    Const {
        /// Its type.
        ty: Type,
        /// Its value.
        value: Value,
        /// The value as a structured literal (for code generators); `None` after an error.
        literal: Option<crate::values::Val>,
    },
    /// An annotation declaration.
    Annotation {
        /// Type of its value.
        ty: Type,
        /// Where it may be applied.
        targets: Targets,
    },
}

/// Layout and fields of a struct (or group).
#[derive(Debug, Clone, PartialEq)]
pub struct StructNode {
    /// Data section size in words.
    pub data_word_count: u16,
    /// Pointer section size.
    pub pointer_count: u16,
    /// Preferred list encoding (the official compiler 0.9 always emits inline composite = 7).
    pub preferred_list_encoding: u16,
    /// Whether this is a group.
    pub is_group: bool,
    /// Number of members of the (unnamed) union at this level, 0 if none.
    pub discriminant_count: u16,
    /// Offset of the discriminant, in 16-bit units.
    pub discriminant_offset: u32,
    /// Fields in ordinal order.
    pub fields: Vec<Field>,
}

/// A struct field.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// Name.
    pub name: String,
    /// Position in the source.
    pub code_order: u16,
    /// Annotations.
    pub annotations: Vec<Annotation>,
    /// Discriminant value in the enclosing union, or [`NO_DISCRIMINANT`].
    pub discriminant_value: u16,
    /// Slot or group.
    pub kind: FieldKind,
    /// Explicit ordinal (`None` for groups and unions without one).
    pub ordinal: Option<u16>,
}

/// What a field is.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    /// A regular field.
    Slot {
        /// Offset in units of the field's size (bits for Bool, pointers for pointer types).
        offset: u32,
        /// Type.
        ty: Type,
        /// Default value.
        default: Value,
        /// Whether the default was written in the schema.
        had_explicit_default: bool,
        /// The explicit default as a structured literal (for code generators), if any.
        default_literal: Option<crate::values::Val>,
    },
    /// A group or named union; the group's node id.
    Group {
        /// Id of the group node.
        type_id: u64,
    },
}

/// An enumerant.
#[derive(Debug, Clone, PartialEq)]
pub struct Enumerant {
    /// Name.
    pub name: String,
    /// Position in source.
    pub code_order: u16,
    /// Annotations.
    pub annotations: Vec<Annotation>,
}

/// An interface's methods and superclasses.
#[derive(Debug, Clone, PartialEq)]
pub struct InterfaceNode {
    /// Methods in ordinal order.
    pub methods: Vec<Method>,
    /// `extends(...)`.
    pub superclasses: Vec<Superclass>,
}

/// A superclass reference.
#[derive(Debug, Clone, PartialEq)]
pub struct Superclass {
    /// Interface id.
    pub id: u64,
    /// Brand.
    pub brand: Brand,
}

/// An interface method.
#[derive(Debug, Clone, PartialEq)]
pub struct Method {
    /// Name.
    pub name: String,
    /// Position in source.
    pub code_order: u16,
    /// Implicit generic parameters (`[T]`).
    pub implicit_parameters: Vec<String>,
    /// Param struct id (an auto-generated `name$Params` struct or a user struct).
    pub param_struct_type: u64,
    /// Param brand.
    pub param_brand: Brand,
    /// Result struct id.
    pub result_struct_type: u64,
    /// Result brand.
    pub result_brand: Brand,
    /// Annotations.
    pub annotations: Vec<Annotation>,
}

/// A type.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
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
    /// `List(T)`
    List(Box<Type>),
    /// An enum.
    Enum {
        /// Enum id.
        type_id: u64,
        /// Brand.
        brand: Brand,
    },
    /// A struct.
    Struct {
        /// Struct id.
        type_id: u64,
        /// Brand.
        brand: Brand,
    },
    /// An interface.
    Interface {
        /// Interface id.
        type_id: u64,
        /// Brand.
        brand: Brand,
    },
    /// `AnyPointer`, `AnyStruct`, `AnyList`, `Capability` or a generic parameter.
    AnyPointer(AnyPointer),
}

/// Flavours of `AnyPointer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnyPointer {
    /// `AnyPointer`
    AnyKind,
    /// `AnyStruct`
    Struct,
    /// `AnyList`
    List,
    /// `Capability`
    Capability,
    /// A generic parameter of an enclosing scope.
    Parameter {
        /// Id of the generic node.
        scope_id: u64,
        /// Index of the parameter.
        index: u16,
    },
    /// A method's implicit parameter.
    ImplicitMethodParameter {
        /// Index.
        index: u16,
    },
}

// `Type::builtin_name` lives in `brand`, next to the primitive table it reads
// (so that the model does not depend on the resolver).
impl Type {
    /// Log2 of the bit size of a data type; `None` for void and pointers.
    pub fn lg_size(&self) -> Option<u32> {
        Some(match self {
            Type::Bool => 0,
            Type::Int8 | Type::Uint8 => 3,
            Type::Int16 | Type::Uint16 | Type::Enum { .. } => 4,
            Type::Int32 | Type::Uint32 | Type::Float32 => 5,
            Type::Int64 | Type::Uint64 | Type::Float64 => 6,
            _ => return None,
        })
    }

    /// Whether values of this type live in the pointer section.
    pub fn is_pointer(&self) -> bool {
        matches!(
            self,
            Type::Text
                | Type::Data
                | Type::List(_)
                | Type::Struct { .. }
                | Type::Interface { .. }
                | Type::AnyPointer(_)
        )
    }
}

/// Generic bindings for a reference to a (possibly nested) generic type.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Brand {
    /// One entry per generic scope that is bound or inherited.
    pub scopes: Vec<BrandScope>,
}

/// Bindings for one scope.
#[derive(Debug, Clone, PartialEq)]
pub struct BrandScope {
    /// The generic node.
    pub scope_id: u64,
    /// Bindings or inheritance.
    pub kind: BrandScopeKind,
}

/// Either explicit bindings or "same as the enclosing scope".
#[derive(Debug, Clone, PartialEq)]
pub enum BrandScopeKind {
    /// Explicit bindings.
    Bind(Vec<Binding>),
    /// Inherit the parameters of the referring scope.
    Inherit,
}

/// A single binding.
#[derive(Debug, Clone, PartialEq)]
pub enum Binding {
    /// Left unbound (`AnyPointer`).
    Unbound,
    /// Bound to a type.
    Type(Type),
}

/// A value: a default, a constant, or an annotation's value.
///
/// Pointer values (lists, structs, any-pointers) are stored encoded: a single-segment
/// Cap'n Proto message (without segment table) whose root pointer is the value; `None` is a
/// null pointer.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Void.
    Void,
    /// Bool.
    Bool(bool),
    /// Int8.
    Int8(i8),
    /// Int16.
    Int16(i16),
    /// Int32.
    Int32(i32),
    /// Int64.
    Int64(i64),
    /// UInt8.
    Uint8(u8),
    /// UInt16.
    Uint16(u16),
    /// UInt32.
    Uint32(u32),
    /// UInt64.
    Uint64(u64),
    /// Float32.
    Float32(f32),
    /// Float64.
    Float64(f64),
    /// Text (`None` = null).
    Text(Option<String>),
    /// Data (`None` = null).
    Data(Option<Vec<u8>>),
    /// List, encoded.
    List(Option<Vec<u8>>),
    /// Enumerant ordinal.
    Enum(u16),
    /// Struct, encoded.
    Struct(Option<Vec<u8>>),
    /// Interface (always null).
    Interface,
    /// AnyPointer, encoded.
    AnyPointer(Option<Vec<u8>>),
}

/// An applied annotation.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// Annotation declaration id.
    pub id: u64,
    /// Brand of the annotation declaration.
    pub brand: Brand,
    /// The value.
    pub value: Value,
}

/// A requested file, as listed in a `CodeGeneratorRequest`.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestedFile {
    /// File id.
    pub id: u64,
    /// File name as given (after `--src-prefix` stripping).
    pub filename: String,
    /// Imports used for types: (file id, import string), sorted by string.
    pub imports: Vec<(u64, String)>,
}
