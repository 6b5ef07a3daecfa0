//! The runner: starts this binary as a server process and client processes for each
//! framework, round after round, and hands the figures to [`crate::report`].
//!
//! A server is started on `tcp://127.0.0.1:0` and says which port it got; it is
//! killed as soon as its framework's two measures are done, and it exits by itself
//! if the runner dies (its standard input closes). A client that hangs is killed
//! after its time plus a margin, and the run fails.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::measure::warm_up;
use crate::report::{self, Sample, Summary};
use crate::sides::{Framework, Mode};

/// What to run: frameworks (pseud first), rounds per run, runs, time per measure.
pub struct Plan {
    pub frameworks: Vec<Framework>,
    pub rounds: usize,
    pub runs: usize,
    pub duration: Duration,
}

/// How long a server may take to say `ready`.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long past its warm-up and measured time a client may take.
const CLIENT_MARGIN: Duration = Duration::from_secs(30);

/// Runs the plan and prints the report.
pub fn run(plan: &Plan) -> Result<()> {
    report::header(plan);
    let mut summaries = Vec::with_capacity(plan.runs);
    for run in 0..plan.runs {
        if plan.runs > 1 {
            println!("\n== run {}/{}", run + 1, plan.runs);
        }
        let mut rounds = Vec::with_capacity(plan.rounds);
        for round in 0..plan.rounds {
            let samples = measure_round(plan, round)?;
            report::round(round, plan.rounds, &samples);
            rounds.push(samples);
        }
        let summary = Summary::of(&rounds);
        summary.print(run, plan.runs);
        summaries.push(summary);
    }
    if plan.runs > 1 {
        report::over_runs(&summaries);
    }
    report::json(plan, &summaries);
    Ok(())
}

/// Every framework once, back to back, starting one further along each round (so
/// no framework always runs first, or always right after another). The samples
/// come back in plan order.
fn measure_round(plan: &Plan, round: usize) -> Result<Vec<Sample>> {
    let n = plan.frameworks.len();
    let mut samples: Vec<Option<Sample>> = vec![None; n];
    for k in 0..n {
        let i = (round + k) % n;
        samples[i] = Some(measure(plan.frameworks[i], plan.duration)?);
    }
    Ok(samples.into_iter().flatten().collect())
}

/// One server process, both modes against it, one client process each.
fn measure(framework: Framework, duration: Duration) -> Result<Sample> {
    let server = Served::start(framework)?;
    let seq = call(framework, &server.endpoint, Mode::Seq, duration)?;
    let window = call(framework, &server.endpoint, Mode::Window, duration)?;
    drop(server);
    Ok(Sample {
        framework,
        seq,
        window,
    })
}

fn me() -> Result<PathBuf> {
    std::env::current_exe().context("own executable")
}

/// A server process, killed when dropped.
struct Served {
    child: Child,
    /// Held open: the server exits when it closes.
    _stdin: Option<ChildStdin>,
    endpoint: String,
}

impl Served {
    fn start(framework: Framework) -> Result<Served> {
        let mut child = Command::new(me()?)
            .args(["serve", framework.name(), "tcp://127.0.0.1:0"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .with_context(|| format!("start {} server", framework.name()))?;
        let stdout = child.stdout.take().context("server stdout")?;
        let mut served = Served {
            _stdin: child.stdin.take(),
            child,
            endpoint: String::new(),
        };
        // Read the `ready` line on a thread, so a server that never says it can be
        // given up on.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let read = BufReader::new(stdout).read_line(&mut line).map(|_| line);
            let _ = tx.send(read);
        });
        let line = match rx.recv_timeout(START_TIMEOUT) {
            Ok(read) => read.context("server stdout")?,
            Err(_) => bail!("{} server not ready in {START_TIMEOUT:?}", framework.name()),
        };
        served.endpoint = match line.trim_end().strip_prefix("ready ") {
            Some(endpoint) => endpoint.to_string(),
            None => bail!("{} server did not start: {line:?}", framework.name()),
        };
        Ok(served)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs one client process; its calls/s.
fn call(framework: Framework, endpoint: &str, mode: Mode, duration: Duration) -> Result<f64> {
    let name = framework.name();
    let mode_name = match mode {
        Mode::Seq => "seq",
        Mode::Window => "window",
    };
    let mut child = Command::new(me()?)
        .args(["client", name, endpoint, mode_name])
        .arg(format!("{}s", duration.as_secs_f64()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("start {name} client"))?;
    let deadline = Instant::now() + warm_up(duration) + duration + CLIENT_MARGIN;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("{name} {mode_name} client did not finish; killed");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let (mut out, mut err) = (String::new(), String::new());
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_string(&mut out)?;
    }
    if let Some(mut stderr) = child.stderr.take() {
        stderr.read_to_string(&mut err)?;
    }
    if !status.success() {
        bail!(
            "{name} {mode_name} client failed ({status}): {}",
            err.trim()
        );
    }
    out.trim()
        .parse()
        .with_context(|| format!("{name} {mode_name} client printed {out:?}"))
}
