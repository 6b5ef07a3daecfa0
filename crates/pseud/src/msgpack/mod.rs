//! A msgpack reader that sizes a value before it builds it: one pass checks the
//! bytes (every length within the input, no reserved marker, bounded nesting,
//! nothing after the value) and counts what decoding would allocate; only then,
//! and only within the caller's budget, the second pass builds the [`Value`]
//! with exact capacities.
//!
//! Why not rmpv's reader: it grows vectors by doubling (up to twice the memory
//! a value needs), nests half as deep as its limit says, and reads the reserved
//! byte 0xc1 as nil; and no streaming reader can know the cost of a message
//! before it has built it. Validating first means a hostile length can never
//! make us allocate: each item takes at least one byte of the input.

use rmpv::{Utf8String, Value};

use crate::codec_error::CodecError;

/// Nesting deeper than this is refused (arrays and maps; the value itself is level 1).
pub const MAX_DEPTH: usize = 256;

/// What building a value costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cost {
    /// Values, containers included.
    pub items: usize,
    /// Bytes of strings, binaries and extension payloads (copied when built).
    pub payload: usize,
}

impl Cost {
    /// The bytes a built value takes, about.
    pub(crate) fn bytes(&self) -> usize {
        self.items
            .saturating_mul(std::mem::size_of::<Value>())
            .saturating_add(self.payload)
    }
}

/// Reads exactly one value, refusing one whose built form would take more
/// than `budget` bytes.
pub(crate) fn read_within(bytes: &[u8], budget: usize) -> Result<Value, CodecError> {
    let cost = scan(bytes)?;
    if cost.bytes() > budget {
        return Err(CodecError::TooComplex {
            needed: cost.bytes(),
            budget,
        });
    }
    let mut cursor = bytes;
    build(&mut cursor)
}

/// Checks that `bytes` hold exactly one well-formed value, and what it costs.
pub(crate) fn scan(bytes: &[u8]) -> Result<Cost, CodecError> {
    let mut buf = bytes;
    let mut cost = Cost {
        items: 0,
        payload: 0,
    };
    // Items still to read at each open level; the bottom one is the value itself.
    let mut open: Vec<usize> = vec![1];
    while let Some(left) = open.last_mut() {
        if *left == 0 {
            open.pop();
            continue;
        }
        *left -= 1;
        let marker = take(&mut buf, 1)?[0];
        cost.items += 1;
        if matches!(marker, 0x80..=0x9f | 0xdc..=0xdf) && open.len() > MAX_DEPTH {
            return Err(CodecError::TooDeep { limit: MAX_DEPTH });
        }
        let (children, skip) = match marker {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
            0xc1 => return Err(CodecError::ReservedByte),
            0x80..=0x8f => (2 * usize::from(marker & 0x0f), 0),
            0x90..=0x9f => (usize::from(marker & 0x0f), 0),
            0xa0..=0xbf => (0, usize::from(marker & 0x1f)),
            0xc4 | 0xd9 => (0, length(&mut buf, 1)?),
            0xc5 | 0xda => (0, length(&mut buf, 2)?),
            0xc6 | 0xdb => (0, length(&mut buf, 4)?),
            0xc7 => (0, length(&mut buf, 1)? + 1),
            0xc8 => (0, length(&mut buf, 2)? + 1),
            0xc9 => (0, length(&mut buf, 4)? + 1),
            0xca | 0xce | 0xd2 => (0, 4),
            0xcb | 0xcf | 0xd3 => (0, 8),
            0xcc | 0xd0 => (0, 1),
            0xcd | 0xd1 => (0, 2),
            0xd4..=0xd8 => (0, 1 + (1 << (marker - 0xd4))),
            0xdc => (length(&mut buf, 2)?, 0),
            0xdd => (length(&mut buf, 4)?, 0),
            0xde => (length(&mut buf, 2)?.saturating_mul(2), 0),
            0xdf => (length(&mut buf, 4)?.saturating_mul(2), 0),
        };
        if matches!(marker, 0xa0..=0xbf | 0xc4..=0xc9 | 0xd4..=0xdb) {
            cost.payload += skip;
        }
        take(&mut buf, skip)?;
        if children > 0 {
            // Each child takes a byte at least: a count past the input is a lie.
            if children > buf.len() {
                return Err(CodecError::Truncated);
            }
            open.push(children);
        }
    }
    if !buf.is_empty() {
        return Err(CodecError::TrailingBytes(buf.len()));
    }
    Ok(cost)
}

