//! The runner end to end: a target with a planted bug is caught, reported with a
//! reduced input, and the saved file replays it. The tests pass settings of their
//! own, so that a FUZZ_* variable set for a fuzz run does not change them.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use fuzzkit::Settings;

fn corpus(name: &str, seeds: &[(&str, &[u8])]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fuzzkit-{name}-{}", std::process::id()));
    fuzzkit::write_seeds(&dir, seeds).unwrap();
    dir
}

/// A decoder with a planted bug: it indexes past the end after a 0xdd marker.
fn buggy(input: &[u8]) {
    if let Some(i) = input.iter().position(|b| *b == 0xdd) {
        let n = usize::from(input.get(i + 1).copied().unwrap_or(0));
        assert!(n < 0xf0 || input.len() > 100, "planted bug at byte {i}");
    }
}

#[test]
fn a_planted_bug_is_found_reduced_and_saved() {
    let dir = corpus("planted", &[("a", &[0x93, 0x01, 0x02, 0x03, 0x04, 0x05])]);
    let report = catch_unwind(AssertUnwindSafe(|| {
        fuzzkit::Target::new("planted", &dir)
            .iterations(200_000)
            .run(buggy)
    }));
    let message = match report {
        Ok(report) => panic!("not found: {report}"),
        Err(payload) => payload.downcast::<String>().map(|s| *s).unwrap(),
    };
    assert!(
        message.contains("fuzz target `planted`: panic (planted bug at byte"),
        "{message}"
    );
    assert!(message.contains("FUZZ_SEED=0x"), "{message}");
    assert!(
        message.contains("cargo test -p fuzzkit --test runner -- --exact a_planted_bug"),
        "{message}"
    );
    // Reduced to the two bytes that matter.
    assert!(message.contains("input (2 bytes"), "{message}");
    let saved = message
        .lines()
        .find_map(|l| l.strip_prefix("saved to "))
        .unwrap();
    let input = std::fs::read(saved).unwrap();
    assert_eq!(input[0], 0xdd);
    assert!(catch_unwind(|| buggy(&input)).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_clean_target_runs_its_budget_and_the_corpus() {
    let dir = corpus("clean", &[("a", b"seed one"), ("b", b"seed two")]);
    let mut seen = 0u64;
    let report = fuzzkit::Target::new("clean", &dir)
        .iterations(500)
        .max_len(32)
        .run_with(&Settings::default(), |input| {
            assert!(input.len() <= 32 || input.starts_with(b"seed"));
            seen += 1;
        });
    assert_eq!((report.files, report.iterations), (2, 500));
    assert_eq!(seen, 502);
    assert!(
        report
            .to_string()
            .starts_with("fuzz clean: 500 mutated inputs + 2 corpus files")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_corpus_is_an_error() {
    let missing = std::env::temp_dir().join("fuzzkit-no-such-corpus");
    let result = catch_unwind(|| {
        fuzzkit::Target::new("missing", &missing).run_with(&Settings::default(), |_| {})
    });
    assert!(result.is_err());
}
