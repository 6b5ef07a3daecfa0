//! cara values → JSON for people, guided by the schema types: ordinals become field
//! names, enum ordinals become enumerant names, floats stay floats.
//!
//! A value that does not fit its type is printed in the `pseud::json` form, and a
//! warning says where; nothing the server sent is dropped. Struct keys the schema
//! does not know are printed as `"@<ordinal>"`.

use cara::Value;
use cara::pseud::json::to_json;
use cara_schema::{Field, FieldKind, NodeKind, Type};
use serde_json::{Map, Number, Value as Json, json};

use crate::cmd::view::{Bindings, FlatMethod, View, qualified};

/// Converts reply values to JSON for one schema, collecting warnings.
#[derive(Debug)]
pub struct FromValue<'a> {
    view: View<'a>,
    warnings: Vec<String>,
}

impl<'a> FromValue<'a> {
    /// A converter reading types from `view`.
    pub fn new(view: View<'a>) -> Self {
        FromValue {
            view,
            warnings: Vec::new(),
        }
    }

    /// What did not fit its type, one line each.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// A method's reply: `null` for no results, the value itself for one result,
    /// an object keyed by result name for several, the struct for a struct result.
    pub fn results(&mut self, value: &Value, method: &FlatMethod<'_>) -> Json {
        let id = method.method.result_struct_type;
        let Some((node, s)) = self.view.struct_node(id) else {
            return self.unfit(value, "results", "the method's results");
        };
        let b = &self
            .view
            .enter(&method.method.result_brand, &Bindings::new());
        if node.scope_id != 0 {
            return self.strukt(value, id, b, "result");
        }
        match s.fields.as_slice() {
            [] if value.is_nil() => Json::Null,
            [] => self.unfit(value, "result", "no results (nil)"),
            [single] if single.discriminant_value == cara_schema::NO_DISCRIMINANT => {
                self.field(value, single, b, &single.name)
            }
            _ => self.strukt(value, id, b, "results"),
        }
    }

    /// A struct field's value; `b` are the generic bindings of its struct.
    pub fn field(&mut self, value: &Value, field: &Field, b: &Bindings, at: &str) -> Json {
        match &field.kind {
            FieldKind::Slot { ty, .. } => self.value(value, ty, b, at),
            FieldKind::Group { type_id } => self.strukt(value, *type_id, b, at),
        }
    }

    fn unfit(&mut self, value: &Value, at: &str, expected: &str) -> Json {
        self.warnings.push(format!(
            "{at}: expected {expected}, got {} {value}; printed as is",
            cara::pseud::value::kind(value)
        ));
        to_json(value)
    }

