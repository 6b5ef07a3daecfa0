use rmpv::Value;

use super::{Cost, MAX_DEPTH, read_within, scan};
use crate::codec_error::CodecError;
use crate::value::write_value;

fn encode(v: &Value) -> Vec<u8> {
    let mut buf = Vec::new();
    write_value(&mut buf, v);
    buf
}

#[test]
fn values_read_back_as_rmpv_writes_them() {
    let values = [
        Value::Nil,
        Value::from(true),
        Value::from(0u8),
        Value::from(-1i8),
        Value::from(-33i8),
        Value::from(200u8),
        Value::from(70_000u32),
        Value::from(u64::MAX),
        Value::from(i64::MIN),
        Value::F32(1.5),
        Value::F64(-2.25),
        Value::from("héllo"),
        Value::from("x".repeat(300)),
        Value::Binary(vec![1, 2, 3]),
        Value::Binary(vec![7; 70_000]),
        Value::Ext(5, vec![1]),
        Value::Ext(-3, vec![1; 16]),
        Value::Ext(100, vec![9; 3]),
        Value::Array(vec![Value::from(1u8); 20]),
        Value::Map(vec![(Value::from("k"), Value::Array(vec![Value::Nil]))]),
        Value::Map(
            (0..20u8)
                .map(|i| (Value::from(i), Value::from(i)))
                .collect(),
        ),
    ];
    for v in values {
        assert_eq!(read_within(&encode(&v), usize::MAX).unwrap(), v, "{v}");
    }
}

#[test]
fn non_utf8_strings_keep_their_bytes() {
    let v = read_within(&[0xa2, 0xff, 0xfe], usize::MAX).unwrap();
    let Value::String(s) = v else { panic!("{v:?}") };
    assert_eq!(s.as_bytes(), &[0xff, 0xfe]);
}

#[test]
fn lengths_past_the_input_are_refused_before_allocating() {
    // array32 of 4 billion items, map32, str32 and bin32 of 4 GB: a few bytes.
    for bad in [
        &[0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0][..],
        &[0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0, 0xc0],
        &[0xdb, 0xff, 0xff, 0xff, 0xff, b'a'],
        &[0xc6, 0xff, 0xff, 0xff, 0xff],
        &[0x92, 0x01],
        &[],
    ] {
        assert!(
            matches!(read_within(bad, usize::MAX), Err(CodecError::Truncated)),
            "{bad:x?}"
        );
    }
}

#[test]
fn the_reserved_byte_and_trailing_bytes_are_refused() {
    assert!(matches!(
        read_within(&[0x91, 0xc1], usize::MAX),
        Err(CodecError::ReservedByte)
    ));
    assert!(matches!(
        read_within(&[0xc0, 0xc0], usize::MAX),
        Err(CodecError::TrailingBytes(1))
    ));
}

#[test]
fn nesting_is_limited_to_max_depth_levels() {
    let nested = |levels: usize| {
        let mut v = Value::Nil;
        for _ in 0..levels {
            v = Value::Array(vec![v]);
        }
        encode(&v)
    };
    assert!(read_within(&nested(MAX_DEPTH), usize::MAX).is_ok());
    assert!(matches!(
        read_within(&nested(MAX_DEPTH + 1), usize::MAX),
        Err(CodecError::TooDeep { limit: MAX_DEPTH })
    ));
    // Empty containers count too.
    let mut bytes = vec![0x91; MAX_DEPTH];
    bytes.push(0x90);
    assert!(matches!(
        read_within(&bytes, usize::MAX),
        Err(CodecError::TooDeep { .. })
    ));
}

#[test]
fn the_cost_is_known_before_building_and_the_budget_holds() {
    // One array of 1,000 nils: 1,001 values, no payload.
    let mut nils = vec![0xdc, 0x03, 0xe8];
    nils.extend(std::iter::repeat_n(0xc0, 1000));
    assert_eq!(
        scan(&nils).unwrap(),
        Cost {
            items: 1001,
            payload: 0
        }
    );
    let needed = 1001 * std::mem::size_of::<Value>();
    assert!(read_within(&nils, needed).is_ok());
    assert!(matches!(
        read_within(&nils, needed - 1),
        Err(CodecError::TooComplex { needed: n, .. }) if n == needed
    ));
    // Strings count their bytes.
    let s = encode(&Value::from("abcdef"));
    assert_eq!(scan(&s).unwrap().payload, 6);
}
