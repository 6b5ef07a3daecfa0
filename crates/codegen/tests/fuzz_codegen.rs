//! Fuzz target `codegen` (fuzzkit; see docs/protocol.md, "Fuzzing"): mutated schemas
//! through what `cara-build` and `cara::schema!` run — the front-end, then the
//! generator and the pretty-printer.
//!
//! Properties: no panic; a schema the front-end accepts generates Rust that parses
//! (`pretty` parses it with syn), so a build script never fails on a valid schema
//! with "generated code does not parse".

use std::path::PathBuf;

fn corpus() -> PathBuf {
    [env!("CARGO_MANIFEST_DIR"), "fuzz-corpus", "codegen"]
        .iter()
        .collect()
}

/// Words (besides `fuzzkit::CAPNP_WORDS`) that make names and members the generator has to map to Rust: keywords,
/// names that differ only in case, generics, unions.
const WORDS: &[&str] = &[
    "type",
    "self",
    "Self",
    "fn",
    "match",
    "r#",
    "crate",
    "super",
    "async",
    "await",
    "dyn",
    "Result",
    "Option",
    "Box",
    "Vec",
    "String",
    "Value",
    "default",
    "new",
    "encode",
    "decode",
    "fooBar",
    "FooBar",
    "foo_bar",
    "FOO_BAR",
    "_",
    "x1",
    " :Int32",
    " -> (r :Text)",
    "@0xd1a3c8f2b4e6ff01;",
];

fn codegen(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    // The one entry every door uses: front-end, generator, pretty-printer.
    let input = cara_codegen::Input::sources([("fuzz.capnp", text.as_ref())]);
    let Ok(generated) = cara_codegen::generate(&cara_codegen::Options::default(), &input) else {
        return;
    };
    if let Err(e) = generated.source() {
        panic!("the front-end accepted a schema whose generated code does not parse: {e}");
    }
}

#[test]
fn fuzz_codegen() {
    fuzzkit::Target::new("codegen", corpus())
        .iterations(400)
        .max_len(4096)
        .text()
        .dictionary(fuzzkit::CAPNP_WORDS)
        .dictionary(WORDS)
        .run(codegen);
}

/// Writes the corpus: schemas of this repository that exercise the generator's
/// naming and types. Run after changing the list:
/// `cargo test -p cara-codegen --test fuzz_codegen -- --ignored`.
#[test]
#[ignore = "writes the committed corpus"]
fn write_codegen_seeds() {
    let root: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", ".."].iter().collect();
    let files = [
        "schemas/calculator.capnp",
        "schemas/back_and_forth.capnp",
        "schemas/tests/strict.capnp",
        "schemas/tests/interop.capnp",
        "schemas/frontend/codegen_names.capnp",
        "schemas/frontend/keyword_names.capnp",
        "schemas/frontend/generics_inheritance.capnp",
        "schemas/frontend/param_source_order.capnp",
    ];
    let seeds: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|f| {
            let name = f.trim_start_matches("schemas/").replace('/', "-");
            (name, std::fs::read(root.join(f)).unwrap())
        })
        .collect();
    fuzzkit::write_seeds(&corpus(), &seeds).unwrap();
}
