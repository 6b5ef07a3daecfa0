//! Fuzz targets of the msgpack layer (fuzzkit; see docs/protocol.md, "Fuzzing"):
//! - `msgpack`: [`read_value`] on any bytes, and what a value it gives turns into
//!   (serde types, JSON);
//! - `work`: [`decode_work`] on WORK bodies, its fast path against the general one.
//!
//! Properties: no panic; a decoded value re-encodes to bytes that decode to the
//! same value (compared as bytes, so that NaN equals itself); the serde and direct
//! encoders agree; JSON gives the value back but for what JSON cannot say (see
//! `crate::json`); the fast WORK path agrees with the general one whenever it
//! answers, and a decoded WORK re-encodes to itself.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{
    Value, decode_any_work, decode_plain_work, decode_work, from_msgpack, from_value, read_value,
    to_msgpack, work_body, write_value,
};
use crate::json::{from_json, to_json};

fn corpus(target: &str) -> PathBuf {
    [env!("CARGO_MANIFEST_DIR"), "fuzz-corpus", target]
        .iter()
        .collect()
}

fn bytes(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_value(&mut out, value);
    out
}

/// What JSON keeps of a value: float32 as float64, every NaN as the one NaN, a str
/// that is not UTF-8 as bin (the table in `crate::json`).
fn json_view(value: &Value) -> Value {
    let float = |f: f64| Value::F64(if f.is_nan() { f64::NAN } else { f });
    match value {
        Value::F32(f) => float(f64::from(*f)),
        Value::F64(f) => float(*f),
        Value::String(s) if s.as_str().is_none() => Value::Binary(s.as_bytes().to_vec()),
        Value::Array(items) => Value::Array(items.iter().map(json_view).collect()),
        Value::Map(pairs) => Value::Map(
            pairs
                .iter()
                .map(|(k, v)| (json_view(k), json_view(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn msgpack(input: &[u8]) {
    let value = match read_value(input) {
        Ok(value) => value,
        Err(e) => {
            let _ = e.to_string();
            return;
        }
    };
    let canonical = bytes(&value);
    let again = read_value(&canonical).expect("our own encoding decodes");
    assert_eq!(bytes(&again), canonical, "re-encoding is not a fixed point");
    assert_eq!(
        to_msgpack(&value).ok(),
        Some(canonical.clone()),
        "serde and write_value differ"
    );
    let moved: Value = from_value(value.clone()).unwrap();
    assert_eq!(bytes(&moved), canonical);
    // Typed decoding: an error or a value, whatever the input.
    let _ = from_msgpack::<i64>(input);
    let _ = from_msgpack::<f64>(input);
    let _ = from_msgpack::<String>(input);
    let _ = from_msgpack::<Vec<Option<u8>>>(input);
    let _ = from_msgpack::<serde_bytes::ByteBuf>(input);
    let _ = from_msgpack::<(String, Vec<Value>, BTreeMap<String, Value>)>(input);
    let _ = from_msgpack::<BTreeMap<i32, (bool, char)>>(input);
    let json = to_json(&value);
    let back = from_json(&json)
        .unwrap_or_else(|e| panic!("to_json gave {json} that from_json refuses: {e}"));
    assert_eq!(
        bytes(&back),
        bytes(&json_view(&value)),
        "through JSON {json}"
    );
}

fn work(input: &[u8]) {
    let decoded = decode_work(input, default_budget(input));
    if let Some(plain) = decode_plain_work(input) {
        let any = decode_any_work(input, default_budget(input))
            .expect("the general path refuses what the fast one took");
        assert_eq!(plain.name, any.name);
        assert_eq!(
            bytes(&Value::Array(plain.args.args)),
            bytes(&Value::Array(any.args.args))
        );
        assert!(any.args.kwargs.is_empty());
    }
    let Ok(work) = decoded else {
        return;
    };
    let mut args = Vec::new();
    for arg in &work.args.args {
        write_value(&mut args, arg);
    }
    let mut kwargs = Vec::new();
    for (name, value) in &work.args.kwargs {
        write_value(&mut kwargs, &Value::from(name.as_str()));
        write_value(&mut kwargs, value);
    }
    let body = work_body(
        &work.name,
        work.args.args.len() as u32,
        &args,
        work.args.kwargs.len() as u32,
        &kwargs,
    );
    let again = decode_work(&body, default_budget(&body)).expect("a re-encoded WORK decodes");
    assert_eq!(again.name, work.name);
    assert_eq!(
        bytes(&Value::Array(again.args.args)),
        args_bytes(&work.args.args)
    );
    assert_eq!(again.args.kwargs.len(), work.args.kwargs.len());
}

fn args_bytes(args: &[Value]) -> Vec<u8> {
    bytes(&Value::Array(args.to_vec()))
}

#[test]
fn fuzz_msgpack() {
    fuzzkit::Target::new("msgpack", corpus("msgpack"))
        .iterations(50_000)
        .max_len(2048)
        .run(msgpack);
}

#[test]
fn fuzz_work() {
    fuzzkit::Target::new("work", corpus("work"))
        .iterations(50_000)
        .max_len(1024)
        .dictionary(&[
            &b"\xa4call"[..],
            b"\xacstring.upper",
            b"\x80",
            b"\x90",
            b"\xc0",
            b"\xc1",
        ])
        .run(work);
}

/// Bodies of docs/protocol.md's vectors (with the packer table of the tests).
const CAPTURED_BODIES: &[&str] = &[
    "07",
    "920103",
    "a548454c4c4f",
    "a4706f6e67",
    "c405616c696365",
    "92c405616c696365c406736563726574",
];

/// WORK bodies captured from pseud 1.0.1 (docs/protocol.md's vectors).
const CAPTURED_WORK: &[(&str, &str)] = &[
    ("add", "93a361646492020580"),
    ("fail", "93a46661696c9080"),
    ("kw", "93a26b77910181a16203"),
    (
        "string-upper",
        "93ac737472696e672e757070657291a568656c6c6f80",
    ),
    ("unknown", "93aa6e6f2e737563682e666e9080"),
    ("client-ping", "93ab636c69656e742e70696e679080"),
    ("whoami", "93a677686f616d699080"),
];

/// Writes the corpora of `msgpack` and `work`: the captured vectors, and values
/// and bodies this code encodes (every kind, edges, nesting). Run it after changing
/// the seeds: `cargo test -p pseud --lib write_value_seeds -- --ignored`.
#[test]
#[ignore = "writes the committed corpus"]
fn write_value_seeds() {
    let mut values: Vec<(String, Vec<u8>)> = super::tests::PACKER_TABLE
        .iter()
        .chain(CAPTURED_BODIES)
        .map(|hex| (format!("captured-{hex:.24}"), fuzzkit::unhex(hex).unwrap()))
        .collect();
    let mut deep = Value::from(1);
    for _ in 0..40 {
        deep = Value::Array(vec![deep]);
    }
    let made = [
        (
            "every-kind",
            Value::Array(vec![
                Value::Nil,
                true.into(),
                (-3).into(),
                u64::MAX.into(),
                i64::MIN.into(),
                Value::F32(1.5),
                Value::F64(f64::NAN),
                "héllo".into(),
                Value::Binary(vec![0, 255]),
                Value::Ext(100, vec![5]),
                Value::Ext(-1, vec![0; 12]),
                Value::Map(vec![(1.into(), "intkey".into()), (Value::Nil, Value::Nil)]),
            ]),
        ),
        ("str16", Value::from("y".repeat(300))),
        ("bin16", Value::Binary(vec![0x7a; 300])),
        ("array16", Value::Array(vec![Value::Nil; 20])),
        (
            "map16",
            Value::Map((0..17).map(|i| (Value::from(i), Value::from(i))).collect()),
        ),
        ("tagged-map", Value::Map(vec![("$bytes".into(), 1.into())])),
        (
            "duplicate-keys",
            Value::Map(vec![("a".into(), 1.into()), ("a".into(), 2.into())]),
        ),
        ("deep", deep),
    ];
    for (name, value) in made {
        values.push((format!("made-{name}"), bytes(&value)));
    }
    // A str whose bytes are not UTF-8, and ext 8/16/32 and fixext sizes.
    values.push(("made-str-not-utf8".into(), vec![0xa2, 0xff, 0xfe]));
    values.push((
        "made-ext-sizes".into(),
        fuzzkit::unhex("94d40101d5020202d60304040404c70305010203").unwrap(),
    ));
    fuzzkit::write_seeds(&corpus("msgpack"), &values).unwrap();

    let mut bodies: Vec<(String, Vec<u8>)> = CAPTURED_WORK
        .iter()
        .map(|(name, hex)| (format!("captured-{name}"), fuzzkit::unhex(hex).unwrap()))
        .collect();
    let call = fuzzkit::unhex("93a463616c6c9505cf0123456789abcdef0091a178 81a17902 80").unwrap();
    bodies.push(("made-cara-call".into(), call));
    bodies.push((
        "made-bin-name-nil-args".into(),
        fuzzkit::unhex("93c40161c0c0").unwrap(),
    ));
    bodies.push((
        "made-int-keyword".into(),
        fuzzkit::unhex("93a1619081 01 02").unwrap(),
    ));
    bodies.push((
        "made-nested-plain".into(),
        fuzzkit::unhex("93a161 95 01 02 03 91 01 81 a178 02 80").unwrap(),
    ));
    bodies.push((
        "made-str8-name-array16".into(),
        fuzzkit::unhex("93d90161dc0002c3c2de0000").unwrap(),
    ));
    fuzzkit::write_seeds(&corpus("work"), &bodies).unwrap();
}

/// The decoding budget a server with default limits gives `body`.
fn default_budget(body: &[u8]) -> usize {
    crate::Limits::default().decode_budget(body.len())
}
