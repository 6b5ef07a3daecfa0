//! Literal values and their Cap'n Proto wire encoding (for pointer-typed defaults, constants
//! and annotation values).

use crate::model::{FieldKind, Node, NodeKind, Type, Value};

/// A type-checked literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    /// void
    Void,
    /// bool
    Bool(bool),
    /// Any signed or unsigned integer (already range-checked for its type).
    Int(i128),
    /// Float.
    Float(f64),
    /// Text.
    Text(String),
    /// Data.
    Data(Vec<u8>),
    /// Enumerant ordinal.
    Enum(u16),
    /// List elements.
    List(Vec<Val>),
    /// Struct: (field index in the node's field list, effective field type, value) in
    /// assignment order.  The type has generic parameters substituted.
    Struct(u64, Vec<(usize, Type, Val)>),
    /// Null pointer.
    Null,
}

/// Converts a checked literal to a model value of type `ty`.
pub fn to_value(val: &Val, ty: &Type, nodes: &dyn Fn(u64) -> Option<Node>) -> Value {
    match (ty, val) {
        (Type::Void, _) => Value::Void,
        (Type::Bool, Val::Bool(b)) => Value::Bool(*b),
        (Type::Int8, Val::Int(i)) => Value::Int8(*i as i8),
        (Type::Int16, Val::Int(i)) => Value::Int16(*i as i16),
        (Type::Int32, Val::Int(i)) => Value::Int32(*i as i32),
        (Type::Int64, Val::Int(i)) => Value::Int64(*i as i64),
        (Type::Uint8, Val::Int(i)) => Value::Uint8(*i as u8),
        (Type::Uint16, Val::Int(i)) => Value::Uint16(*i as u16),
        (Type::Uint32, Val::Int(i)) => Value::Uint32(*i as u32),
        (Type::Uint64, Val::Int(i)) => Value::Uint64(*i as u64),
        (Type::Float32, Val::Float(f)) => Value::Float32(*f as f32),
        (Type::Float64, Val::Float(f)) => Value::Float64(*f),
        (Type::Float32, Val::Int(i)) => Value::Float32(*i as f32),
        (Type::Float64, Val::Int(i)) => Value::Float64(*i as f64),
        (Type::Text, Val::Text(t)) => Value::Text(Some(t.clone())),
        (Type::Data, Val::Data(d)) => Value::Data(Some(d.clone())),
        (Type::Enum { .. }, Val::Enum(e)) => Value::Enum(*e),
        (Type::List(_), Val::Null) => Value::List(None),
        (Type::List(_), v) => Value::List(Some(encode_root(v, ty, nodes))),
        (Type::Struct { .. }, Val::Null) => Value::Struct(None),
        (Type::Struct { .. }, v) => Value::Struct(Some(encode_root(v, ty, nodes))),
        (Type::Interface { .. }, _) => Value::Interface,
        (Type::AnyPointer(_), _) => Value::AnyPointer(None),
        (ty, _) => default_value(ty),
    }
}

/// The implicit default of a type.
pub fn default_value(ty: &Type) -> Value {
    match ty {
        Type::Void => Value::Void,
        Type::Bool => Value::Bool(false),
        Type::Int8 => Value::Int8(0),
        Type::Int16 => Value::Int16(0),
        Type::Int32 => Value::Int32(0),
        Type::Int64 => Value::Int64(0),
        Type::Uint8 => Value::Uint8(0),
        Type::Uint16 => Value::Uint16(0),
        Type::Uint32 => Value::Uint32(0),
        Type::Uint64 => Value::Uint64(0),
        Type::Float32 => Value::Float32(0.0),
        Type::Float64 => Value::Float64(0.0),
        Type::Text => Value::Text(None),
        Type::Data => Value::Data(None),
        Type::List(_) => Value::List(None),
        Type::Enum { .. } => Value::Enum(0),
        Type::Struct { .. } => Value::Struct(None),
        Type::Interface { .. } => Value::Interface,
        Type::AnyPointer(_) => Value::AnyPointer(None),
    }
}

