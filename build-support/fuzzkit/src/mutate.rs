//! The mutator: turns corpus seeds into new inputs.
//!
//! Byte mutations aim at binary decoders: bit flips, bytes set to values decoders
//! branch on (msgpack markers, ZMTP flags, sign and range edges), inserted, deleted and
//! duplicated ranges, splices of two seeds, and length-looking fields overwritten with
//! huge values. Text mutations (for the schema parser) work on lines and tokens, so
//! that most inputs still lex and reach the later phases.

use rand::{Rng, RngExt};

/// Byte values decoders branch on: fixint/fixmap/fixarray/fixstr edges and the
/// msgpack markers (0xc0 nil, 0xc1 reserved, 0xc4–0xc9 bin/ext, 0xd9–0xdb str,
/// 0xdc–0xdf array/map), the ZMTP flag bits (0x01 MORE, 0x02 LONG, 0x04 COMMAND),
/// the pseud type bytes, and sign edges.
const INTERESTING: &[u8] = &[
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x10, 0x11, 0x20, 0x40, 0x7e, 0x7f, 0x80,
    0x81, 0x8f, 0x90, 0x91, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8,
    0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd3, 0xd4, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd,
    0xde, 0xdf, 0xe0, 0xfe, 0xff,
];

/// Tokens the text mutations insert, on top of the target's dictionary: the schema
/// language's punctuation, ordinals and numbers at and past the edges of their types.
const TEXT_TOKENS: &[&str] = &[
    "{",
    "}",
    "@",
    ";",
    "$",
    "(",
    ")",
    "[",
    "]",
    "=",
    ":",
    ",",
    ".",
    "\"",
    "#",
    "\n",
    " ",
    "@0",
    "@1",
    "@65535",
    "@65536",
    "@99999999999999999999",
    "0x",
    "0xffffffffffffffff",
    "0x10000000000000000",
    "-9223372036854775809",
    "18446744073709551616",
    "1e999",
    "-0.0",
    "\"\\",
    "\\x",
    "'",
    "*",
    "->",
    "0x\"",
    "inf",
    "nan",
];

/// Inputs from a corpus: each is one seed with one or more mutations stacked on it.
pub struct Mutator<'a> {
    seeds: &'a [Vec<u8>],
    dictionary: &'a [Vec<u8>],
    text: bool,
    max_len: usize,
}

impl<'a> Mutator<'a> {
    /// A mutator over `seeds` (at least one), inserting `dictionary` words as well as
    /// its own; `text` adds line and token mutations; inputs are cut to `max_len`.
    pub fn new(
        seeds: &'a [Vec<u8>],
        dictionary: &'a [Vec<u8>],
        text: bool,
        max_len: usize,
    ) -> Self {
        Mutator {
            seeds,
            dictionary,
            text,
            max_len,
        }
    }

    /// A new input: a random seed, mutated one to eight times (fewer more often: one
    /// change keeps most of a seed's structure, several reach further).
    pub fn mutate<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<u8> {
        let mut data = self.seed(rng).to_vec();
        let rounds = 1 + rng.random_range(0..8u32).min(rng.random_range(0..8u32));
        for _ in 0..rounds {
            if self.text && rng.random_ratio(7, 10) {
                self.mutate_text(rng, &mut data);
            } else {
                self.mutate_bytes(rng, &mut data);
            }
        }
        data.truncate(self.max_len);
        data
    }

