//! `cara list` and `cara describe`: what a schema declares, in Cap'n Proto syntax.

use std::fmt::Write as _;
use std::process::ExitCode;

use cara_schema::values::Val;
use cara_schema::{Field, FieldKind, NO_DISCRIMINANT, Node, NodeKind, Type};

use super::view::{FlatMethod, View, qualified};

/// Arguments of `cara list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Import path and file-name options.
    #[command(flatten)]
    pub schema: super::schema_args::SchemaArgs,
    /// Schema files.
    #[arg(required = true)]
    pub files: Vec<String>,
}

/// Arguments of `cara describe`.
#[derive(Debug, clap::Args)]
pub struct DescribeArgs {
    /// Import path and file-name options.
    #[command(flatten)]
    pub schema: super::schema_args::SchemaArgs,
    /// Schema files.
    #[arg(required = true, num_args = 1..)]
    pub files: Vec<String>,
    /// An interface, struct or enum (`Calculator`, `Outer.Inner`).
    #[arg(value_name = "NAME")]
    pub name: String,
}

/// Runs `cara list`: each interface with its methods, one line each.
pub fn list(args: ListArgs) -> ExitCode {
    let set = match args.schema.compiler().compile(&args.files) {
        Ok(set) => set,
        Err(d) => {
            eprintln!("{d}");
            return ExitCode::FAILURE;
        }
    };
    let view = View::new(&set);
    let mut out = String::new();
    for iface in view.interfaces() {
        let methods: Vec<String> = view
            .methods(iface)
            .iter()
            .map(|m| {
                if m.owner.id == iface.id {
                    m.method.name.clone()
                } else {
                    format!("{} (from {})", m.method.name, qualified(m.owner))
                }
            })
            .collect();
        let _ = writeln!(out, "{}: {}", qualified(iface), methods.join(", "));
    }
    print!("{out}");
    ExitCode::SUCCESS
}

/// Runs `cara describe`.
pub fn describe(args: DescribeArgs) -> ExitCode {
    let set = match args.schema.compiler().compile(&args.files) {
        Ok(set) => set,
        Err(d) => {
            eprintln!("{d}");
            return ExitCode::FAILURE;
        }
    };
    let view = View::new(&set);
    match view.declaration(&args.name) {
        Ok(node) => {
            print!("{}", text(view, node));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cara describe: {e}");
            ExitCode::from(2)
        }
    }
}

/// A declaration in Cap'n Proto syntax, with its members.
pub fn text(view: View<'_>, node: &Node) -> String {
    let mut out = String::new();
    let header = |kind: &str| {
        format!(
            "{kind} {} @{:#x} {{  # {}\n",
            qualified(node),
            node.id,
            file(node)
        )
    };
    match &node.kind {
        NodeKind::Interface(_) => {
            out.push_str(&header("interface"));
            for m in view.methods(node) {
                let from = if m.owner.id == node.id {
                    String::new()
                } else {
                    format!("  # from {}", qualified(m.owner))
                };
                let _ = writeln!(out, "  {};{from}", signature(view, &m));
            }
        }
        NodeKind::Struct(_) => {
            out.push_str(&header("struct"));
            fields(view, node.id, 1, &mut out);
        }
        NodeKind::Enum(enumerants) => {
            out.push_str(&header("enum"));
            for (i, e) in enumerants.iter().enumerate() {
                let _ = writeln!(out, "  {} @{i};", e.name);
            }
        }
        _ => {
            let _ = writeln!(out, "{} {{", qualified(node));
        }
    }
    out.push_str("}\n");
    out
}

fn file(node: &Node) -> &str {
    node.display_name
        .split_once(':')
        .map_or(node.display_name.as_str(), |(f, _)| f)
}

