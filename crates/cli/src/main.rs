//! `cara`: the cara command line.
//!
//! Subcommands live in one module each under `cmd/`.

mod cmd;

use clap::{Parser, Subcommand};

/// cara command line.
#[derive(Debug, Parser)]
#[command(
    name = "cara",
    version,
    about = "cara for Rust: schema tools, and calls to cara servers from a shell"
)]
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
    /// Call a method of a cara or pseud server with JSON arguments read through a schema.
    Call(cmd::call::Args),
    /// List the interfaces of schemas, with their methods.
    List(cmd::describe::ListArgs),
    /// Show an interface's methods, or a struct's fields or an enum's enumerants.
    Describe(cmd::describe::DescribeArgs),
    /// Write a CURVE key pair: NAME.key (public) and NAME.key_secret (mode 0600).
    Keygen(cmd::keygen::Args),
    /// Stand in front of replicas of a server: each client connection is paired with one replica.
    Broker(cmd::broker::Args),
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
        Command::Call(args) => cmd::call::run(args),
        Command::List(args) => cmd::describe::list(args),
        Command::Describe(args) => cmd::describe::describe(args),
        Command::Keygen(args) => cmd::keygen::run(args),
        Command::Broker(args) => cmd::broker::run(args),
    }
}
