//! cara's value encoding: how schema types travel as msgpack.
//!
//! A struct is a map keyed by field ordinal (names are accepted on input), an enum
//! is its enumerant's ordinal, lists are arrays, `Text` is str, `Data` is bin, `Void`
//! is nil. Generated types implement [`Encode`] and [`Decode`]; this module covers
//! the built-in types.

use crate::error::DecodeError;
use pseud::Value;

/// A value that can be written in cara's msgpack form.
pub trait Encode {
    /// The msgpack value.
    fn encode(&self) -> Value;
}

/// A value that can be read from cara's msgpack form.
pub trait Decode: Sized {
    /// Reads the value; a mismatch is a [`DecodeError`] saying what was expected.
    fn decode(value: Value) -> Result<Self, DecodeError>;
}

impl Encode for () {
    fn encode(&self) -> Value {
        Value::Nil
    }
}

impl Decode for () {
    fn decode(_: Value) -> Result<Self, DecodeError> {
        // Void carries no information; whatever was sent is accepted.
        Ok(())
    }
}

impl Encode for bool {
    fn encode(&self) -> Value {
        Value::Boolean(*self)
    }
}

impl Decode for bool {
    fn decode(value: Value) -> Result<Self, DecodeError> {
        match value {
            Value::Boolean(b) => Ok(b),
            other => Err(DecodeError::expected("Bool", &other)),
        }
    }
}

macro_rules! integers {
    ($($t:ty => $name:literal),*) => {$(
        impl Encode for $t {
            fn encode(&self) -> Value {
                Value::from(*self)
            }
        }

        impl Decode for $t {
            fn decode(value: Value) -> Result<Self, DecodeError> {
                let n = match &value {
                    Value::Integer(i) => i
                        .as_i64()
                        .and_then(|i| <$t>::try_from(i).ok())
                        .or_else(|| i.as_u64().and_then(|u| <$t>::try_from(u).ok())),
                    _ => return Err(DecodeError::expected($name, &value)),
                };
                n.ok_or_else(|| DecodeError::new(format!("{value} is out of range for {}", $name)))
            }
        }
    )*};
}
integers!(i8 => "Int8", i16 => "Int16", i32 => "Int32", i64 => "Int64",
          u8 => "UInt8", u16 => "UInt16", u32 => "UInt32", u64 => "UInt64");

impl Encode for f32 {
    fn encode(&self) -> Value {
        Value::F32(*self)
    }
}

impl Decode for f32 {
    fn decode(value: Value) -> Result<Self, DecodeError> {
        // Python sends every float as float64; narrowing is what Float32 means.
        f64::decode(value).map(|f| f as f32)
    }
}

impl Encode for f64 {
    fn encode(&self) -> Value {
        Value::F64(*self)
    }
}

impl Decode for f64 {
    fn decode(value: Value) -> Result<Self, DecodeError> {
        match &value {
            Value::F64(f) => Ok(*f),
            Value::F32(f) => Ok(f64::from(*f)),
            // An integer where a float is expected is a float (as in Python).
            Value::Integer(i) => i
                .as_f64()
                .ok_or_else(|| DecodeError::expected("Float64", &value)),
            _ => Err(DecodeError::expected("Float64", &value)),
        }
    }
}

impl Encode for String {
    fn encode(&self) -> Value {
        Value::from(self.as_str())
    }
}

impl Decode for String {
    fn decode(value: Value) -> Result<Self, DecodeError> {
        match value {
            Value::String(s) => s
                .into_str()
                .ok_or_else(|| DecodeError::new("Text is not valid UTF-8")),
            other => Err(DecodeError::expected("Text", &other)),
        }
    }
}

/// Cap'n Proto `Data`: bytes, sent as msgpack bin.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Data(pub Vec<u8>);

impl From<Vec<u8>> for Data {
    fn from(bytes: Vec<u8>) -> Self {
        Data(bytes)
    }
}

impl From<&[u8]> for Data {
    fn from(bytes: &[u8]) -> Self {
        Data(bytes.to_vec())
    }
}

impl std::ops::Deref for Data {
    type Target = Vec<u8>;
    fn deref(&self) -> &Vec<u8> {
        &self.0
    }
}

