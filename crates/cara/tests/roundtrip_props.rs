//! Property tests of the generated codec on schemas/tests/features.capnp:
//! - any `Everything` (every field type, the unnamed union, the named union, the
//!   group, nested lists, unknown enumerants) survives encode → msgpack bytes →
//!   decode unchanged;
//! - decoding arbitrary values or bytes as `Everything` returns an error or a value,
//!   never panics;
//! - a struct keyed by field names (or a mix of names and ordinals, with enumerants
//!   by name and unknown keys added) decodes to the same value as the ordinal-keyed
//!   original.
//!
//! Floats: NaN != NaN, so the equality properties use non-NaN floats and a separate
//! property checks NaNs through the encoded values.

use cara::{Data, Dynamic, Value};
use proptest::collection::vec;
use proptest::num::{f32 as f32s, f64 as f64s};
use proptest::prelude::*;

cara::schema!("../../schemas/tests/features.capnp");

use features_capnp::{Color, Everything, Point, everything};

const CASES: u32 = 256;

fn bytes(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    cara::pseud::value::write_value(&mut out, v);
    out
}

/// Over the wire: encode, write msgpack, read it back, decode.
fn through_the_wire(e: &Everything) -> Everything {
    let wire = bytes(&cara::to_value(e).unwrap());
    let read = cara::pseud::value::read_value(&wire).expect("our own bytes read back");
    cara::from_value::<Everything>(read).expect("our own encoding decodes")
}

// ---------------------------------------------------------------- strategies

fn float64(nan: bool) -> impl Strategy<Value = f64> {
    let finite_and_inf = f64s::POSITIVE
        | f64s::NEGATIVE
        | f64s::NORMAL
        | f64s::SUBNORMAL
        | f64s::ZERO
        | f64s::INFINITE;
    if nan {
        (finite_and_inf | f64s::QUIET_NAN).boxed()
    } else {
        finite_and_inf.boxed()
    }
}

fn float32(nan: bool) -> impl Strategy<Value = f32> {
    let finite_and_inf = f32s::POSITIVE
        | f32s::NEGATIVE
        | f32s::NORMAL
        | f32s::SUBNORMAL
        | f32s::ZERO
        | f32s::INFINITE;
    if nan {
        (finite_and_inf | f32s::QUIET_NAN).boxed()
    } else {
        finite_and_inf.boxed()
    }
}

/// Any msgpack value (NaN floats only if `nan`), nested a few levels.
fn value(nan: bool) -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Nil),
        any::<bool>().prop_map(Value::Boolean),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        float32(nan).prop_map(Value::F32),
        float64(nan).prop_map(Value::F64),
        ".{0,8}".prop_map(Value::from),
        vec(any::<u8>(), 0..8).prop_map(Value::Binary),
        (any::<i8>(), vec(any::<u8>(), 0..4)).prop_map(|(tag, data)| Value::Ext(tag, data)),
    ];
    leaf.prop_recursive(3, 48, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::Array),
            vec((inner.clone(), inner), 0..6).prop_map(Value::Map),
        ]
    })
    .boxed()
}

/// Known enumerants and unknown ones (from a newer schema). `Unknown(n)` for a
/// known ordinal is included: it encodes as that enumerant and compares equal to it.
fn color() -> impl Strategy<Value = Color> {
    prop_oneof![
        Just(Color::Red),
        Just(Color::Green),
        Just(Color::Blue),
        any::<u16>().prop_map(Color::from_ordinal),
        (0u16..5).prop_map(Color::Unknown),
    ]
}

fn point(nan: bool) -> impl Strategy<Value = Point> {
    (float64(nan), float64(nan)).prop_map(|(x, y)| Point { x, y })
}

fn everything(nan: bool) -> impl Strategy<Value = Everything> {
    let scalars = (
        any::<bool>(),
        any::<i8>(),
        any::<i16>(),
        any::<i32>(),
        any::<i64>(),
        any::<u8>(),
        any::<u16>(),
        any::<u32>(),
        any::<u64>(),
        float32(nan),
        float64(nan),
    );
    let pointers = (
        ".{0,12}",
        vec(any::<u8>(), 0..12),
        color(),
        vec(any::<i32>(), 0..8),
        vec(vec(".{0,6}", 0..4), 0..4),
        point(nan),
        value(nan),
    );
    let which = prop_oneof![
        float64(nan).prop_map(everything::Which::Circle),
        point(nan).prop_map(everything::Which::Square),
        Just(everything::Which::Empty),
    ];
    let position =
        (float64(nan), float64(nan)).prop_map(|(lat, lon)| everything::Position { lat, lon });
    let shape = prop_oneof![
        any::<i32>().prop_map(everything::Shape::Round),
        ".{0,8}".prop_map(everything::Shape::Flat),
    ];
    (scalars, pointers, (which, position, shape)).prop_map(
        |(
            (flag, i8, i16, i32, i64, u8, u16, u32, u64, f32, f64),
            (text, data, color, list, nested, point, any),
            (which, position, shape),
        )| Everything {
            flag,
            i8,
            i16,
            i32,
            i64,
            u8,
            u16,
            u32,
            u64,
            f32,
            f64,
            text,
            data: Data(data),
            color,
            list,
            nested,
            point,
            nothing: (),
            any: Dynamic(any),
            which,
            position,
            shape,
        },
    )
}