/// `divide @1 (numerator :Float64, denominator :Float64) -> (quotient :Float64, remainder :Float64)`.
pub fn signature(view: View<'_>, m: &FlatMethod<'_>) -> String {
    let implicit = &m.method.implicit_parameters;
    let list = |id: u64| -> String {
        match view.struct_node(id) {
            // A user struct as the parameter or result list.
            Some((node, _)) if node.scope_id != 0 => qualified(node).to_string(),
            Some((_, s)) => {
                let items: Vec<String> = s
                    .fields
                    .iter()
                    .map(|f| match &f.kind {
                        FieldKind::Slot { ty, .. } => {
                            format!(
                                "{} :{}{}",
                                f.name,
                                view.type_name(ty, implicit),
                                default(view, f)
                            )
                        }
                        FieldKind::Group { .. } => format!("{} :group", f.name),
                    })
                    .collect();
                format!("({})", items.join(", "))
            }
            None => "()".to_string(),
        }
    };
    let generics = if implicit.is_empty() {
        String::new()
    } else {
        format!(" [{}]", implicit.join(", "))
    };
    format!(
        "{} @{}{generics} {} -> {}",
        m.method.name,
        m.ordinal,
        list(m.method.param_struct_type),
        list(m.method.result_struct_type)
    )
}

/// A struct's (or group's) fields in declaration order; the unnamed union's members
/// in a `union { … }` block where the first of them is declared.
fn fields(view: View<'_>, id: u64, depth: usize, out: &mut String) {
    let Some((_, s)) = view.struct_node(id).filter(|_| depth < 32) else {
        return;
    };
    let pad = "  ".repeat(depth);
    let mut sorted: Vec<&Field> = s.fields.iter().collect();
    sorted.sort_by_key(|f| f.code_order);
    let all_union = !sorted.is_empty()
        && sorted
            .iter()
            .all(|f| f.discriminant_value != NO_DISCRIMINANT);
    let mut union_done = false;
    for f in &sorted {
        if f.discriminant_value != NO_DISCRIMINANT && !all_union {
            if !union_done {
                union_done = true;
                let _ = writeln!(out, "{pad}union {{");
                for m in sorted
                    .iter()
                    .filter(|m| m.discriminant_value != NO_DISCRIMINANT)
                {
                    field(view, m, depth + 1, out);
                }
                let _ = writeln!(out, "{pad}}}");
            }
            continue;
        }
        field(view, f, depth, out);
    }
}

fn field(view: View<'_>, f: &Field, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    match &f.kind {
        FieldKind::Slot { ty, .. } => {
            let ordinal = f.ordinal.unwrap_or(f.code_order);
            let _ = writeln!(
                out,
                "{pad}{} @{ordinal} :{}{};",
                f.name,
                view.type_name(ty, &[]),
                default(view, f)
            );
        }
        FieldKind::Group { type_id } => {
            let is_union = view.struct_node(*type_id).is_some_and(|(_, g)| {
                !g.fields.is_empty()
                    && g.fields
                        .iter()
                        .all(|m| m.discriminant_value != NO_DISCRIMINANT)
            });
            let kind = if is_union { "union" } else { "group" };
            let _ = writeln!(out, "{pad}{} :{kind} {{", f.name);
            fields(view, *type_id, depth + 1, out);
            let _ = writeln!(out, "{pad}}}");
        }
    }
}

/// ` = <value>` for a field with a default written in the schema, else nothing.
fn default(view: View<'_>, f: &Field) -> String {
    match &f.kind {
        FieldKind::Slot {
            ty,
            had_explicit_default: true,
            default_literal: Some(val),
            ..
        } => literal(view, val, ty, 0).map_or_else(String::new, |l| format!(" = {l}")),
        _ => String::new(),
    }
}

/// A value in Cap'n Proto syntax (`add`, `"hi"`, `0x"00 ff"`, `[1, 2]`, `(x = 1.0)`).
fn literal(view: View<'_>, val: &Val, ty: &Type, depth: u32) -> Option<String> {
    if depth > 32 {
        return None;
    }
    Some(match val {
        Val::Void => "void".into(),
        Val::Bool(b) => b.to_string(),
        Val::Int(i) => i.to_string(),
        Val::Float(f) if f.is_nan() => "nan".into(),
        Val::Float(f) if f.is_infinite() => if *f > 0.0 { "inf" } else { "-inf" }.into(),
        Val::Float(f) => format!("{f:?}"),
        Val::Text(t) => format!("{t:?}"),
        Val::Data(d) => {
            let bytes: Vec<String> = d.iter().map(|b| format!("{b:02x}")).collect();
            format!("0x\"{}\"", bytes.join(" "))
        }
        Val::Enum(n) => enumerant(view, ty, *n).unwrap_or_else(|| n.to_string()),
        Val::List(items) => {
            let inner = match ty {
                Type::List(inner) => inner.as_ref(),
                other => other,
            };
            let items: Option<Vec<String>> = items
                .iter()
                .map(|v| literal(view, v, inner, depth + 1))
                .collect();
            format!("[{}]", items?.join(", "))
        }
        Val::Struct(id, fields) => {
            let (_, s) = view.struct_node(*id)?;
            let items: Option<Vec<String>> = fields
                .iter()
                .map(|(index, fty, v)| {
                    let name = &s.fields.get(*index)?.name;
                    Some(format!("{name} = {}", literal(view, v, fty, depth + 1)?))
                })
                .collect();
            format!("({})", items?.join(", "))
        }
        Val::Null => return None,
    })
}