    fn seed<R: Rng + ?Sized>(&self, rng: &mut R) -> &'a [u8] {
        match self.seeds.len() {
            0 => &[],
            n => &self.seeds[rng.random_range(0..n)],
        }
    }

    /// One byte-level change.
    pub fn mutate_bytes<R: Rng + ?Sized>(&self, rng: &mut R, data: &mut Vec<u8>) {
        let len = data.len();
        if len == 0 {
            insert(data, 0, &random_bytes(rng, 1..9));
            return;
        }
        let at = rng.random_range(0..len);
        match rng.random_range(0..15u8) {
            0 => data[at] ^= 1 << rng.random_range(0..8u8),
            1 => data[at] = INTERESTING[rng.random_range(0..INTERESTING.len())],
            2 => data[at] = rng.random(),
            3 => {
                data[at] =
                    data[at].wrapping_add(rng.random_range(1..=16u8).wrapping_mul(pick_sign(rng)))
            }
            4 => insert(data, rng.random_range(0..=len), &random_bytes(rng, 1..9)),
            // A run of one byte: deep nesting (0x91 0x91 …), long strings, many frames.
            5 => {
                let byte = if rng.random_bool(0.5) {
                    data[at]
                } else {
                    INTERESTING[rng.random_range(0..INTERESTING.len())]
                };
                let run = vec![byte; rng.random_range(1..=600)];
                insert(data, at, &run);
            }
            6 => {
                let end = range_end(rng, at, len);
                data.drain(at..end);
            }
            7 => {
                let end = range_end(rng, at, len);
                let chunk = data[at..end].to_vec();
                insert(data, rng.random_range(0..=len), &chunk);
            }
            8 => {
                let end = range_end(rng, at, len);
                let chunk = data[at..end].to_vec();
                let to = rng.random_range(0..=len - chunk.len());
                data[to..to + chunk.len()].copy_from_slice(&chunk);
            }
            9 => {
                // Splice: this seed's head, another seed's tail.
                let other = self.seed(rng);
                let from = rng.random_range(0..=other.len());
                data.truncate(at);
                data.extend_from_slice(&other[from..]);
            }
            10 => {
                let other = self.seed(rng);
                if !other.is_empty() {
                    let from = rng.random_range(0..other.len());
                    let end = range_end(rng, from, other.len());
                    insert(data, at, &other[from..end]);
                }
            }
            11 => huge_length(rng, data),
            12 | 13 if !self.dictionary.is_empty() => {
                let word = &self.dictionary[rng.random_range(0..self.dictionary.len())];
                if rng.random_bool(0.5) {
                    insert(data, rng.random_range(0..=len), word);
                } else {
                    let n = word.len().min(len - at);
                    data[at..at + n].copy_from_slice(&word[..n]);
                }
            }
            _ => data.truncate(at),
        }
    }

    /// One line- or token-level change of text.
    pub fn mutate_text<R: Rng + ?Sized>(&self, rng: &mut R, data: &mut Vec<u8>) {
        let lines = line_starts(data);
        let len = data.len();
        let line = |i: usize| lines[i]..lines.get(i + 1).copied().unwrap_or(len);
        let pick = rng.random_range(0..lines.len());
        match rng.random_range(0..7u8) {
            0 => {
                let chunk = data[line(pick)].to_vec();
                let to = lines[rng.random_range(0..lines.len())];
                insert(data, to, &chunk);
            }
            1 => {
                data.drain(line(pick));
            }
            2 => {
                let (a, b) = (line(pick), line(rng.random_range(0..lines.len())));
                if a.end <= b.start {
                    let (first, second) = (data[a.clone()].to_vec(), data[b.clone()].to_vec());
                    data.splice(b, first);
                    data.splice(a, second);
                }
            }
            3 => {
                let token = self.token(rng);
                insert(data, rng.random_range(0..=data.len()), &token);
            }
            4 | 5 => {
                // Replace (or delete) the word around a random position.
                if !data.is_empty() {
                    let word = word_around(data, rng.random_range(0..data.len()));
                    let token = if rng.random_range(0..5u8) == 0 {
                        Vec::new()
                    } else {
                        self.token(rng)
                    };
                    data.splice(word, token);
                }
            }
            _ => {
                // One token many times: nesting and long lists.
                let token = self.token(rng);
                let run = token.repeat(rng.random_range(2..200));
                insert(data, rng.random_range(0..=data.len()), &run);
            }
        }
    }

    fn token<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<u8> {
        let n = TEXT_TOKENS.len() + self.dictionary.len();
        match rng.random_range(0..n) {
            i if i < TEXT_TOKENS.len() => TEXT_TOKENS[i].as_bytes().to_vec(),
            i => self.dictionary[i - TEXT_TOKENS.len()].clone(),
        }
    }
}

fn insert(data: &mut Vec<u8>, at: usize, bytes: &[u8]) {
    data.splice(at..at, bytes.iter().copied());
}

fn random_bytes<R: Rng + ?Sized>(rng: &mut R, len: std::ops::Range<usize>) -> Vec<u8> {
    (0..rng.random_range(len)).map(|_| rng.random()).collect()
}

fn pick_sign<R: Rng + ?Sized>(rng: &mut R) -> u8 {
    if rng.random_bool(0.5) { 1 } else { u8::MAX }
}

/// The end of a short range from `start` (mostly a few bytes, sometimes long).
fn range_end<R: Rng + ?Sized>(rng: &mut R, start: usize, len: usize) -> usize {
    let max = if rng.random_ratio(1, 4) {
        len - start
    } else {
        (len - start).min(16)
    };
    start + rng.random_range(1..=max.max(1)).min(len - start)
}

