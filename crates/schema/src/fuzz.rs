//! Fuzz targets of the schema front-end (fuzzkit; see docs/protocol.md, "Fuzzing"),
//! fed mutated `.capnp` texts (lines and tokens duplicated, deleted, swapped; punctuation, big
//! numbers and keywords inserted; bytes that are not UTF-8, read lossily):
//! - `schema_parse`: the lexer and [`parser::parse_file`], and the rendering of
//!   their diagnostics;
//! - `schema_compile`: [`Compiler::compile_sources`], the whole front-end the CLI
//!   and `cara-build` run, with a second file to import.
//!
//! Both share the corpus `fuzz-corpus/schemas` (schemas of this repository).
//! Properties: no panic; every span lies inside the text; a schema that compiles
//! encodes a `CodeGeneratorRequest`, and compiling it again gives the same bytes;
//! one that does not compile says why.

use std::path::PathBuf;

use crate::ast::Decl;
use crate::diagnostics::{Diagnostics, Span};
use crate::lexer::{Statement, lex};
use crate::{Compiler, parser};

fn corpus() -> PathBuf {
    [env!("CARGO_MANIFEST_DIR"), "fuzz-corpus", "schemas"]
        .iter()
        .collect()
}

/// Words the mutator inserts besides `fuzzkit::CAPNP_WORDS`, so that most inputs stay close to
/// schemas (the mutator adds punctuation and numbers of its own).
const WORDS: &[&str] = &[
    "@0xd1a3c8f2b4e6ff01;",
    "import \"dep.capnp\"",
    "import \"/capnp/c++.capnp\"",
    "$Cxx.namespace(\"x\")",
    "Dep.Thing",
    ".Thing",
    "Thing(Text)",
    " :Int32",
    " = (x = 1)",
    " -> (r :Text)",
    "0x\"00ff\"",
    "(field, struct)",
    "(*)",
];

/// The file `dep.capnp` a mutated schema may import.
const DEP: &str = r#"@0xd1a3c8f2b4e6ff02;
struct Thing(T) { value @0 :T; next @1 :Thing(T); }
enum Kind { a @0; b @1; }
interface Service { call @0 (thing :Thing(Text)) -> (kind :Kind); }
annotation mark (*) :Text;
const answer :Int32 = 42;
"#;

fn check_span(span: Span, len: usize) {
    assert!(
        span.start <= span.end && span.end <= len,
        "span {span:?} outside {len} bytes"
    );
}

fn check_statements(statements: &[Statement], len: usize) {
    for s in statements {
        check_span(s.span, len);
        s.tokens.iter().for_each(|t| check_span(t.span, len));
        if let Some(block) = &s.block {
            check_statements(block, len);
        }
    }
}

fn check_decl(decl: &Decl, len: usize) {
    check_span(decl.span, len);
    check_span(decl.name.span, len);
    decl.nested.iter().for_each(|d| check_decl(d, len));
}

fn parse(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let mut diags = Diagnostics::default();
    check_statements(&lex(&text, 0, &mut diags), text.len());
    let decl = parser::parse_file(&text, 0, &mut diags);
    check_decl(&decl, text.len());
    diags.resolve(&[("fuzz.capnp".to_string(), text.into_owned())]);
    for e in &diags.errors {
        assert!(e.line >= 1 && e.col >= 1 && e.line <= e.end_line, "{e:?}");
        let _ = e.to_string();
    }
}

fn compile(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let sources = [("fuzz.capnp", &*text), ("dep.capnp", DEP)];
    let compiler = Compiler::new();
    match compiler.compile_sources(&sources) {
        Ok(set) => {
            let request = set.to_request_bytes();
            assert!(!request.is_empty());
            for node in set.nodes() {
                assert!(set.node(node.id).is_some());
            }
            let again = compiler
                .compile_sources(&sources)
                .expect("it compiled a moment ago");
            assert!(
                again.to_request_bytes() == request,
                "compiling twice gave two requests"
            );
        }
        Err(diags) => {
            assert!(!diags.errors.is_empty(), "an error without a diagnostic");
            let _ = diags.to_string();
        }
    }
}

#[test]
fn fuzz_schema_parse() {
    fuzzkit::Target::new("schema_parse", corpus())
        .iterations(4_000)
        .max_len(8192)
        .text()
        .dictionary(fuzzkit::CAPNP_WORDS)
        .dictionary(WORDS)
        .run(parse);
}

#[test]
fn fuzz_schema_compile() {
    fuzzkit::Target::new("schema_compile", corpus())
        .iterations(1_500)
        .max_len(8192)
        .text()
        .dictionary(fuzzkit::CAPNP_WORDS)
        .dictionary(WORDS)
        .run(compile);
}

/// The repository's own schemas the corpus is made of (small ones, every feature
/// between them). Run after changing the list:
/// `cargo test -p cara-schema --lib write_schema_seeds -- --ignored`.
#[test]
#[ignore = "writes the committed corpus"]
fn write_schema_seeds() {
    let root: PathBuf = [env!("CARGO_MANIFEST_DIR"), "..", ".."].iter().collect();
    let files = [
        "schemas/calculator.capnp",
        "schemas/tests/features.capnp",
        "schemas/tests/capabilities.capnp",
        "schemas/frontend/annotations.capnp",
        "schemas/frontend/constants.capnp",
        "schemas/frontend/docs.capnp",
        "schemas/frontend/generics.capnp",
        "schemas/frontend/ids.capnp",
        "schemas/frontend/interfaces.capnp",
        "schemas/frontend/literals.capnp",
        "schemas/frontend/methods_generic.capnp",
        "schemas/frontend/retro_union.capnp",
        "schemas/frontend/syntax.capnp",
        "schemas/frontend/types.capnp",
        "schemas/frontend/unions_groups.capnp",
        "schemas/frontend/values_advanced.capnp",
    ];
    let mut seeds: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|f| {
            let name = f.trim_start_matches("schemas/").replace('/', "-");
            (name, std::fs::read(root.join(f)).unwrap())
        })
        .collect();
    seeds.push((
        "made-imports-dep.capnp".into(),
        b"@0xd1a3c8f2b4e6ff03;\nusing Dep = import \"dep.capnp\";\nstruct Uses { t @0 :Dep.Thing(Text); k @1 :Dep.Kind = b; }\ninterface Sub extends(Dep.Service) {}\n".to_vec(),
    ));
    fuzzkit::write_seeds(&corpus(), &seeds).unwrap();
}
