//! `embed "file"` for struct and list constants: the file is a Cap'n Proto message (standard
//! framing, unpacked) whose root is read back into a literal [`Val`] with the layouts this
//! compiler computed, as the official compiler copies the message's root.
//!
//! The file is untrusted input: every offset is bounds-checked, nesting is limited and the
//! number of words read is bounded (no amplification through shared pointers).

use crate::model::{Brand, FieldKind, NO_DISCRIMINANT, Node, NodeKind, Type};
use crate::values::Val;

/// Deepest pointer nesting followed.
const MAX_DEPTH: u32 = 64;
/// Most words read in total (8 MiB of content).
const MAX_WORDS: u64 = 1 << 20;

/// Why an embedded message cannot be read.
pub(super) type Bad = &'static str;

/// Reads `bytes` as a message whose root has type `ty` (a struct or a list).
pub(super) fn read_root(
    bytes: &[u8],
    ty: &Type,
    nodes: &mut dyn FnMut(u64) -> Option<Node>,
    brand_of: &dyn Fn(&Type, &Brand) -> Type,
) -> Result<Val, Bad> {
    let segments = split(bytes)?;
    let mut r = Reader {
        segments,
        nodes,
        brand_of,
        budget: MAX_WORDS,
    };
    r.pointer(Loc { seg: 0, word: 0 }, ty, &Brand::default(), 0)
}

#[derive(Clone, Copy)]
struct Loc {
    seg: usize,
    word: usize,
}

struct Reader<'a> {
    segments: Vec<Vec<u64>>,
    nodes: &'a mut dyn FnMut(u64) -> Option<Node>,
    brand_of: &'a dyn Fn(&Type, &Brand) -> Type,
    budget: u64,
}

/// Where a struct's sections are.
#[derive(Clone, Copy)]
struct StructAt {
    seg: usize,
    data: usize,
    data_words: usize,
    ptrs: usize,
    ptr_count: usize,
}