    /// A value of type `ty`, generic parameters bound by `b`.
    pub fn value(&mut self, value: &Value, ty: &Type, b: &Bindings, at: &str) -> Json {
        match (self.view.resolve(ty, b), value) {
            (Type::Void, _) => Json::Null,
            (Type::Bool, Value::Boolean(b)) => Json::Bool(*b),
            (
                Type::Int8
                | Type::Int16
                | Type::Int32
                | Type::Int64
                | Type::Uint8
                | Type::Uint16
                | Type::Uint32
                | Type::Uint64,
                Value::Integer(_),
            ) => to_json(value),
            (Type::Float32 | Type::Float64, Value::F32(f)) => {
                // The shortest text of the f32 (0.1, not 0.10000000149011612).
                float(f.to_string().parse().unwrap_or(f64::from(*f)))
            }
            (Type::Float32 | Type::Float64, Value::F64(f)) => float(*f),
            (Type::Float32 | Type::Float64, Value::Integer(i)) => {
                float(i.as_f64().unwrap_or(f64::NAN))
            }
            (Type::Text, Value::String(s)) if s.as_str().is_some() => to_json(value),
            (Type::Data, Value::Binary(_)) => to_json(value),
            (Type::Data, Value::String(s)) => to_json(&Value::Binary(s.as_bytes().to_vec())),
            (Type::List(_), Value::Nil) => Json::Array(Vec::new()),
            (Type::List(inner), Value::Array(items)) => Json::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.value(item, inner, b, &format!("{at}[{i}]")))
                    .collect(),
            ),
            (Type::Enum { type_id, .. }, Value::Integer(i)) => {
                let name = match self.view.node(*type_id).map(|n| &n.kind) {
                    Some(NodeKind::Enum(es)) => i
                        .as_u64()
                        .and_then(|i| usize::try_from(i).ok())
                        .and_then(|i| es.get(i))
                        .map(|e| e.name.clone()),
                    _ => None,
                };
                // An ordinal this schema does not know stays a number.
                name.map_or_else(|| to_json(value), Json::String)
            }
            (Type::Enum { .. }, Value::String(s)) if s.as_str().is_some() => to_json(value),
            (Type::Struct { type_id, brand }, _) => {
                let inner = self.view.enter(brand, b);
                self.strukt(value, *type_id, &inner, at)
            }
            (Type::Interface { .. }, Value::Nil) => Json::Null,
            (Type::Interface { type_id, .. }, Value::Ext(100 | 101, _)) => {
                let name = self
                    .view
                    .node(*type_id)
                    .map_or_else(|| format!("{type_id:#x}"), |n| qualified(n).to_string());
                json!({ "$capability": name })
            }
            (Type::AnyPointer(_), _) => to_json(value),
            (ty, _) => {
                let expected = self.view.type_name(ty, &[]);
                self.unfit(value, at, &expected)
            }
        }
    }

    /// A struct (or group): a map keyed by ordinal or name, printed keyed by name
    /// in schema order.
    fn strukt(&mut self, value: &Value, type_id: u64, b: &Bindings, at: &str) -> Json {
        let Some((node, s)) = self.view.struct_node(type_id) else {
            return self.unfit(value, at, &format!("struct {type_id:#x}"));
        };
        let pairs = match value {
            Value::Nil => return Json::Null,
            Value::Map(pairs) => pairs,
            _ => return self.unfit(value, at, qualified(node)),
        };
        let mut known: Vec<(usize, &Value)> = Vec::new();
        let mut unknown: Vec<(String, Json)> = Vec::new();
        for (key, v) in pairs {
            let position = match key {
                Value::Integer(i) => i.as_u64().and_then(|k| {
                    s.fields
                        .iter()
                        .position(|f| u64::from(self.view.field_key(f)) == k)
                }),
                Value::String(name) => name
                    .as_str()
                    .and_then(|name| s.fields.iter().position(|f| f.name == name)),
                _ => None,
            };
            match position {
                Some(p) => known.push((p, v)),
                None => {
                    let key = match key {
                        Value::Integer(i) => format!("@{i}"),
                        Value::String(s) => s.as_str().unwrap_or_default().to_string(),
                        other => other.to_string(),
                    };
                    unknown.push((key, to_json(v)));
                }
            }
        }
        known.sort_by_key(|(p, _)| *p);
        let mut out = Map::new();
        for (p, v) in known {
            let field = &s.fields[p];
            let inner = format!("{at}.{}", field.name);
            let json = self.field(v, field, b, &inner);
            out.insert(field.name.clone(), json);
        }
        for (k, v) in unknown {
            out.insert(k, v);
        }
        Json::Object(out)
    }
}

