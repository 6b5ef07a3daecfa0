//! The corpus on disk: one seed per file, plus hex helpers for printing inputs and
//! for writing seeds from test vectors.

use std::io;
use std::path::Path;

/// Every file in `dir` as `(file name, bytes)`, sorted by name so that a seed means
/// the same inputs on every machine (directory order is not stable).
///
/// # Errors
/// If the directory or one of its files cannot be read.
pub fn load_corpus(dir: &Path) -> io::Result<Vec<(String, Vec<u8>)>> {
    let mut seeds = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        // Editors' and the OS's leftovers are not seeds.
        if name.starts_with('.') {
            continue;
        }
        seeds.push((name, std::fs::read(entry.path())?));
    }
    seeds.sort();
    Ok(seeds)
}

/// Writes seeds into `dir` (created if missing), one file per `(name, bytes)`,
/// replacing files of the same name and leaving the others (hand-made seeds and
/// regression inputs) alone.
///
/// # Errors
/// If the directory or a file cannot be written.
pub fn write_seeds<N: AsRef<str>, B: AsRef<[u8]>>(dir: &Path, seeds: &[(N, B)]) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, bytes) in seeds {
        std::fs::write(dir.join(name.as_ref()), bytes.as_ref())?;
    }
    Ok(())
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// Bytes from hex, ignoring whitespace and `|` (so vectors can be pasted as they
/// are printed in docs/protocol.md: `0429 | 0552…`); `None` if it is not hex.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = text
        .bytes()
        .filter(|b| !b.is_ascii_whitespace() && *b != b'|')
        .collect();
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    digits
        .chunks(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(text, 16).ok()
        })
        .collect()
}

/// A short stable fingerprint (FNV-1a), to name finding files and to give each
/// target its own mutation stream from one `FUZZ_SEED`.
pub(crate) fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_tolerates_layout() {
        let bytes = [0x00, 0x7f, 0x80, 0xff];
        assert_eq!(hex(&bytes), "007f80ff");
        assert_eq!(unhex("007f80ff").as_deref(), Some(&bytes[..]));
        assert_eq!(unhex("00 7f | 80\nff").as_deref(), Some(&bytes[..]));
        assert_eq!(unhex("0"), None);
        assert_eq!(unhex("zz"), None);
    }

    #[test]
    fn the_corpus_is_sorted_and_skips_hidden_files() {
        let dir = std::env::temp_dir().join(format!("fuzzkit-corpus-{}", std::process::id()));
        write_seeds(&dir, &[("b", b"2"), ("a", b"1"), (".hidden", b"x")]).unwrap();
        let seeds = load_corpus(&dir).unwrap();
        assert_eq!(
            seeds,
            vec![
                ("a".to_string(), b"1".to_vec()),
                ("b".to_string(), b"2".to_vec())
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fingerprints_differ_by_name() {
        assert_ne!(fingerprint(b"frames"), fingerprint(b"values"));
        assert_eq!(fingerprint(b""), 0xcbf2_9ce4_8422_2325);
    }
}