fn split(bytes: &[u8]) -> Result<Vec<Vec<u64>>, Bad> {
    let word = |i: usize| -> Option<u32> {
        let b = bytes.get(i * 4..i * 4 + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let count = word(0).ok_or("too short")? as usize + 1;
    if count > 512 {
        return Err("too many segments");
    }
    let mut sizes = Vec::new();
    for i in 0..count {
        sizes.push(word(1 + i).ok_or("truncated segment table")? as usize);
    }
    // The table is padded to a whole number of words.
    let mut at = (4 + 4 * count).div_ceil(8) * 8;
    let mut segments = Vec::new();
    for size in sizes {
        let end = size
            .checked_mul(8)
            .and_then(|n| n.checked_add(at))
            .ok_or("segment too large")?;
        let raw = bytes.get(at..end).ok_or("truncated segment")?;
        segments.push(
            raw.chunks_exact(8)
                .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
        );
        at = end;
    }
    Ok(segments)
}

impl Reader<'_> {
    fn word(&self, l: Loc) -> Result<u64, Bad> {
        self.segments
            .get(l.seg)
            .and_then(|s| s.get(l.word))
            .copied()
            .ok_or("pointer out of bounds")
    }

    fn spend(&mut self, words: u64) -> Result<(), Bad> {
        self.budget = self
            .budget
            .checked_sub(words.max(1))
            .ok_or("message too large")?;
        Ok(())
    }

    fn check(&self, seg: usize, start: usize, words: usize) -> Result<(), Bad> {
        let len = self.segments.get(seg).map_or(0, Vec::len);
        match start.checked_add(words) {
            Some(end) if end <= len => Ok(()),
            _ => Err("pointer out of bounds"),
        }
    }

    /// Resolves far pointers: (pointer word, where its target offset counts from).
    fn resolve(&self, at: Loc) -> Result<(u64, Loc), Bad> {
        let w = self.word(at)?;
        if w & 3 != 2 {
            return Ok((
                w,
                Loc {
                    seg: at.seg,
                    word: at.word + 1,
                },
            ));
        }
        let seg = (w >> 32) as usize;
        let pad = ((w >> 3) & 0x1fff_ffff) as usize;
        if w & 4 == 0 {
            let l = Loc { seg, word: pad };
            let inner = self.word(l)?;
            if inner & 3 == 2 {
                return Err("far pointer to a far pointer");
            }
            return Ok((inner, Loc { seg, word: pad + 1 }));
        }
        // Double far: the pad holds a far pointer to the content and a tag.
        let first = self.word(Loc { seg, word: pad })?;
        let tag = self.word(Loc { seg, word: pad + 1 })?;
        if first & 7 != 2 {
            return Err("bad double-far landing pad");
        }
        let content = Loc {
            seg: (first >> 32) as usize,
            word: ((first >> 3) & 0x1fff_ffff) as usize,
        };
        // The tag's offset is zero: its content starts at `content`.
        Ok((tag & !0xffff_fffc, content))
    }

    fn target(base: Loc, w: u64) -> Result<usize, Bad> {
        let offset = i64::from((w as u32 as i32) >> 2);
        usize::try_from(base.word as i64 + offset).map_err(|_| "pointer out of bounds")
    }

    fn pointer(&mut self, at: Loc, ty: &Type, brand: &Brand, depth: u32) -> Result<Val, Bad> {
        if depth > MAX_DEPTH {
            return Err("nested too deeply");
        }
        let (w, base) = self.resolve(at)?;
        if w == 0 {
            return Ok(Val::Null);
        }
        match ty {
            Type::Struct { type_id, brand: b } => {
                if w & 3 != 0 {
                    return Err("expected a struct pointer");
                }
                let data_words = ((w >> 32) & 0xffff) as usize;
                let ptr_count = (w >> 48) as usize;
                let data = Self::target(base, w)?;
                self.check(base.seg, data, data_words + ptr_count)?;
                self.spend((data_words + ptr_count) as u64)?;
                let at = StructAt {
                    seg: base.seg,
                    data,
                    data_words,
                    ptrs: data + data_words,
                    ptr_count,
                };
                let b = if b.scopes.is_empty() { brand } else { b };
                self.structure(at, *type_id, b, depth)
            }
            Type::Text | Type::Data => {
                let bytes = self.byte_list(base, w)?;
                Ok(if *ty == Type::Text {
                    let text = bytes.strip_suffix(&[0]).unwrap_or(&bytes);
                    Val::Text(String::from_utf8_lossy(text).into_owned())
                } else {
                    Val::Data(bytes)
                })
            }
            Type::List(elem) => self.list(base, w, elem, brand, depth),
            // Capabilities and untyped pointers have no literal form.
            _ => Ok(Val::Null),
        }
    }

    fn byte_list(&mut self, base: Loc, w: u64) -> Result<Vec<u8>, Bad> {
        if w & 3 != 1 || (w >> 32) & 7 != 2 {
            return Err("expected a byte list");
        }
        let count = (w >> 35) as usize;
        let start = Self::target(base, w)?;
        let words = count.div_ceil(8);
        self.check(base.seg, start, words)?;
        self.spend(words as u64)?;
        let seg = &self.segments[base.seg];
        Ok((0..count)
            .map(|i| (seg[start + i / 8] >> ((i % 8) * 8)) as u8)
            .collect())
    }

    fn list(
        &mut self,
        base: Loc,
        w: u64,
        elem: &Type,
        brand: &Brand,
        depth: u32,
    ) -> Result<Val, Bad> {
        if w & 3 != 1 {
            return Err("expected a list pointer");
        }
        let size = (w >> 32) & 7;
        let count = (w >> 35) as usize;
        let start = Self::target(base, w)?;
        let seg = base.seg;
        let mut out = Vec::new();
        if size == 7 {
            // Inline composite: a tag word, then `count` structs.
            let words = count;
            self.check(seg, start, words + 1)?;
            let tag = self.word(Loc { seg, word: start })?;
            let n = (((tag as u32) >> 2) & 0x3fff_ffff) as usize;
            let data_words = ((tag >> 32) & 0xffff) as usize;
            let ptr_count = (tag >> 48) as usize;
            let step = data_words + ptr_count;
            if n.checked_mul(step).is_none_or(|t| t > words) {
                return Err("bad struct list");
            }
            self.spend(words.max(n) as u64)?;
            let Type::Struct { type_id, brand: b } = elem else {
                return Err("struct list where another list is expected");
            };
            let b = if b.scopes.is_empty() { brand } else { b };
            for i in 0..n {
                let data = start + 1 + i * step;
                let at = StructAt {
                    seg,
                    data,
                    data_words,
                    ptrs: data + data_words,
                    ptr_count,
                };
                out.push(self.structure(at, *type_id, b, depth + 1)?);
            }
            return Ok(Val::List(out));
        }
        let bits: usize = match size {
            0 => 0,
            1 => 1,
            2 => 8,
            3 => 16,
            4 => 32,
            5 | 6 => 64,
            _ => return Err("bad list element size"),
        };
        let words = (count * bits).div_ceil(64);
        self.check(seg, start, words)?;
        self.spend(words.max(count) as u64)?;
        for i in 0..count {
            if size == 6 {
                let at = Loc {
                    seg,
                    word: start + i,
                };
                out.push(self.pointer(at, elem, brand, depth + 1)?);
                continue;
            }
            let raw = if bits == 0 {
                0
            } else {
                let bit = i * bits;
                let word = self.segments[seg][start + bit / 64];
                let mask = if bits == 64 {
                    u64::MAX
                } else {
                    (1 << bits) - 1
                };
                (word >> (bit % 64)) & mask
            };
            out.push(primitive(elem, raw).ok_or("list element type does not match")?);
        }
        Ok(Val::List(out))
    }

    fn structure(
        &mut self,
        at: StructAt,
        type_id: u64,
        brand: &Brand,
        depth: u32,
    ) -> Result<Val, Bad> {
        let node = (self.nodes)(type_id).ok_or("unknown struct")?;
        let NodeKind::Struct(s) = &node.kind else {
            return Err("not a struct");
        };
        let data_bits = |r: &Self, offset: usize, bits: usize| -> u64 {
            let bit = offset * bits;
            if bits == 0 || bit + bits > at.data_words * 64 {
                return 0;
            }
            let word = r.segments[at.seg][at.data + bit / 64];
            let mask = if bits == 64 {
                u64::MAX
            } else {
                (1 << bits) - 1
            };
            (word >> (bit % 64)) & mask
        };
        let active = (s.discriminant_count > 0)
            .then(|| data_bits(self, s.discriminant_offset as usize, 16) as u16);
        let mut entries = Vec::new();
        for (i, f) in s.fields.iter().enumerate() {
            if f.discriminant_value != NO_DISCRIMINANT && Some(f.discriminant_value) != active {
                continue;
            }
            match &f.kind {
                FieldKind::Slot {
                    offset,
                    ty,
                    default,
                    ..
                } => {
                    let ty = (self.brand_of)(ty, brand);
                    let offset = *offset as usize;
                    if let Some(lg) = ty.lg_size() {
                        let raw =
                            data_bits(self, offset, 1 << lg) ^ crate::values::value_bits(default);
                        let v = primitive(&ty, raw).ok_or("bad field")?;
                        entries.push((i, ty, v));
                    } else if ty == Type::Void {
                        // Only a union's active void member is worth recording.
                        if f.discriminant_value != NO_DISCRIMINANT {
                            entries.push((i, ty, Val::Void));
                        }
                    } else if ty.is_pointer() && offset < at.ptr_count {
                        let l = Loc {
                            seg: at.seg,
                            word: at.ptrs + offset,
                        };
                        let v = self.pointer(l, &ty, brand, depth + 1)?;
                        if v != Val::Null {
                            entries.push((i, ty, v));
                        }
                    }
                }
                FieldKind::Group { type_id } => {
                    let g = self.structure(at, *type_id, brand, depth + 1)?;
                    let gty = Type::Struct {
                        type_id: *type_id,
                        brand: brand.clone(),
                    };
                    entries.push((i, gty, g));
                }
            }
        }
        Ok(Val::Struct(type_id, entries))
    }
}

/// A primitive value of `ty` from its raw bits (defaults already applied).
fn primitive(ty: &Type, raw: u64) -> Option<Val> {
    Some(match ty {
        Type::Void => Val::Void,
        Type::Bool => Val::Bool(raw & 1 != 0),
        Type::Int8 => Val::Int(i128::from(raw as u8 as i8)),
        Type::Int16 => Val::Int(i128::from(raw as u16 as i16)),
        Type::Int32 => Val::Int(i128::from(raw as u32 as i32)),
        Type::Int64 => Val::Int(i128::from(raw as i64)),
        Type::Uint8 | Type::Uint16 | Type::Uint32 | Type::Uint64 => Val::Int(i128::from(raw)),
        Type::Float32 => Val::Float(f64::from(f32::from_bits(raw as u32))),
        Type::Float64 => Val::Float(f64::from_bits(raw)),
        Type::Enum { .. } => Val::Enum(raw as u16),
        _ => return None,
    })
}
