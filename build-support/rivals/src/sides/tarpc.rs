//! tarpc: a `#[tarpc::service]` trait over tarpc's serde transport, bincode in
//! length-delimited frames on a tokio `TcpStream`, the server answering each request
//! on a task of its own (tarpc's documented pattern). The streams are opened here
//! rather than by `serde_transport::tcp::{listen, connect}` only to set TCP_NODELAY,
//! as libzmq, tonic and our capnp-rpc side do; the framing and codec are tarpc's
//! defaults.

use std::time::Duration;

use anyhow::{Context, Result};
use futures::StreamExt;
use tarpc::serde_transport::Transport;
use tarpc::server::{BaseChannel, Channel};
use tarpc::tokio_serde::formats::Bincode;
use tarpc::{client, context};
use tokio::net::{TcpListener, TcpStream};

use super::{Mode, endpoint_of, multi_thread, ready, socket_addr};
use crate::measure::drive;

/// The service: tarpc generates `Calc` (implemented below), `CalcClient` and
/// `ServeCalc` from it.
#[tarpc::service]
trait Calc {
    async fn add(a: i64, b: i64) -> i64;
}

#[derive(Clone)]
struct Adder;

impl Calc for Adder {
    async fn add(self, _: context::Context, a: i64, b: i64) -> i64 {
        a + b
    }
}

/// Accepts connections on `endpoint`, one tarpc channel each.
pub fn serve(endpoint: &str) -> Result<()> {
    let addr = socket_addr(endpoint)?;
    multi_thread()?.block_on(async move {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("bind {addr}"))?;
        ready(&endpoint_of(listener.local_addr()?));
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true).context("TCP_NODELAY")?;
            let transport = Transport::from((stream, Bincode::default()));
            let channel = BaseChannel::with_defaults(transport);
            tokio::spawn(channel.execute(Adder.serve()).for_each(|reply| async {
                tokio::spawn(reply);
            }));
        }
    })
}

/// One `CalcClient` on one connection, called `add(1, 2)`; calls/s.
pub fn client(endpoint: &str, mode: Mode, duration: Duration) -> Result<f64> {
    let addr = socket_addr(endpoint)?;
    multi_thread()?.block_on(async move {
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connect {addr}"))?;
        stream.set_nodelay(true).context("TCP_NODELAY")?;
        let transport = Transport::from((stream, Bincode::default()));
        let calc = CalcClient::new(client::Config::default(), transport).spawn();
        let calc = &calc;
        drive(mode, duration, move || async move {
            Ok(calc.add(context::current(), 1, 2).await?)
        })
        .await
    })
}
