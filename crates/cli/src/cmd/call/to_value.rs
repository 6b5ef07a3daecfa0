//! JSON arguments → cara values, guided by the schema types: field names become
//! ordinals, enumerants become ordinals, numbers are range-checked.
//!
//! | Schema type | JSON accepted |
//! |---|---|
//! | `Void` | `null` |
//! | `Bool` | `true` / `false` |
//! | `Int8` … `UInt64` | an integer in the type's range |
//! | `Float32`, `Float64` | a number (`Float32`: within its range), or `{"$float":"nan"\|"inf"\|"-inf"}` |
//! | `Text` | a string |
//! | `Data` | `{"$bytes":"<hex>"}` |
//! | `List(T)` | an array (or `null`) |
//! | enum | an enumerant name, or its ordinal |
//! | struct | an object keyed by field names (or `null`); a group or named union by its name |
//! | interface | `null` only (a null capability) |
//! | a generic parameter | as the type its brand binds it to |
//! | `AnyPointer`, unbound generic parameters | the `pseud::json` form, as is |

use cara::Value;
use cara_schema::{Field, FieldKind, NO_DISCRIMINANT, NodeKind, Type};
use serde_json::Value as Json;

use crate::cmd::view::{Bindings, View, qualified};

/// JSON that does not fit the parameter types.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    /// The JSON is of another kind than the type wants.
    #[error("{at}: expected {expected}, got {got}")]
    Mismatch {
        /// Where (`item.tags[2]`).
        at: String,
        /// The schema type, with a hint at its JSON form.
        expected: String,
        /// The JSON given.
        got: String,
    },
    /// A number outside the type's range.
    #[error("{at}: {value} is out of range for {ty}")]
    Range {
        /// Where.
        at: String,
        /// The number given.
        value: String,
        /// The schema type.
        ty: &'static str,
    },
    /// An object key that is not a field of the struct.
    #[error("{at}: struct {strukt} has no field {name:?}; its fields: {fields}")]
    UnknownField {
        /// Where.
        at: String,
        /// The struct's full name.
        strukt: String,
        /// The key given.
        name: String,
        /// Its field names.
        fields: String,
    },
    /// A name that is not an enumerant.
    #[error("{at}: {name:?} is not an enumerant of {en}; its enumerants: {names}")]
    UnknownEnumerant {
        /// Where.
        at: String,
        /// The enum's full name.
        en: String,
        /// The name given.
        name: String,
        /// Its enumerants.
        names: String,
    },
    /// Two members of one union set.
    #[error("{at}: only one member of a union of {strukt} may be set, got {members}")]
    UnionMembers {
        /// Where.
        at: String,
        /// The struct's full name.
        strukt: String,
        /// The members given.
        members: String,
    },
    /// A capability argument.
    #[error(
        "{at}: {iface} is an interface; capabilities cannot be passed from the command line (only null)"
    )]
    Capability {
        /// Where.
        at: String,
        /// The interface's full name.
        iface: String,
    },
    /// A malformed tagged form (`{"$bytes":"0"}`).
    #[error("{at}: {reason}")]
    Malformed {
        /// Where.
        at: String,
        /// What is wrong.
        reason: String,
    },
    /// The schema refers to a node it does not hold.
    #[error("{at}: the schema has no node {id:#x}")]
    MissingNode {
        /// Where.
        at: String,
        /// The id.
        id: u64,
    },
}

/// A short description of a JSON value for error messages: its kind and text.
pub fn describe(json: &Json) -> String {
    let kind = match json {
        Json::Null => return "null".into(),
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    };
    let mut text = json.to_string();
    if text.len() > 60 {
        let cut = (0..=57)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text.truncate(cut);
        text.push_str("...");
    }
    format!("{kind} {text}")
}

/// Converts JSON to cara values for one schema.
#[derive(Debug, Clone, Copy)]
pub struct ToValue<'a> {
    view: View<'a>,
}

impl<'a> ToValue<'a> {
    /// A converter reading types from `view`.
    pub fn new(view: View<'a>) -> Self {
        ToValue { view }
    }

    /// The value of a struct field (or parameter) from JSON.
    /// `bindings` are the generic bindings of the struct that holds it.
    pub fn field(
        &self,
        json: &Json,
        field: &Field,
        bindings: &Bindings,
        at: &str,
    ) -> Result<Value, ConvertError> {
        match &field.kind {
            FieldKind::Slot { ty, .. } => self.value(json, ty, bindings, at),
            // A group reads its fields in the bindings of its struct.
            FieldKind::Group { type_id } => self.group(json, *type_id, bindings, at),
        }
    }

