//! Cap'n Proto 1.0 additions the front-end accepts, checked through their 0.9 spelling.

use std::process::Command;

mod support;

use support::oracle::require_capnp;
use support::request::{first_diff, normalize};

/// Cap'n Proto 1.0 additions that capnp 0.9.2 rejects (the front-end follows the newer
/// release): each schema must compile to exactly what capnp 0.9.2 makes of its 0.9
/// spelling, and the 0.9 dialect (`capnp_0_9()`) must reject it as capnp 0.9.2 does.
#[test]
fn newer_syntax_matches_its_0_9_spelling() {
    require_capnp();
    let head = "@0xd1a3c8f2b4e6f360;\nstruct Name { text @0 :Text; n @1 :UInt32 = 7; }\n\
                struct Grouped { g :group { i @0 :UInt32; s @1 :Text = \"x\"; } t @2 :Text; }\n";
    let cases: &[(&str, &str)] = &[
        // A struct value given as its first field's value (workerd's `= "internet"`).
        (
            "struct S { a @0 :Name = \"foo\"; l @1 :List(Name) = [\"x\", (text = \"y\", n = 1)]; }\n",
            "struct S { a @0 :Name = (text = \"foo\"); l @1 :List(Name) = [(text = \"x\"), (text = \"y\", n = 1)]; }\n",
        ),
        // A group's first field, and through a constant.
        (
            "const c :Grouped = (g = 5, t = \"t\");\nconst d :Name = \"d\";\n",
            "const c :Grouped = (g = (i = 5), t = \"t\");\nconst d :Name = (text = \"d\");\n",
        ),
        // Block text ends each line in `\n`, whatever the file's line ending.
        (
            "const crlf :Text =\r\n  `one\r\n  `two\r\n  ;\n",
            "const crlf :Text = \"one\\ntwo\\n\";\n",
        ),
        // Block text: each backtick line is raw text with its newline.
        (
            "const b :Text =\n  `first \"line\" \\n\n  `second\n  \"quoted\\\"\";\n",
            "const b :Text = \"first \\\"line\\\" \\\\n\\nsecond\\nquoted\\\"\";\n",
        ),
    ];
    let mut failures = String::new();
    for (newer, old) in cases {
        let a = tempfile::tempdir().expect("tempdir");
        let b = tempfile::tempdir().expect("tempdir");
        std::fs::write(a.path().join("x.capnp"), format!("{head}{newer}")).expect("write");
        std::fs::write(b.path().join("x.capnp"), format!("{head}{old}")).expect("write");
        let official = Command::new("capnp")
            .current_dir(b.path())
            .args(["compile", "-o-", "x.capnp"])
            .output()
            .expect("run capnp");
        assert!(
            official.status.success(),
            "capnp rejects the 0.9 spelling {old}: {}",
            String::from_utf8_lossy(&official.stderr)
        );
        let rejected = Command::new("capnp")
            .current_dir(a.path())
            .args(["compile", "-o-", "x.capnp"])
            .output()
            .expect("run capnp");
        if newer.contains('`') {
            // capnp 0.9.2 does not lex backticks; the 0.9 dialect here still does (it
            // only refuses implied first fields).
            assert!(!rejected.status.success(), "capnp 0.9.2 accepts {newer}");
        } else {
            assert!(!rejected.status.success(), "capnp 0.9.2 accepts {newer}");
            let strict = cara_schema::Compiler::new()
                .capnp_0_9()
                .base_dir(a.path())
                .compile(&["x.capnp"]);
            assert!(strict.is_err(), "the 0.9 dialect accepts {newer}");
        }
        match cara_schema::Compiler::new()
            .base_dir(a.path())
            .compile(&["x.capnp"])
        {
            Err(e) => failures.push_str(&format!("cara rejects {newer}:\n{e}\n")),
            Ok(set) => {
                let x = normalize(&official.stdout);
                let y = normalize(&set.to_request_bytes());
                for (k, v) in &x {
                    match y.get(k) {
                        Some(o) if o == v => {}
                        Some(o) => failures
                            .push_str(&format!("{newer}: differs {k}\n{}\n", first_diff(v, o))),
                        None => failures.push_str(&format!("{newer}: missing {k}\n")),
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{failures}");
}
