//! The runner: the corpus first, then mutated inputs, each through the target closure
//! under `catch_unwind`, a clock and the watchdog.

use std::fmt;
use std::panic::{self, AssertUnwindSafe, PanicHookInfo};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

use crate::corpus::{fingerprint, load_corpus};
use crate::finding::{Finding, Origin, Watchdog};
use crate::mutate::Mutator;
use crate::settings::Settings;

/// A fuzz target: a name, its corpus directory and how to mutate its seeds.
#[derive(Debug, Clone)]
pub struct Target {
    name: String,
    corpus: PathBuf,
    iterations: u64,
    max_len: usize,
    dictionary: Vec<Vec<u8>>,
    text: bool,
}

/// What a finished run did.
#[derive(Debug, Clone)]
pub struct Report {
    /// The target's name.
    pub name: String,
    /// The `FUZZ_SEED` it ran with.
    pub seed: u64,
    /// Corpus files (or replayed files) run as they are.
    pub files: usize,
    /// Mutated inputs run.
    pub iterations: u64,
    /// Wall time of the whole run.
    pub elapsed: Duration,
}

impl Report {
    /// Inputs per second, corpus files included.
    pub fn per_second(&self) -> f64 {
        (self.iterations + self.files as u64) as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "fuzz {}: {} mutated inputs + {} corpus files in {:.2} s ({:.0}/s), FUZZ_SEED={:#x}",
            self.name,
            self.iterations,
            self.files,
            self.elapsed.as_secs_f64(),
            self.per_second(),
            self.seed
        )
    }
}

impl Target {
    /// A target named `name` (also the name of its findings directory) whose seeds are
    /// the files in `corpus`. By default 10 000 mutated inputs of at most 4 KiB.
    pub fn new(name: &str, corpus: impl Into<PathBuf>) -> Self {
        Target {
            name: name.to_string(),
            corpus: corpus.into(),
            iterations: 10_000,
            max_len: 4096,
            dictionary: Vec::new(),
            text: false,
        }
    }

    /// Mutated inputs to run when `FUZZ_ITERS` is unset: what the target can afford
    /// in CI (every target of the workspace together in well under a minute).
    pub fn iterations(mut self, n: u64) -> Self {
        self.iterations = n;
        self
    }

    /// Longest input to generate.
    pub fn max_len(mut self, n: usize) -> Self {
        self.max_len = n;
        self
    }

    /// Words the mutator inserts and overwrites with (command names, keywords, …).
    pub fn dictionary<W: AsRef<[u8]>>(mut self, words: &[W]) -> Self {
        self.dictionary
            .extend(words.iter().map(|w| w.as_ref().to_vec()));
        self
    }

    /// Adds line- and token-level mutations, for text formats.
    pub fn text(mut self) -> Self {
        self.text = true;
        self
    }

    /// Runs the corpus, then mutated inputs, through `target`, which should panic on a
    /// broken property (`assert!`). Returns what it did, and prints it to stderr.
    ///
    /// # Panics
    /// On a finding, with a report naming the input, its origin and the file it was
    /// saved to: an input whose run panicked (the report shows a reduced input that
    /// panics at the same place) or took longer than `FUZZ_SLOW_MS`. An input that
    /// hangs ends the process instead (see the watchdog). Also panics when the corpus
    /// cannot be read or is empty.
    pub fn run<F: FnMut(&[u8])>(self, target: F) -> Report {
        self.run_with(&Settings::from_env(), target)
    }

    /// [`run`](Self::run) with these settings instead of the environment's.
    ///
    /// # Panics
    /// As [`run`](Self::run).
    pub fn run_with<F: FnMut(&[u8])>(self, settings: &Settings, mut target: F) -> Report {
        let corpus = match load_corpus(&self.corpus) {
            Ok(corpus) if !corpus.is_empty() => corpus,
            Ok(_) => panic!(
                "fuzz target `{}`: corpus {} is empty",
                self.name,
                self.corpus.display()
            ),
            Err(e) => panic!(
                "fuzz target `{}`: corpus {}: {e}",
                self.name,
                self.corpus.display()
            ),
        };
        let dir = settings.findings.join(&self.name);
        let watchdog = Watchdog::start(
            self.name.clone(),
            settings.seed,
            settings.hang(),
            dir.clone(),
        );
        let mut run = Run {
            name: &self.name,
            settings,
            dir,
            watchdog,
            target: &mut target,
        };
        say(format!(
            "fuzz {}: starting with FUZZ_SEED={:#x} ({} corpus files)",
            self.name,
            settings.seed,
            corpus.len()
        ));
        let started = Instant::now();
        let (files, iterations) = match &settings.replay {
            Some(path) => (run.replay(path), 0),
            None => {
                for (name, input) in &corpus {
                    run.one(input, Origin::File(name.as_str().into()));
                }
                let seeds: Vec<Vec<u8>> = corpus.into_iter().map(|(_, bytes)| bytes).collect();
                let mutator = Mutator::new(&seeds, &self.dictionary, self.text, self.max_len);
                let budget = settings.iterations.unwrap_or(match settings.budget {
                    Some(_) => u64::MAX,
                    None => self.iterations,
                });
                (seeds.len(), run.mutations(&mutator, budget, started))
            }
        };
        let report = Report {
            name: self.name.clone(),
            seed: settings.seed,
            files,
            iterations,
            elapsed: started.elapsed(),
        };
        say(report.to_string());
        report
    }
}

