//! Cross-checks `cara-schema` against the official `capnp compile -o-`: both
//! `CodeGeneratorRequest`s are decoded and compared node by node (order-insensitive),
//! including the canonical bytes of every pointer-typed value.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "support/request.rs"]
mod request;

use request::{first_diff, normalize};

const INSTALL_HINT: &str = "install Debian package capnproto (apt-get install capnproto)";

fn require_capnp() {
    let ok = Command::new("capnp")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "`capnp` is not on PATH: {INSTALL_HINT}");
}

/// Where the standard schemas live: `/usr/include` when `libcapnp-dev` is installed,
/// otherwise a scratch copy of the bundled files (identical to 0.9.2's; see the stdlib unit
/// tests), laid out as `capnp/...`.
fn system_root() -> (PathBuf, Vec<String>, Option<tempfile::TempDir>) {
    if Path::new("/usr/include/capnp/schema.capnp").exists() {
        return (PathBuf::from("/usr/include"), Vec::new(), None);
    }
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in cara_schema::stdlib::FILES {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
    }
    let root = dir.path().to_path_buf();
    let args = vec![
        "--no-standard-import".to_string(),
        "-I".to_string(),
        root.to_string_lossy().into_owned(),
    ];
    eprintln!(
        "/usr/include/capnp is missing (Debian package libcapnp-dev); using the bundled copies"
    );
    (root, args, Some(dir))
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Compares both compilers on `files` (paths relative to `cwd`); returns a readable report of
/// differences, empty when identical.
fn compare(cwd: &Path, args: &[&str], files: &[&str]) -> String {
    let out = Command::new("capnp")
        .current_dir(cwd)
        .arg("compile")
        .args(args)
        .arg("-o-")
        .args(files)
        .output()
        .expect("run capnp");
    assert!(
        out.status.success(),
        "capnp failed on {files:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let official = normalize(&out.stdout);
    // Compile in-process against the same working directory.
    let mut c = cara_schema::Compiler::new();
    let mut i = 0;
    while i < args.len() {
        match args[i] {
            "-I" => {
                c = c.include(args[i + 1]);
                i += 1;
            }
            "--no-standard-import" => c = c.no_standard_import(),
            "--src-prefix" => {
                c = c.src_prefix(args[i + 1]);
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    let result = c.base_dir(cwd).compile(files);
    let set = match result {
        Ok(s) => s,
        Err(d) => return format!("cara failed on {files:?}:\n{d}"),
    };
    let ours = normalize(&set.to_request_bytes());
    let mut report = String::new();
    for (k, v) in &official {
        match ours.get(k) {
            None => report.push_str(&format!("missing in cara: {k}\n")),
            Some(o) if o != v => {
                report.push_str(&format!("differs: {k}\n{}\n", first_diff(v, o)));
            }
            _ => {}
        }
    }
    for k in ours.keys() {
        if !official.contains_key(k) {
            report.push_str(&format!("extra in cara: {k}\n"));
        }
    }
    report
}

fn capnp_files(dir: &Path, out: &mut Vec<PathBuf>) {
    if let Ok(rd) = std::fs::read_dir(dir) {
        let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                capnp_files(&p, out);
            } else if p.extension().is_some_and(|e| e == "capnp") {
                out.push(p);
            }
        }
    }
}

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

/// Differential fuzzing: mutated feature schemas must be accepted or rejected by both
/// compilers alike, and compile to the same request when accepted.  Bounded in time.
#[test]
fn differential_fuzz_against_official_compiler() {
    require_capnp();
    let root = workspace_root();
    let seeds: Vec<String> = [
        "types",
        "defaults",
        "unions_groups",
        "interfaces",
        "generics",
        "annotations",
        "docs",
        "ids",
        "retro_union",
        "values_advanced",
        "generics_advanced",
        "aliases_generic",
        "syntax",
        "keyword_names",
        "annotations_generic",
        "literals",
        "codegen_names",
    ]
    .iter()
    .filter_map(|n| std::fs::read_to_string(root.join(format!("schemas/frontend/{n}.capnp"))).ok())
    .collect();
    assert!(!seeds.is_empty());
    let dir = tempfile::tempdir().expect("tempdir");
    // CARA_FUZZ_SEED / CARA_FUZZ_SECS allow longer exploratory runs.
    let mut state: u64 = std::env::var("CARA_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x00d1_ff00_1234_5678);
    let secs: u64 = std::env::var("CARA_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(6);
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    const SNIPPETS: &[&str] = &[
        "annotation an (*) :Text;",
        "$an(\"v\")",
        "using X = Int32;",
        "const k :Int32 = 1;",
        "= .k",
        "extends(I)",
        "[T]",
        "!",
        ":union",
        ":Data = 0x\"ab\"",
        "= nan",
        "= (x = 1, y = 2)",
        ":AnyPointer",
        ":Capability",
        "@65535",
        ":List(Text) = [\"a\"]",
        ":Float32 = 1e3",
        "\n",
        ",",
        "@0",
        "@1",
        ":Int32",
        ":Text",
        "= 5",
        "= \"x\"",
        "= [1]",
        "= (a = 1)",
        "union {",
        "}",
        ";",
        "$",
        "List(",
        ")",
        "struct X {}",
        "enum Y { a @0; }",
        " ",
        "@0xd1a3c8f2b4e6f00f",
        "-> stream",
        ":group {",
        "T",
        "(T)",
        "= inf",
        "= -1",
    ];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let (mut both_ok, mut both_err, mut n) = (0, 0, 0);
    let mut failures = String::new();
    while std::time::Instant::now() < deadline && failures.len() < 4000 {
        let seed = &seeds[(next() % seeds.len() as u64) as usize];
        let mut text = seed.clone();
        for _ in 0..=(next() % 2) {
            let len = text.len();
            let at = (next() % (len as u64 + 1)) as usize;
            let at = (0..=at)
                .rev()
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(0);
            if next() % 2 == 0 {
                let s = SNIPPETS[(next() % SNIPPETS.len() as u64) as usize];
                text.insert_str(at, s);
            } else {
                let end = (at + (next() % 12) as usize).min(len);
                let end = (end..=len)
                    .find(|i| text.is_char_boundary(*i))
                    .unwrap_or(len);
                text.replace_range(at..end, "");
            }
        }
        std::fs::write(dir.path().join("fuzz.capnp"), &text).expect("write");
        n += 1;
        let official = Command::new("capnp")
            .current_dir(dir.path())
            .args(["compile", "-o-", "fuzz.capnp"])
            .output()
            .expect("run capnp");
        // A crash of the official compiler counts as a rejection.
        let official_ok = official.status.success() && !official.stdout.is_empty();
        // capnp 0.9.2 is the oracle: compare with its dialect (no 1.0 additions).
        let ours = cara_schema::Compiler::new()
            .capnp_0_9()
            .base_dir(dir.path())
            .compile(&["fuzz.capnp"]);
        match (official_ok, &ours) {
            (true, Ok(set)) => {
                both_ok += 1;
                let a = normalize(&official.stdout);
                let b = normalize(&set.to_request_bytes());
                if a != b {
                    let key = a
                        .iter()
                        .find(|(k, v)| b.get(*k) != Some(*v))
                        .map(|(k, _)| k.clone());
                    failures.push_str(&format!("output differs ({key:?}) on:\n{text}\n\n"));
                }
            }
            (false, Err(_)) => both_err += 1,
            (true, Err(e)) => failures.push_str(&format!(
                "cara rejects what capnp accepts:\n{e}\n{text}\n\n"
            )),
            (false, Ok(_)) => failures.push_str(&format!(
                "cara accepts what capnp rejects ({}):\n{text}\n\n",
                String::from_utf8_lossy(&official.stderr)
                    .lines()
                    .find(|l| l.contains("error"))
                    .unwrap_or("")
            )),
        }
    }
    eprintln!(
        "differential fuzz: {n} inputs, {both_ok} accepted by both, {both_err} rejected by both"
    );
    assert!(failures.is_empty(), "{failures}");
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

/// Layout property test: random structs with mixed-size fields, unions (named and unnamed,
/// nested) and groups, with ordinals in random declaration order, must lay out exactly like
/// the official compiler.
#[test]
fn random_layouts_match_official_compiler() {
    require_capnp();
    enum M {
        Field(&'static str),
        Union(Option<String>, Vec<M>),
        Group(String, Vec<M>),
    }
    const TYPES: &[&str] = &[
        "Void",
        "Bool",
        "Int8",
        "UInt8",
        "Int16",
        "UInt16",
        "Int32",
        "UInt32",
        "Float32",
        "Int64",
        "UInt64",
        "Float64",
        "Text",
        "Data",
        "List(Bool)",
        "AnyPointer",
    ];
    struct Gen {
        state: u64,
        names: usize,
    }
    impl Gen {
        fn next(&mut self, n: usize) -> usize {
            self.state ^= self.state << 13;
            self.state ^= self.state >> 7;
            self.state ^= self.state << 17;
            (self.state % n as u64) as usize
        }
        fn name(&mut self) -> String {
            self.names += 1;
            format!("m{}", self.names)
        }
        fn members(&mut self, depth: usize, count: usize, allow_unnamed: bool) -> Vec<M> {
            let mut out = Vec::new();
            let mut unnamed = !allow_unnamed;
            for _ in 0..count {
                let roll = self.next(10);
                if depth < 3 && roll == 0 {
                    let n = 2 + self.next(3);
                    let inner = self.union_members(depth + 1, n);
                    if unnamed {
                        out.push(M::Union(Some(self.name()), inner));
                    } else {
                        unnamed = true;
                        out.push(M::Union(None, inner));
                    }
                } else if depth < 3 && roll == 1 {
                    let n = 1 + self.next(3);
                    let inner = self.members(depth + 1, n, true);
                    out.push(M::Group(self.name(), inner));
                } else {
                    out.push(M::Field(TYPES[self.next(TYPES.len())]));
                }
            }
            out
        }
        fn union_members(&mut self, depth: usize, count: usize) -> Vec<M> {
            (0..count)
                .map(|_| match self.next(6) {
                    0 if depth < 3 => {
                        let n = 1 + self.next(3);
                        M::Group(self.name(), self.members(depth + 1, n, true))
                    }
                    1 if depth < 3 => {
                        let n = 2 + self.next(2);
                        M::Union(Some(self.name()), self.union_members(depth + 1, n))
                    }
                    _ => M::Field(TYPES[self.next(TYPES.len())]),
                })
                .collect()
        }
    }
    fn count(ms: &[M]) -> usize {
        ms.iter()
            .map(|m| match m {
                M::Field(_) => 1,
                M::Union(_, x) | M::Group(_, x) => count(x),
            })
            .sum()
    }
    fn print(ms: &[M], ords: &mut dyn Iterator<Item = usize>, g: &mut Gen, out: &mut String) {
        for m in ms {
            match m {
                M::Field(t) => {
                    let name = g.name();
                    let o = ords.next().unwrap_or(0);
                    out.push_str(&format!("{name} @{o} :{t}; "));
                }
                M::Union(name, x) => {
                    match name {
                        Some(n) => out.push_str(&format!("{n} :union {{ ")),
                        None => out.push_str("union { "),
                    }
                    print(x, ords, g, out);
                    out.push_str("} ");
                }
                M::Group(n, x) => {
                    out.push_str(&format!("{n} :group {{ "));
                    print(x, ords, g, out);
                    out.push_str("} ");
                }
            }
        }
    }
    let secs: u64 = std::env::var("CARA_LAYOUT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let mut rounds = 0u64;
    let mut rejected = 0u64;
    let dir = tempfile::tempdir().expect("tempdir");
    while rounds == 0 || std::time::Instant::now() < deadline {
        let mut g = Gen {
            state: 0x9e37_79b9_7f4a_7c15 ^ (rounds.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1),
            names: 0,
        };
        rounds += 1;
        let mut text = String::from("@0xd1a3c8f2b4e6fa00;\n");
        for s in 0..8 {
            let n = 3 + g.next(14);
            let members = g.members(0, n, true);
            // Ordinals in a random order over the declared fields.
            let total = count(&members);
            let mut ords: Vec<usize> = (0..total).collect();
            for i in (1..ords.len()).rev() {
                let j = g.next(i + 1);
                ords.swap(i, j);
            }
            text.push_str(&format!("struct S{s} {{ "));
            print(&members, &mut ords.into_iter(), &mut g, &mut text);
            text.push_str("}\n");
        }
        std::fs::write(dir.path().join("layouts.capnp"), &text).expect("write");
        let official = Command::new("capnp")
            .current_dir(dir.path())
            .args(["compile", "-o-", "layouts.capnp"])
            .output()
            .expect("run capnp");
        if official.status.success() {
            let r = compare(dir.path(), &[], &["layouts.capnp"]);
            assert!(r.is_empty(), "{r}\n--- schema ---\n{text}");
        } else {
            // capnp refuses layouts that 0.5.x computed wrongly (issue #344); so must we.
            let stderr = String::from_utf8_lossy(&official.stderr);
            assert!(
                stderr.contains("issues/344"),
                "capnp failed: {stderr}\n{text}"
            );
            rejected += 1;
            let ours = cara_schema::Compiler::new()
                .base_dir(dir.path())
                .compile(&["layouts.capnp"]);
            match ours {
                Ok(_) => panic!("cara accepts a layout capnp refuses (issue 344):\n{text}"),
                Err(e) => assert!(e.to_string().contains("issues/344"), "{e}"),
            }
        }
    }
    eprintln!(
        "random layouts: {} structs in {rounds} rounds ({rejected} refused by both: issue 344)",
        rounds * 8
    );
}

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
            // capnp 0.9.2 does not lex backticks; the 0.9 dialect here still does.
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