/// Overwrites a length-looking field with a huge or off-by-one value: the bytes
/// after a msgpack length marker, or 1, 2, 4 or 8 big-endian bytes anywhere (ZMTP
/// sizes and metadata lengths have no marker).
fn huge_length<R: Rng + ?Sized>(rng: &mut R, data: &mut Vec<u8>) {
    let start = rng.random_range(0..data.len());
    let marked = data[start..]
        .iter()
        .position(|b| marker_width(*b).is_some());
    let (at, width) = match marked {
        Some(offset) if rng.random_bool(0.6) => {
            let at = start + offset;
            (at + 1, marker_width(data[at]).unwrap_or(1))
        }
        _ => (start, [1, 2, 4, 8][rng.random_range(0..4)]),
    };
    let max = if width == 8 {
        u64::MAX
    } else {
        (1u64 << (8 * width)) - 1
    };
    let len = data.len() as u64;
    let value = match rng.random_range(0..7u8) {
        0 => max,
        1 => max / 2,
        2 => max / 2 + 1,
        3 => len.min(max),
        4 => (len + 1).min(max),
        5 => 0,
        _ => rng.random::<u64>() & max,
    };
    let bytes = value.to_be_bytes();
    let field = &bytes[8 - width..];
    if data.len() < at + width {
        data.resize(at + width, 0);
    }
    data[at..at + width].copy_from_slice(field);
}

/// The width of the length after a msgpack marker, if it is one that has a length.
fn marker_width(marker: u8) -> Option<usize> {
    match marker {
        0xc4 | 0xc7 | 0xd9 => Some(1),
        0xc5 | 0xc8 | 0xda | 0xdc | 0xde => Some(2),
        0xc6 | 0xc9 | 0xdb | 0xdd | 0xdf => Some(4),
        _ => None,
    }
}

/// Where each line starts (always at least one line, even in empty text).
fn line_starts(data: &[u8]) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(
        data.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i + 1),
    );
    if starts.len() > 1 && starts.last() == Some(&data.len()) {
        starts.pop();
    }
    starts
}

/// The run of identifier characters around `at` (just `at` if it is not one).
fn word_around(data: &[u8], at: usize) -> std::ops::Range<usize> {
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    if !is_word(data[at]) {
        return at..at + 1;
    }
    let start = data[..at]
        .iter()
        .rposition(|b| !is_word(*b))
        .map_or(0, |i| i + 1);
    let end = data[at..]
        .iter()
        .position(|b| !is_word(*b))
        .map_or(data.len(), |i| at + i);
    start..end
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::Xoshiro256PlusPlus;

    use super::*;

    fn sample(text: bool, n: usize) -> Vec<Vec<u8>> {
        let seeds = vec![
            b"struct A { a @0 :Int32; }\n".to_vec(),
            vec![0x93, 0xa1, 0x61, 0x90, 0x80],
        ];
        let dictionary = vec![b"interface".to_vec()];
        let m = Mutator::new(&seeds, &dictionary, text, 64);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        (0..n).map(|_| m.mutate(&mut rng)).collect()
    }

    #[test]
    fn mutation_is_deterministic_and_bounded() {
        let a = sample(false, 2000);
        assert_eq!(a, sample(false, 2000));
        assert!(a.iter().all(|x| x.len() <= 64));
        // Mutations change things, and not always to the same thing.
        let distinct: std::collections::HashSet<_> = a.iter().collect();
        assert!(distinct.len() > 1000, "{} distinct inputs", distinct.len());
    }

    #[test]
    fn text_mode_inserts_schema_punctuation() {
        let inputs = sample(true, 2000);
        assert!(inputs.iter().any(|x| x.contains(&b'$')));
        assert!(
            inputs
                .iter()
                .any(|x| x.windows(9).any(|w| w == b"interface"))
        );
    }

    #[test]
    fn huge_lengths_follow_markers() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut seen_max = false;
        for _ in 0..200 {
            let mut data = vec![0xdd, 0, 0, 0, 1, 0x01];
            huge_length(&mut rng, &mut data);
            seen_max |= data[..5] == [0xdd, 0xff, 0xff, 0xff, 0xff];
        }
        assert!(seen_max);
    }

    #[test]
    fn words_and_lines_are_found() {
        assert_eq!(word_around(b"a bcd;", 3), 2..5);
        assert_eq!(word_around(b"a bcd;", 5), 5..6);
        assert_eq!(line_starts(b"a\nb\n"), vec![0, 2]);
        assert_eq!(line_starts(b""), vec![0]);
    }
}