/// One run's state.
struct Run<'a, F> {
    name: &'a str,
    settings: &'a Settings,
    dir: PathBuf,
    watchdog: Watchdog,
    target: &'a mut F,
}

impl<F: FnMut(&[u8])> Run<'_, F> {
    fn replay(&mut self, path: &std::path::Path) -> usize {
        let files = if path.is_dir() {
            load_corpus(path)
        } else {
            std::fs::read(path).map(|bytes| vec![(path.display().to_string(), bytes)])
        };
        let files = files.unwrap_or_else(|e| panic!("FUZZ_REPLAY={}: {e}", path.display()));
        for (name, input) in &files {
            self.one(input, Origin::File(name.as_str().into()));
        }
        files.len()
    }

    fn mutations(&mut self, mutator: &Mutator<'_>, budget: u64, started: Instant) -> u64 {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(
            self.settings.seed ^ fingerprint(self.name.as_bytes()),
        );
        let mut done = 0;
        while done < budget {
            // The clock is read every 64 inputs: cheap targets run a few µs each.
            if done % 64 == 0 && self.settings.budget.is_some_and(|b| started.elapsed() >= b) {
                break;
            }
            let input = mutator.mutate(&mut rng);
            self.one(&input, Origin::Iteration(done));
            done += 1;
        }
        done
    }

    fn one(&mut self, input: &[u8], origin: Origin) {
        if let Some(path) = &self.settings.last_input
            && let Err(e) = std::fs::write(path, input)
        {
            panic!("FUZZ_LAST_INPUT={}: {e}", path.display());
        }
        self.watchdog.arm(input, &origin);
        let started = Instant::now();
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| (self.target)(input)));
        let took = started.elapsed();
        self.watchdog.disarm();
        match outcome {
            Err(payload) => {
                let message = panic_message(&*payload);
                let reduced = self.reduce(input);
                self.fail(&origin, "panic", message, &reduced, Some(input.len()));
            }
            Ok(()) if took > self.settings.slow => {
                let detail = format!(
                    "took {:.2} s, over the FUZZ_SLOW_MS limit of {} ms",
                    took.as_secs_f64(),
                    self.settings.slow.as_millis()
                );
                self.fail(&origin, "slow", detail, input, None);
            }
            Ok(()) => {}
        }
    }

    fn fail(
        &self,
        origin: &Origin,
        kind: &'static str,
        detail: String,
        input: &[u8],
        original_len: Option<usize>,
    ) -> ! {
        let finding = Finding {
            target: self.name,
            seed: self.settings.seed,
            origin,
            kind,
            detail,
            input,
            original_len,
        };
        panic!("{}", finding.report(&self.dir));
    }

    /// A smaller input that panics at the same source location: chunks are cut while
    /// it still does (for at most 5 s). The panic hook is silenced for this thread
    /// meanwhile, and only for it: other tests keep theirs.
    fn reduce(&mut self, input: &[u8]) -> Vec<u8> {
        let me = std::thread::current().id();
        let location: Arc<Mutex<Option<String>>> = Arc::default();
        let previous: Arc<Hook> = Arc::new(panic::take_hook());
        let (seen, chained) = (location.clone(), previous.clone());
        panic::set_hook(Box::new(move |info| {
            if std::thread::current().id() == me {
                *seen.lock().unwrap_or_else(PoisonError::into_inner) =
                    info.location().map(ToString::to_string);
            } else {
                chained(info);
            }
        }));
        let mut panics_at = |candidate: &[u8]| {
            *location.lock().unwrap_or_else(PoisonError::into_inner) = None;
            self.watchdog.arm(candidate, &Origin::Iteration(0));
            let failed =
                panic::catch_unwind(AssertUnwindSafe(|| (self.target)(candidate))).is_err();
            self.watchdog.disarm();
            failed.then(|| {
                location
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clone()
            })
        };
        let mut best = input.to_vec();
        if let Some(wanted) = panics_at(input) {
            let deadline = Instant::now() + Duration::from_secs(5);
            let mut chunk = best.len().div_ceil(2);
            while chunk > 0 && Instant::now() < deadline {
                let mut at = 0;
                let mut cut = false;
                while at < best.len() && Instant::now() < deadline {
                    let mut candidate = best.clone();
                    candidate.drain(at..(at + chunk).min(best.len()));
                    if panics_at(&candidate).is_some_and(|l| l == wanted) {
                        best = candidate;
                        cut = true;
                    } else {
                        at += chunk;
                    }
                }
                if !cut {
                    chunk /= 2;
                }
            }
        }
        drop(panic::take_hook());
        panic::set_hook(Box::new(move |info| previous(info)));
        best
    }
}

/// Prints a line to stderr in one write, so that libtest's own messages on stdout
/// ("has been running for over 60 seconds") cannot cut it, and build-support/fuzz.sh
/// finds it whole.
fn say(mut line: String) {
    line.push('\n');
    eprint!("{line}");
}

/// A panic hook, as `std::panic::take_hook` returns it.
type Hook = Box<dyn Fn(&PanicHookInfo<'_>) + Send + Sync>;

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    match (
        payload.downcast_ref::<&str>(),
        payload.downcast_ref::<String>(),
    ) {
        (Some(s), _) => (*s).to_string(),
        (_, Some(s)) => s.clone(),
        _ => "a panic without a message".to_string(),
    }
}