/// Raw 64-bit pattern of a primitive default (for XOR encoding).
pub(crate) fn value_bits(v: &Value) -> u64 {
    match v {
        Value::Bool(b) => u64::from(*b),
        Value::Int8(x) => *x as u8 as u64,
        Value::Int16(x) => *x as u16 as u64,
        Value::Int32(x) => *x as u32 as u64,
        Value::Int64(x) => *x as u64,
        Value::Uint8(x) => u64::from(*x),
        Value::Uint16(x) => u64::from(*x),
        Value::Uint32(x) => u64::from(*x),
        Value::Uint64(x) => *x,
        Value::Float32(x) => u64::from(x.to_bits()),
        Value::Float64(x) => x.to_bits(),
        Value::Enum(x) => u64::from(*x),
        _ => 0,
    }
}

fn val_bits(v: &Val, ty: &Type) -> u64 {
    match (ty, v) {
        (Type::Float32, Val::Float(f)) => u64::from((*f as f32).to_bits()),
        (Type::Float64, Val::Float(f)) => f.to_bits(),
        (Type::Float32, Val::Int(i)) => u64::from((*i as f32).to_bits()),
        (Type::Float64, Val::Int(i)) => (*i as f64).to_bits(),
        (_, Val::Bool(b)) => u64::from(*b),
        (_, Val::Int(i)) => *i as u64,
        (_, Val::Enum(e)) => u64::from(*e),
        _ => 0,
    }
}

/// Word arena for building one single-segment message.
struct Arena {
    words: Vec<u64>,
}

impl Arena {
    fn alloc(&mut self, n: usize) -> usize {
        let at = self.words.len();
        self.words.resize(at + n, 0);
        at
    }
    fn set_bits(&mut self, word_base: usize, bit_offset: u64, bits: u32, value: u64) {
        let word = word_base + (bit_offset / 64) as usize;
        let shift = bit_offset % 64;
        let mask = if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        if let Some(w) = self.words.get_mut(word) {
            *w = (*w & !(mask << shift)) | ((value & mask) << shift);
        }
    }
    fn struct_ptr(&mut self, at: usize, target: usize, data: u16, ptrs: u16) {
        // A zero-sized struct points just before itself (offset -1), as Cap'n Proto
        // encodes it: offset 0 with no words would be a null pointer.
        let target = if data == 0 && ptrs == 0 { at } else { target };
        let off = (target as i64 - at as i64 - 1) as u64 & 0x3fff_ffff;
        self.words[at] = (off << 2) | (u64::from(data) << 32) | (u64::from(ptrs) << 48);
    }
    fn list_ptr(&mut self, at: usize, target: usize, size: u64, count: u64) {
        let off = (target as i64 - at as i64 - 1) as u64 & 0x3fff_ffff;
        self.words[at] = 1 | (off << 2) | (size << 32) | ((count & 0x1fff_ffff) << 35);
    }
}

