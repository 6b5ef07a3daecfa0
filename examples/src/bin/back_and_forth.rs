//! `back-and-forth`: cara's BackAndForth example over live capabilities.
//!
//! The client passes a callback to the server; the server calls it back with a
//! callback of its own; the client calls that one. Each step is printed.

use cara::Fault;

/// Code generated from `schemas/back_and_forth.capnp` by the build script.
mod schemas {
    cara::include_schemas!();
}

use schemas::back_and_forth_capnp::{Hub, HubClient, HubServer, Ping, PingClient};

/// One side's Ping: answers, after pinging `back` if it was given one.
struct Side(&'static str);

impl Ping for Side {
    async fn ping(&self, from: String, back: PingClient) -> Result<String, Fault> {
        println!("{}: ping from {from}", self.0);
        if back.stub().is_null() {
            return Ok(format!("pong from {}", self.0));
        }
        println!("{}: pinging {from} back", self.0);
        let answer = back.ping(self.0.to_string(), PingClient::default()).await?;
        println!("{}: {from} answered {answer:?}", self.0);
        Ok(format!("pong from {} (after {answer})", self.0))
    }
}

struct HubImpl;

impl Hub for HubImpl {
    async fn start(&self, callback: PingClient) -> Result<String, Fault> {
        println!("server: start; calling the client's callback with a callback of ours");
        let ours = PingClient::from_server(Side("server"));
        Ok(callback.ping("server".into(), ours).await?)
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let server = cara::Server::builder("server")
        .bind("tcp://127.0.0.1:0")
        .start()?;
    cara::serve(server.registry(), HubServer::new(HubImpl))?;
    let client = cara::Client::builder().connect(&server.endpoints()[0])?;
    let hub = HubClient::new(client.server().clone());

    println!("client: start, passing our callback");
    let reply = hub.start(PingClient::from_server(Side("client"))).await?;
    println!("client: start returned {reply:?}");
    client.stop().await;
    server.stop().await;
    Ok(())
}
