//! Syntax tree of a parsed schema file.

use crate::diagnostics::Span;

/// A name with its location.
#[derive(Debug, Clone, PartialEq)]
pub struct Name {
    /// The identifier.
    pub text: String,
    /// Where it is.
    pub span: Span,
}

/// An expression: a type, a value, or a name.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    /// What kind of expression.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// The kinds of expressions.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    /// A placeholder after a parse error.
    Unknown,
    /// A non-negative integer literal.
    PositiveInt(u64),
    /// `-N`; the magnitude is stored.
    NegativeInt(u64),
    /// A float literal (sign included), also `inf`/`-inf` after `-`.
    Float(f64),
    /// A string literal, as bytes (escapes may produce any byte).
    String(Vec<u8>),
    /// A `0x"..."` literal.
    Binary(Vec<u8>),
    /// A bare identifier.
    RelativeName(Name),
    /// `.name`: a name looked up from the file scope.
    AbsoluteName(Name),
    /// `import "path"`.
    Import(Name),
    /// `embed "path"`.
    Embed(Name),
    /// `[a, b, ...]`.
    List(Vec<Expr>),
    /// `(a = x, ...)` or `(x, ...)`.
    Tuple(Vec<Param>),
    /// `f(params)`: generic application.
    Application(Box<Expr>, Vec<Param>),
    /// `parent.name`.
    Member(Box<Expr>, Name),
}

/// One element of a tuple or parameter list.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    /// `name =` part, when present.
    pub name: Option<Name>,
    /// The value.
    pub value: Expr,
}

/// `$name(value)`.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnotationApp {
    /// The annotation's name expression.
    pub name: Expr,
    /// The value, if any.
    pub value: Option<Expr>,
}

/// An explicit id or ordinal on a declaration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DeclId {
    /// Nothing given.
    None,
    /// `@0x...` on a node.
    Uid(u64, Span),
    /// `@N` on a member.
    Ordinal(u64, Span),
}

/// Which kinds of declarations an annotation may be applied to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Targets {
    /// `file`
    pub file: bool,
    /// `const`
    pub const_: bool,
    /// `enum`
    pub enum_: bool,
    /// `enumerant`
    pub enumerant: bool,
    /// `struct`
    pub struct_: bool,
    /// `field`
    pub field: bool,
    /// `union`
    pub union_: bool,
    /// `group`
    pub group: bool,
    /// `interface`
    pub interface: bool,
    /// `method`
    pub method: bool,
    /// `param`
    pub param: bool,
    /// `annotation`
    pub annotation: bool,
}

/// A method parameter (or result) declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamDecl {
    /// Parameter name.
    pub name: Name,
    /// Its type.
    pub ty: Expr,
    /// Its default value.
    pub default: Option<Expr>,
    /// Annotations on it.
    pub annotations: Vec<AnnotationApp>,
    /// Where it is.
    pub span: Span,
}

/// A method's parameter or result list.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamList {
    /// `(a :T, ...)`
    Named(Vec<ParamDecl>, Span),
    /// A struct type.
    Type(Expr),
}

/// What a declaration declares.
#[derive(Debug, Clone, PartialEq)]
pub enum DeclKind {
    /// The file itself.
    File,
    /// `using Name = target;`
    Using(Expr),
    /// `const name :T = value;`
    Const {
        /// Type.
        ty: Expr,
        /// Value.
        value: Expr,
    },
    /// `enum`
    Enum,
    /// An enumerant.
    Enumerant,
    /// `struct`
    Struct,
    /// A struct field.
    Field {
        /// Type.
        ty: Expr,
        /// Default value.
        default: Option<Expr>,
    },
    /// A union (named or not).
    Union,
    /// A group.
    Group,
    /// `interface`
    Interface {
        /// `extends(...)` list.
        superclasses: Vec<Expr>,
    },
    /// A method.
    Method {
        /// Parameters.
        params: ParamList,
        /// Results, if declared.
        results: Option<ParamList>,
    },
    /// `annotation`
    Annotation {
        /// Type of the annotation value.
        ty: Expr,
        /// Where it may be applied.
        targets: Targets,
    },
    /// `@0x...;` at file level.
    NakedId,
    /// `$annotation;` at file level.
    NakedAnnotation,
}

/// A declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct Decl {
    /// Name (empty for unnamed unions and for the file).
    pub name: Name,
    /// Id or ordinal.
    pub id: DeclId,
    /// Kind and kind-specific data.
    pub kind: DeclKind,
    /// Generic parameters (`struct Foo(T)`) or method implicit parameters (`[T]`).
    pub params: Vec<Name>,
    /// Annotations applied.
    pub annotations: Vec<AnnotationApp>,
    /// Nested declarations / members.
    pub nested: Vec<Decl>,
    /// Doc comment.
    pub doc: Option<String>,
    /// Whole declaration.
    pub span: Span,
}
