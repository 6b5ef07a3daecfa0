//! # fuzzkit
//!
//! Seeded mutation fuzzing that runs as ordinary `cargo test` unit tests on stable
//! Rust. Each decoder's crate has fuzz tests that build a [`Target`] from a committed
//! corpus directory and call [`Target::run`] with a closure that decodes one input and
//! asserts its properties (no panic, a typed error or a value that round-trips).
//!
//! ```no_run
//! fuzzkit::Target::new("frames", concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz-corpus/frames"))
//!     .iterations(20_000)
//!     .run(|input| {
//!         let _ = input.first();
//!     });
//! ```
//!
//! Why not cargo-fuzz: libFuzzer needs a nightly toolchain and a C++ runtime, and CI
//! has only stable Rust. A deterministic loop inside `cargo test` runs wherever the
//! tests run, and a finding reproduces from its seed and iteration (or from the file
//! it is saved to) on any machine.
//!
//! The environment steers a run (all optional):
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `FUZZ_SEED` | seed of the mutation RNG (decimal or `0x` hex) | a fixed seed |
//! | `FUZZ_ITERS` | mutated inputs per target | the target's own, sized for CI |
//! | `FUZZ_SECS` | time budget per target (seconds; unlimited iterations if `FUZZ_ITERS` is unset) | none |
//! | `FUZZ_SLOW_MS` | an input that takes longer is a finding | 2000 |
//! | `FUZZ_REPLAY` | a file or directory of inputs to run instead of fuzzing | none |
//! | `FUZZ_FINDINGS` | where findings are saved | `<target dir>/fuzz-findings` |
//! | `FUZZ_LAST_INPUT` | a file each input is written to before it runs (slow; for aborts) | none |
//!
//! A panic, a slow input and a hang are reported with the input; an abort (a failed
//! allocation, a stack overflow) ends the process before anything can be said, so
//! each target prints its seed when it starts: rerun with that `FUZZ_SEED` and
//! `FUZZ_LAST_INPUT` set, and the file holds the input that aborted.

mod corpus;
mod finding;
mod mutate;
mod runner;
mod settings;

pub use corpus::{hex, load_corpus, unhex, write_seeds};
pub use mutate::Mutator;
pub use runner::{Report, Target};
pub use settings::Settings;

/// Words of the Cap'n Proto schema language, for text targets' dictionaries
/// (each target adds the words its own code cares about).
pub const CAPNP_WORDS: &[&str] = &[
    "struct",
    "enum",
    "interface",
    "union",
    "group",
    "using",
    "import",
    "const",
    "annotation",
    "extends",
    "stream",
    "embed",
    "List(",
    "Text",
    "Data",
    "Int32",
    "UInt64",
    "Float64",
    "Bool",
    "Void",
    "AnyPointer",
    "AnyStruct",
    "Capability",
    "(T)",
    "[T]",
];
