//! `tier-replica`: one replica of the scale-out example (`schemas/tier.capnp`,
//! docs/scaling.md). It serves `Tier` until SIGTERM or SIGINT; every answer
//! names the replica, so callers can see where their calls went.
//!
//! ```text
//! CARA_REPLICA_SECRET=... tier-replica --name r1 --endpoint tcp://10.0.0.2:5555
//! ```
//!
//! With `CARA_REPLICA_SECRET` set it accepts only logins with that password (a
//! broker's, `cara broker`), and takes the username as the caller's user id; without
//! it, it serves anyone with `noop` security.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use cara::Fault;
use clap::Parser;

/// Code generated from the example schemas by the build script.
mod schemas {
    cara::include_schemas!();
}

#[path = "../shared/shutdown.rs"]
mod shutdown;

use schemas::tier_capnp::{
    CallbackClient, Counter, CounterClient, Tier, TierServer, counter, tier,
};

/// The environment variable holding the secret a broker logs in with.
const SECRET_VAR: &str = "CARA_REPLICA_SECRET";

#[derive(Parser)]
#[command(
    name = "tier-replica",
    about = "A replica of the scale-out example's Tier service"
)]
struct Cli {
    /// This replica's name, given in every answer.
    #[arg(long)]
    name: String,
    /// Endpoint to bind, e.g. tcp://10.0.0.2:5555 (port 0 picks a free one).
    #[arg(long)]
    endpoint: String,
}

struct Replica {
    name: String,
    server: Arc<cara::Server>,
}

impl Tier for Replica {
    async fn whoami(&self) -> Result<tier::WhoamiResults, Fault> {
        let user = cara::caller()
            .map(|c| String::from_utf8_lossy(c.user_id()).into_owned())
            .unwrap_or_default();
        Ok(tier::WhoamiResults {
            replica: self.name.clone(),
            user,
        })
    }

    async fn counter(&self, start: i64) -> Result<CounterClient, Fault> {
        Ok(CounterClient::from_server(Count {
            replica: self.name.clone(),
            next: AtomicI64::new(start),
        }))
    }

    async fn apply(&self, callback: CallbackClient, x: i64) -> Result<i64, Fault> {
        Ok(callback.double(x).await? + 1)
    }

    async fn call_me_back(&self, x: i64) -> Result<i64, Fault> {
        let Some(caller) = cara::caller() else {
            return Err(Fault::new("ValueError", "callMeBack needs a remote caller"));
        };
        // By user id, as any server→client call (not over the caller's route).
        let back = CallbackClient::new(self.server.send_to(caller.user_id()));
        Ok(back.double(x).await? + 1)
    }

    async fn work(&self, tag: u64, millis: u32) -> Result<tier::WorkResults, Fault> {
        tokio::time::sleep(Duration::from_millis(millis.into())).await;
        Ok(tier::WorkResults {
            tag,
            replica: self.name.clone(),
        })
    }
}

/// A counter that lives in the replica that made it.
struct Count {
    replica: String,
    next: AtomicI64,
}

impl Counter for Count {
    async fn next(&self) -> Result<counter::NextResults, Fault> {
        Ok(counter::NextResults {
            value: self.next.fetch_add(1, Ordering::Relaxed),
            replica: self.replica.clone(),
        })
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let security = match std::env::var(SECRET_VAR) {
        Ok(secret) => cara::ServerSecurity::plain(move |_, password| password == secret.as_bytes()),
        Err(_) => cara::ServerSecurity::Noop,
    };
    let signals = match shutdown::Signals::install() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("tier-replica: cannot set up the signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server = match cara::Server::builder("server")
        .bind(&cli.endpoint)
        .security(security)
        .stop_grace(shutdown::STOP_GRACE)
        .start()
    {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("tier-replica: {e}");
            return ExitCode::FAILURE;
        }
    };
    let replica = Replica {
        name: cli.name.clone(),
        server: server.clone(),
    };
    if let Err(e) = cara::serve(server.registry(), TierServer::new(replica)) {
        eprintln!("tier-replica: {e}");
        return ExitCode::FAILURE;
    }
    println!(
        "replica {} listening on {}",
        cli.name,
        server.endpoints()[0]
    );
    let signal = signals.wait().await;
    eprintln!("tier-replica: {signal}; stopping");
    server.stop().await;
    ExitCode::SUCCESS
}
