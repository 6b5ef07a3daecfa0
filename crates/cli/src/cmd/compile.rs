//! `cara compile`: a drop-in for `capnp compile -o-`.

use std::io::Write;
use std::process::ExitCode;

/// Arguments of `cara compile`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Add a directory to the import search path (for `/absolute` imports).
    #[arg(short = 'I', long = "import-path", value_name = "DIR")]
    pub include: Vec<String>,
    /// Strip this prefix from requested file names.
    #[arg(long = "src-prefix", value_name = "DIR")]
    pub src_prefix: Vec<String>,
    /// Do not search the standard import directories nor the bundled standard files.
    #[arg(long = "no-standard-import")]
    pub no_standard_import: bool,
    /// Output: only `-` (write the CodeGeneratorRequest to stdout) is supported.
    #[arg(
        short = 'o',
        long = "output",
        value_name = "OUT",
        allow_hyphen_values = true
    )]
    pub output: Vec<String>,
    /// Schema files to compile.
    #[arg(required = true)]
    pub files: Vec<String>,
}

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    if let Some(bad) = args.output.iter().find(|o| o.as_str() != "-") {
        eprintln!("cara compile: unsupported output '{bad}'; only '-o-' is supported");
        return ExitCode::from(2);
    }
    let mut compiler = cara_schema::Compiler::new();
    for i in &args.include {
        compiler = compiler.include(i);
    }
    for p in &args.src_prefix {
        compiler = compiler.src_prefix(p.clone());
    }
    if args.no_standard_import {
        compiler = compiler.no_standard_import();
    }
    match compiler.compile(&args.files) {
        Ok(set) => {
            if !args.output.is_empty() {
                let bytes = set.to_request_bytes();
                let mut out = std::io::stdout().lock();
                if out.write_all(&bytes).and_then(|_| out.flush()).is_err() {
                    return ExitCode::FAILURE;
                }
            }
            ExitCode::SUCCESS
        }
        Err(diags) => {
            eprintln!("{diags}");
            ExitCode::FAILURE
        }
    }
}
