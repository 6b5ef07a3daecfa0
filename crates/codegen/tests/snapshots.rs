//! Snapshot tests of the generated code: one snapshot per schema (the calculator, the
//! runtime's feature schema, and every front-end feature schema that compiles), so a
//! change in what the generator emits shows up as a readable diff in review.
//!
//! Snapshots live in `tests/snapshots/`. After an intended change, review and accept
//! them with `cargo insta review` (or `INSTA_UPDATE=always cargo test -p cara-codegen
//! --test snapshots`); under `CI=true` a mismatch fails and writes nothing.
//!
//! Schemas are compiled with the repository root as base directory and relative file
//! names, and the `@generated` header names the file relative to the root (module
//! docs name base names), so snapshots are the same on every machine and checkout
//! location; `check` also fails if this checkout's path shows up in the output.
//! Imports of `/capnp/*.capnp` resolve to /usr/include/capnp when Debian's
//! capnproto is installed, else to the front-end's bundled copies: the same files.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// The generated, pretty-printed code of `file` (relative to the repository root).
fn generate(file: &str, includes: &[&str]) -> Result<String, String> {
    let mut options = cara_codegen::Options::new().base_dir(root());
    for dir in includes {
        options = options.include(*dir);
    }
    let generated = cara_codegen::generate(&options, &cara_codegen::Input::files([file]))
        .map_err(|e| e.to_string())?;
    // The header names the file as given, relative to the root.
    cara_codegen::pretty(&generated.tokens(), file).map_err(|e| e.to_string())
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
    frontend_aliases_generic => "aliases_generic.capnp",
    frontend_aliases_imports => "aliases_imports.capnp",
    frontend_annotations => "annotations.capnp",
    frontend_annotations_generic => "annotations_generic.capnp",
    frontend_constants => "constants.capnp",
    frontend_codegen_names => "codegen_names.capnp",
    frontend_cycle_a => "cycle_a.capnp",
    frontend_cycle_b => "cycle_b.capnp",
    frontend_defaults => "defaults.capnp",
    frontend_docs => "docs.capnp",
    frontend_embeds => "embeds.capnp",
    frontend_generics => "generics.capnp",
    frontend_generics_advanced => "generics_advanced.capnp",
    frontend_generics_inheritance => "generics_inheritance.capnp",
    frontend_ids => "ids.capnp",
    frontend_interfaces => "interfaces.capnp",
    frontend_literals => "literals.capnp",
    frontend_keyword_names => "keyword_names.capnp",
    frontend_methods_generic => "methods_generic.capnp",
    frontend_param_source_order => "param_source_order.capnp",
    frontend_retro_union => "retro_union.capnp",
    frontend_syntax => "syntax.capnp",
    frontend_types => "types.capnp",
    frontend_unions_groups => "unions_groups.capnp",
    frontend_values_advanced => "values_advanced.capnp",
}
