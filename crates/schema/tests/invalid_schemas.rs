//! Invalid schemas with expected diagnostics (`tests/invalid/NAME.capnp` + `NAME.expected`).
//!
//! Each `.expected` line is `LINE:COL: message-prefix` (`*` for any column).  Every expected
//! diagnostic must be reported; the official compiler must reject the file too.

use std::path::Path;
use std::process::Command;

#[test]
fn invalid_schemas_report_expected_diagnostics() {
    let capnp_ok = Command::new("capnp")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        capnp_ok,
        "`capnp` is not on PATH: install Debian package capnproto (apt-get install capnproto)"
    );
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/invalid")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "capnp"))
        .collect();
    entries.sort();
    assert!(entries.len() >= 10);
    let mut failures = String::new();
    for schema in &entries {
        let name = schema
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("?")
            .to_string();
        let expected = std::fs::read_to_string(schema.with_extension("expected"))
            .unwrap_or_else(|_| panic!("missing {name} .expected file"));
        // The official compiler must reject it as well.
        let official = Command::new("capnp")
            .current_dir(&dir)
            .args(["compile", "-o-", &name])
            .output()
            .expect("run capnp");
        if official.status.success() {
            failures.push_str(&format!("{name}: the official compiler accepts it\n"));
        }
        let result = cara_schema::Compiler::new()
            .base_dir(&dir)
            .compile(&[&name]);
        let diags = match result {
            Ok(_) => {
                failures.push_str(&format!("{name}: compiled without errors\n"));
                continue;
            }
            Err(d) => d,
        };
        // Rendering must carry file:line:col and a caret.
        let rendered = diags.to_string();
        assert!(rendered.contains(&format!("{name}:")), "{rendered}");
        for line in expected.lines().filter(|l| !l.trim().is_empty()) {
            let mut parts = line.splitn(3, ':');
            let (l, c, msg) = (
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or("").trim(),
            );
            let found = diags.errors.iter().any(|d| {
                d.line.to_string() == l
                    && (c == "*" || d.col.to_string() == c)
                    && d.message.starts_with(msg)
            });
            if !found {
                failures.push_str(&format!("{name}: expected `{line}`, got:\n{rendered}\n"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn diagnostics_render_with_caret() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("x.capnp");
    std::fs::write(
        &path,
        "@0xd1a3c8f2b4e61100;\nstruct S {\n  a @0 :Nope;\n}\n",
    )
    .expect("write");
    let err = cara_schema::Compiler::new()
        .compile(&[&path])
        .expect_err("must fail");
    let text = err.to_string();
    assert!(text.contains(":3:9-13: error: Not defined: Nope"), "{text}");
    assert!(text.contains("  a @0 :Nope;"), "{text}");
    assert!(text.contains("        ^^^^"), "{text}");
}
