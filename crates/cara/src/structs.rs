//! Helpers for generated struct, union and enum codecs.

use pseud::Value;

use crate::error::DecodeError;

/// A struct as cara sends it: a map keyed by field ordinal.
pub fn struct_map(fields: Vec<(u16, Value)>) -> Value {
    Value::Map(
        fields
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect(),
    )
}

/// Several results of a method as cara sends them: a map keyed by result name
/// (what the original cara reads; [`struct_fields`] takes names and ordinals).
pub fn named_map(fields: Vec<(&'static str, Value)>) -> Value {
    Value::Map(
        fields
            .into_iter()
            .map(|(k, v)| (Value::from(k), v))
            .collect(),
    )
}

/// The fields present in a received struct, as (position in `fields`, value).
///
/// `fields` lists each field's wire key (its ordinal; for a group, the smallest
/// ordinal inside it) and name. Keys may arrive as ordinals or names; unknown keys
/// are dropped, which keeps schema evolution safe.
pub fn struct_fields(
    value: Value,
    type_name: &str,
    fields: &[(u16, &str)],
) -> Result<Vec<(usize, Value)>, DecodeError> {
    let pairs = match value {
        Value::Map(pairs) => pairs,
        // A null struct pointer reads as the default struct.
        Value::Nil => return Ok(Vec::new()),
        other => return Err(DecodeError::expected(type_name, &other)),
    };
    Ok(pairs
        .into_iter()
        .filter_map(|(key, value)| {
            let position = match &key {
                Value::Integer(i) => {
                    let k = i.as_u64()?;
                    fields.iter().position(|(o, _)| u64::from(*o) == k)
                }
                Value::String(s) => {
                    let s = s.as_str()?;
                    fields.iter().position(|(_, n)| *n == s)
                }
                _ => None,
            }?;
            Some((position, value))
        })
        .collect())
}

/// A struct's field values in `keys` order (absent ones nil): how a user-struct
/// parameter list travels as positional arguments.
pub fn explode(value: Value, keys: &[u16]) -> Vec<Value> {
    let mut pairs = match value {
        Value::Map(pairs) => pairs,
        _ => Vec::new(),
    };
    keys.iter()
        .map(|k| {
            pairs
                .iter()
                .position(|(key, _)| key.as_u64() == Some(u64::from(*k)))
                .map(|i| pairs.swap_remove(i).1)
                .unwrap_or(Value::Nil)
        })
        .collect()
}

/// The inverse of [`explode`]: positional values back into a struct map.
pub fn implode(values: Vec<Value>, keys: &[u16]) -> Value {
    Value::Map(
        keys.iter()
            .zip(values)
            .filter(|(_, v)| !v.is_nil())
            .map(|(k, v)| (Value::from(*k), v))
            .collect(),
    )
}

/// An enumerant from its ordinal or its name.
pub fn enum_ordinal(value: &Value, type_name: &str, names: &[&str]) -> Result<u16, DecodeError> {
    match value {
        Value::Integer(i) => i
            .as_u64()
            .and_then(|i| u16::try_from(i).ok())
            .ok_or_else(|| DecodeError::new(format!("{value} is not an enumerant of {type_name}"))),
        Value::String(s) => s
            .as_str()
            .and_then(|s| names.iter().position(|n| *n == s))
            .and_then(|i| u16::try_from(i).ok())
            .ok_or_else(|| DecodeError::new(format!("{value} is not an enumerant of {type_name}"))),
        other => Err(DecodeError::expected(type_name, other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_indexes_and_unknown_keys_are_dropped() {
        let v = Value::Map(vec![
            (Value::from("b"), Value::from(2)),
            (Value::from(0), Value::from(1)),
            (Value::from("zzz"), Value::from(3)),
            (Value::from(9), Value::from(4)),
        ]);
        let fields = struct_fields(v, "T", &[(0, "a"), (1, "b")]).unwrap();
        assert_eq!(fields, vec![(1, Value::from(2)), (0, Value::from(1))]);
    }

    #[test]
    fn golden_bytes_of_a_struct_keyed_by_ordinal() {
        // cara's example: {field: "x"} at ordinal 0 packs as 81 00 a1 78.
        let v = struct_map(vec![(0, Value::from("x"))]);
        let mut bytes = Vec::new();
        pseud::value::write_value(&mut bytes, &v);
        assert_eq!(bytes, [0x81, 0x00, 0xa1, 0x78]);
    }
}