    /// A value of type `ty` from JSON, generic parameters bound by `bindings`.
    pub fn value(
        &self,
        json: &Json,
        ty: &Type,
        bindings: &Bindings,
        at: &str,
    ) -> Result<Value, ConvertError> {
        let ty = self.view.resolve(ty, bindings);
        let mismatch = |expected: &str| ConvertError::Mismatch {
            at: at.to_string(),
            expected: expected.to_string(),
            got: describe(json),
        };
        Ok(match ty {
            Type::Void => match json {
                Json::Null => Value::Nil,
                _ => return Err(mismatch("Void (null)")),
            },
            Type::Bool => match json {
                Json::Bool(b) => Value::Boolean(*b),
                _ => return Err(mismatch("Bool")),
            },
            Type::Int8 => int(json, at, "Int8", i8::MIN.into(), i8::MAX.into())?,
            Type::Int16 => int(json, at, "Int16", i16::MIN.into(), i16::MAX.into())?,
            Type::Int32 => int(json, at, "Int32", i32::MIN.into(), i32::MAX.into())?,
            Type::Int64 => int(json, at, "Int64", i64::MIN.into(), i64::MAX.into())?,
            Type::Uint8 => int(json, at, "UInt8", 0, u8::MAX.into())?,
            Type::Uint16 => int(json, at, "UInt16", 0, u16::MAX.into())?,
            Type::Uint32 => int(json, at, "UInt32", 0, u32::MAX.into())?,
            Type::Uint64 => int(json, at, "UInt64", 0, u64::MAX.into())?,
            Type::Float32 => {
                let f = float(json).ok_or_else(|| mismatch("Float32"))?;
                if f.is_finite() && f.abs() > f64::from(f32::MAX) {
                    return Err(ConvertError::Range {
                        at: at.to_string(),
                        value: json.to_string(),
                        ty: "Float32",
                    });
                }
                Value::F32(f as f32)
            }
            Type::Float64 => Value::F64(float(json).ok_or_else(|| mismatch("Float64"))?),
            Type::Text => match json {
                Json::String(s) => Value::from(s.as_str()),
                _ => return Err(mismatch("Text (a string)")),
            },
            Type::Data => match json {
                Json::Object(o) if o.len() == 1 && o.contains_key("$bytes") => {
                    cara::pseud::json::from_json(json).map_err(|e| ConvertError::Malformed {
                        at: at.to_string(),
                        reason: e.to_string(),
                    })?
                }
                _ => return Err(mismatch(r#"Data ({"$bytes":"<hex>"})"#)),
            },
            Type::List(inner) => match json {
                Json::Null => Value::Nil,
                Json::Array(items) => Value::Array(
                    items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| self.value(item, inner, bindings, &format!("{at}[{i}]")))
                        .collect::<Result<_, _>>()?,
                ),
                _ => return Err(mismatch(&format!("{} (an array)", self.name(ty)))),
            },
            Type::Enum { type_id, .. } => self.enumerant(json, *type_id, at)?,
            Type::Struct { type_id, brand } => {
                self.group(json, *type_id, &self.view.enter(brand, bindings), at)?
            }
            Type::Interface { type_id, .. } => match json {
                Json::Null => Value::Nil,
                _ => {
                    return Err(ConvertError::Capability {
                        at: at.to_string(),
                        iface: self
                            .view
                            .node(*type_id)
                            .map_or_else(|| format!("{type_id:#x}"), |n| qualified(n).into()),
                    });
                }
            },
            Type::AnyPointer(_) => {
                cara::pseud::json::from_json(json).map_err(|e| ConvertError::Malformed {
                    at: at.to_string(),
                    reason: e.to_string(),
                })?
            }
        })
    }

    fn name(&self, ty: &Type) -> String {
        self.view.type_name(ty, &[])
    }

    fn enumerant(&self, json: &Json, type_id: u64, at: &str) -> Result<Value, ConvertError> {
        let node = self.view.node(type_id).ok_or(ConvertError::MissingNode {
            at: at.to_string(),
            id: type_id,
        })?;
        let NodeKind::Enum(enumerants) = &node.kind else {
            return Err(ConvertError::MissingNode {
                at: at.to_string(),
                id: type_id,
            });
        };
        match json {
            Json::String(s) => match enumerants.iter().position(|e| &e.name == s) {
                Some(i) => Ok(Value::from(i as u64)),
                None => Err(ConvertError::UnknownEnumerant {
                    at: at.to_string(),
                    en: qualified(node).to_string(),
                    name: s.clone(),
                    names: names(enumerants.iter().map(|e| e.name.as_str())),
                }),
            },
            Json::Number(_) => int(json, at, "an enum ordinal (UInt16)", 0, u16::MAX.into()),
            _ => Err(ConvertError::Mismatch {
                at: at.to_string(),
                expected: format!("{} (an enumerant name)", qualified(node)),
                got: describe(json),
            }),
        }
    }

    /// A struct (or group) from a JSON object keyed by field names: a map keyed by
    /// ordinal (groups under their smallest ordinal), one member per union.
    /// `bindings` are the struct's own generic bindings.
    pub fn group(
        &self,
        json: &Json,
        type_id: u64,
        bindings: &Bindings,
        at: &str,
    ) -> Result<Value, ConvertError> {
        let (node, s) = self
            .view
            .struct_node(type_id)
            .ok_or(ConvertError::MissingNode {
                at: at.to_string(),
                id: type_id,
            })?;
        let object = match json {
            Json::Null => return Ok(Value::Nil),
            Json::Object(object) => object,
            _ => {
                return Err(ConvertError::Mismatch {
                    at: at.to_string(),
                    expected: format!("{} (an object keyed by field names)", qualified(node)),
                    got: describe(json),
                });
            }
        };
        let mut members = Vec::new();
        let mut entries = Vec::new();
        for (key, value) in object {
            let Some(field) = s.fields.iter().find(|f| &f.name == key) else {
                return Err(ConvertError::UnknownField {
                    at: at.to_string(),
                    strukt: qualified(node).to_string(),
                    name: key.clone(),
                    fields: names(s.fields.iter().map(|f| f.name.as_str())),
                });
            };
            if field.discriminant_value != NO_DISCRIMINANT {
                members.push(key.as_str());
            }
            let inner = format!("{at}.{key}");
            entries.push((
                Value::from(self.view.field_key(field)),
                self.field(value, field, bindings, &inner)?,
            ));
        }
        if members.len() > 1 {
            return Err(ConvertError::UnionMembers {
                at: at.to_string(),
                strukt: qualified(node).to_string(),
                members: members.join(", "),
            });
        }
        Ok(Value::Map(entries))
    }
}

fn names<'s>(items: impl Iterator<Item = &'s str>) -> String {
    let all: Vec<&str> = items.collect();
    if all.is_empty() {
        "none".into()
    } else {
        all.join(", ")
    }
}

