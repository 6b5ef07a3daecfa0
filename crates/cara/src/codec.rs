//! cara's value encoding: how schema types travel as msgpack.
//!
//! A struct is a map keyed by field ordinal (names are accepted on input), an enum
//! is its enumerant's ordinal, lists are arrays, `Text` is str, `Data` is bin, `Void`
//! is nil. Generated types implement [`Encode`] and [`Decode`]; this module covers
//! the built-in types.

use crate::capability::Caps;
use crate::error::{DecodeError, EncodeError};
use pseud::Value;

/// A value that can be written in cara's msgpack form.
pub trait Encode {
    /// The msgpack value, for the peer of `caps` (interfaces in the value are
    /// exported to it). Only interfaces can fail to encode.
    fn encode(&self, caps: Caps<'_>) -> Result<Value, EncodeError>;
}

/// A value that can be read from cara's msgpack form.
pub trait Decode: Sized {
    /// Reads the value, from the peer of `caps` (interfaces in it are that peer's
    /// objects); a mismatch is a [`DecodeError`] saying what was expected.
    fn decode(value: Value, caps: Caps<'_>) -> Result<Self, DecodeError>;
}

/// `value` as msgpack, outside of any call: an interface in it is
/// [`EncodeError::NoPeer`] (interfaces only travel as arguments and results).
pub fn to_value<T: Encode + ?Sized>(value: &T) -> Result<Value, EncodeError> {
    value.encode(Caps::NONE)
}

/// A schema literal as msgpack (an `AnyPointer` default or constant). Literals
/// hold no interfaces but null ones, which encode without a peer, so this cannot
/// fail; nil stands in should it ever.
#[doc(hidden)]
pub fn literal<T: Encode>(value: &T) -> Value {
    value.encode(Caps::NONE).unwrap_or(Value::Nil)
}

/// Reads a `T` outside of any call: an interface in it is a [`DecodeError`].
pub fn from_value<T: Decode>(value: Value) -> Result<T, DecodeError> {
    T::decode(value, Caps::NONE)
}

impl Encode for () {
    fn encode(&self, _: Caps<'_>) -> Result<Value, EncodeError> {
        Ok(Value::Nil)
    }
}

impl Decode for () {
    fn decode(_: Value, _: Caps<'_>) -> Result<Self, DecodeError> {
        // Void carries no information; whatever was sent is accepted.
        Ok(())
    }
}

impl Encode for bool {
    fn encode(&self, _: Caps<'_>) -> Result<Value, EncodeError> {
        Ok(Value::Boolean(*self))
    }
}

impl Decode for bool {
    fn decode(value: Value, _: Caps<'_>) -> Result<Self, DecodeError> {
        match value {
            Value::Boolean(b) => Ok(b),
            other => Err(DecodeError::expected("Bool", &other)),
        }
    }
}

macro_rules! integers {
    ($($t:ty => $name:literal),*) => {$(
        impl Encode for $t {
            fn encode(&self, _: Caps<'_>) -> Result<Value, EncodeError> {
                Ok(Value::from(*self))
            }
        }

        impl Decode for $t {
            fn decode(value: Value, _: Caps<'_>) -> Result<Self, DecodeError> {
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
    fn encode(&self, _: Caps<'_>) -> Result<Value, EncodeError> {
        Ok(Value::F32(*self))
    }
}

impl Decode for f32 {
    fn decode(value: Value, caps: Caps<'_>) -> Result<Self, DecodeError> {
        // Python sends every float as float64; narrowing is what Float32 means.
        f64::decode(value, caps).map(|f| f as f32)
    }
}

impl Encode for f64 {
    fn encode(&self, _: Caps<'_>) -> Result<Value, EncodeError> {
        Ok(Value::F64(*self))
    }
}

impl Decode for f64 {
    fn decode(value: Value, _: Caps<'_>) -> Result<Self, DecodeError> {
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
    fn encode(&self, _: Caps<'_>) -> Result<Value, EncodeError> {
        Ok(Value::from(self.as_str()))
    }
}

impl Decode for String {
    fn decode(value: Value, _: Caps<'_>) -> Result<Self, DecodeError> {
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
    fn encode(&self, _: Caps<'_>) -> Result<Value, EncodeError> {
        Ok(Value::Binary(self.0.clone()))
    }
}

impl Decode for Data {
    fn decode(value: Value, _: Caps<'_>) -> Result<Self, DecodeError> {
        match value {
            Value::Binary(b) => Ok(Data(b)),
            // Python 2-style peers send bytes as str; keep the bytes.
            Value::String(s) => Ok(Data(s.into_bytes())),
            other => Err(DecodeError::expected("Data", &other)),
        }
    }
}

impl<T: Encode> Encode for Vec<T> {
    fn encode(&self, caps: Caps<'_>) -> Result<Value, EncodeError> {
        self.iter()
            .map(|v| v.encode(caps))
            .collect::<Result<_, _>>()
            .map(Value::Array)
    }
}

impl<T: Decode> Decode for Vec<T> {
    fn decode(value: Value, caps: Caps<'_>) -> Result<Self, DecodeError> {
        match value {
            Value::Array(items) => items
                .into_iter()
                .enumerate()
                .map(|(i, v)| T::decode(v, caps).map_err(|e| e.at(format!("[{i}]"))))
                .collect(),
            // A null list pointer reads as an empty list, as in Cap'n Proto.
            Value::Nil => Ok(Vec::new()),
            other => Err(DecodeError::expected("List", &other)),
        }
    }
}

/// A struct field that may be null (used where a struct type contains itself).
impl<T: Encode> Encode for Option<T> {
    fn encode(&self, caps: Caps<'_>) -> Result<Value, EncodeError> {
        match self {
            Some(v) => v.encode(caps),
            None => Ok(Value::Nil),
        }
    }
}

impl<T: Decode> Decode for Option<T> {
    fn decode(value: Value, caps: Caps<'_>) -> Result<Self, DecodeError> {
        match value {
            Value::Nil => Ok(None),
            v => T::decode(v, caps).map(Some),
        }
    }
}

impl<T: Encode> Encode for Box<T> {
    fn encode(&self, caps: Caps<'_>) -> Result<Value, EncodeError> {
        (**self).encode(caps)
    }
}

impl<T: Decode> Decode for Box<T> {
    fn decode(value: Value, caps: Caps<'_>) -> Result<Self, DecodeError> {
        T::decode(value, caps).map(Box::new)
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
    fn encode(&self, _: Caps<'_>) -> Result<Value, EncodeError> {
        Ok(self.0.clone())
    }
}

impl Decode for Dynamic {
    fn decode(value: Value, _: Caps<'_>) -> Result<Self, DecodeError> {
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
    fn encode(&self, _: Caps<'_>) -> Result<Value, EncodeError> {
        Ok(self.clone())
    }
}

impl Decode for Value {
    fn decode(value: Value, _: Caps<'_>) -> Result<Self, DecodeError> {
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_check_their_range() {
        assert_eq!(from_value::<i32>(Value::from(7)).unwrap(), 7);
        assert!(from_value::<u8>(Value::from(256)).is_err());
        assert!(from_value::<u64>(Value::from(-1)).is_err());
        assert_eq!(from_value::<u64>(Value::from(u64::MAX)).unwrap(), u64::MAX);
        let err = from_value::<i32>(Value::from("x")).unwrap_err();
        assert_eq!(err.to_string(), "expected Int32, got str \"x\"");
    }

    #[test]
    fn floats_accept_integers_and_lists_accept_nil() {
        assert_eq!(from_value::<f64>(Value::from(2)).unwrap(), 2.0);
        assert_eq!(from_value::<Vec<i8>>(Value::Nil).unwrap(), Vec::<i8>::new());
        let err = from_value::<Vec<i8>>(Value::Array(vec![1.into(), "x".into()])).unwrap_err();
        assert_eq!(err.to_string(), "[1]: expected Int8, got str \"x\"");
    }
}
