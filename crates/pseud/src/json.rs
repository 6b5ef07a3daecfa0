//! The JSON form of msgpack values used by the command-line tools and tests.
//!
//! | msgpack | JSON |
//! |---|---|
//! | nil, bool, int, str, array | `null`, `true`/`false`, number, string, array |
//! | float | number (non-finite: `{"$float":"nan"\|"inf"\|"-inf"}`) |
//! | bin | `{"$bytes":"<lowercase hex>"}` |
//! | map whose keys are all str, none twice | object |
//! | any other map | `{"$map":[[k,v],...]}` |
//! | ext | `{"$ext":[code,"<lowercase hex>"]}` |
//!
//! The tagged forms are recognised on input only as one-key objects; a str map
//! with one such key is written as `$map`, so maps round-trip. JSON has one number
//! type, so a float32 comes back as float64, and a str that is not valid UTF-8
//! comes back as bin.

use serde_json::{Map, Number, Value as Json, json};

use crate::protocol::hex;
use crate::value::Value;

const TAGS: [&str; 4] = ["$bytes", "$map", "$ext", "$float"];

/// msgpack → JSON.
pub fn to_json(value: &Value) -> Json {
    match value {
        Value::Nil => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(i) => {
            if let Some(u) = i.as_u64() {
                Json::Number(u.into())
            } else {
                Json::Number(i.as_i64().unwrap_or_default().into())
            }
        }
        Value::F32(f) => float(f64::from(*f)),
        Value::F64(f) => float(*f),
        Value::String(s) => match s.as_str() {
            Some(s) => Json::String(s.to_string()),
            None => json!({"$bytes": hex(s.as_bytes())}),
        },
        Value::Binary(b) => json!({"$bytes": hex(b)}),
        Value::Array(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(pairs) => {
            let all_str = pairs.iter().all(|(k, _)| k.as_str().is_some());
            let tagged = pairs.len() == 1 && pairs[0].0.as_str().is_some_and(|k| TAGS.contains(&k));
            // An object keeps one value per key: a map that repeats a key is a $map.
            let mut keys = std::collections::HashSet::new();
            let distinct = pairs.iter().all(|(k, _)| keys.insert(k.as_str()));
            if all_str && !tagged && distinct {
                let mut object = Map::new();
                for (k, v) in pairs {
                    object.insert(k.as_str().unwrap_or_default().to_string(), to_json(v));
                }
                Json::Object(object)
            } else {
                let pairs: Vec<Json> = pairs
                    .iter()
                    .map(|(k, v)| Json::Array(vec![to_json(k), to_json(v)]))
                    .collect();
                json!({ "$map": pairs })
            }
        }
        Value::Ext(code, data) => json!({"$ext": [code, hex(data)]}),
    }
}

fn float(f: f64) -> Json {
    match Number::from_f64(f) {
        Some(n) => Json::Number(n),
        None if f.is_nan() => json!({"$float": "nan"}),
        None if f > 0.0 => json!({"$float": "inf"}),
        None => json!({"$float": "-inf"}),
    }
}

/// JSON that is not a value of the form above; the message says what is malformed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct JsonError(String);

/// JSON → msgpack, or what is malformed.
pub fn from_json(json: &Json) -> Result<Value, JsonError> {
    value(json).map_err(JsonError)
}

fn value(json: &Json) -> Result<Value, String> {
    Ok(match json {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Boolean(*b),
        Json::Number(n) => {
            if let Some(u) = n.as_u64() {
                Value::from(u)
            } else if let Some(i) = n.as_i64() {
                Value::from(i)
            } else {
                Value::F64(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Json::String(s) => Value::from(s.as_str()),
        Json::Array(items) => Value::Array(items.iter().map(value).collect::<Result<_, _>>()?),
        Json::Object(object) => {
            if object.len() == 1
                && let Some((tag, inner)) = object.iter().next()
                && TAGS.contains(&tag.as_str())
            {
                return tagged(tag, inner);
            }
            Value::Map(
                object
                    .iter()
                    .map(|(k, v)| Ok((Value::from(k.as_str()), value(v)?)))
                    .collect::<Result<_, String>>()?,
            )
        }
    })
}

fn tagged(tag: &str, inner: &Json) -> Result<Value, String> {
    match (tag, inner) {
        ("$bytes", Json::String(h)) => Ok(Value::Binary(unhex(h)?)),
        ("$map", Json::Array(pairs)) => Ok(Value::Map(
            pairs
                .iter()
                .map(|pair| match pair {
                    Json::Array(kv) if kv.len() == 2 => Ok((value(&kv[0])?, value(&kv[1])?)),
                    _ => Err("a $map entry must be a [key, value] pair".to_string()),
                })
                .collect::<Result<_, _>>()?,
        )),
        ("$ext", Json::Array(parts)) if parts.len() == 2 => {
            let code = parts[0]
                .as_i64()
                .and_then(|c| i8::try_from(c).ok())
                .ok_or("an $ext code must be an integer from -128 to 127")?;
            let data = parts[1].as_str().ok_or("$ext data must be a hex string")?;
            Ok(Value::Ext(code, unhex(data)?))
        }
        ("$float", Json::String(s)) => match s.as_str() {
            "nan" => Ok(Value::F64(f64::NAN)),
            "inf" => Ok(Value::F64(f64::INFINITY)),
            "-inf" => Ok(Value::F64(f64::NEG_INFINITY)),
            other => Err(format!("unknown $float {other:?}")),
        },
        (tag, _) => Err(format!("malformed {tag} value")),
    }
}

fn unhex(h: &str) -> Result<Vec<u8>, String> {
    if !h.len().is_multiple_of(2) || !h.is_ascii() {
        return Err(format!("{h:?} is not an even-length hex string"));
    }
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).map_err(|_| format!("{h:?} is not hex")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips() {
        let v = Value::Array(vec![
            Value::Nil,
            true.into(),
            (-3).into(),
            u64::MAX.into(),
            Value::F64(1.5),
            "héllo".into(),
            Value::Binary(vec![0, 255]),
            Value::Map(vec![(1.into(), "intkey".into())]),
            Value::Map(vec![("a".into(), 1.into())]),
            Value::Map(vec![("$bytes".into(), 1.into())]),
            Value::Ext(125, vec![1, 2]),
            Value::F64(f64::INFINITY),
        ]);
        let j = to_json(&v);
        assert_eq!(
            j.to_string(),
            r#"[null,true,-3,18446744073709551615,1.5,"héllo",{"$bytes":"00ff"},{"$map":[[1,"intkey"]]},{"a":1},{"$map":[["$bytes",1]]},{"$ext":[125,"0102"]},{"$float":"inf"}]"#
        );
        assert_eq!(from_json(&j).unwrap(), v);
    }

    /// Fuzzing found it (value::fuzz::msgpack): an object kept the last of two
    /// equal keys, so the map did not round-trip.
    #[test]
    fn repeated_keys_survive_as_a_map() {
        let v = Value::Map(vec![("a".into(), 1.into()), ("a".into(), 2.into())]);
        let j = to_json(&v);
        assert_eq!(j.to_string(), r#"{"$map":[["a",1],["a",2]]}"#);
        assert_eq!(from_json(&j).unwrap(), v);
    }

    #[test]
    fn malformed_tags_are_errors() {
        for bad in [
            r#"{"$bytes":"0"}"#,
            r#"{"$bytes":"zz"}"#,
            r#"{"$map":[1]}"#,
            r#"{"$ext":[300,"00"]}"#,
        ] {
            let j: Json = serde_json::from_str(bad).unwrap();
            assert!(from_json(&j).is_err(), "{bad}");
        }
    }
}
