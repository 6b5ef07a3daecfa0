//! Real-world schemas: the front-end and the generator against the official compiler on the
//! shared corpus (`../shared/corpus` from the repository root, or `CARA_CORPUS`), as listed in
//! its `files.tsv`:
//!
//! * `OK` files (capnp 0.9.2 accepts them): `cara compile -o-` gives the same request as
//!   `capnp compile -o-`, node by node, layout, defaults and canonical bytes included; both run
//!   in the file's group folder with exactly the listed flags;
//! * `FAIL` files (they need a newer capnp): `cara compile` accepts them;
//! * the `EXPECTED-FAIL` file: rejected, with errors on the lines upstream's `errors.txt` names;
//! * `cara gen` output of every accepted file compiles clippy-clean (`-D warnings`) in one
//!   scratch crate that depends only on `cara`.
//!
//! Built only with `--features corpus` (the `.ci/run` step), so `cargo test --workspace` does
//! not need the corpus. With the feature, a missing corpus or `capnp` fails, it never skips.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "../../schema/tests/support/request.rs"]
mod request;

/// One line of `files.tsv`.
#[derive(Debug, Clone)]
struct Entry {
    status: String,
    group: String,
    path: String,
    flags: Vec<String>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

fn corpus_dir() -> PathBuf {
    let dir = match std::env::var_os("CARA_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => root().join("../shared/corpus"),
    };
    assert!(
        dir.join("files.tsv").is_file(),
        "the schema corpus is missing: expected {}/files.tsv (set CARA_CORPUS to its folder)",
        dir.display()
    );
    dir
}

fn require_capnp() {
    let ok = Command::new("capnp")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "`capnp` is not on PATH: install Debian's capnproto and libcapnp-dev \
         (apt-get install capnproto libcapnp-dev)"
    );
}

fn entries() -> Vec<Entry> {
    let dir = corpus_dir();
    let text = std::fs::read_to_string(dir.join("files.tsv")).expect("read files.tsv");
    let list: Vec<Entry> = text
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            assert!(cols.len() >= 3, "bad files.tsv line: {l}");
            Entry {
                status: cols[0].to_string(),
                group: cols[1].to_string(),
                path: cols[2].to_string(),
                flags: cols
                    .get(3)
                    .map(|f| f.split_whitespace().map(str::to_string).collect())
                    .unwrap_or_default(),
            }
        })
        .collect();
    assert!(
        list.len() >= 40,
        "files.tsv lists only {} files",
        list.len()
    );
    list
}

fn cara() -> Command {
    Command::new(env!("CARGO_BIN_EXE_cara"))
}

fn group_dir(e: &Entry) -> PathBuf {
    corpus_dir().join(&e.group)
}

