//! The frameworks, each as a server process and a client process.
//!
//! Every side serves or calls the same thing: `add(1, 2)`, answered `3`, over
//! tcp://127.0.0.1. A server binds the endpoint it is given (port 0: the system
//! picks a free one), prints `ready <endpoint>` with the port it got, and serves
//! until it is killed or its standard input closes (so a runner that dies leaves no
//! server behind). A client measures one [`Mode`] for a given time and returns
//! calls/s (see [`crate::measure`]).

mod capnp;
mod pseud;
mod raw;
mod tarpc;
mod tonic;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, Result};

/// Which framework a process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Framework {
    /// This repository's transport (`crates/pseud`, by path): native ZMTP, NULL.
    Pseud,
    /// The same under CURVE encryption (fixed benchmark keys).
    PseudCurve,
    /// libzmq ROUTER server / DEALER client, blocking: the floor pseud is built on.
    Raw,
    /// Cap'n Proto RPC (`capnp-rpc`, twoparty VatNetwork), single-threaded.
    CapnpRpc,
    /// tarpc with its serde transport, bincode over TCP.
    Tarpc,
    /// tonic gRPC (HTTP/2), a unary call.
    Tonic,
}

impl Framework {
    /// All of them, in report order: pseud first, then what it is divided by.
    pub const ALL: [Framework; 6] = [
        Framework::Pseud,
        Framework::PseudCurve,
        Framework::Raw,
        Framework::CapnpRpc,
        Framework::Tarpc,
        Framework::Tonic,
    ];

    /// The name on the command line and in the report.
    pub fn name(self) -> &'static str {
        match self {
            Framework::Pseud => "pseud",
            Framework::PseudCurve => "pseud-curve",
            Framework::Raw => "raw",
            Framework::CapnpRpc => "capnp-rpc",
            Framework::Tarpc => "tarpc",
            Framework::Tonic => "tonic",
        }
    }
}

/// What a client process measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// One call at a time, one client.
    Seq,
    /// [`WINDOW`] calls in flight on one connection.
    Window,
}

/// Calls kept in flight by [`Mode::Window`].
pub const WINDOW: usize = 100;

/// What `add(1, 2)` must answer; a client fails on anything else.
pub const SUM: i64 = 3;

/// Serves `framework` on `endpoint` until killed or until standard input closes.
pub fn serve(framework: Framework, endpoint: &str) -> Result<()> {
    std::thread::Builder::new()
        .name("stdin watch".into())
        .spawn(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
            std::process::exit(0);
        })
        .context("stdin watch thread")?;
    match framework {
        Framework::Pseud => pseud::serve(endpoint, pseud::Security::Null),
        Framework::PseudCurve => pseud::serve(endpoint, pseud::Security::Curve),
        Framework::Raw => raw::serve(endpoint),
        Framework::CapnpRpc => capnp::serve(endpoint),
        Framework::Tarpc => tarpc::serve(endpoint),
        Framework::Tonic => tonic::serve(endpoint),
    }
}

/// Calls `framework`'s server at `endpoint` in `mode` for `duration`; calls/s.
pub fn client(framework: Framework, endpoint: &str, mode: Mode, duration: Duration) -> Result<f64> {
    match framework {
        Framework::Pseud => pseud::client(endpoint, mode, duration, pseud::Security::Null),
        Framework::PseudCurve => pseud::client(endpoint, mode, duration, pseud::Security::Curve),
        Framework::Raw => raw::client(endpoint, mode, duration),
        Framework::CapnpRpc => capnp::client(endpoint, mode, duration),
        Framework::Tarpc => tarpc::client(endpoint, mode, duration),
        Framework::Tonic => tonic::client(endpoint, mode, duration),
    }
}

/// Tells the runner the server listens, on the endpoint it really got.
fn ready(endpoint: &str) {
    println!("ready {endpoint}");
    let _ = std::io::stdout().flush();
}

/// The tokio runtime a user's `#[tokio::main]` gets: multi-threaded, all drivers.
fn multi_thread() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")
}

/// A single-threaded runtime, for `!Send` frameworks (capnp-rpc) inside a LocalSet.
fn current_thread() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("tokio runtime")
}

/// `tcp://127.0.0.1:PORT` as a socket address, for the frameworks that are not ZeroMQ.
fn socket_addr(endpoint: &str) -> Result<SocketAddr> {
    let addr = endpoint
        .strip_prefix("tcp://")
        .with_context(|| format!("endpoint {endpoint:?} is not tcp://HOST:PORT"))?;
    addr.parse()
        .with_context(|| format!("endpoint {endpoint:?} is not tcp://IP:PORT"))
}

/// The endpoint to report for a listener bound at `addr`.
fn endpoint_of(addr: SocketAddr) -> String {
    format!("tcp://{addr}")
}
