//! `pseud-demo`: the interop and demo tool of the pseud transport.
//!
//! - `pseud-demo serve --endpoint E [--name server] [--security noop|trusted_peer|plain|curve]
//!   [--key SERVER.key_secret [--allow DIR]] [--call-client USER]`:
//!   serves until SIGTERM or SIGINT (it never reads stdin)
//! - `pseud-demo call --endpoint E [--name server] [--security noop|plain|curve] [--user U] [--password P]
//!   [--server-key SERVER.key [--key CLIENT.key_secret]] [--timeout S] [--stay S] NAME [ARGS_JSON] [KWARGS_JSON]`
//! - `pseud-demo demo`: a server and a client in one process, calling each other.
//!
//! Values are printed and parsed in the JSON form of `pseud::json`
//! (bytes as `{"$bytes":"<hex>"}`).

mod call;
#[path = "../../shared/curve.rs"]
mod curve;
mod demo;
mod serve;
#[path = "../../shared/shutdown.rs"]
mod shutdown;

use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "pseud-demo",
    about = "Serve or call pseud v1 functions (interop and demo tool)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the demo functions (add, echo, fail, sleep, string.upper, kw, whoami, callback.*).
    Serve(serve::ServeArgs),
    /// Call one function and print its result as compact JSON.
    Call(call::CallArgs),
    /// Start a server and a client in this process and show calls both ways.
    Demo,
}

/// Security modes by the names pseud users know.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Security {
    /// No authentication (ZeroMQ NULL).
    Noop,
    /// Server: PLAIN, any password, user id = username.
    #[value(name = "trusted_peer", alias = "trusted-peer")]
    TrustedPeer,
    /// Client: PLAIN credentials. Server: PLAIN with checked passwords.
    Plain,
    /// CurveZMQ: encrypted; keys from certificate files (`cara keygen`).
    Curve,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Call(args) => return call::run(args).await,
        Command::Demo => demo::run().await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pseud-demo: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints one line of compact JSON and flushes, so a reading process sees it at once.
fn emit(line: &serde_json::Value) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}
