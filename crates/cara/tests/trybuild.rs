//! Compile-time behaviour of `cara::schema!`, checked with trybuild: a program using
//! the generated calculator code compiles and runs (`tests/ui/pass`), and mistakes
//! give readable compile errors (`tests/ui/fail/*.rs`, expected output beside each in
//! `.stderr`; regenerate with `TRYBUILD=overwrite` and review the diff).
//!
//! Where schema paths resolve: `schema!` reads paths relative to the
//! `CARGO_MANIFEST_DIR` of the crate being compiled. trybuild compiles each file as a
//! binary of a scratch crate in `<target>/tests/trybuild/cara/`, so that directory is
//! the base, not `crates/cara`: `"../../schemas/…"` (what `tests/generated.rs` uses)
//! points into the target directory there. A path climbing out of the scratch crate
//! (`"../../../../schemas/…"`) works only while the target directory sits directly in
//! the repository root, and the schema's name in messages then becomes its absolute
//! path (outside the base directory, names are absolute without the leading `/`),
//! which would make the `.stderr` files depend on the checkout location. A string
//! literal cannot be built with `concat!(env!(…))` either. So this harness links the
//! repository's `schemas/` and this crate's `tests/ui/` into the scratch crate, and
//! the UI files name `"schemas/calculator.capnp"` and `"ui/schemas/…"`: paths inside
//! the base directory, shown as written in messages.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The target directory trybuild uses (it asks `cargo metadata`, so do we).
fn target_dir() -> PathBuf {
    let out = Command::new(env!("CARGO"))
        .args(["metadata", "--no-deps", "--format-version=1"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "cargo metadata: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    PathBuf::from(
        meta["target_directory"]
            .as_str()
            .expect("metadata has target_directory"),
    )
}

/// Makes `link` a symlink to `target` (replacing whatever was there).
fn link(target: &Path, link: &Path) {
    if std::fs::symlink_metadata(link).is_ok() {
        std::fs::remove_file(link)
            .or_else(|_| std::fs::remove_dir_all(link))
            .unwrap_or_else(|e| panic!("{}: {e}", link.display()));
    }
    std::os::unix::fs::symlink(target, link)
        .unwrap_or_else(|e| panic!("{} -> {}: {e}", link.display(), target.display()));
}

#[test]
fn ui() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let project = target_dir().join("tests/trybuild/cara");
    std::fs::create_dir_all(&project).expect("trybuild project directory");
    link(&manifest.join("../../schemas"), &project.join("schemas"));
    link(&manifest.join("tests/ui"), &project.join("ui"));

    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