fn int(
    json: &Json,
    at: &str,
    ty: &'static str,
    min: i128,
    max: i128,
) -> Result<Value, ConvertError> {
    let Json::Number(n) = json else {
        return Err(ConvertError::Mismatch {
            at: at.to_string(),
            expected: ty.to_string(),
            got: describe(json),
        });
    };
    let value = match (n.as_i64(), n.as_u64()) {
        (_, Some(u)) => i128::from(u),
        (Some(i), None) => i128::from(i),
        (None, None) => {
            return Err(ConvertError::Mismatch {
                at: at.to_string(),
                expected: format!("{ty} (an integer)"),
                got: describe(json),
            });
        }
    };
    if value < min || value > max {
        return Err(ConvertError::Range {
            at: at.to_string(),
            value: n.to_string(),
            ty,
        });
    }
    Ok(match u64::try_from(value) {
        Ok(u) => Value::from(u),
        Err(_) => Value::from(i64::try_from(value).unwrap_or(i64::MIN)),
    })
}

/// A number, or a `{"$float": …}` non-finite value.
fn float(json: &Json) -> Option<f64> {
    match json {
        Json::Number(n) => n.as_f64(),
        Json::Object(o) if o.len() == 1 => match o.get("$float")?.as_str()? {
            "nan" => Some(f64::NAN),
            "inf" => Some(f64::INFINITY),
            "-inf" => Some(f64::NEG_INFINITY),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
#[path = "to_value_tests.rs"]
mod tests;
