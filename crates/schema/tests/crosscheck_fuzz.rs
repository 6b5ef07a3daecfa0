//! Randomized cross-checks against the official compiler: mutated feature schemas
//! (accepted or rejected alike, same request when accepted) and random struct layouts.

use std::process::Command;

mod support;

use support::oracle::{compare, require_capnp, workspace_root};
use support::request::normalize;

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
