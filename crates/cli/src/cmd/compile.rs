//! `cara compile`: a drop-in for `capnp compile -o-`; without `-o` it only checks
//! the schemas and says so on stderr (`x.capnp: ok (N nodes)`).

use std::io::Write;
use std::process::ExitCode;

/// Arguments of `cara compile`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Import path and file-name options.
    #[command(flatten)]
    pub schema: super::schema_args::SchemaArgs,
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
    let compiler = args.schema.compiler();
    match compiler.compile(&args.files) {
        Ok(set) => {
            if args.output.is_empty() {
                // Nothing to write: say that the schemas were checked.
                eprintln!(
                    "{}: ok ({} nodes)",
                    args.files.join(", "),
                    set.nodes().len()
                );
                return ExitCode::SUCCESS;
            }
            let bytes = set.to_request_bytes();
            let mut out = std::io::stdout().lock();
            if out.write_all(&bytes).and_then(|_| out.flush()).is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(diags) => {
            eprintln!("{diags}");
            ExitCode::FAILURE
        }
    }
}
