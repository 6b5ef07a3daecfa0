//! `calculator`: the seed example — a Cap'n Proto interface served and called over pseud.
//!
//! - `calculator` (no arguments): starts a server and a client in this process on an
//!   ephemeral loopback port and runs the client sequence with the typed stub
//!   (`add(2, 5) = 7`, divide, stats, an adder object, a callback).
//! - `calculator serve --endpoint E [--name server] [--security noop|trusted_peer|plain
//!   [--login NAME:PASSWORD]...|curve --key SERVER.key_secret [--allow DIR]]`: runs only
//!   the server, until SIGTERM or SIGINT. The
//!   original Python cara calls it as `Calculator(client).add(2, 5)`; a Python pseud
//!   client as `client.Calculator.add(2, 5)` or `client.add(first=2, second=5)`.
//! - `calculator call --endpoint E [--name server] [--security noop|plain --user U
//!   --password P|curve --server-key SERVER.key [--key CLIENT.key_secret]]`: runs the
//!   same client sequence against a remote server (ours, or the original cara's).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use cara::Fault;
use cara::{ClientSecurity, ServerSecurity};
use clap::{Parser, Subcommand, ValueEnum};

#[path = "../shared/curve.rs"]
mod curve;
#[path = "../shared/shutdown.rs"]
mod shutdown;

/// Code generated from `schemas/calculator.capnp` by the build script.
mod schemas {
    cara::include_schemas!();
}

use schemas::calculator_capnp::{
    Adder, AdderClient, Calculator, CalculatorClient, CalculatorServer, Op, Stats, Value,
    ValueClient, calculator,
};

/// The server object: it remembers what it did.
#[derive(Default)]
struct Calc {
    stats: Mutex<Stats>,
}

impl Calc {
    fn record(&self, op: Op, value: i32) {
        let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        stats.calls += 1;
        stats.last_op = op;
        stats.history.push(value);
    }
}

impl Calculator for Calc {
    async fn add(&self, first: i32, second: i32) -> Result<i32, Fault> {
        let sum = first.checked_add(second).ok_or_else(|| {
            Fault::new(
                "OverflowError",
                format!("{first} + {second} overflows Int32"),
            )
        })?;
        self.record(Op::Add, sum);
        Ok(sum)
    }

    async fn divide(
        &self,
        numerator: f64,
        denominator: f64,
    ) -> Result<calculator::DivideResults, Fault> {
        if denominator == 0.0 {
            // Python's own words, so that both calculators read the same.
            return Err(Fault::new("ZeroDivisionError", "float division by zero"));
        }
        let quotient = (numerator / denominator).trunc();
        self.record(Op::Divide, quotient as i32);
        Ok(calculator::DivideResults {
            quotient,
            remainder: numerator - quotient * denominator,
        })
    }

    async fn stats(&self) -> Result<Stats, Fault> {
        Ok(self.stats.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }

    async fn get_adder(&self, offset: i32) -> Result<AdderClient, Fault> {
        // A live object: it stays here, and the caller gets a capability to it.
        Ok(AdderClient::from_server(RunningTotal(Mutex::new(offset))))
    }

    async fn evaluate(&self, value: ValueClient) -> Result<f64, Fault> {
        // Call the caller's object back, over the connection the call came in on.
        Ok(value.read().await? * 2.0)
    }
}

/// An adder object: a running total that lives on the server.
struct RunningTotal(Mutex<i32>);

impl Adder for RunningTotal {
    async fn add(&self, x: i32) -> Result<i32, Fault> {
        let mut total = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *total = total
            .checked_add(x)
            .ok_or_else(|| Fault::new("OverflowError", "the total overflows Int32"))?;
        Ok(*total)
    }
}

/// A value the client passes to the server; the server calls it back.
struct Constant(f64);

impl Value for Constant {
    async fn read(&self) -> Result<f64, Fault> {
        Ok(self.0)
    }
}

#[derive(Parser)]
#[command(name = "calculator", about = "The cara calculator example")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the calculator until SIGTERM or SIGINT (stdin is never read).
    Serve {
        /// Endpoint to bind, e.g. tcp://127.0.0.1:5555 (port 0 or * picks a free one).
        #[arg(long)]
        endpoint: String,
        /// The server's name (routing id).
        #[arg(long, default_value = "server")]
        name: String,
        /// Security mode, as pseud names them.
        #[arg(long, value_enum, default_value = "noop")]
        security: ServeSecurity,
        /// A login `plain` accepts, as NAME:PASSWORD (repeat for more).
        #[arg(long, value_name = "NAME:PASSWORD")]
        login: Vec<String>,
        /// `curve`: the server's key file (NAME.key_secret, from `cara keygen`).
        #[arg(long)]
        key: Option<PathBuf>,
        /// `curve`: admit only clients with a USER.key file in this directory.
        #[arg(long)]
        allow: Option<PathBuf>,
    },
    /// Run the example's client sequence against a running server.
    Call {
        /// Endpoint of the server, e.g. tcp://127.0.0.1:5555.
        #[arg(long)]
        endpoint: String,
        /// The server's name (routing id).
        #[arg(long, default_value = "server")]
        name: String,
        /// Security mode: `noop` or `plain` (PLAIN credentials; a `trusted_peer`
        /// server takes any password).
        #[arg(long, value_enum, default_value = "noop")]
        security: CallSecurity,
        /// PLAIN user name (the user id the server sees).
        #[arg(long)]
        user: Option<String>,
        /// PLAIN password.
        #[arg(long)]
        password: Option<String>,
        /// `curve`: the server's public key (its NAME.key file, or Z85; it may
        /// start with `-`).
        #[arg(long, allow_hyphen_values = true)]
        server_key: Option<String>,
        /// `curve`: our key file (NAME.key_secret); a fresh key pair without it.
        #[arg(long)]
        key: Option<PathBuf>,
        /// Timeout of each call, in seconds.
        #[arg(long, default_value_t = 5.0)]
        timeout: f64,
    },
}

