//! The public model API, as a code generator will use it.

use cara_schema::values::Val;
use cara_schema::{Compiler, FieldKind, NodeKind, Type, Value};

const SRC: &str = r#"@0xd1a3c8f2b4e64001;
# A file doc.

struct Point(T) {
  # A point.
  x @0 :Float64 = 1.5;  # The x.
  label @1 :T;
  union {
    none @2 :Void;
    tag @3 :Text;
  }
}

interface Shapes {
  area @0 (p :Point(Text)) -> (value :Float64);  # Computes.
}

const origin :Point(Text) = (x = 0, label = "o");
"#;

#[test]
fn model_exposes_what_a_generator_needs() {
    let set = Compiler::new()
        .compile_sources(&[("model.capnp", SRC)])
        .unwrap_or_else(|e| panic!("{e}"));
    let file = set.node(0xd1a3c8f2b4e64001).expect("file node");
    assert_eq!(file.doc.as_deref(), Some("A file doc.\n"));
    let names: Vec<&str> = file.nested_nodes.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Point", "Shapes", "origin"]);

    let point = set.node(file.nested_nodes[0].1).expect("Point");
    assert_eq!(point.name(), "Point");
    assert_eq!(point.parameters, ["T"]);
    assert!(point.is_generic);
    assert_eq!(point.doc.as_deref(), Some("A point.\n"));
    let NodeKind::Struct(s) = &point.kind else {
        panic!("struct expected")
    };
    assert_eq!(s.discriminant_count, 2);
    let x = &s.fields[0];
    assert_eq!((x.name.as_str(), x.ordinal), ("x", Some(0)));
    let FieldKind::Slot {
        ty,
        default,
        default_literal,
        ..
    } = &x.kind
    else {
        panic!("slot expected")
    };
    assert_eq!(*ty, Type::Float64);
    assert_eq!(*default, Value::Float64(1.5));
    assert_eq!(*default_literal, Some(Val::Float(1.5)));
    assert_eq!(point.member_docs[0].as_deref(), Some("The x.\n"));

    let shapes = set.node(file.nested_nodes[1].1).expect("Shapes");
    let NodeKind::Interface(i) = &shapes.kind else {
        panic!("interface expected")
    };
    let m = &i.methods[0];
    let params = set.node(m.param_struct_type).expect("params struct");
    assert_eq!(params.display_name, "model.capnp:Shapes.area$Params");
    let results = set.node(m.result_struct_type).expect("results struct");
    assert_eq!(results.name(), "area$Results");

    let origin = set.node(file.nested_nodes[2].1).expect("origin");
    let NodeKind::Const {
        literal: Some(Val::Struct(id, fields)),
        value: Value::Struct(Some(_)),
        ..
    } = &origin.kind
    else {
        panic!("struct const expected: {:?}", origin.kind)
    };
    assert_eq!(*id, point.id);
    assert_eq!(fields.len(), 2);
    assert_eq!(fields[1].2, Val::Text("o".into()));
}