fn enumerant(view: View<'_>, ty: &Type, n: u16) -> Option<String> {
    let Type::Enum { type_id, .. } = ty else {
        return None;
    };
    match &view.node(*type_id)?.kind {
        NodeKind::Enum(es) => es.get(usize::from(n)).map(|e| e.name.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::view::tests::set;

    #[test]
    fn a_struct_with_unions_and_groups_in_capnp_syntax() {
        let set = set();
        let view = View::new(&set);
        let all = text(view, view.declaration("All").unwrap());
        let lines: Vec<&str> = all.lines().collect();
        assert!(lines[0].starts_with("struct All @0x"), "{all}");
        assert!(lines[0].ends_with("{  # all.capnp"), "{all}");
        let body = lines[1..].join("\n");
        assert!(
            body.contains("  list @14 :List(Size);\n  kind @15 :Kind;"),
            "{all}"
        );
        assert!(
            body.contains("  union {\n    weight @19 :Float32;\n    count @20 :UInt16;\n    none @21 :Void;\n  }"),
            "{all}"
        );
        assert!(
            body.contains("  where :group {\n    shelf @22 :UInt8;\n    row @23 :Int8;\n  }"),
            "{all}"
        );
        assert!(
            body.contains("  label :union {\n    name @24 :Text;\n    code @25 :UInt32;\n  }\n}"),
            "{all}"
        );
        let kind = text(view, view.declaration("Kind").unwrap());
        assert!(
            kind.ends_with("{  # all.capnp\n  tool @0;\n  toy @1;\n  food @2;\n}\n"),
            "{kind}"
        );
        let svc = text(view, view.declaration("Svc").unwrap());
        assert!(
            svc.contains("\n  echo @0 (all :All) -> (all :All);\n}"),
            "{svc}"
        );
    }

    #[test]
    fn defaults_written_in_the_schema_are_shown() {
        let src = "@0xd1a3c8f2b4e63104;\n\
            enum Op { add @0; divide @1; }\n\
            struct P { x @0 :Float64; y @1 :Float64; }\n\
            struct D {\n\
              a @0 :Op = divide; b @1 :Data = 0x\"00 ff\"; c @2 :List(Text) = [\"x\", \"y\"];\n\
              d @3 :P = (x = 1.5, y = -2); e @4 :Float32 = -inf; f @5 :Text = \"q\\\"\"; g @6 :Int8;\n\
            }\n\
            interface I { m @0 (n :Text = \"world\", t :UInt8 = 1) -> (r :Bool); }\n";
        let set = cara_schema::Compiler::new()
            .compile_sources(&[("d.capnp", src)])
            .unwrap();
        let view = View::new(&set);
        let d = text(view, view.declaration("D").unwrap());
        let body: Vec<&str> = d.lines().skip(1).collect();
        assert_eq!(
            body,
            [
                "  a @0 :Op = divide;",
                "  b @1 :Data = 0x\"00 ff\";",
                "  c @2 :List(Text) = [\"x\", \"y\"];",
                "  d @3 :P = (x = 1.5, y = -2);",
                "  e @4 :Float32 = -inf;",
                "  f @5 :Text = \"q\\\"\";",
                "  g @6 :Int8;",
                "}",
            ]
        );
        let i = text(view, view.declaration("I").unwrap());
        assert!(
            i.contains("\n  m @0 (n :Text = \"world\", t :UInt8 = 1) -> (r :Bool);\n"),
            "{i}"
        );
    }
}