/// What `serve` accepts.
#[derive(Clone, Copy, ValueEnum)]
enum ServeSecurity {
    /// No authentication (ZeroMQ NULL).
    Noop,
    /// PLAIN, any password; the user id is the user name.
    #[value(name = "trusted_peer", alias = "trusted-peer")]
    TrustedPeer,
    /// PLAIN, checked against the `--login` list.
    Plain,
    /// CurveZMQ with `--key` (and `--allow`).
    Curve,
}

/// What `call` presents.
#[derive(Clone, Copy, ValueEnum)]
enum CallSecurity {
    /// No authentication (ZeroMQ NULL).
    Noop,
    /// PLAIN with `--user` and `--password`.
    Plain,
    /// CurveZMQ towards `--server-key`.
    Curve,
}

type BoxError = Box<dyn std::error::Error>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    match Cli::parse().command {
        None => demo().await,
        Some(Command::Serve {
            endpoint,
            name,
            security,
            login,
            key,
            allow,
        }) => {
            let security = server_security(security, &login, key.as_deref(), allow.as_deref())?;
            serve(&endpoint, &name, security).await
        }
        Some(Command::Call {
            endpoint,
            name,
            security,
            user,
            password,
            server_key,
            key,
            timeout,
        }) => {
            let credentials = Credentials {
                user,
                password,
                server_key,
                key,
            };
            call(
                &endpoint,
                &name,
                client_security(security, credentials)?,
                timeout,
            )
            .await
        }
    }
}

fn server_security(
    mode: ServeSecurity,
    logins: &[String],
    key: Option<&Path>,
    allow: Option<&Path>,
) -> Result<ServerSecurity, BoxError> {
    if !matches!(mode, ServeSecurity::Plain) && !logins.is_empty() {
        return Err("--login is only for --security plain".into());
    }
    if !matches!(mode, ServeSecurity::Curve) && (key.is_some() || allow.is_some()) {
        return Err("--key and --allow go with --security curve".into());
    }
    match mode {
        ServeSecurity::Noop => Ok(ServerSecurity::Noop),
        ServeSecurity::TrustedPeer => Ok(ServerSecurity::TrustedPeer),
        ServeSecurity::Curve => curve::server(key, allow),
        ServeSecurity::Plain => {
            if logins.is_empty() {
                return Err("--security plain needs at least one --login NAME:PASSWORD".into());
            }
            let mut accepted = Vec::new();
            for login in logins {
                let Some((user, password)) = login.split_once(':') else {
                    return Err(format!("--login {login:?} is not NAME:PASSWORD").into());
                };
                accepted.push((user.to_string(), password.as_bytes().to_vec()));
            }
            Ok(ServerSecurity::plain(move |user, password| {
                accepted.iter().any(|(u, p)| u == user && p == password)
            }))
        }
    }
}

/// What `call` was given to present.
struct Credentials {
    user: Option<String>,
    password: Option<String>,
    server_key: Option<String>,
    key: Option<PathBuf>,
}

