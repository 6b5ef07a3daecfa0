//! msgpack values and arguments, with the conventions of Python pseud.
//!
//! Text is the str family and bytes the bin family; integers use the smallest
//! encoding. Typed values go through serde (`rmp-serde`, structs as maps keyed by
//! field name); [`Value`] is passed through untouched, so int map keys, bin,
//! float32/float64 and extension types all survive.

use std::any::Any;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Fault};

pub use rmpv::Value;

/// Dynamic arguments of a call: positional `args` and keyword `kwargs`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args {
    /// Positional arguments, in order.
    pub args: Vec<Value>,
    /// Keyword arguments by parameter name, in the order they were sent.
    pub kwargs: Vec<(String, Value)>,
}

impl Args {
    /// Arguments with only positional values.
    pub fn positional(args: Vec<Value>) -> Self {
        Args {
            args,
            kwargs: Vec::new(),
        }
    }

    /// Adds a keyword argument.
    pub fn kwarg(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.kwargs.push((name.into(), value.into()));
        self
    }

    /// The keyword argument of that name, if given.
    pub fn get_kwarg(&self, name: &str) -> Option<&Value> {
        self.kwargs.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

pub use crate::codec_error::CodecError;

/// Encodes a typed value as msgpack. A [`Value`] is written as it is.
pub fn to_msgpack<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CodecError> {
    let mut buf = Vec::new();
    write_msgpack(&mut buf, value)?;
    Ok(buf)
}

/// Appends a typed value to `buf` as msgpack (structs as maps keyed by field name).
pub fn write_msgpack<T: Serialize + ?Sized>(
    buf: &mut Vec<u8>,
    value: &T,
) -> Result<(), CodecError> {
    Ok(value.serialize(&mut rmp_serde::Serializer::new(buf).with_struct_map())?)
}

/// Decodes a typed value from msgpack bytes; the whole input must be one value.
pub fn from_msgpack<T: DeserializeOwned + 'static>(bytes: &[u8]) -> Result<T, CodecError> {
    let value = read_value(bytes)?;
    from_value(value)
}

/// Converts a decoded [`Value`] into a typed value (a `Value` target is moved as is).
pub fn from_value<T: DeserializeOwned + 'static>(value: Value) -> Result<T, CodecError> {
    let boxed: Box<dyn Any> = Box::new(value);
    match boxed.downcast::<T>() {
        Ok(same) => Ok(*same),
        Err(boxed) => {
            // It went in as a Value: downcasting back cannot fail.
            let value = boxed.downcast::<Value>().map_or(Value::Nil, |v| *v);
            Ok(rmpv::ext::from_value(value)?)
        }
    }
}

/// Decodes exactly one msgpack value; trailing bytes are an error. The bytes
/// are checked whole before anything is built (see [`read_value_within`]).
pub fn read_value(bytes: &[u8]) -> Result<Value, CodecError> {
    crate::msgpack::read_within(bytes, usize::MAX)
}

/// Decodes exactly one msgpack value whose decoded form takes at most `budget`
/// bytes (about `size_of::<Value>()` per value plus its string and binary
/// bytes); a larger one is refused before anything is built. Nesting deeper
/// than [`MAX_DEPTH`] is refused.
pub fn read_value_within(bytes: &[u8], budget: usize) -> Result<Value, CodecError> {
    crate::msgpack::read_within(bytes, budget)
}

pub use crate::msgpack::MAX_DEPTH;

/// Writes a [`Value`] as msgpack.
pub fn write_value(buf: &mut Vec<u8>, value: &Value) {
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(buf, value);
}

/// Values that can be sent as the positional arguments of a call.
///
/// Implemented for tuples of serde values (up to 8), for `Vec<Value>` and for `()`.
pub trait IntoArgs {
    /// Appends each argument to `buf` and returns how many were written.
    fn write_args(self, buf: &mut Vec<u8>) -> Result<u32, Error>;
}

impl IntoArgs for Vec<Value> {
    fn write_args(self, buf: &mut Vec<u8>) -> Result<u32, Error> {
        for v in &self {
            write_value(buf, v);
        }
        u32::try_from(self.len()).map_err(|_| too_many())
    }
}

fn too_many() -> Error {
    Error::Encode {
        what: "arguments".into(),
        reason: "too many".into(),
    }
}

