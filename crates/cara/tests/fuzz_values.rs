//! Fuzz target `cara_values` (fuzzkit; see docs/protocol.md, "Fuzzing"): msgpack
//! bytes read as pseud reads a body, then decoded as the types `cara::schema!`
//! generates from schemas/tests/features.capnp (every field type, unions, groups,
//! enums, generics, recursion, a method's results) and as the built-in types.
//!
//! Properties: no panic; decoding gives a value or a `DecodeError`; a decoded value
//! encodes to msgpack that decodes back to it (compared as bytes of its encoding,
//! so that NaN equals itself).

use std::path::PathBuf;

use cara::{Data, Decode, Dynamic, Encode, Value};

cara::schema!("../../schemas/tests/features.capnp");

use features_capnp::{Color, Everything, Field, Pair, Point, Tree, UsesGenerics, everything, sub};

fn corpus() -> PathBuf {
    [env!("CARGO_MANIFEST_DIR"), "fuzz-corpus", "cara_values"]
        .iter()
        .collect()
}

fn bytes(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    cara::pseud::value::write_value(&mut out, value);
    out
}

/// Decodes `value` as `T`; if that works, the value must survive the wire.
fn round_trip<T: Decode + Encode>(value: &Value) {
    let Ok(decoded) = cara::from_value::<T>(value.clone()) else {
        return;
    };
    let encoded = bytes(&cara::to_value(&decoded).unwrap());
    let read = cara::pseud::value::read_value(&encoded).expect("our own encoding reads back");
    let again = cara::from_value::<T>(read)
        .unwrap_or_else(|e| panic!("our own encoding does not decode: {e}"));
    assert_eq!(
        bytes(&cara::to_value(&again).unwrap()),
        encoded,
        "{} does not round-trip",
        std::any::type_name::<T>()
    );
}

fn cara_values(input: &[u8]) {
    let Ok(value) = cara::pseud::value::read_value(input) else {
        return;
    };
    round_trip::<Everything>(&value);
    round_trip::<Tree>(&value);
    round_trip::<UsesGenerics>(&value);
    round_trip::<Pair<String, Data>>(&value);
    round_trip::<Pair<Vec<Color>, Option<Box<Point>>>>(&value);
    round_trip::<sub::SwapResults>(&value);
    round_trip::<Field>(&value);
    round_trip::<Color>(&value);
    round_trip::<Vec<Everything>>(&value);
    round_trip::<Vec<Vec<String>>>(&value);
    round_trip::<Vec<Option<i8>>>(&value);
    round_trip::<u64>(&value);
    round_trip::<f32>(&value);
    round_trip::<f64>(&value);
    round_trip::<bool>(&value);
    round_trip::<Data>(&value);
    round_trip::<()>(&value);
    round_trip::<Dynamic>(&value);
    if let Err(e) = cara::from_value::<Everything>(value) {
        let _ = e.to_string();
    }
}

#[test]
fn fuzz_cara_values() {
    fuzzkit::Target::new("cara_values", corpus())
        .iterations(40_000)
        .max_len(2048)
        .run(cara_values);
}

/// Writes the corpus: values this crate's generated code encodes, the same keyed by
/// field names, and cara's own vectors (docs/protocol.md). Run it after changing
/// the schema: `cargo test -p cara --test fuzz_values -- --ignored`.
#[test]
#[ignore = "writes the committed corpus"]
fn write_cara_seeds() {
    let mut full = cara::from_value::<Everything>(Value::Map(vec![])).unwrap();
    full.nested = vec![vec!["a".into(), String::new()], vec![]];
    full.any = Dynamic(Value::Map(vec![(1.into(), Value::Binary(vec![1]))]));
    full.which = everything::Which::Square(Point {
        x: -0.0,
        y: f64::NAN,
    });
    full.shape = everything::Shape::Flat("flat".into());
    full.color = Color::Unknown(7);
    let tree = Tree {
        label: "root".into(),
        children: vec![Tree {
            label: "leaf".into(),
            children: vec![],
            parent: None,
        }],
        parent: Some(Box::new(Tree {
            label: "up".into(),
            children: vec![],
            parent: None,
        })),
    };
    let generics = cara::from_value::<UsesGenerics>(Value::Map(vec![(
        0.into(),
        Value::Map(vec![
            (0.into(), "x".into()),
            (1.into(), Value::Array(vec![1.into(), 2.into()])),
        ]),
    )]))
    .unwrap();
    let swap = sub::SwapResults {
        first: Data(vec![0xff]),
        second: "s".into(),
    };
    let by_name = Value::Map(vec![
        ("flag".into(), false.into()),
        ("color".into(), "blue".into()),
        ("circle".into(), Value::F64(2.5)),
        (
            "position".into(),
            Value::Map(vec![("lat".into(), 1.into())]),
        ),
        ("shape".into(), Value::Map(vec![("round".into(), 3.into())])),
        ("unknown".into(), Value::Nil),
    ]);
    let seeds: Vec<(&str, Vec<u8>)> = vec![
        (
            "everything-default",
            bytes(&cara::to_value(&cara::from_value::<Everything>(Value::Nil).unwrap()).unwrap()),
        ),
        ("everything-full", bytes(&cara::to_value(&full).unwrap())),
        ("everything-by-name", bytes(&by_name)),
        ("tree", bytes(&cara::to_value(&tree).unwrap())),
        ("generics", bytes(&cara::to_value(&generics).unwrap())),
        ("swap-results", bytes(&cara::to_value(&swap).unwrap())),
        // cara's example {field: "x"} and a dynamic caller's {"first": 2}.
        ("captured-field", vec![0x81, 0x00, 0xa1, 0x78]),
        (
            "captured-by-name",
            vec![0x81, 0xa5, b'f', b'i', b'r', b's', b't', 0x02],
        ),
        (
            "list-of-lists",
            bytes(&cara::to_value(&vec![vec!["x".to_string()]]).unwrap()),
        ),
        (
            "tuple",
            bytes(&Value::Array(vec![
                (-1).into(),
                u64::MAX.into(),
                Value::F32(0.5),
                2.into(),
                true.into(),
            ])),
        ),
    ];
    fuzzkit::write_seeds(&corpus(), &seeds).unwrap();
}
