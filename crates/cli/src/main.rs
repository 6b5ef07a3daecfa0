//! `cara`: the cara command line.
//!
//! Subcommands live in one module each under `cmd/`.

mod cmd;

use clap::{Parser, Subcommand};

/// cara command line.
#[derive(Debug, Parser)]
#[command(name = "cara", version, about = "cara for Rust: schema tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compile schemas; `-o-` writes a CodeGeneratorRequest to stdout (like `capnp compile -o-`).
    Compile(cmd::compile::Args),
    /// Generate Rust: one module file per schema file reached, plus `mod.rs`.
    Gen(cmd::generate::Args),
}

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Compile(args) => cmd::compile::run(args),
        Command::Gen(args) => cmd::generate::run(args),
    }
}
