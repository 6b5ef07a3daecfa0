//! `engine-bench`: the transport-engine decision, measured (issue: the transport
//! engine). Server and client are **separate processes**, as for the frameworks a
//! user compares with, on tcp://127.0.0.1:
//!
//! * **raw**: libzmq ROUTER server / DEALER client (the `zmq` crate: pseud's libzmq);
//! * **pseud**: this repository's `Server` / `Client`, `add(1, 2)`;
//! * **native**: a minimal ZMTP 3.1 (NULL) ROUTER/DEALER written on tokio (`zmtp.rs`).
//!
//! Before measuring, native is checked against libzmq both ways (native client →
//! libzmq server, libzmq client → native server). Each round runs every engine once
//! (sequential calls, then 100 in flight), in alternation; figures are medians over
//! the rounds. The decision rule (docs/transport.md): native is worth building if it
//! reaches >= 1.3x raw sequentially and >= 1.0x raw with 100 in flight.
//!
//! `engine-bench` (run), `engine-bench serve --engine E --endpoint EP`,
//! `engine-bench call --engine E --endpoint EP --seq N --window N`.

mod sides;
mod zmtp;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use clap::{Parser, Subcommand};
use sides::{Engine, Res};

#[derive(Parser)]
#[command(
    name = "engine-bench",
    about = "raw libzmq vs pseud vs native ZMTP, two processes"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    /// Small counts for a smoke run.
    #[arg(long)]
    quick: bool,
    /// Rounds (each engine once per round).
    #[arg(long, default_value_t = 5)]
    rounds: usize,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve one engine (until killed).
    Serve {
        #[arg(long, value_enum)]
        engine: Engine,
        #[arg(long)]
        endpoint: String,
    },
    /// Call one engine's server; prints `seq_rate window_rate`.
    Call {
        #[arg(long, value_enum)]
        engine: Engine,
        #[arg(long)]
        endpoint: String,
        #[arg(long)]
        seq: usize,
        #[arg(long)]
        window: usize,
    },
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Cmd::Serve { engine, endpoint }) => sides::serve(engine, &endpoint),
        Some(Cmd::Call {
            engine,
            endpoint,
            seq,
            window,
        }) => sides::call(engine, &endpoint, seq, window).map(|(s, w)| println!("{s} {w}")),
        None => run(cli.quick, cli.rounds.max(1)),
    };
    if let Err(e) = result {
        eprintln!("engine-bench: {e}");
        std::process::exit(1);
    }
}

/// A server process, killed when dropped.
struct Served(Child, String);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn me() -> Res<std::path::PathBuf> {
    std::env::current_exe().map_err(|e| e.to_string())
}

fn serve(engine: Engine) -> Res<Served> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let endpoint = format!("tcp://127.0.0.1:{port}");
    let mut child = Command::new(me()?)
        .args(["serve", "--engine", name(engine), "--endpoint", &endpoint])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    let stdout = child.stdout.take().ok_or("no stdout")?;
    BufReader::new(stdout)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    if !line.starts_with("ready ") {
        return Err(format!("{} server did not start: {line:?}", name(engine)));
    }
    Ok(Served(child, endpoint))
}

fn call(engine: Engine, endpoint: &str, seq: usize, window: usize) -> Res<(f64, f64)> {
    let out = Command::new(me()?)
        .args(["call", "--engine", name(engine), "--endpoint", endpoint])
        .args(["--seq", &seq.to_string(), "--window", &window.to_string()])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(format!(
            "{} client failed: {text}{}",
            name(engine),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut it = text.split_whitespace().map(str::parse::<f64>);
    match (it.next(), it.next()) {
        (Some(Ok(s)), Some(Ok(w))) => Ok((s, w)),
        _ => Err(format!("bad client output {text:?}")),
    }
}

fn name(e: Engine) -> &'static str {
    match e {
        Engine::Raw => "raw",
        Engine::Pseud => "pseud",
        Engine::Native => "native",
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn run(quick: bool, rounds: usize) -> Res<()> {
    let (seq, window) = if quick {
        (2_000, 20_000)
    } else {
        (20_000, 200_000)
    };
    // Native speaks to libzmq both ways, or its figures mean nothing.
    let libzmq = serve(Engine::Raw)?;
    call(Engine::Native, &libzmq.1, 100, 1_000).map_err(|e| format!("native -> libzmq: {e}"))?;
    drop(libzmq);
    let native = serve(Engine::Native)?;
    call(Engine::Raw, &native.1, 100, 1_000).map_err(|e| format!("libzmq -> native: {e}"))?;
    drop(native);
    println!(
        "engine-bench: native ZMTP <-> libzmq checked both ways; {rounds} rounds of {seq} sequential / {window} windowed calls"
    );

    let engines = [Engine::Raw, Engine::Pseud, Engine::Native];
    let mut figures: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); engines.len()];
    for round in 0..rounds {
        for (i, &engine) in engines.iter().enumerate() {
            let server = serve(engine)?;
            let (s, w) = call(engine, &server.1, seq, window)?;
            figures[i].0.push(s);
            figures[i].1.push(w);
            println!(
                "round {round}: {:<6} {s:>10.0} seq/s {w:>10.0} windowed/s",
                name(engine)
            );
        }
    }
    let med: Vec<(f64, f64)> = figures
        .into_iter()
        .map(|(s, w)| (median(s), median(w)))
        .collect();
    let (raw, pseud, native) = (med[0], med[1], med[2]);
    let ratio = |a: f64, b: f64| a / b.max(1e-9);
    println!(
        "median calls/s: raw {:.0} / {:.0}, pseud {:.0} / {:.0}, native {:.0} / {:.0} (sequential / 100 in flight)",
        raw.0, raw.1, pseud.0, pseud.1, native.0, native.1
    );
    let (ns, nw) = (ratio(native.0, raw.0), ratio(native.1, raw.1));
    println!(
        "native/raw: sequential {ns:.2} (rule >= 1.3), windowed {nw:.2} (rule >= 1.0) -> {}",
        if ns >= 1.3 && nw >= 1.0 {
            "native engine"
        } else {
            "own libzmq build"
        }
    );
    println!(
        "{{\"raw_seq\":{:.1},\"raw_window\":{:.1},\"pseud_seq\":{:.1},\"pseud_window\":{:.1},\"native_seq\":{:.1},\"native_window\":{:.1},\"native_seq_ratio\":{ns:.3},\"native_window_ratio\":{nw:.3},\"pseud_seq_ratio\":{:.3},\"pseud_window_ratio\":{:.3}}}",
        raw.0,
        raw.1,
        pseud.0,
        pseud.1,
        native.0,
        native.1,
        ratio(pseud.0, raw.0),
        ratio(pseud.1, raw.1)
    );
    Ok(())
}
