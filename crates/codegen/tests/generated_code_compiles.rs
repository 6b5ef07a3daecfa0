//! Every schema the front-end accepts generates Rust that compiles warning-free
//! and clippy-clean against the `cara` crate: the project's schemas, the front-end's
//! feature schemas, and Debian capnproto's real schemas under /usr/include/capnp.
//!
//! The generated modules go into a scratch crate under `target/codegen-check`,
//! checked with `cargo clippy -- -D warnings` in one go.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn capnp_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "capnp"))
        .collect();
    files.sort();
    files
}

/// (case name, files, include dirs).
fn cases() -> Vec<(String, Vec<PathBuf>, Vec<PathBuf>)> {
    let root = root();
    let mut cases = Vec::new();
    for file in capnp_files(&root.join("schemas"))
        .into_iter()
        .chain(capnp_files(&root.join("schemas/tests")))
    {
        cases.push((
            file.file_stem().unwrap().to_string_lossy().into_owned(),
            vec![file],
            vec![],
        ));
    }
    let frontend = root.join("schemas/frontend");
    for file in capnp_files(&frontend) {
        let name = format!("frontend_{}", file.file_stem().unwrap().to_string_lossy());
        cases.push((name, vec![file], vec![frontend.join("include")]));
    }
    let system = Path::new("/usr/include/capnp");
    assert!(
        system.join("schema.capnp").exists(),
        "Debian's capnproto schemas are missing: install the Debian package capnproto \
         (apt-get install capnproto); build-support/test.sh does it"
    );
    let mut files = capnp_files(system);
    files.extend(capnp_files(&system.join("compat")));
    for file in files {
        let name = format!("system_{}", file.file_stem().unwrap().to_string_lossy());
        cases.push((name, vec![file], vec![PathBuf::from("/usr/include")]));
    }
    cases
}

fn module_name(case: &str) -> String {
    case.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect()
}

#[test]
fn generated_code_compiles_and_is_clippy_clean() {
    let mut lib =
        String::from("//! Generated code of every accepted schema.\n#![deny(warnings)]\n\n");
    let mut generated = 0;
    for (case, files, includes) in cases() {
        let mut options = cara_codegen::Options::new();
        for dir in &includes {
            options = options.include(dir);
        }
        let output = match cara_codegen::generate(&options, &cara_codegen::Input::files(files)) {
            Ok(output) => output,
            // Schemas the front-end rejects (on purpose) have nothing to generate.
            Err(cara_codegen::GenerateError::Schema(_)) => continue,
            Err(e) => panic!("{case}: {e}"),
        };
        let code =
            cara_codegen::pretty(&output.tokens(), &case).unwrap_or_else(|e| panic!("{case}: {e}"));
        lib.push_str(&format!(
            "/// Case `{case}`.\npub mod {} {{\n{code}\n}}\n",
            module_name(&case)
        ));
        generated += 1;
    }
    assert!(generated >= 8, "only {generated} schemas generated code");

    let dir = root().join("target/codegen-check");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    let cara = root().join("crates/cara");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"codegen-check\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\ncara = {{ path = {:?} }}\n\n[workspace]\n",
            cara.display().to_string()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("src/lib.rs"), &lib).unwrap();
    // Same dependency versions as the workspace.
    std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let out = Command::new(env!("CARGO"))
        .args(["clippy", "--quiet", "--all-targets", "--", "-D", "warnings"])
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "generated code fails to check ({}):\n{stderr}",
        dir.join("src/lib.rs").display()
    );
}
