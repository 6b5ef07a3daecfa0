//! `cara gen` writes one module file per schema file plus `mod.rs`, and a crate that
//! depends only on `cara` compiles with `#[path = "DIR/mod.rs"] mod schemas;`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

#[test]
fn generated_modules_compile_in_a_crate_that_depends_only_on_cara() {
    let dir = root().join("target/cara-gen-check");
    let _ = std::fs::remove_dir_all(dir.join("src"));
    let out = Command::new(env!("CARGO_BIN_EXE_cara"))
        .current_dir(root())
        .args([
            "gen",
            "schemas/calculator.capnp",
            "schemas/tests/features.capnp",
            "--out-dir",
        ])
        .arg(dir.join("src/schemas"))
        .output()
        .expect("run cara gen");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let listed = String::from_utf8_lossy(&out.stdout);
    for file in ["calculator_capnp.rs", "features_capnp.rs", "mod.rs"] {
        assert!(listed.contains(file), "{file} not written: {listed}");
        assert!(dir.join("src/schemas").join(file).exists());
    }
    let module =
        std::fs::read_to_string(dir.join("src/schemas/calculator_capnp.rs")).expect("read");
    assert!(module.starts_with("// @generated"), "{module}");

    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"cara-gen-check\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\ncara = {{ path = {:?} }}\n\n[workspace]\n",
            root().join("crates/cara").display().to_string()
        ),
    )
    .expect("write Cargo.toml");
    std::fs::write(
        dir.join("src/lib.rs"),
        "//! Uses `cara gen` output.\n#![deny(warnings)]\n\n#[path = \"schemas/mod.rs\"]\npub mod schemas;\n\n\
         /// The generated client type is usable.\npub type Calc = schemas::calculator_capnp::CalculatorClient;\n",
    )
    .expect("write lib.rs");
    std::fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).expect("copy lock");
    let check = Command::new(env!("CARGO"))
        .args(["clippy", "--quiet", "--", "-D", "warnings"])
        .current_dir(&dir)
        // Shares compiled dependencies with the generator's own compile check.
        .env(
            "CARGO_TARGET_DIR",
            root().join("target/codegen-check/target"),
        )
        .output()
        .expect("run cargo");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn gen_reports_schema_errors_with_location() {
    let dir = std::env::temp_dir().join(format!("cara-gen-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(
        dir.join("bad.capnp"),
        "@0xdbb9ad1f14bf0b36;\nstruct A { x @0 :Nope; }\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_cara"))
        .current_dir(&dir)
        .args(["gen", "bad.capnp", "--out-dir", "out"])
        .output()
        .expect("run cara gen");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.capnp:2:"), "{stderr}");
    assert!(!dir.join("out/mod.rs").exists(), "nothing written on error");
}