fn float(f: f64) -> Json {
    match Number::from_f64(f) {
        Some(n) => Json::Number(n),
        None => to_json(&Value::F64(f)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cmd::call::to_value::ToValue;
    use crate::cmd::view::tests::{SRC, set};

    fn all(set: &cara_schema::SchemaSet) -> Type {
        Type::Struct {
            type_id: View::new(set).declaration("All").unwrap().id,
            brand: Default::default(),
        }
    }

    #[test]
    fn every_type_round_trips_through_the_schema() {
        let set = set();
        let view = View::new(&set);
        let input = json!({
            "v": null, "b": true, "i8": -128, "i16": 32767, "i32": -5, "i64": i64::MIN,
            "u8": 255, "u16": 65535, "u32": 4294967295u64, "u64": u64::MAX,
            "f32": 0.1, "f64": 2.0, "text": "hi", "data": {"$bytes": "00ff"},
            "list": [{"width": 1}, {"height": 2}], "kind": "food", "size": {"width": 3},
            "cap": null, "any": {"x": [1]}, "count": 3, "where": {"shelf": 1, "row": -1},
            "label": {"name": "n"},
        });
        let ty = all(&set);
        let value = ToValue::new(view)
            .value(&input, &ty, &Bindings::new(), "all")
            .unwrap();
        let mut from = FromValue::new(view);
        let back = from.value(&value, &ty, &Bindings::new(), "all");
        assert_eq!(back, input);
        assert!(from.warnings().is_empty(), "{:?}", from.warnings());
        // Schema order, whatever order the keys came in; floats stay floats.
        assert_eq!(
            back.to_string(),
            r#"{"v":null,"b":true,"i8":-128,"i16":32767,"i32":-5,"i64":-9223372036854775808,"u8":255,"u16":65535,"u32":4294967295,"u64":18446744073709551615,"f32":0.1,"f64":2.0,"text":"hi","data":{"$bytes":"00ff"},"list":[{"width":1},{"height":2}],"kind":"food","size":{"width":3},"cap":null,"any":{"x":[1]},"count":3,"where":{"shelf":1,"row":-1},"label":{"name":"n"}}"#
        );
    }

    #[test]
    fn names_capabilities_unknown_keys_and_misfits() {
        let set = set();
        let view = View::new(&set);
        let mut from = FromValue::new(view);
        let value = Value::Map(vec![
            ("kind".into(), Value::from(7)),
            (Value::from(17), Value::Ext(100, vec![1])),
            (Value::from(99), Value::from("new")),
            (Value::from(12), Value::from(5)),
            (Value::from(11), Value::from(7)),
            (Value::from(14), Value::Nil),
        ]);
        let json = from.value(&value, &all(&set), &Bindings::new(), "r");
        assert_eq!(
            json.to_string(),
            r#"{"f64":7.0,"text":5,"list":[],"kind":7,"cap":{"$capability":"Svc"},"@99":"new"}"#
        );
        assert_eq!(
            from.warnings(),
            ["r.text: expected Text, got int 5; printed as is"]
        );
        assert!(SRC.contains("cap @17 :Svc"));
    }

    #[test]
    fn results_single_several_struct_and_none() {
        let src = "@0xd1a3c8f2b4e63103;\n\
            struct P { x @0 :Float64; }\n\
            interface I {\n\
              one @0 () -> (r :Int32);\n\
              two @1 () -> (q :Float64, r :Float64);\n\
              st @2 () -> P;\n\
              none @3 ();\n\
            }\n";
        let set = cara_schema::Compiler::new()
            .compile_sources(&[("i.capnp", src)])
            .unwrap();
        let view = View::new(&set);
        let method = |m: &str| view.target(&format!("I.{m}")).unwrap().1;
        let mut from = FromValue::new(view);
        assert_eq!(from.results(&Value::from(3), &method("one")), json!(3));
        let named = Value::Map(vec![("r".into(), 1.into()), ("q".into(), Value::F64(3.0))]);
        assert_eq!(
            from.results(&named, &method("two")).to_string(),
            r#"{"q":3.0,"r":1.0}"#
        );
        let st = Value::Map(vec![(0.into(), Value::F64(0.5))]);
        assert_eq!(from.results(&st, &method("st")), json!({"x": 0.5}));
        assert_eq!(from.results(&Value::Nil, &method("none")), Json::Null);
        assert!(from.warnings().is_empty());
    }
}