#[test]
fn ok_files_compile_like_the_official_compiler() {
    require_capnp();
    let ok: Vec<Entry> = entries().into_iter().filter(|e| e.status == "OK").collect();
    let mut failures = String::new();
    let mut identical = 0;
    for e in &ok {
        let dir = group_dir(e);
        let official = Command::new("capnp")
            .current_dir(&dir)
            .arg("compile")
            .args(&e.flags)
            .arg("-o-")
            .arg(&e.path)
            .output()
            .expect("run capnp");
        assert!(
            official.status.success(),
            "capnp rejects {}/{} (listed OK): {}",
            e.group,
            e.path,
            String::from_utf8_lossy(&official.stderr)
        );
        let ours = cara()
            .current_dir(&dir)
            .arg("compile")
            .args(&e.flags)
            .arg("-o-")
            .arg(&e.path)
            .output()
            .expect("run cara");
        if !ours.status.success() {
            failures.push_str(&format!(
                "=== {}/{}: cara compile failed:\n{}\n",
                e.group,
                e.path,
                String::from_utf8_lossy(&ours.stderr)
            ));
            continue;
        }
        let a = request::normalize(&official.stdout);
        let b = request::normalize(&ours.stdout);
        let mut report = String::new();
        for (k, v) in &a {
            match b.get(k) {
                None => report.push_str(&format!("missing in cara: {k}\n")),
                Some(o) if o != v => {
                    report.push_str(&format!("differs: {k}\n{}\n", request::first_diff(v, o)))
                }
                _ => {}
            }
        }
        for k in b.keys().filter(|k| !a.contains_key(*k)) {
            report.push_str(&format!("extra in cara: {k}\n"));
        }
        if report.is_empty() {
            identical += 1;
        } else {
            failures.push_str(&format!("=== {}/{}\n{report}\n", e.group, e.path));
        }
    }
    eprintln!(
        "corpus: {identical}/{} OK files give the official request",
        ok.len()
    );
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn fail_files_are_accepted() {
    let fail: Vec<Entry> = entries()
        .into_iter()
        .filter(|e| e.status == "FAIL")
        .collect();
    if fail.is_empty() {
        eprintln!("corpus: files.tsv lists no FAIL files");
    }
    let mut failures = String::new();
    for e in &fail {
        let out = cara()
            .current_dir(group_dir(e))
            .arg("compile")
            .args(&e.flags)
            .arg("-o-")
            .arg(&e.path)
            .output()
            .expect("run cara");
        if !out.status.success() || out.stdout.is_empty() {
            failures.push_str(&format!(
                "=== {}/{}:\n{}\n",
                e.group,
                e.path,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    eprintln!(
        "corpus: {}/{} FAIL files accepted",
        fail.len() - failures.matches("=== ").count(),
        fail.len()
    );
    assert!(failures.is_empty(), "{failures}");
}

/// `file:LINE:COL-COL: error: MESSAGE` → (line, message); `None` for other lines.
fn error_line(text: &str) -> Option<(u32, String)> {
    let (head, message) = text.split_once(": error: ")?;
    let mut parts = head.rsplit(':');
    let last = parts.next()?;
    // `file:LINE` (a whole-line error) or `file:LINE:COL[-END]`.
    let line = match last.parse::<u32>() {
        Ok(l) if !last.contains('-') && parts.clone().next()?.parse::<u32>().is_err() => l,
        _ => parts.next()?.parse().ok()?,
    };
    Some((line, message.to_string()))
}

#[test]
fn negative_file_is_rejected_on_upstream_lines() {
    let neg: Vec<Entry> = entries()
        .into_iter()
        .filter(|e| e.status.starts_with("EXPECTED-FAIL") || e.status.starts_with("NEG"))
        .collect();
    if neg.is_empty() {
        eprintln!("corpus: files.tsv lists no file that must be rejected");
    }
    let mut failures = String::new();
    for e in &neg {
        let dir = group_dir(e);
        // Upstream's expected messages: `stderr==FILE` in the status, else `errors.txt`,
        // beside the schema.
        let expected_name = e
            .status
            .split("stderr==")
            .nth(1)
            .map(|rest| rest.trim_end_matches(')'))
            .unwrap_or("errors.txt");
        let errors_txt = Path::new(&e.path)
            .parent()
            .expect("parent")
            .join(expected_name);
        let upstream = std::fs::read_to_string(dir.join(&errors_txt))
            .unwrap_or_else(|err| panic!("{}: {err}", errors_txt.display()));
        let out = cara()
            .current_dir(&dir)
            .arg("compile")
            .args(&e.flags)
            .arg("-o-")
            .arg(&e.path)
            .output()
            .expect("run cara");
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}: cara must reject it with status 1",
            e.path
        );
        assert!(out.stdout.is_empty(), "{}: output despite errors", e.path);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Errors keep the path as given on the command line.
        let ours: Vec<(u32, String)> = stderr
            .lines()
            .filter_map(|l| l.strip_prefix(&format!("{}:", e.path)))
            .filter_map(|l| error_line(&format!("file:{l}")))
            .collect();
        let theirs: Vec<(u32, String)> = upstream.lines().filter_map(error_line).collect();
        assert!(theirs.len() >= 10, "errors.txt has {} errors", theirs.len());
        let our_lines: BTreeSet<u32> = ours.iter().map(|(l, _)| *l).collect();
        let their_lines: BTreeSet<u32> = theirs.iter().map(|(l, _)| *l).collect();
        let missing: Vec<_> = their_lines.difference(&our_lines).collect();
        let extra: Vec<_> = our_lines.difference(&their_lines).collect();
        if !missing.is_empty() || !extra.is_empty() {
            failures.push_str(&format!(
                "=== {}: lines upstream reports that cara does not: {missing:?}; \
                 lines only cara reports: {extra:?}\n{stderr}\n",
                e.path
            ));
        }
        // Beyond lines: the same errors, positions (`line:col-end`) and wording. Compared
        // as sets: the official compiler prints one "previously defined here" once per
        // redefinition, the front-end once.
        let rendered: BTreeSet<String> = stderr
            .lines()
            .filter_map(|l| l.strip_prefix(&format!("{}:", e.path)))
            .filter(|l| l.contains(": error: "))
            .map(|l| format!("file:{l}"))
            .collect();
        let expected: BTreeSet<String> = upstream
            .lines()
            .filter(|l| l.contains(": error: "))
            .map(str::to_string)
            .collect();
        let only_upstream: Vec<_> = expected.difference(&rendered).collect();
        let only_cara: Vec<_> = rendered.difference(&expected).collect();
        eprintln!(
            "corpus: {}: {}/{} distinct upstream errors reproduced exactly (position and message), \
             {} lines matched",
            e.path,
            expected.len() - only_upstream.len(),
            expected.len(),
            their_lines.len()
        );
        if !only_upstream.is_empty() || !only_cara.is_empty() {
            failures.push_str(&format!(
                "=== {}: errors only upstream: {only_upstream:#?}\nerrors only from cara: {only_cara:#?}\n",
                e.path
            ));
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

/// Rust module name for a group: `capnproto-v0.9.2` → `capnproto_v0_9_2`, `Tests` → `tests`.
fn module_name(group: &str) -> String {
    group
        .chars()
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
fn generated_code_of_every_accepted_file_is_clippy_clean() {
    let all: Vec<Entry> = entries()
        .into_iter()
        .filter(|e| e.status == "OK" || e.status == "FAIL")
        .collect();
    let crate_dir = root().join("target/corpus-gen-check");
    let _ = std::fs::remove_dir_all(crate_dir.join("src"));
    std::fs::create_dir_all(crate_dir.join("src")).expect("mkdir");
    let mut lib = String::from(
        "//! `cara gen` output of the real-world schema corpus.\n#![deny(warnings)]\n\n",
    );
    let mut failures = String::new();
    // One `cara gen` per group, status and flags, so files importing each other are
    // generated once.
    let mut batches: Vec<(String, Vec<Entry>)> = Vec::new();
    for e in &all {
        let key = (
            module_name(&e.group),
            e.status.to_lowercase(),
            e.flags.clone(),
        );
        let found = batches.iter_mut().find(|(_, v)| {
            (
                module_name(&v[0].group),
                v[0].status.to_lowercase(),
                v[0].flags.clone(),
            ) == key
        });
        match found {
            Some((_, v)) => v.push(e.clone()),
            None => {
                let module = format!("{}_{}_{}", key.0, key.1, batches.len());
                batches.push((module, vec![e.clone()]));
            }
        }
    }
    let mut generated = 0;
    for (module, batch) in &batches {
        let flags = &batch[0].flags;
        // OK files of a group are generated together; a FAIL file alone, as it may share
        // its name with an OK file of its group (both `test.capnp`).
        let mut chunks: Vec<Vec<Entry>> = if batch[0].status == "OK" {
            vec![batch.clone()]
        } else {
            batch.iter().map(|e| vec![e.clone()]).collect()
        };
        let mut i = 0;
        while i < chunks.len() {
            let chunk = chunks[i].clone();
            let module = format!("{module}_{i}");
            i += 1;
            let out_dir = crate_dir.join("src").join(&module);
            let out = cara()
                .current_dir(group_dir(&chunk[0]))
                .arg("gen")
                .args(flags)
                .arg("--out-dir")
                .arg(&out_dir)
                .args(chunk.iter().map(|e| &e.path))
                .output()
                .expect("run cara gen");
            let names: Vec<&str> = chunk.iter().map(|e| e.path.as_str()).collect();
            if !out.status.success() {
                if chunk.len() > 1 {
                    // Files fine alone can clash when compiled together (a local copy of
                    // a standard file and the installed one share an id, as capnp also
                    // reports): generate them one by one instead.
                    let _ = std::fs::remove_dir_all(&out_dir);
                    chunks.extend(chunk.iter().map(|e| vec![e.clone()]));
                    continue;
                }
                failures.push_str(&format!(
                    "=== cara gen {names:?} ({}):\n{}\n",
                    chunk[0].group,
                    String::from_utf8_lossy(&out.stderr)
                ));
                continue;
            }
            generated += chunk.len();
            lib.push_str(&format!(
                "/// Generated from {} in `{}`.\n#[path = \"{module}/mod.rs\"]\npub mod {module};\n",
                names.join(", "),
                chunk[0].group
            ));
        }
    }
    std::fs::write(
        crate_dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"corpus-gen-check\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\ncara = {{ path = {:?} }}\n\n[workspace]\n",
            root().join("crates/cara").display().to_string()
        ),
    )
    .expect("write Cargo.toml");
    std::fs::write(crate_dir.join("src/lib.rs"), &lib).expect("write lib.rs");
    std::fs::copy(root().join("Cargo.lock"), crate_dir.join("Cargo.lock")).expect("copy lock");
    let check = Command::new(env!("CARGO"))
        .args(["clippy", "--quiet", "--all-targets", "--", "-D", "warnings"])
        .current_dir(&crate_dir)
        // Shares compiled dependencies with the generator's own compile checks.
        .env(
            "CARGO_TARGET_DIR",
            root().join("target/codegen-check/target"),
        )
        .output()
        .expect("run cargo clippy");
    let stderr = String::from_utf8_lossy(&check.stderr);
    let errors = stderr.matches("\nerror").count() + usize::from(stderr.starts_with("error"));
    eprintln!(
        "corpus: cara gen succeeded for {generated}/{} files; clippy -D warnings: {}",
        all.len(),
        if check.status.success() {
            "clean".to_string()
        } else {
            format!("{errors} errors")
        }
    );
    assert!(failures.is_empty(), "{failures}");
    assert!(
        check.status.success(),
        "generated code fails clippy ({}):\n{stderr}",
        crate_dir.join("src/lib.rs").display()
    );
}
