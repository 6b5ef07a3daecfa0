//! `cara keygen NAME`: a CURVE key pair as ZeroMQ certificate files, the format
//! pyzmq's `zmq.auth` reads: `NAME.key` (the public key, for peers) and
//! `NAME.key_secret` (both keys, created with mode 0600).

use std::path::PathBuf;
use std::process::ExitCode;

use cara::pseud::{KeyPair, certificate};

/// Arguments of `cara keygen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The files' base name: NAME.key and NAME.key_secret.
    pub name: String,
    /// Directory to write them to.
    #[arg(long, default_value = ".")]
    pub dir: PathBuf,
}

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    if args.name.is_empty() || args.name.contains('/') {
        eprintln!("cara keygen: NAME must be a file name, not {:?}", args.name);
        return ExitCode::from(2);
    }
    let keys = KeyPair::generate();
    match certificate::write(&args.dir, &args.name, &keys) {
        Ok((public, secret)) => {
            println!("public key: {}", keys.public.to_z85());
            println!(
                "wrote {} (the public key: give it to peers)",
                public.display()
            );
            println!("wrote {} (mode 0600: keep it secret)", secret.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cara keygen: {e}");
            ExitCode::FAILURE
        }
    }
}
