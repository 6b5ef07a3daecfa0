//! Time-bounded fuzzing with a fixed seed: arbitrary bytes and mutated valid schemas must
//! never panic or hang the front-end.

use std::path::Path;
use std::time::{Duration, Instant};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const TOKENS: &[&str] = &[
    "@0",
    "@1",
    "@0xd1a3c8f2b4e6ffff",
    ":",
    ";",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    "=",
    "$",
    ".",
    ",",
    "->",
    "\"",
    "0x\"",
    "#",
    "\n",
    "-",
    "inf",
    "nan",
    "99999999999999999999",
    "T",
    "*",
    "!",
];

fn seeds() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for dir in [
        root.join("schemas/frontend"),
        root.join("crates/schema/std"),
    ] {
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.flatten() {
                let p = e.path();
                if p.extension().is_some_and(|x| x == "capnp")
                    && let Ok(text) = std::fs::read_to_string(&p)
                {
                    out.push((
                        p.file_name()
                            .unwrap_or_default()
                            .to_string_lossy()
                            .into_owned(),
                        text,
                    ));
                }
            }
        }
    }
    out.sort();
    out
}

fn mutate(rng: &mut Rng, src: &str) -> String {
    let mut bytes = src.as_bytes().to_vec();
    for _ in 0..=rng.below(4) {
        let len = bytes.len();
        match rng.below(5) {
            0 if len > 0 => {
                let a = rng.below(len);
                let b = (a + rng.below(40)).min(len);
                bytes.drain(a..b);
            }
            1 => {
                let at = rng.below(len + 1);
                let words = fuzzkit::CAPNP_WORDS.len();
                let i = rng.below(words + TOKENS.len());
                let t = fuzzkit::CAPNP_WORDS
                    .get(i)
                    .copied()
                    .unwrap_or_else(|| TOKENS[i - words]);
                bytes.splice(at..at, t.bytes().chain(std::iter::once(b' ')));
            }
            2 if len > 0 => {
                let a = rng.below(len);
                let b = (a + rng.below(60)).min(len);
                let chunk = bytes[a..b].to_vec();
                let at = rng.below(len + 1);
                bytes.splice(at..at, chunk);
            }
            3 if len > 0 => {
                let a = rng.below(len);
                bytes[a] = (rng.next() & 0x7f) as u8;
            }
            _ if len > 1 => {
                let a = rng.below(len);
                let b = rng.below(len);
                bytes.swap(a, b);
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Returns whether the input compiled.
fn check(name: &str, src: &str) -> bool {
    let started = Instant::now();
    let result = std::panic::catch_unwind(|| {
        let c = cara_schema::Compiler::new();
        match c.compile_sources(&[(name, src)]) {
            Ok(set) => !set.to_request_bytes().is_empty(),
            Err(d) => {
                let _ = d.to_string();
                false
            }
        }
    });
    let Ok(ok) = result else {
        panic!("front-end panicked on input {name}:\n----\n{src}\n----");
    };
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "front-end took too long on input {name}:\n{src}"
    );
    ok
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep_type = format!(
        "@0xd1a3c8f2b4e6ff02;\nstruct S {{ a @0 :{}Int32{}; }}\n",
        "List(".repeat(100_000),
        ")".repeat(100_000)
    );
    assert!(!check("deep.capnp", &deep_type));
    let deep_blocks = format!(
        "@0xd1a3c8f2b4e6ff03;\n{}{}\n",
        "struct A {".repeat(100_000),
        "}".repeat(100_000)
    );
    assert!(!check("blocks.capnp", &deep_blocks));
    let deep_value = format!(
        "@0xd1a3c8f2b4e6ff04;\nconst c :Int32 = {}1{};\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert!(!check("value.capnp", &deep_value));
}

/// Found by fuzzing (src/fuzz.rs, schema_compile): the ordinal after
/// `@0xffffffffffffffff` overflowed.
#[test]
fn an_ordinal_of_u64_max_is_an_error_not_an_overflow() {
    for text in [
        "struct S{k@0xffffffffffffffff:4;",
        "@0xd1a3c8f2b4e6ff05;\nstruct S { a @0xffffffffffffffff :Int32; b @0xffffffffffffffff :Int32; }",
    ] {
        let err = cara_schema::Compiler::new()
            .compile_sources(&[("fuzz.capnp", text)])
            .unwrap_err();
        assert!(err.to_string().contains("Skipped ordinal @0"), "{err}");
    }
}

/// Found by fuzzing (src/fuzz.rs, schema_parse): a file of many errors took time
/// quadratic in their number to report (each counted lines from the top).
#[test]
fn many_errors_are_reported_in_linear_time() {
    let started = Instant::now();
    let lines = "\u{fffd}\u{8}\n".repeat(50_000);
    let err = cara_schema::Compiler::new()
        .compile_sources(&[("fuzz.capnp", &lines)])
        .unwrap_err();
    assert_eq!(
        err.errors.len(),
        100_001,
        "two per line, and the missing id"
    );
    assert_eq!(err.errors[99_999].line, 50_000);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let deadline = Instant::now() + Duration::from_secs(4);
    let mut n = 0;
    while Instant::now() < deadline {
        let len = rng.below(300);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        if n % 2 == 0 {
            text.insert_str(0, "@0xd1a3c8f2b4e6ff01;\n");
        }
        let _ = check("fuzz.capnp", &text);
        n += 1;
    }
    eprintln!("{n} random inputs");
}

#[test]
fn mutated_schemas_never_panic() {
    let seeds = seeds();
    assert!(!seeds.is_empty());
    let mut rng = Rng(0x5eed_1234_abcd_0002);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut n = 0;
    let mut compiled = 0;
    while Instant::now() < deadline {
        let (name, src) = &seeds[rng.below(seeds.len())];
        let m = mutate(&mut rng, src);
        compiled += usize::from(check(name, &m));
        n += 1;
    }
    eprintln!("{n} mutated inputs, {compiled} of them still compiled");
    assert!(
        compiled > 0,
        "mutations should sometimes keep a schema valid"
    );
}
