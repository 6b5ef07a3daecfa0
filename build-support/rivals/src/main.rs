//! `rivals`: pseud against the RPC frameworks a user would pick instead, each as a
//! server process and a client process on tcp://127.0.0.1, calling `add(1, 2)`.
//!
//! * `rivals [--quick] [--rounds N] [--runs N] [--duration D] [--frameworks a,b]`:
//!   the runner. It starts this binary as servers and clients; each round measures
//!   every framework back to back (sequential calls, then 100 in flight), the order
//!   rotating from round to round, and the report divides pseud by each of them.
//! * `rivals serve FRAMEWORK ENDPOINT`: serves until killed or until standard input
//!   closes; prints `ready <endpoint>` (port 0 becomes the port it got).
//! * `rivals client FRAMEWORK ENDPOINT seq|window DURATION`: measures one mode for
//!   DURATION after a warm-up and prints calls/s.
//!
//! Frameworks: see [`sides`]; the loops: [`measure`]; processes: [`runner`]; figures:
//! [`report`].

mod measure;
mod report;
mod runner;
mod sides;

use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use runner::Plan;
use sides::{Framework, Mode};

#[derive(Parser)]
#[command(
    name = "rivals",
    about = "pseud vs raw libzmq, capnp-rpc, tarpc and tonic: add(1, 2), two processes each",
    args_override_self = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// A smoke run: 3 rounds of 0.4 s per measure.
    #[arg(long)]
    quick: bool,
    /// Rounds per run (each framework once per round) [default: 5, quick: 3].
    #[arg(long)]
    rounds: Option<usize>,
    /// Runs: the whole set of rounds again; with more than one, a summary over runs.
    #[arg(long, default_value_t = 1)]
    runs: usize,
    /// Measured time per framework and mode, after a warm-up of a quarter of it
    /// (`1s`, `500ms`, `2`) [default: 1s, quick: 0.4s].
    #[arg(long, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Frameworks to compare pseud with, comma-separated [default: all].
    #[arg(long, value_enum, value_delimiter = ',')]
    frameworks: Vec<Framework>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve one framework until killed (or standard input closes).
    Serve {
        #[arg(value_enum)]
        framework: Framework,
        /// `tcp://127.0.0.1:0` for a free port.
        endpoint: String,
    },
    /// Call one framework's server; prints calls/s.
    Client {
        #[arg(value_enum)]
        framework: Framework,
        endpoint: String,
        #[arg(value_enum)]
        mode: Mode,
        /// Measured time, after the warm-up.
        #[arg(value_parser = parse_duration)]
        duration: Duration,
    },
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Cmd::Serve {
            framework,
            endpoint,
        }) => sides::serve(framework, &endpoint),
        Some(Cmd::Client {
            framework,
            endpoint,
            mode,
            duration,
        }) => sides::client(framework, &endpoint, mode, duration).map(|rate| println!("{rate:.1}")),
        None => plan(&cli).and_then(|plan| runner::run(&plan)),
    };
    if let Err(e) = result {
        eprintln!("rivals: {e:#}");
        std::process::exit(1);
    }
}

/// The runner's plan from the command line: pseud first, then the rivals asked for.
fn plan(cli: &Cli) -> Result<Plan> {
    let mut frameworks = vec![Framework::Pseud];
    let asked: &[Framework] = if cli.frameworks.is_empty() {
        &Framework::ALL
    } else {
        &cli.frameworks
    };
    for &f in asked {
        if !frameworks.contains(&f) {
            frameworks.push(f);
        }
    }
    if frameworks.len() < 2 {
        bail!("nothing to compare pseud with");
    }
    let (rounds, duration) = if cli.quick {
        (3, Duration::from_millis(400))
    } else {
        (5, Duration::from_secs(1))
    };
    Ok(Plan {
        frameworks,
        rounds: cli.rounds.unwrap_or(rounds).max(1),
        runs: cli.runs.max(1),
        duration: cli.duration.unwrap_or(duration),
    })
}

/// `1s`, `500ms`, `1.5` (seconds).
fn parse_duration(text: &str) -> Result<Duration> {
    let (number, scale) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 1e-3)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .with_context(|| format!("duration {text:?}: want 1s, 500ms or 1.5"))?;
    if !(value > 0.0 && value.is_finite()) {
        bail!("duration {text:?} must be positive");
    }
    Ok(Duration::from_secs_f64(value * scale))
}
