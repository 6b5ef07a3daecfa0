//! `cara broker`: one address for clients in front of replicas of a server
//! (`pseud::Broker`, docs/scaling.md). Runs until SIGTERM or SIGINT and never
//! reads standard input.

use std::path::PathBuf;
use std::process::ExitCode;

use cara::pseud::{Broker, ServerSecurity, certificate};

use super::seconds;

/// The environment variable holding the password the broker logs in to
/// replicas with (not an argument: command lines are visible to every user).
pub const SECRET_VAR: &str = "CARA_REPLICA_SECRET";

/// How clients authenticate to the broker.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Security {
    /// No authentication: every client has the empty user id.
    Noop,
    /// PLAIN; the username is the user id, any password is accepted.
    TrustedPeer,
    /// CURVE with `--key`; the clients in `--allow` (a directory of NAME.key files)
    /// have user id NAME; without `--allow` any key is admitted, its Z85 text the user id.
    Curve,
}

/// Arguments of `cara broker`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Endpoint to listen on for clients (repeat for more).
    #[arg(long, required = true)]
    pub bind: Vec<String>,
    /// A replica's endpoint (repeat for more).
    #[arg(long, required = true)]
    pub replica: Vec<String>,
    /// The name clients address (their server name).
    #[arg(long, default_value = "server")]
    pub name: String,
    /// How clients authenticate.
    #[arg(long, value_enum, default_value = "noop")]
    pub security: Security,
    /// The broker's CURVE key file (NAME.key_secret), for `--security curve`.
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// A directory of the clients' NAME.key files, for `--security curve`.
    #[arg(long)]
    pub allow: Option<PathBuf>,
    /// Seconds a replica whose connection failed is left out of new pairings.
    #[arg(long, default_value_t = 1.0, value_name = "SECS")]
    pub down_for: f64,
    /// Seconds a client's calls wait while no replica is up, before they are
    /// answered ServiceUnavailableError.
    #[arg(long, default_value_t = 1.0, value_name = "SECS")]
    pub wait_for_replica: f64,
}

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    let checked = (|| {
        Ok::<_, String>((
            security(&args)?,
            seconds("--down-for", args.down_for)?,
            seconds("--wait-for-replica", args.wait_for_replica)?,
        ))
    })();
    let (security, down_for, wait_for_replica) = match checked {
        Ok(checked) => checked,
        Err(e) => {
            eprintln!("cara broker: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("cara broker: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let mut builder = Broker::builder(&args.name)
            .security(security)
            .replica_down_for(down_for)
            .wait_for_replica(wait_for_replica);
        for b in &args.bind {
            builder = builder.bind(b);
        }
        for r in &args.replica {
            builder = builder.replica(r);
        }
        match std::env::var(SECRET_VAR) {
            Ok(secret) => builder = builder.replica_secret(secret),
            Err(_) => eprintln!(
                "cara broker: {SECRET_VAR} is not set: replicas see every client with the empty user id"
            ),
        }
        // Before it says it listens: a signal sent from then on stops it cleanly.
        let (mut term, mut int) = match signals() {
            Ok(s) => s,
            Err(e) => {
                eprintln!("cara broker: cannot set up the signal handlers: {e}");
                return ExitCode::FAILURE;
            }
        };
        let broker = match builder.start() {
            Ok(b) => b,
            Err(e) => {
                eprintln!("cara broker: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!(
            "broker {} listening on {}; replicas {}",
            args.name,
            broker.endpoints().join(" "),
            args.replica.join(" ")
        );
        let signal = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        eprintln!("cara broker: {signal}; stopping");
        broker.stop().await;
        ExitCode::SUCCESS
    })
}

fn security(args: &Args) -> Result<ServerSecurity, String> {
    match args.security {
        Security::Noop => Ok(ServerSecurity::Noop),
        Security::TrustedPeer => Ok(ServerSecurity::TrustedPeer),
        Security::Curve => {
            let path = args
                .key
                .as_ref()
                .ok_or("--security curve needs --key NAME.key_secret")?;
            let keys = certificate::load(path)
                .and_then(|c| c.key_pair(path))
                .map_err(|e| e.to_string())?;
            match &args.allow {
                None => Ok(ServerSecurity::curve(keys)),
                Some(dir) => {
                    let allowed = certificate::allowed_clients(dir).map_err(|e| e.to_string())?;
                    Ok(ServerSecurity::curve_allowing(keys, allowed))
                }
            }
        }
    }
}

/// The SIGTERM and SIGINT streams, caught from now on.
fn signals() -> std::io::Result<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)> {
    use tokio::signal::unix::{SignalKind, signal};
    Ok((
        signal(SignalKind::terminate())?,
        signal(SignalKind::interrupt())?,
    ))
}
