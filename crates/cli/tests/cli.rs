//! End-to-end tests of `cara compile`.

use std::process::Command;

fn cara() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cara"))
}

fn node_ids(bytes: &[u8]) -> Vec<u64> {
    let reader = capnp::serialize::read_message_from_flat_slice(
        &mut &bytes[..],
        capnp::message::ReaderOptions::new(),
    )
    .expect("decode");
    let req: capnp::schema_capnp::code_generator_request::Reader<'_> =
        reader.get_root().expect("root");
    let mut ids: Vec<u64> = req
        .get_nodes()
        .expect("nodes")
        .iter()
        .map(|n| n.get_id())
        .collect();
    ids.sort_unstable();
    ids
}

#[test]
fn compile_writes_a_request_with_the_official_node_set() {
    let ok = Command::new("capnp")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "`capnp` is not on PATH: install Debian package capnproto (apt-get install capnproto)"
    );
    let ours = cara()
        .current_dir("/usr/include")
        .args(["compile", "-o-", "capnp/rpc.capnp"])
        .output()
        .expect("run cara");
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let official = Command::new("capnp")
        .current_dir("/usr/include")
        .args(["compile", "-o-", "capnp/rpc.capnp"])
        .output()
        .expect("run capnp");
    assert!(official.status.success());
    assert_eq!(node_ids(&ours.stdout), node_ids(&official.stdout));
}

#[test]
fn compile_reports_errors_with_location() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bad.capnp");
    std::fs::write(
        &file,
        "@0xd1a3c8f2b4e63001;\nstruct S {\n  a @0 :Int32;\n  b @2 :Int32;\n}\n",
    )
    .expect("write");
    let out = cara()
        .current_dir(dir.path())
        .args(["compile", "-o-", "bad.capnp"])
        .output()
        .expect("run cara");
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.capnp:4:6-7: error: Skipped ordinal @1."),
        "{err}"
    );
    assert!(err.contains("^"), "{err}");
}

#[test]
fn compile_works_without_system_headers_using_bundled_imports() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("uses_std.capnp");
    std::fs::write(
        &file,
        "@0xd1a3c8f2b4e63002;\nusing Cxx = import \"/capnp/c++.capnp\";\nusing Rust = import \"/capnp/rust.capnp\";\n$Cxx.namespace(\"x\");\nstruct S $Rust.name(\"T\") { a @0 :Int32; }\ninterface I { w @0 (d :Data) -> stream; }\n",
    )
    .expect("write");
    let out = cara()
        .current_dir(dir.path())
        .args(["compile", "-o-", "uses_std.capnp"])
        .output()
        .expect("run cara");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!node_ids(&out.stdout).is_empty());
}

#[test]
fn unsupported_output_is_rejected() {
    let out = cara()
        .args(["compile", "-o", "c++", "x.capnp"])
        .output()
        .expect("run cara");
    assert!(!out.status.success());
}

#[test]
fn compile_without_output_says_it_checked() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = cara()
        .current_dir(&root)
        .args(["compile", "schemas/calculator.capnp"])
        .output()
        .expect("run cara");
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "schemas/calculator.capnp: ok (19 nodes)\n"
    );
}