fn take<'a>(buf: &mut &'a [u8], n: usize) -> Result<&'a [u8], CodecError> {
    let (head, rest) = buf.split_at_checked(n).ok_or(CodecError::Truncated)?;
    *buf = rest;
    Ok(head)
}

/// A big-endian unsigned number of `n` bytes.
fn fixed(buf: &mut &[u8], n: usize) -> Result<u64, CodecError> {
    Ok(take(buf, n)?
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// A big-endian length of `n` bytes.
fn length(buf: &mut &[u8], n: usize) -> Result<usize, CodecError> {
    usize::try_from(fixed(buf, n)?).map_err(|_| CodecError::Truncated)
}

/// `n` bytes, copied.
fn bytes(buf: &mut &[u8], n: usize) -> Result<Vec<u8>, CodecError> {
    Ok(take(buf, n)?.to_vec())
}

/// Builds the value `scan` accepted (an error only for bytes it did not scan).
fn build(buf: &mut &[u8]) -> Result<Value, CodecError> {
    let start = *buf;
    let marker = take(buf, 1)?[0];
    // A str that is not UTF-8: rmpv keeps its bytes in a form only it can make.
    let string = |buf: &mut &[u8], bytes: Vec<u8>| match String::from_utf8(bytes) {
        Ok(s) => Ok(Value::String(Utf8String::from(s))),
        Err(_) => {
            let mut item = &start[..start.len() - buf.len()];
            rmpv::decode::read_value(&mut item).map_err(CodecError::Undecodable)
        }
    };
    Ok(match marker {
        0x00..=0x7f => Value::from(marker),
        0xe0..=0xff => Value::from(marker as i8),
        0xc0 => Value::Nil,
        0xc2 => Value::Boolean(false),
        0xc3 => Value::Boolean(true),
        0x80..=0x8f => map(buf, usize::from(marker & 0x0f))?,
        0x90..=0x9f => array(buf, usize::from(marker & 0x0f))?,
        0xa0..=0xbf => {
            let b = bytes(buf, usize::from(marker & 0x1f))?;
            string(buf, b)?
        }
        0xd9..=0xdb => {
            let n = length(buf, 1 << (marker - 0xd9))?;
            let b = bytes(buf, n)?;
            string(buf, b)?
        }
        0xc4..=0xc6 => {
            let n = length(buf, 1 << (marker - 0xc4))?;
            Value::Binary(bytes(buf, n)?)
        }
        0xc7..=0xc9 => {
            let n = length(buf, 1 << (marker - 0xc7))?;
            let kind = fixed(buf, 1)? as u8 as i8;
            Value::Ext(kind, bytes(buf, n)?)
        }
        0xd4..=0xd8 => {
            let kind = fixed(buf, 1)? as u8 as i8;
            Value::Ext(kind, bytes(buf, 1 << (marker - 0xd4))?)
        }
        0xca => Value::F32(f32::from_bits(fixed(buf, 4)? as u32)),
        0xcb => Value::F64(f64::from_bits(fixed(buf, 8)?)),
        0xcc => Value::from(fixed(buf, 1)?),
        0xcd => Value::from(fixed(buf, 2)?),
        0xce => Value::from(fixed(buf, 4)?),
        0xcf => Value::from(fixed(buf, 8)?),
        0xd0 => Value::from(fixed(buf, 1)? as u8 as i8),
        0xd1 => Value::from(fixed(buf, 2)? as u16 as i16),
        0xd2 => Value::from(fixed(buf, 4)? as u32 as i32),
        0xd3 => Value::from(fixed(buf, 8)? as i64),
        0xdc | 0xdd => {
            let n = length(buf, 2 << (marker - 0xdc))?;
            array(buf, n)?
        }
        0xde | 0xdf => {
            let n = length(buf, 2 << (marker - 0xde))?;
            map(buf, n)?
        }
        0xc1 => return Err(CodecError::ReservedByte),
    })
}

fn array(buf: &mut &[u8], n: usize) -> Result<Value, CodecError> {
    let mut items = Vec::with_capacity(n);
    for _ in 0..n {
        items.push(build(buf)?);
    }
    Ok(Value::Array(items))
}

fn map(buf: &mut &[u8], n: usize) -> Result<Value, CodecError> {
    let mut pairs = Vec::with_capacity(n);
    for _ in 0..n {
        let key = build(buf)?;
        pairs.push((key, build(buf)?));
    }
    Ok(Value::Map(pairs))
}

#[cfg(test)]
mod tests;
