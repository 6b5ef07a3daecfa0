//! Unit tests of `to_value`: every type, range errors, unknown names.

use super::*;
use crate::cmd::view::tests::set;
use serde_json::json;

fn all_id(set: &cara_schema::SchemaSet) -> u64 {
    View::new(set).declaration("All").unwrap().id
}

fn conv(j: Json) -> Result<Value, ConvertError> {
    let set = set();
    let view = View::new(&set);
    ToValue::new(view).group(&j, all_id(&set), &Bindings::new(), "all")
}

fn ok(j: Json) -> String {
    conv(j).unwrap().to_string()
}

fn err(j: Json) -> String {
    conv(j).unwrap_err().to_string()
}

#[test]
fn every_type_by_field_name() {
    let v = ok(json!({
        "v": null, "b": true, "i8": -128, "i16": 32767, "i32": -5, "i64": i64::MIN,
        "u8": 255, "u16": 65535, "u32": 4294967295u64, "u64": u64::MAX,
        "f32": 1.5, "f64": 2, "text": "hi", "data": {"$bytes": "00ff"},
        "list": [{"width": 1}, {"height": 2}], "kind": "food", "size": {"width": 3},
        "cap": null, "any": {"x": [1]},
    }));
    assert_eq!(
        v,
        "{0: nil, 1: true, 2: -128, 3: 32767, 4: -5, 5: -9223372036854775808, 6: 255, \
         7: 65535, 8: 4294967295, 9: 18446744073709551615, 10: 1.5, 11: 2, 12: \"hi\", \
         13: [0, 255], 14: [{0: 1}, {1: 2}], 15: 2, 16: {0: 3}, 17: nil, 18: {\"x\": [1]}}"
    );
}

#[test]
fn floats_are_floats_of_their_width() {
    let Value::Map(m) = conv(json!({"f32": 1, "f64": 2})).unwrap() else {
        panic!()
    };
    assert_eq!(m[0].1, Value::F32(1.0));
    assert_eq!(m[1].1, Value::F64(2.0));
}

#[test]
fn unions_groups_and_enum_numbers() {
    assert_eq!(
        ok(json!({"count": 3, "where": {"row": -1}, "label": {"code": 7}, "kind": 1})),
        "{20: 3, 22: {23: -1}, 24: {25: 7}, 15: 1}"
    );
    assert_eq!(ok(json!({"none": null})), "{21: nil}");
    assert_eq!(ok(json!({"f64": {"$float": "-inf"}})), "{11: -inf}");
    let e = err(json!({"weight": 1, "count": 2}));
    assert_eq!(
        e,
        "all: only one member of a union of All may be set, got weight, count"
    );
    let e = err(json!({"label": {"name": "a", "code": 1}}));
    assert!(
        e.starts_with("all.label: only one member of a union of All.label"),
        "{e}"
    );
}

#[test]
fn range_errors_name_the_place_and_type() {
    for (j, want) in [
        (json!({"i8": 128}), "all.i8: 128 is out of range for Int8"),
        (json!({"i8": -129}), "all.i8: -129 is out of range for Int8"),
        (json!({"u8": -1}), "all.u8: -1 is out of range for UInt8"),
        (
            json!({"u16": 65536}),
            "all.u16: 65536 is out of range for UInt16",
        ),
        (
            json!({"i32": 2147483648u64}),
            "all.i32: 2147483648 is out of range for Int32",
        ),
        (
            json!({"u32": 4294967296u64}),
            "all.u32: 4294967296 is out of range for UInt32",
        ),
        (
            json!({"i64": u64::MAX}),
            "all.i64: 18446744073709551615 is out of range for Int64",
        ),
        (json!({"u64": -1}), "all.u64: -1 is out of range for UInt64"),
        (
            json!({"f32": 1e39}),
            "all.f32: 1e+39 is out of range for Float32",
        ),
        (
            json!({"i16": 1.5}),
            "all.i16: expected Int16 (an integer), got number 1.5",
        ),
        (
            json!({"where": {"shelf": 256}}),
            "all.where.shelf: 256 is out of range for UInt8",
        ),
        (
            json!({"kind": 65536}),
            "all.kind: 65536 is out of range for an enum ordinal (UInt16)",
        ),
    ] {
        assert_eq!(err(j), want);
    }
}