impl Encode for Data {
    fn encode(&self) -> Value {
        Value::Binary(self.0.clone())
    }
}

impl Decode for Data {
    fn decode(value: Value) -> Result<Self, DecodeError> {
        match value {
            Value::Binary(b) => Ok(Data(b)),
            // Python 2-style peers send bytes as str; keep the bytes.
            Value::String(s) => Ok(Data(s.into_bytes())),
            other => Err(DecodeError::expected("Data", &other)),
        }
    }
}

impl<T: Encode> Encode for Vec<T> {
    fn encode(&self) -> Value {
        Value::Array(self.iter().map(Encode::encode).collect())
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(value: Value) -> Result<Self, DecodeError> {
        match value {
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| T::decode(v).map_err(|e| e.at(format!("[{i}]"))))
                .collect(),
            // A null list pointer reads as an empty list, as in Cap'n Proto.
            Value::Nil => Ok(Vec::new()),
            other => Err(DecodeError::expected("List", &other)),
        }
    }
}

/// A struct field that may be null (used where a struct type contains itself).
impl<T: Encode> Encode for Option<T> {
    fn encode(&self) -> Value {
        match self {
            Some(v) => v.encode(),
            None => Value::Nil,
        }
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(value: Value) -> Result<Self, DecodeError> {
        match value {
            Value::Nil => Ok(None),
            v => T::decode(v).map(Some),
        }
    }
}

impl<T: Encode> Encode for Box<T> {
    fn encode(&self) -> Value {
        (**self).encode()
    }
}

impl<T: Decode> Decode for Box<T> {
    fn decode(value: Value) -> Result<Self, DecodeError> {
        T::decode(value).map(Box::new)
    }
}

/// `AnyPointer` (and unbound generic parameters): any msgpack value, as is.
///
/// A newtype over [`Value`] so that it has a `Default` (nil), which every schema
/// type needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Dynamic(pub Value);

impl Default for Dynamic {
    fn default() -> Self {
        Dynamic(Value::Nil)
    }
}

impl From<Value> for Dynamic {
    fn from(value: Value) -> Self {
        Dynamic(value)
    }
}

impl std::ops::Deref for Dynamic {
    type Target = Value;
    fn deref(&self) -> &Value {
        &self.0
    }
}

impl Encode for Dynamic {
    fn encode(&self) -> Value {
        self.0.clone()
    }
}

impl Decode for Dynamic {
    fn decode(value: Value) -> Result<Self, DecodeError> {
        Ok(Dynamic(value))
    }
}

/// What a generic parameter of a generated type must be: any schema value.
pub trait Param:
    Encode + Decode + Clone + std::fmt::Debug + Default + PartialEq + Send + Sync + 'static
{
}

impl<T> Param for T where
    T: Encode + Decode + Clone + std::fmt::Debug + Default + PartialEq + Send + Sync + 'static
{
}

/// A raw msgpack value, as is.
impl Encode for Value {
    fn encode(&self) -> Value {
        self.clone()
    }
}

impl Decode for Value {
    fn decode(value: Value) -> Result<Self, DecodeError> {
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_check_their_range() {
        assert_eq!(i32::decode(Value::from(7)).unwrap(), 7);
        assert!(u8::decode(Value::from(256)).is_err());
        assert!(u64::decode(Value::from(-1)).is_err());
        assert_eq!(u64::decode(Value::from(u64::MAX)).unwrap(), u64::MAX);
        let err = i32::decode(Value::from("x")).unwrap_err();
        assert_eq!(err.to_string(), "expected Int32, got str \"x\"");
    }

    #[test]
    fn floats_accept_integers_and_lists_accept_nil() {
        assert_eq!(f64::decode(Value::from(2)).unwrap(), 2.0);
        assert_eq!(Vec::<i8>::decode(Value::Nil).unwrap(), Vec::<i8>::new());
        let err = Vec::<i8>::decode(Value::Array(vec![1.into(), "x".into()])).unwrap_err();
        assert_eq!(err.to_string(), "[1]: expected Int8, got str \"x\"");
    }
}