// ------------------------------------------------- keys by name, by hand

/// Wire keys and names of `Everything`, from the schema: a group or a named union
/// travels under the smallest ordinal inside it.
const EVERYTHING: &[(u64, &str)] = &[
    (0, "flag"),
    (1, "i8"),
    (2, "i16"),
    (3, "i32"),
    (4, "i64"),
    (5, "u8"),
    (6, "u16"),
    (7, "u32"),
    (8, "u64"),
    (9, "f32"),
    (10, "f64"),
    (11, "text"),
    (12, "data"),
    (13, "color"),
    (14, "list"),
    (15, "nested"),
    (16, "point"),
    (17, "nothing"),
    (18, "any"),
    (19, "circle"),
    (20, "square"),
    (21, "empty"),
    (22, "position"),
    (24, "shape"),
];
const POINT: &[(u64, &str)] = &[(0, "x"), (1, "y")];
const POSITION: &[(u64, &str)] = &[(22, "lat"), (23, "lon")];
const SHAPE: &[(u64, &str)] = &[(24, "round"), (25, "flat")];
const COLORS: &[&str] = &["red", "green", "blue"];

/// Whether to write the next key (or enumerant) by name.
type UseName<'a> = &'a mut dyn FnMut() -> bool;

/// Rewrites a field's value, given the field's name.
type Inner<'a> = &'a mut dyn FnMut(&str, Value, UseName<'_>) -> Value;

/// Rekeys an ordinal-keyed struct map by field name where `use_name()` says so;
/// `inner` rewrites each field's value.
fn rekey(value: Value, table: &[(u64, &str)], use_name: UseName<'_>, inner: Inner<'_>) -> Value {
    let Value::Map(pairs) = value else {
        panic!("a struct encodes as a map, got {value}");
    };
    let pairs = pairs
        .into_iter()
        .map(|(key, v)| {
            let ordinal = key.as_u64().expect("ordinal keys");
            let name = table
                .iter()
                .find(|(o, _)| *o == ordinal)
                .map(|(_, n)| *n)
                .unwrap_or_else(|| panic!("key {ordinal} is not in the table"));
            let v = inner(name, v, use_name);
            let key = if use_name() { Value::from(name) } else { key };
            (key, v)
        })
        .collect();
    Value::Map(pairs)
}

/// An encoded `Everything` with (some) keys by name, in its struct-typed fields too,
/// and (some) enumerants by name.
fn everything_by_name(value: Value, use_name: UseName<'_>) -> Value {
    fn plain(_: &str, v: Value, _: UseName<'_>) -> Value {
        v
    }
    rekey(
        value,
        EVERYTHING,
        use_name,
        &mut |name, v, use_name| match name {
            "point" | "square" => rekey(v, POINT, use_name, &mut plain),
            "position" => rekey(v, POSITION, use_name, &mut plain),
            "shape" => rekey(v, SHAPE, use_name, &mut plain),
            "color" => match v.as_u64() {
                Some(i) if (i as usize) < COLORS.len() && use_name() => {
                    Value::from(COLORS[i as usize])
                }
                _ => v,
            },
            _ => v,
        },
    )
}

/// Keys `Everything` does not know: names of no field, and ordinals of no field at
/// its level (23 and 25 are inside the group and the named union).
fn unknown_key() -> impl Strategy<Value = Value> {
    prop_oneof![
        "zz_[a-z]{0,6}".prop_map(Value::from),
        prop_oneof![Just(23u64), Just(25u64), 26u64..1000].prop_map(Value::from),
    ]
}

// ---------------------------------------------------------------- equality of values, NaN-aware

/// Values equal, with floats compared by bits and every NaN equal to every NaN.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::F64(x), Value::F64(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        (Value::F32(x), Value::F32(y)) => x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| same(ka, kb) && same(va, vb))
        }
        _ => a == b,
    }
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn every_value_round_trips(e in everything(false)) {
        let back = through_the_wire(&e);
        prop_assert_eq!(&back, &e);
        // And encodes to the same bytes again (floats bit for bit: -0.0 stays -0.0).
        prop_assert_eq!(bytes(&cara::to_value(&back).unwrap()), bytes(&cara::to_value(&e).unwrap()));
    }

    #[test]
    fn nans_round_trip_as_nans(e in everything(true)) {
        let back = through_the_wire(&e);
        prop_assert!(same(&cara::to_value(&back).unwrap(), &cara::to_value(&e).unwrap()), "{:?}\n!=\n{:?}", back, e);
    }

    #[test]
    fn arbitrary_values_never_panic(v in value(true)) {
        // Errors are fine; the value must just not crash the decoder.
        let _ = cara::from_value::<Everything>(v.clone());
        let _ = cara::from_value::<Everything>(Value::Array(vec![v]));
    }

    #[test]
    fn arbitrary_fields_never_panic(
        fields in vec(
            (
                prop_oneof![
                    (0u64..30).prop_map(Value::from),
                    proptest::sample::select(EVERYTHING.to_vec()).prop_map(|(_, n)| Value::from(n)),
                ],
                value(true),
            ),
            0..12,
        )
    ) {
        // Known keys with values of any type: type errors, never panics.
        let _ = cara::from_value::<Everything>(Value::Map(fields));
    }

    #[test]
    fn a_damaged_encoding_never_panics(
        e in everything(true),
        at in any::<proptest::sample::Index>(),
        replacement in value(true),
    ) {
        let Value::Map(mut pairs) = cara::to_value(&e).unwrap() else { panic!("a struct encodes as a map") };
        let i = at.index(pairs.len());
        pairs[i].1 = replacement;
        let _ = cara::from_value::<Everything>(Value::Map(pairs));
    }

    #[test]
    fn arbitrary_bytes_never_panic(wire in vec(any::<u8>(), 0..64)) {
        // Whatever parses as msgpack (invalid UTF-8 in str included) decodes or fails.
        if let Ok(v) = cara::pseud::value::read_value(&wire) {
            let _ = cara::from_value::<Everything>(v);
        }
    }

    #[test]
    fn field_names_decode_like_ordinals(
        e in everything(false),
        mask in any::<u64>(),
        all_names in any::<bool>(),
        extra in vec((unknown_key(), value(false)), 0..4),
    ) {
        let mut bit = 0;
        let mut use_name = move || {
            bit += 1;
            all_names || (mask >> (bit % 64)) & 1 == 1
        };
        let Value::Map(mut pairs) = everything_by_name(cara::to_value(&e).unwrap(), &mut use_name) else {
            unreachable!()
        };
        pairs.extend(extra);
        let decoded = cara::from_value::<Everything>(Value::Map(pairs));
        prop_assert_eq!(decoded.as_ref(), Ok(&e));
    }
}

