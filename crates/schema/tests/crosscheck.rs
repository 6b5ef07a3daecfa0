//! Cross-checks `cara-schema` against the official `capnp compile -o-`: both
//! `CodeGeneratorRequest`s are decoded and compared node by node (order-insensitive),
//! including the canonical bytes of every pointer-typed value: standard and feature schemas,
//! several files, file naming, and the names errors give files.

use std::path::PathBuf;
use std::process::Command;

mod support;

use support::oracle::{capnp_files, compare, require_capnp, system_root, workspace_root};
use support::request::normalize;

#[test]
fn system_schemas_match_official_compiler() {
    require_capnp();
    let (root, args, _keep) = system_root();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut files = Vec::new();
    capnp_files(&root.join("capnp"), &mut files);
    // rust.capnp is bundled for users but is not part of the official distribution.
    files.retain(|f| !f.ends_with("capnp/rust.capnp"));
    assert!(!files.is_empty());
    let mut failures = String::new();
    for f in &files {
        let rel = f.strip_prefix(&root).expect("under root");
        let rel = rel.to_string_lossy().into_owned();
        let r = compare(&root, &args, &[&rel]);
        if !r.is_empty() {
            failures.push_str(&format!("=== {rel}\n{r}\n"));
        }
    }
    eprintln!("checked {} system schemas", files.len());
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn feature_schemas_match_official_compiler() {
    require_capnp();
    let root = workspace_root();
    let (sys_root, _, _keep) = system_root();
    // Without libcapnp-dev, `/capnp/...` imports come from the bundled copies.
    let std_dir = (_keep.is_some()).then(|| sys_root.to_string_lossy().into_owned());
    let dir = root.join("schemas/frontend");
    let mut files = Vec::new();
    capnp_files(&dir, &mut files);
    assert!(!files.is_empty(), "no feature schemas in {}", dir.display());
    let mut failures = String::new();
    for f in &files {
        let rel = f
            .strip_prefix(&root)
            .expect("under root")
            .to_string_lossy()
            .into_owned();
        if rel.contains("/imported/") {
            continue;
        }
        let mut args = vec!["-I", "schemas/frontend/include"];
        if let Some(dir) = &std_dir {
            args.extend(["-I", dir.as_str()]);
        }
        let r = compare(&root, &args, &[&rel]);
        if !r.is_empty() {
            failures.push_str(&format!("=== {rel}\n{r}\n"));
        }
    }
    eprintln!("checked {} feature schemas", files.len());
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn multiple_files_and_src_prefix_match() {
    require_capnp();
    let (root, args, _keep) = system_root();
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    args.extend(["--src-prefix", "capnp"]);
    let r = compare(
        &root,
        &args,
        &["capnp/schema.capnp", "capnp/rpc.capnp", "capnp/c++.capnp"],
    );
    assert!(r.is_empty(), "{r}");
}

#[test]
fn no_standard_import_with_include_matches() {
    require_capnp();
    let (root, _, _keep) = system_root();
    let inc = root.to_string_lossy().into_owned();
    let r = compare(
        &root,
        &["--no-standard-import", "-I", &inc],
        &["capnp/rpc-twoparty.capnp", "capnp/persistent.capnp"],
    );
    assert!(r.is_empty(), "{r}");
}

/// Guards the harness itself: pointer-typed defaults must be part of the comparison.
#[test]
fn harness_compares_pointer_defaults() {
    require_capnp();
    let root = workspace_root();
    let out = Command::new("capnp")
        .current_dir(&root)
        .args([
            "compile",
            "-I",
            "schemas/frontend/include",
            "-o-",
            "schemas/frontend/defaults.capnp",
        ])
        .output()
        .expect("run capnp");
    let norm = normalize(&out.stdout);
    let (_, text) = norm
        .iter()
        .find(|(k, _)| k.ends_with("defaults.capnp:Defaults"))
        .expect("Defaults node");
    assert!(text.contains("field ls default = "), "{text}");
    assert!(!text.contains("field ls default = null"), "{text}");
}

/// Requested-file names: absolute paths, `.`/`..`, `--src-prefix`, files outside the
/// working directory, and the same file named twice.
#[test]
fn requested_file_names_match() {
    require_capnp();
    let (root, args, _keep) = system_root();
    let base: Vec<&str> = args.iter().map(String::as_str).collect();
    let abs = root.join("capnp/c++.capnp").to_string_lossy().into_owned();
    let root_s = root.to_string_lossy().into_owned();
    let cases: Vec<(PathBuf, Vec<&str>, Vec<&str>)> = vec![
        (root.clone(), vec![], vec![abs.as_str()]),
        (workspace_root(), vec![], vec![abs.as_str()]),
        (
            root.clone(),
            vec!["--src-prefix", root_s.as_str()],
            vec![abs.as_str()],
        ),
        (
            root.clone(),
            vec![],
            vec!["./capnp/../capnp/c++.capnp", "capnp/c++.capnp"],
        ),
        (
            root.clone(),
            vec!["--src-prefix", "./capnp"],
            vec!["capnp/schema.capnp"],
        ),
    ];
    let mut failures = String::new();
    for (cwd, extra, files) in cases {
        let mut a = base.clone();
        a.extend(extra.iter().copied());
        let r = compare(&cwd, &a, &files);
        if !r.is_empty() {
            failures.push_str(&format!("=== {files:?} in {}\n{r}\n", cwd.display()));
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

/// Errors name files as the official compiler does: as found on disk (the requested path as
/// given, `-I` directories as given, imports next to their importer, absolute outside the
/// working directory), not by their display name in the request.
#[test]
fn error_file_names_match_official_compiler() {
    require_capnp();
    let root = tempfile::tempdir().expect("tempdir");
    let r = root.path();
    for d in ["work/sub", "work/inc", "work/src/pkg"] {
        std::fs::create_dir_all(r.join(d)).expect("mkdir");
    }
    let write = |p: &str, text: &str| std::fs::write(r.join(p), text).expect("write");
    write(
        "work/a.capnp",
        "@0xd1a3c8f2b4e6f381;\nusing B = import \"sub/b.capnp\";\nusing C = import \"/c.capnp\";\n\
         struct A { b @0 :B.X; c @1 :C.Y; z @2 :Zzz; }\n",
    );
    write(
        "work/sub/b.capnp",
        "@0xd1a3c8f2b4e6f382;\nstruct X { x @0 :Nope; }\n",
    );
    write(
        "work/inc/c.capnp",
        "@0xd1a3c8f2b4e6f383;\nusing D = import \"d.capnp\";\nstruct Y { y @0 :Nada; d @1 :D.W; }\n",
    );
    write(
        "work/inc/d.capnp",
        "@0xd1a3c8f2b4e6f384;\nstruct W { w @0 :Qq; }\n",
    );
    write(
        "work/src/pkg/e.capnp",
        "@0xd1a3c8f2b4e6f385;\nstruct E { e @0 :Bad; }\n",
    );
    let work = r.join("work");
    // (working directory, arguments).
    let cases: Vec<(PathBuf, Vec<String>)> = vec![
        (
            work.clone(),
            vec!["-I".into(), "inc".into(), "a.capnp".into()],
        ),
        (
            work.join("sub"),
            vec!["-I".into(), "../inc".into(), "../a.capnp".into()],
        ),
        (
            work.clone(),
            vec![
                "-I".into(),
                work.join("inc").to_string_lossy().into_owned(),
                work.join("a.capnp").to_string_lossy().into_owned(),
            ],
        ),
        (
            work.clone(),
            vec!["--src-prefix=src".into(), "./src/pkg/../pkg/e.capnp".into()],
        ),
    ];
    let errors = |text: &str| -> Vec<String> {
        let mut v: Vec<String> = text
            .lines()
            .filter(|l| l.contains(": error: ") && !l.starts_with(' '))
            .map(str::to_string)
            .collect();
        v.sort();
        v
    };
    let mut failures = String::new();
    for (cwd, args) in cases {
        let official = Command::new("capnp")
            .current_dir(&cwd)
            .arg("compile")
            .args(&args)
            .arg("-o-")
            .output()
            .expect("run capnp");
        let mut c = cara_schema::Compiler::new().base_dir(&cwd);
        let mut files = Vec::new();
        let mut i = 0;
        while i < args.len() {
            match args[i].as_str() {
                "-I" => {
                    c = c.include(&args[i + 1]);
                    i += 1;
                }
                a if a.starts_with("--src-prefix=") => {
                    c = c.src_prefix(a.trim_start_matches("--src-prefix="));
                }
                a => files.push(a.to_string()),
            }
            i += 1;
        }
        let ours = match c.compile(&files) {
            Ok(_) => String::new(),
            Err(d) => d.to_string(),
        };
        let (a, b) = (
            errors(&String::from_utf8_lossy(&official.stderr)),
            errors(&ours),
        );
        assert!(!a.is_empty(), "capnp reports nothing for {args:?}");
        if a != b {
            failures.push_str(&format!(
                "{args:?} in {}:\n  official: {a:#?}\n  cara: {b:#?}\n",
                cwd.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

/// UTF-8 byte-order marks are whitespace (at the start of a file and between tokens).
#[test]
fn byte_order_marks_match_official_compiler() {
    require_capnp();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("bom.capnp"),
        "\u{feff}@0xd1a3c8f2b4e6f391;\n\u{feff}struct S { a @0 :Int32; }\nconst c :Int32 = \u{feff}5;\n",
    )
    .expect("write");
    let r = compare(dir.path(), &[], &["bom.capnp"]);
    assert!(r.is_empty(), "{r}");
}

/// Invalid schemas whose errors (file, position and message) must be exactly the official
/// compiler's, as sets: value and generic errors, statement shapes, annotation targets,
/// and positions of declarations followed by doc comments (which capnp counts as part of
/// the statement, so it prints only the line).
#[test]
fn error_lines_match_official_compiler() {
    require_capnp();
    let cases: &[&str] = &[
        "@0xd1a3c8f2b4e6f3a1;\nstruct G(T) { t @0 :T; inner @1 :Inner = (x = 5); struct Inner { x @0 :T; } }\n\
         struct U { g @0 :G = (t = 5); h @1 :G = (t = (a = 1)); i @2 :G(Text) = (t = 1); }\n",
        "@0xd1a3c8f2b4e6f3a2;\ninterface I {}\nstruct S {\n  a @0 :AnyPointer = 5;\n  b @1 :I = 5;\n  \
         c @2 :List(Int32) = [1, , 2];\n  d @3 :group;\n  e @4 :group { x @5 :Int8; }\n}\nstruct B;\n\
         const k :Int32 = 1 { }\n",
        "@0xd1a3c8f2b4e6f3a3;\nannotation a(struct, Struct) :Text;\nannotation b(foo) :Text;\n\
         annotation c(*, struct) :Text;\nannotation d(struct, *) :Text;\n",
        "@0xd1a3c8f2b4e6f3a4;\nstruct U {\n  union {\n    a @0 :Int8;\n    b @1 :Int8;\n    \
         struct Nested {}  # not here\n  }\n}\n\
         struct S {\n  x @0 :Nope;  # trailing doc comment\n  y @1 :Text = 5;\n  # doc on the next line\n}\n",
    ];
    let mut failures = String::new();
    for (i, text) in cases.iter().enumerate() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("bad.capnp"), text).expect("write");
        let official = Command::new("capnp")
            .current_dir(dir.path())
            .args(["compile", "-o-", "bad.capnp"])
            .output()
            .expect("run capnp");
        let theirs: std::collections::BTreeSet<String> = String::from_utf8_lossy(&official.stderr)
            .lines()
            .filter(|l| l.contains(": error: "))
            .map(str::to_string)
            .collect();
        assert!(!theirs.is_empty(), "capnp accepts case {i}");
        let ours: std::collections::BTreeSet<String> = match cara_schema::Compiler::new()
            .base_dir(dir.path())
            .compile(&["bad.capnp"])
        {
            Ok(_) => Default::default(),
            Err(d) => d
                .to_string()
                .lines()
                .filter(|l| l.contains(": error: ") && !l.starts_with(' '))
                .map(str::to_string)
                .collect(),
        };
        if ours != theirs {
            failures.push_str(&format!(
                "case {i}:\n  only official: {:#?}\n  only cara: {:#?}\n",
                theirs.difference(&ours).collect::<Vec<_>>(),
                ours.difference(&theirs).collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "{failures}");
}
