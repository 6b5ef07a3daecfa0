//! # pseud
//!
//! The pseud RPC protocol v1 over ZeroMQ ROUTER sockets (ZMTP 3.1, implemented
//! natively on tokio: no libzmq), wire-compatible with the
//! Python [`pseud`](https://pypi.org/project/pseud/) package 1.0.x, in both
//! directions: a [`Server`] serves registered functions and can call its clients
//! back ([`Server::send_to`], [`Context::caller`]); a [`Client`] calls its server
//! and serves functions the server calls on it.
//!
//! ```no_run
//! # #[tokio::main] async fn main() -> Result<(), pseud::Error> {
//! use pseud::{Client, Function, Server};
//!
//! let server = Server::builder("server").bind("tcp://127.0.0.1:0").start()?;
//! server.register("add", |a: i64, b: i64| a + b)?;
//! server.register("kw", Function::new(|a: i64, b: i64| vec![a, b]).params(["a", "b"]).default("b", 2))?;
//!
//! let client = Client::builder().connect(&server.endpoints()[0])?;
//! let sum: i64 = client.call("add", (2, 5)).await?;
//! let pair: Vec<i64> = client.request("kw").arg(1).kwarg("b", 3).send().await?;
//! assert_eq!((sum, pair), (7, vec![1, 3]));
//! # Ok(()) }
//! ```
//!
//! Handlers may be sync or async, typed (serde) or dynamic ([`Args`]), and may take
//! a [`Context`] first to learn the caller's user id or call the caller back.
//! Every call has a timeout (5 s unless set per client, per remote or per call).
//! See `docs/transport.md` in the repository for the guide.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod address;
mod broker;
pub mod certificate;
mod client;
mod codec_error;
mod context;
mod endpoint;
mod engine;
mod error;
mod function;
#[cfg(test)]
mod fuzz;
mod handler;
mod introspect;
pub mod json;
pub mod keys;
mod limits;
mod msgpack;
mod own_thread;
mod pool;
pub mod protocol;
mod proxy;
mod registry;
mod remote;
mod security;
mod server;
pub mod value;
mod zmtp;

pub use broker::{Broker, BrokerBuilder, ReplicaStatus};
pub use client::{Client, ClientBuilder, DEFAULT_CONNECT_GRACE};
pub use context::Context;
pub use endpoint::{DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_TIMEOUT, SocketLoop};
pub use engine::{DomainPredicate, PeerEvent};
pub use error::{
    Error, Fault, MESSAGE_TOO_LARGE, PANIC_ERROR, PROTOCOL_ERROR, RemoteError, SERVICE_NOT_FOUND,
    SERVICE_UNAVAILABLE, TYPE_ERROR,
};
pub use function::{DEFAULT_DOMAIN, Function, IntoFunction, bind_slots};
pub use handler::{Handler, IntoReply};
pub use keys::{KeyError, KeyPair, PublicKey, SecretKey};
pub use limits::{Limits, RESOURCE_EXHAUSTED};
pub use pool::Pool;
pub use registry::Registry;
pub use remote::{Remote, Request};
pub use security::{ClientSecurity, CurveClients, SecondLogin, ServerSecurity, Verifier};
pub use server::{Server, ServerBuilder};
pub use value::{Args, IntoArgs, Value};
