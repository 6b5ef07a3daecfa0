//! tonic: gRPC over HTTP/2, the unary `Add` of `proto/calc.proto` (compiled by protox
//! and tonic-prost-build in build.rs). The server is `tonic::transport::Server`; the
//! client is one `Channel` (one HTTP/2 connection), cloned per call as tonic
//! documents, so 100 calls in flight are 100 streams on that connection. tonic sets
//! TCP_NODELAY on both ends by default.

use std::time::Duration;

use anyhow::{Context, Result};
use tokio::net::TcpListener;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Endpoint, Server};
use tonic::{Request, Response, Status};

use super::{Mode, endpoint_of, multi_thread, ready, socket_addr};
use crate::measure::drive;

/// Generated from `proto/calc.proto`, package `rivals`.
#[allow(clippy::all, clippy::pedantic)]
mod proto {
    tonic::include_proto!("rivals");
}

use proto::calc_client::CalcClient;
use proto::calc_server::{Calc, CalcServer};
use proto::{AddReply, AddRequest};

struct Adder;

#[tonic::async_trait]
impl Calc for Adder {
    async fn add(&self, request: Request<AddRequest>) -> Result<Response<AddReply>, Status> {
        let AddRequest { a, b } = request.into_inner();
        Ok(Response::new(AddReply { value: a + b }))
    }
}

/// A tonic server with the `Calc` service on `endpoint`.
pub fn serve(endpoint: &str) -> Result<()> {
    let addr = socket_addr(endpoint)?;
    multi_thread()?.block_on(async move {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("bind {addr}"))?;
        ready(&endpoint_of(listener.local_addr()?));
        Server::builder()
            .add_service(CalcServer::new(Adder))
            .serve_with_incoming(TcpIncoming::from(listener).with_nodelay(Some(true)))
            .await
            .context("tonic server")
    })
}

/// One channel to the server, called `Add(1, 2)`; calls/s.
pub fn client(endpoint: &str, mode: Mode, duration: Duration) -> Result<f64> {
    let addr = socket_addr(endpoint)?;
    multi_thread()?.block_on(async move {
        let channel = Endpoint::from_shared(format!("http://{addr}"))?
            .connect()
            .await
            .with_context(|| format!("connect {addr}"))?;
        let calc = CalcClient::new(channel);
        drive(mode, duration, || {
            let mut calc = calc.clone();
            async move {
                let reply = calc.add(AddRequest { a: 1, b: 2 }).await?;
                Ok(reply.into_inner().value)
            }
        })
        .await
    })
}