macro_rules! tuple_args {
    ($($n:tt $t:ident),*) => {
        impl<$($t: Serialize),*> IntoArgs for ($($t,)*) {
            #[allow(unused_variables)]
            fn write_args(self, buf: &mut Vec<u8>) -> Result<u32, Error> {
                $(write_msgpack(buf, &self.$n).map_err(|e| Error::Encode {
                    what: format!("argument {}", $n),
                    reason: e.to_string(),
                })?;)*
                Ok(0 $(+ { let _ = $n; 1 })*)
            }
        }
    };
}
tuple_args!();
tuple_args!(0 A);
tuple_args!(0 A, 1 B);
tuple_args!(0 A, 1 B, 2 C);
tuple_args!(0 A, 1 B, 2 C, 3 D);
tuple_args!(0 A, 1 B, 2 C, 3 D, 4 E);
tuple_args!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F);
tuple_args!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G);
tuple_args!(0 A, 1 B, 2 C, 3 D, 4 E, 5 F, 6 G, 7 H);

/// Encodes a WORK body `[name, args, kwargs]` from pre-encoded parts.
pub(crate) fn work_body(
    name: &str,
    nargs: u32,
    args: &[u8],
    nkwargs: u32,
    kwargs: &[u8],
) -> Vec<u8> {
    let mut body = Vec::with_capacity(name.len() + args.len() + kwargs.len() + 16);
    // Writing into a Vec cannot fail.
    let _ = rmp::encode::write_array_len(&mut body, 3);
    let _ = rmp::encode::write_str(&mut body, name);
    let _ = rmp::encode::write_array_len(&mut body, nargs);
    body.extend_from_slice(args);
    let _ = rmp::encode::write_map_len(&mut body, nkwargs);
    body.extend_from_slice(kwargs);
    body
}

/// A decoded WORK body; the name borrows from the body when it can.
#[derive(Debug)]
pub(crate) struct Work<'a> {
    pub name: std::borrow::Cow<'a, str>,
    pub args: Args,
}

/// Decodes a WORK body, with messages fit for a `TypeError`/`ProtocolError` reply.
/// Decoding may build at most `budget` bytes of values (see [`read_value_within`]).
pub(crate) fn decode_work(body: &[u8], budget: usize) -> Result<Work<'_>, Fault> {
    match decode_plain_work(body) {
        Some(work) => Ok(work),
        None => decode_any_work(body, budget),
    }
}

fn decode_any_work(body: &[u8], budget: usize) -> Result<Work<'_>, Fault> {
    let protocol = |m: String| Fault::new(crate::error::PROTOCOL_ERROR, m);
    let value = read_value_within(body, budget).map_err(|e| protocol(e.to_string()))?;
    let Value::Array(mut items) = value else {
        return Err(protocol(
            "WORK body must be an array [name, args, kwargs]".into(),
        ));
    };
    if items.len() != 3 {
        return Err(protocol(format!(
            "WORK body must have 3 items [name, args, kwargs], got {}",
            items.len()
        )));
    }
    let kwargs = items.pop().unwrap_or(Value::Nil);
    let args = items.pop().unwrap_or(Value::Nil);
    let name = match items.pop() {
        Some(Value::String(s)) => s
            .into_str()
            .ok_or_else(|| protocol("the called name is not valid UTF-8".into()))?,
        Some(Value::Binary(b)) => String::from_utf8(b)
            .map_err(|_| protocol("the called name is not valid UTF-8".into()))?,
        _ => return Err(protocol("the called name must be a string".into())),
    };
    let args = match args {
        Value::Array(a) => a,
        Value::Nil => Vec::new(),
        other => {
            return Err(protocol(format!(
                "{name}: args must be an array, got {}",
                kind(&other)
            )));
        }
    };
    let kwargs = match kwargs {
        Value::Map(m) => {
            m.into_iter()
                .map(|(k, v)| match k {
                    Value::String(s) => s.into_str().map(|k| (k, v)).ok_or_else(|| {
                        Fault::type_error(format!("{name}() keywords must be strings"))
                    }),
                    other => Err(Fault::type_error(format!(
                        "{name}() keywords must be strings, got {}",
                        kind(&other)
                    ))),
                })
                .collect::<Result<Vec<_>, _>>()?
        }
        Value::Nil => Vec::new(),
        other => {
            return Err(protocol(format!(
                "{name}: kwargs must be a map, got {}",
                kind(&other)
            )));
        }
    };
    Ok(Work {
        name: name.into(),
        args: Args { args, kwargs },
    })
}