#[test]
fn wrong_kinds_and_names_are_clear() {
    for (j, want) in [
        (json!({"b": 1}), "all.b: expected Bool, got number 1"),
        (json!({"v": 0}), "all.v: expected Void (null), got number 0"),
        (
            json!({"text": 5}),
            "all.text: expected Text (a string), got number 5",
        ),
        (
            json!({"data": "00ff"}),
            r#"all.data: expected Data ({"$bytes":"<hex>"}), got string "00ff""#,
        ),
        (
            json!({"data": {"$bytes": "0"}}),
            r#"all.data: "0" is not an even-length hex string"#,
        ),
        (
            json!({"list": {}}),
            "all.list: expected List(Size) (an array), got object {}",
        ),
        (
            json!({"list": [{"depth": 1}]}),
            "all.list[0]: struct Size has no field \"depth\"; its fields: width, height",
        ),
        (
            json!({"size": [1]}),
            "all.size: expected Size (an object keyed by field names), got array [1]",
        ),
        (
            json!({"kind": "drink"}),
            "all.kind: \"drink\" is not an enumerant of Kind; its enumerants: tool, toy, food",
        ),
        (
            json!({"kind": true}),
            "all.kind: expected Kind (an enumerant name), got bool true",
        ),
        (
            json!({"cap": {}}),
            "all.cap: Svc is an interface; capabilities cannot be passed from the command line (only null)",
        ),
        (
            json!({"zzz": 1}),
            "all: struct All has no field \"zzz\"; its fields: v, b, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, text, data, list, kind, size, cap, any, weight, count, none, where, label",
        ),
    ] {
        assert_eq!(err(j), want);
    }
}

#[test]
fn null_struct_and_list_are_nil() {
    let set = set();
    let t = ToValue::new(View::new(&set));
    assert_eq!(
        t.group(&Json::Null, all_id(&set), &Bindings::new(), "x")
            .unwrap(),
        Value::Nil
    );
    let list = Type::List(Box::new(Type::Text));
    assert_eq!(
        t.value(&Json::Null, &list, &Bindings::new(), "x").unwrap(),
        Value::Nil
    );
}

#[test]
fn generic_parameters_take_their_bound_types() {
    let set = set();
    let view = View::new(&set);
    let gen_ty = Type::Struct {
        type_id: view.declaration("Gen").unwrap().id,
        brand: Default::default(),
    };
    let input = json!({
        "pair": {"first": {"width": 1}, "second": ["toy"]},
        "open": {"first": "as is", "second": {"k": 1}},
        "wrap": {"p": {"first": ["food", "tool"], "second": "t"}},
    });
    let b = Bindings::new();
    let value = ToValue::new(view)
        .value(&input, &gen_ty, &b, "gen")
        .unwrap();
    assert_eq!(
        value.to_string(),
        "{0: {0: {0: 1}, 1: [1]}, 1: {0: \"as is\", 1: {\"k\": 1}}, 2: {0: {0: [2, 0], 1: \"t\"}}}"
    );
    let mut from = crate::cmd::call::from_value::FromValue::new(view);
    assert_eq!(from.value(&value, &gen_ty, &b, "gen"), input);
    let e = ToValue::new(view)
        .value(
            &json!({"wrap": {"p": {"first": ["drink"]}}}),
            &gen_ty,
            &b,
            "gen",
        )
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "gen.wrap.p.first[0]: \"drink\" is not an enumerant of Kind; its enumerants: tool, toy, food"
    );
}