/// Encodes `val` of type `ty` as a message (no segment table) whose root pointer is the value.
pub fn encode_root(val: &Val, ty: &Type, nodes: &dyn Fn(u64) -> Option<Node>) -> Vec<u8> {
    let mut arena = Arena { words: vec![0] };
    write_pointer(&mut arena, 0, val, ty, nodes);
    arena.words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn struct_sizes(nodes: &dyn Fn(u64) -> Option<Node>, id: u64) -> (u16, u16) {
    match nodes(id).map(|n| n.kind) {
        Some(NodeKind::Struct(s)) => (s.data_word_count, s.pointer_count),
        _ => (0, 0),
    }
}

fn write_pointer(
    a: &mut Arena,
    at: usize,
    val: &Val,
    ty: &Type,
    nodes: &dyn Fn(u64) -> Option<Node>,
) {
    match (ty, val) {
        (_, Val::Null) => {}
        (Type::Text, Val::Text(t)) => {
            let bytes = t.as_bytes();
            let n = bytes.len() + 1;
            let target = a.alloc(n.div_ceil(8));
            write_bytes(a, target, bytes);
            a.list_ptr(at, target, 2, n as u64);
        }
        (Type::Data, Val::Data(d)) => {
            let target = a.alloc(d.len().div_ceil(8));
            write_bytes(a, target, d);
            a.list_ptr(at, target, 2, d.len() as u64);
        }
        (Type::Struct { type_id, .. }, Val::Struct(_, _)) => {
            let (dw, pc) = struct_sizes(nodes, *type_id);
            let target = a.alloc(usize::from(dw) + usize::from(pc));
            a.struct_ptr(at, target, dw, pc);
            write_struct(a, target, dw, *type_id, val, nodes);
        }
        (Type::List(elem), Val::List(items)) => write_list(a, at, elem, items, nodes),
        _ => {}
    }
}

fn write_bytes(a: &mut Arena, target: usize, bytes: &[u8]) {
    for (i, b) in bytes.iter().enumerate() {
        a.set_bits(target, (i * 8) as u64, 8, u64::from(*b));
    }
}

fn write_list(
    a: &mut Arena,
    at: usize,
    elem: &Type,
    items: &[Val],
    nodes: &dyn Fn(u64) -> Option<Node>,
) {
    let n = items.len();
    match elem {
        Type::Void => {
            let target = a.words.len();
            a.list_ptr(at, target, 0, n as u64);
        }
        Type::Struct { type_id, .. } => {
            let (dw, pc) = struct_sizes(nodes, *type_id);
            let per = usize::from(dw) + usize::from(pc);
            let tag = a.alloc(1 + per * n);
            a.words[tag] = ((n as u64) << 2) | (u64::from(dw) << 32) | (u64::from(pc) << 48);
            a.list_ptr(at, tag, 7, (per * n) as u64);
            for (i, item) in items.iter().enumerate() {
                write_struct(a, tag + 1 + i * per, dw, *type_id, item, nodes);
            }
        }
        t if t.is_pointer() => {
            let target = a.alloc(n);
            a.list_ptr(at, target, 6, n as u64);
            for (i, item) in items.iter().enumerate() {
                write_pointer(a, target + i, item, elem, nodes);
            }
        }
        t => {
            let lg = t.lg_size().unwrap_or(0);
            let bits = 1u64 << lg;
            let size = match lg {
                0 => 1,
                3 => 2,
                4 => 3,
                5 => 4,
                _ => 5,
            };
            let target = a.alloc(((bits * n as u64).div_ceil(64)) as usize);
            a.list_ptr(at, target, size, n as u64);
            for (i, item) in items.iter().enumerate() {
                a.set_bits(target, bits * i as u64, bits as u32, val_bits(item, elem));
            }
        }
    }
}

fn write_struct(
    a: &mut Arena,
    base: usize,
    data_words: u16,
    type_id: u64,
    val: &Val,
    nodes: &dyn Fn(u64) -> Option<Node>,
) {
    let Val::Struct(_, assigns) = val else { return };
    let Some(node) = nodes(type_id) else { return };
    let NodeKind::Struct(s) = &node.kind else {
        return;
    };
    let ptr_base = base + usize::from(data_words);
    for (idx, eff_ty, v) in assigns {
        let Some(field) = s.fields.get(*idx) else {
            continue;
        };
        if field.discriminant_value != crate::model::NO_DISCRIMINANT {
            a.set_bits(
                base,
                u64::from(s.discriminant_offset) * 16,
                16,
                u64::from(field.discriminant_value),
            );
        }
        match &field.kind {
            FieldKind::Slot {
                offset, default, ..
            } => {
                let ty = eff_ty;
                if let Some(lg) = ty.lg_size() {
                    let bits = 1u64 << lg;
                    let raw = val_bits(v, ty) ^ value_bits(default);
                    a.set_bits(base, u64::from(*offset) * bits, bits as u32, raw);
                } else if ty.is_pointer() {
                    write_pointer(a, ptr_base + *offset as usize, v, ty, nodes);
                }
            }
            FieldKind::Group { type_id } => {
                write_struct(a, base, data_words, *type_id, v, nodes);
            }
        }
    }
}