/// The common WORK `[str name, [scalar, ...], {}]`, decoded without building a
/// value tree (a tree costs an allocation per container). `None` for any other
/// shape, which the general path then decodes and judges, so both agree.
fn decode_plain_work(body: &[u8]) -> Option<Work<'_>> {
    let mut cursor = body;
    if rmp::decode::read_array_len(&mut cursor).ok()? != 3 {
        return None;
    }
    let len = usize::try_from(rmp::decode::read_str_len(&mut cursor).ok()?).ok()?;
    let name = std::str::from_utf8(cursor.get(..len)?).ok()?;
    cursor = &cursor[len..];
    let nargs = rmp::decode::read_array_len(&mut cursor).ok()?;
    if nargs > 16 {
        return None;
    }
    let mut args = Vec::with_capacity(nargs as usize);
    for _ in 0..nargs {
        args.push(read_plain(&mut cursor, 3)?);
    }
    if rmp::decode::read_map_len(&mut cursor).ok()? != 0 || !cursor.is_empty() {
        return None;
    }
    Some(Work {
        name: std::borrow::Cow::Borrowed(name),
        args: Args::positional(args),
    })
}

/// A plain scalar, or an array or map (at most `depth` deep, at most 16 items)
/// of plain values, decoded straight to an owned value. `None` otherwise.
fn read_plain(cursor: &mut &[u8], depth: u32) -> Option<Value> {
    let marker = *cursor.first()?;
    if is_plain_scalar(marker) {
        return Some(rmpv::decode::read_value_ref(cursor).ok()?.to_owned());
    }
    if depth == 0 {
        return None;
    }
    match marker {
        0x90..=0x9f | 0xdc => {
            let n = rmp::decode::read_array_len(cursor).ok()?;
            if n > 16 {
                return None;
            }
            let mut items = Vec::with_capacity(n as usize);
            for _ in 0..n {
                items.push(read_plain(cursor, depth - 1)?);
            }
            Some(Value::Array(items))
        }
        0x80..=0x8f | 0xde => {
            let n = rmp::decode::read_map_len(cursor).ok()?;
            if n > 16 {
                return None;
            }
            let mut pairs = Vec::with_capacity(n as usize);
            for _ in 0..n {
                let k = read_plain(cursor, depth - 1)?;
                let v = read_plain(cursor, depth - 1)?;
                pairs.push((k, v));
            }
            Some(Value::Map(pairs))
        }
        _ => None,
    }
}

/// A marker of a scalar other than nil (nil and the reserved 0xc1, which rmpv
/// reads as nil, are left to the general path's checks).
fn is_plain_scalar(marker: u8) -> bool {
    matches!(marker,
        0x00..=0x7f // positive fixint
        | 0xe0..=0xff // negative fixint
        | 0xa0..=0xbf // fixstr
        | 0xc2 | 0xc3 // bool
        | 0xc4..=0xc6 // bin
        | 0xca | 0xcb // float
        | 0xcc..=0xd3 // ints
        | 0xd9..=0xdb) // str
}

/// A short name of a value's msgpack kind, for messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Nil => "nil",
        Value::Boolean(_) => "bool",
        Value::Integer(_) => "int",
        Value::F32(_) | Value::F64(_) => "float",
        Value::String(_) => "str",
        Value::Binary(_) => "bytes",
        Value::Array(_) => "array",
        Value::Map(_) => "map",
        Value::Ext(..) => "ext",
    }
}