fn client_security(mode: CallSecurity, given: Credentials) -> Result<ClientSecurity, BoxError> {
    let plain = given.user.is_some() || given.password.is_some();
    let curve = given.server_key.is_some() || given.key.is_some();
    match mode {
        _ if plain && !matches!(mode, CallSecurity::Plain) => {
            Err("--user and --password need --security plain".into())
        }
        _ if curve && !matches!(mode, CallSecurity::Curve) => {
            Err("--server-key and --key need --security curve".into())
        }
        CallSecurity::Noop => Ok(ClientSecurity::Noop),
        CallSecurity::Plain => match (given.user, given.password) {
            (Some(user), Some(password)) => Ok(ClientSecurity::plain(user, password)),
            _ => Err("--security plain needs --user and --password".into()),
        },
        CallSecurity::Curve => curve::client(given.server_key.as_deref(), given.key.as_deref()),
    }
}

/// Server and client in one process.
async fn demo() -> Result<(), BoxError> {
    let server = cara::Server::builder("server")
        .bind("tcp://127.0.0.1:0")
        .start()?;
    cara::serve(server.registry(), CalculatorServer::new(Calc::default()))?;
    let client = cara::Client::builder().connect(&server.endpoints()[0])?;
    let calc = CalculatorClient::new(client.server().clone());
    let result = client_sequence(&calc).await;
    client.stop().await;
    server.stop().await;
    result
}

/// The client sequence against a remote server.
async fn call(
    endpoint: &str,
    name: &str,
    security: ClientSecurity,
    timeout: f64,
) -> Result<(), BoxError> {
    if !(timeout > 0.0 && timeout <= 3600.0) {
        return Err("--timeout must be a number of seconds from 0 to 3600".into());
    }
    let client = cara::Client::builder()
        .server_name(name)
        .security(security)
        .timeout(std::time::Duration::from_secs_f64(timeout))
        .connect(endpoint)?;
    let calc = CalculatorClient::new(client.server().clone());
    let result = client_sequence(&calc).await;
    client.stop().await;
    result
}

/// What the example does with a calculator, one line per step.
async fn client_sequence(calc: &CalculatorClient) -> Result<(), BoxError> {
    println!("add(2, 5) = {}", calc.add(2, 5).await?);
    let division = calc.divide(7.0, 2.0).await?;
    println!(
        "divide(7, 2) = {} remainder {}",
        division.quotient, division.remainder
    );
    match calc.divide(1.0, 0.0).await {
        Err(cara::Error::Remote(e)) => println!("divide(1, 0) raised {}: {}", e.class, e.message),
        other => return Err(format!("divide(1, 0) unexpectedly gave {other:?}").into()),
    }
    let stats = calc.stats().await?;
    println!(
        "stats: {} calls, last {:?}, history {:?}",
        stats.calls, stats.last_op, stats.history
    );

    // Live capabilities: an object returned by the server keeps its state there ...
    let adder = calc.get_adder(5).await?;
    println!("adder(5).add(1) = {}", adder.add(1).await?);
    println!("adder(5).add(10) = {}", adder.add(10).await?);
    // A call on a result that has not arrived yet goes out at once (pipelining):
    // one round trip for both calls.
    let pipelined = calc.get_adder_pipelined(100).add(1).await?;
    println!("get_adder_pipelined(100).add(1) = {pipelined}");
    // ... and an object the client passes is called back by the server.
    let doubled = calc
        .evaluate(ValueClient::from_server(Constant(21.0)))
        .await?;
    println!("evaluate(value 21) = {doubled} (the server called our value back)");
    Ok(())
}

async fn serve(endpoint: &str, name: &str, security: ServerSecurity) -> Result<(), BoxError> {
    // Served before the server starts, so that a client connecting at once finds it.
    let registry = cara::pseud::Registry::new();
    cara::serve(&registry, CalculatorServer::new(Calc::default()))?;
    let signals = shutdown::Signals::install()?;
    let server = cara::Server::builder(name)
        .security(security)
        .stop_grace(shutdown::STOP_GRACE)
        .registry(registry)
        .bind(endpoint.replace(":*", ":0"))
        .start()?;
    println!(
        "{{\"event\":\"ready\",\"endpoint\":\"{}\"}}",
        server.endpoints()[0]
    );
    use std::io::Write;
    std::io::stdout().flush()?;
    let signal = signals.wait().await;
    tracing::info!(%signal, "stopping");
    server.stop().await;
    Ok(())
}
