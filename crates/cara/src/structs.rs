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

/// The fields present in a received struct, as (field index, value), with names
/// mapped to indexes through `names` and unknown keys dropped (schema evolution).
pub fn struct_fields(
    value: Value,
    type_name: &str,
    names: &[&str],
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
            let index = match &key {
                Value::Integer(i) => i.as_u64().and_then(|i| usize::try_from(i).ok()),
                Value::String(s) => s.as_str().and_then(|s| names.iter().position(|n| *n == s)),
                _ => None,
            }?;
            (index < names.len()).then_some((index, value))
        })
        .collect())
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
        let fields = struct_fields(v, "T", &["a", "b"]).unwrap();
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