/// The hand-written key table above matches the generated code: a map with every
/// key of the table by name, each with a distinct value, decodes into the field of
/// that name (and by ordinal too).
#[test]
fn the_key_table_matches_the_generated_code() {
    let mut by_ordinal = Vec::new();
    let mut by_name = Vec::new();
    for (ordinal, name) in EVERYTHING {
        let value = match *name {
            "flag" => Value::Boolean(false),
            "text" => Value::from("t"),
            "data" => Value::Binary(vec![7]),
            "color" => Value::from(2),
            "list" => Value::Array(vec![Value::from(5)]),
            "nested" => Value::Array(vec![Value::Array(vec![Value::from("n")])]),
            "point" => Value::Map(vec![(Value::from(0), Value::F64(3.0))]),
            "nothing" | "empty" => Value::Nil,
            "any" => Value::from("dynamic"),
            "circle" => Value::F64(4.0),
            "square" => Value::Map(vec![(Value::from(1), Value::F64(5.0))]),
            "position" => Value::Map(vec![(Value::from(23), Value::F64(6.0))]),
            "shape" => Value::Map(vec![(Value::from(25), Value::from("f"))]),
            "f32" | "f64" => Value::F64(f64::from(*ordinal as u8) + 0.5),
            _ => Value::from(*ordinal + 1),
        };
        by_ordinal.push((Value::from(*ordinal), value.clone()));
        by_name.push((Value::from(*name), value));
    }
    let a = cara::from_value::<Everything>(Value::Map(by_ordinal)).expect("by ordinal");
    let b = cara::from_value::<Everything>(Value::Map(by_name)).expect("by name");
    assert_eq!(a, b);
    // The last union member wins; check the plain fields and the other members.
    assert_eq!(
        (a.i8, a.i16, a.i32, a.i64, a.u8, a.u16, a.u32, a.u64),
        (2, 3, 4, 5, 6, 7, 8, 9)
    );
    assert_eq!((a.f32, a.f64), (9.5, 10.5));
    assert!(!a.flag);
    assert_eq!(
        (a.text.as_str(), a.data.0.as_slice(), a.color),
        ("t", &[7u8][..], Color::Blue)
    );
    assert_eq!((a.list, a.nested), (vec![5], vec![vec!["n".to_string()]]));
    assert_eq!(a.point, Point { x: 3.0, y: 0.0 });
    assert_eq!(a.any, Dynamic(Value::from("dynamic")));
    assert_eq!(a.which, everything::Which::Empty);
    assert_eq!(a.position, everything::Position { lat: 0.0, lon: 6.0 });
    assert_eq!(a.shape, everything::Shape::Flat("f".into()));
}