#[cfg(test)]
mod fuzz;

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(h: &str) -> Vec<u8> {
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The Python pseud packer table (pseud-v1-vectors.md), byte for byte.
    pub(super) const PACKER_TABLE: &[&str] = &[
        "00",
        "01",
        "ff",
        "7f",
        "cc80",
        "ccff",
        "cd0100",
        "e0",
        "d0df",
        "cdffff",
        "ce00010000",
        "ce80000000",
        "d280000000",
        "cf7fffffffffffffff",
        "cfffffffffffffffff",
        "d38000000000000000",
        "cb3ff8000000000000",
        "cb8000000000000000",
        "cb7e37e43c8800759c",
        "c3",
        "c2",
        "c0",
        "a0",
        "a568656c6c6f",
        "aa68c3a96c6c6f20e29883",
        "c400",
        "c40200ff",
        "90",
        "9301a161c0",
        "82a16101a162920102",
        "80",
        "81a66e657374656481a464656570920181a178c40179",
        "8101a6696e746b6579",
        "920102",
        "c7037e010203",
        "d47d01",
        "ca3fc00000",
    ];

    /// Values from the Python pseud packer table survive decode + encode byte
    /// for byte, both as `Value` and through serde.
    #[test]
    fn python_packer_vectors_round_trip() {
        for h in PACKER_TABLE {
            let bytes = unhex(h);
            let value = read_value(&bytes).unwrap();
            let mut out = Vec::new();
            write_value(&mut out, &value);
            assert_eq!(out, bytes, "Value round trip of {h}");
            let serde_out = to_msgpack(&value).unwrap();
            assert_eq!(serde_out, bytes, "serde round trip of {h}");
            let back: Value = from_msgpack(&bytes).unwrap();
            assert_eq!(back, value);
        }
    }

    #[test]
    fn work_body_matches_python_vector() {
        let mut args = Vec::new();
        let n = (2, 5).write_args(&mut args).unwrap();
        assert_eq!(
            work_body("add", n, &args, 0, &[]),
            unhex("93a361646492020580")
        );
        let mut kw = Vec::new();
        write_msgpack(&mut kw, "b").unwrap();
        write_msgpack(&mut kw, &3).unwrap();
        let mut args = Vec::new();
        let n = (1,).write_args(&mut args).unwrap();
        assert_eq!(
            work_body("kw", n, &args, 1, &kw),
            unhex("93a26b77910181a16203")
        );
    }

    #[test]
    fn decode_work_rejects_bad_shapes() {
        assert_eq!(
            decode_work(&unhex("93a361646492020580"), usize::MAX)
                .unwrap()
                .name,
            "add"
        );
        for bad in [
            "c1",
            "92a16190",
            "93019080",
            "93a16180",
            "93a1619081",
            "93a1619081a161",
        ] {
            assert!(decode_work(&unhex(bad), usize::MAX).is_err(), "{bad}");
        }
        let err = decode_work(&unhex("93a161908101a162"), usize::MAX).unwrap_err();
        assert_eq!(err.class, "TypeError");
    }

    #[test]
    fn the_plain_work_path_agrees_with_the_general_one() {
        let bodies = [
            "93a3616464920102 80",                  // add(1, 2)
            "93a3616464dc00020102de0000",           // array16, map16
            "93d903616464920102 80",                // str8 name
            "93a0 90 80",                           // empty name, no args
            "93a161 93cb3ff0000000000000c3a178 80", // float, bool, str
            "93a161 91c40201ff 80",                 // bin
            "93a161 91a2ffff 80",                   // invalid UTF-8 string arg
            "93a161 91e0 80",                       // negative fixint
            "93a161 92cfffffffffffffffffd380000000000000 00 80",
            "93a161 91 90 80",                        // nested empty array
            "93a161 95 01 02 03 91 01 81 a178 02 80", // a cara `call`: nested array and map
        ];
        for hex in bodies {
            let body = unhex(&hex.replace(' ', ""));
            let plain = decode_plain_work(&body).unwrap_or_else(|| panic!("{hex}: not plain"));
            let any = decode_any_work(&body, usize::MAX).unwrap();
            assert_eq!(plain.name, any.name, "{hex}");
            assert_eq!(plain.args, any.args, "{hex}");
        }
        // Shapes left to the general path.
        for hex in [
            "93a1619081a16101",                                        // kwargs
            "93a16191c0 80",                                           // nil
            "93a16191c1 80",                                           // reserved marker
            "93a161 91 91c0 80",                                       // nil inside a nested array
            "93a161 91 dc0011 00000000000000000000000000000000 00 80", // nested array of 17
            "93c4016190 80",                                           // bin name
            "93a161 90 80 00",                                         // trailing byte
            "92a16190",                                                // two items
            "93a1ff 90 80",                                            // invalid UTF-8 name
        ] {
            assert!(
                decode_plain_work(&unhex(&hex.replace(' ', ""))).is_none(),
                "{hex}"
            );
        }
    }

    #[test]
    fn the_reserved_marker_is_refused_anywhere() {
        for bad in ["c1", "92c0c1", "82a161c1a162c0", "93a16190c1"] {
            assert!(read_value(&unhex(bad)).is_err(), "{bad}");
        }
        for good in ["c0", "92c0c0", "93c70200c1c1c0c0", "92a2c1c1c0"] {
            assert!(read_value(&unhex(good)).is_ok(), "{good}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let mut bytes = vec![0x91; 100_000];
        bytes.push(0xc0);
        assert!(read_value(&bytes).is_err());
    }

    #[test]
    fn typed_structs_are_maps_keyed_by_name() {
        #[derive(Serialize)]
        struct P {
            x: i32,
        }
        assert_eq!(to_msgpack(&P { x: 1 }).unwrap(), unhex("81a17801"));
    }
}
