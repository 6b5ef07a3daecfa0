//! Snapshot tests of the generated code: one snapshot per schema (the calculator, the
//! runtime's feature schema, and every front-end feature schema that compiles), so a
//! change in what the generator emits shows up as a readable diff in review.
//!
//! Snapshots live in `tests/snapshots/`. After an intended change, review and accept
//! them with `cargo insta review` (or `INSTA_UPDATE=always cargo test -p cara-codegen
//! --test snapshots`); under `CI=true` a mismatch fails and writes nothing.
//!
//! Schemas are compiled with the repository root as base directory and relative file
//! names, so the names the generated code mentions (module docs, the `@generated`
//! header) are the same on every machine and checkout location.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// The generated, pretty-printed code of `file` (relative to the repository root).
fn generate(file: &str, includes: &[&str]) -> Result<String, String> {
    let mut compiler = cara_schema::Compiler::new().base_dir(root());
    for dir in includes {
        compiler = compiler.include(*dir);
    }
    let set = compiler.compile(&[file]).map_err(|d| d.to_string())?;
    let tokens = cara_codegen::Generator::new(&set).modules();
    cara_codegen::pretty(&tokens, file)
}

/// Snapshots the code generated for `file`; the snapshot is named after the file.
fn check(file: &str, includes: &[&str]) {
    let code = generate(file, includes).unwrap_or_else(|e| panic!("{file}: {e}"));
    let root = root();
    let root = root.to_string_lossy();
    assert!(
        !code.contains(root.as_ref()) && !code.contains(root.trim_start_matches('/')),
        "{file}: the generated code mentions this machine's checkout path {root}"
    );
    let name = file.trim_end_matches(".capnp").replace('/', "__");
    insta::with_settings!({
        snapshot_path => "snapshots",
        prepend_module_to_snapshot => false,
        description => format!("cara-codegen output for {file}"),
        omit_expression => true,
    }, {
        insta::assert_snapshot!(name, code);
    });
}

#[test]
fn calculator() {
    check("schemas/calculator.capnp", &[]);
}

#[test]
fn runtime_features() {
    check("schemas/tests/features.capnp", &[]);
}

const INCLUDE: &str = "schemas/frontend/include";

/// One test per front-end feature schema, so a failure names its schema.
macro_rules! frontend {
    ($($test:ident => $file:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check(concat!("schemas/frontend/", $file), &[INCLUDE]);
            }
        )*

        /// Every front-end schema that compiles has a snapshot test above, so a new
        /// schema cannot be added without one.
        #[test]
        fn every_accepted_frontend_schema_has_a_snapshot() {
            let covered: &[&str] = &[$($file),*];
            let dir = root().join("schemas/frontend");
            let mut missing = Vec::new();
            for entry in std::fs::read_dir(&dir).expect("schemas/frontend") {
                let name = entry.expect("dir entry").file_name().to_string_lossy().into_owned();
                if !name.ends_with(".capnp") || covered.contains(&name.as_str()) {
                    continue;
                }
                let file = format!("schemas/frontend/{name}");
                if generate(&file, &[INCLUDE]).is_ok() {
                    missing.push(name);
                }
            }
            assert!(missing.is_empty(), "front-end schemas without a snapshot test: {missing:?}");
        }
    };
}

frontend! {
    frontend_placeholder => "ids.capnp",
}
