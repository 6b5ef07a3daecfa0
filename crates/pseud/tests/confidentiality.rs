//! What a passive observer of the connection sees: every byte between a client
//! and a server passes a recording relay on loopback. Under PLAIN the login,
//! the method name and the arguments are there in clear; under CURVE none of
//! them, nor the reply.

mod common;

use std::sync::{Arc, Mutex};

use pseud::{Client, ClientSecurity, KeyPair, Server, ServerSecurity};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const METHOD: &str = "vault.open_sesame";
const ARGUMENT: &str = "the-launch-codes-are-0000";
const REPLY: &str = "REPLY-ONLY-THE-CALLER-MAY-READ";
const PASSWORD: &str = "correct-horse-battery";

/// A TCP relay to `target` that records both directions; returns its endpoint.
async fn recording_relay(target: String) -> (String, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("tcp://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        // One connection is all the test makes.
        let (inbound, _) = listener.accept().await.unwrap();
        let outbound = TcpStream::connect(target.trim_start_matches("tcp://"))
            .await
            .unwrap();
        let (ri, wi) = inbound.into_split();
        let (ro, wo) = outbound.into_split();
        tokio::spawn(pump(ri, wo, record.clone()));
        tokio::spawn(pump(ro, wi, record));
    });
    (endpoint, seen)
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    seen: Arc<Mutex<Vec<u8>>>,
) {
    let mut buf = vec![0; 64 * 1024];
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 || to.write_all(&buf[..n]).await.is_err() {
            break;
        }
        seen.lock().unwrap().extend_from_slice(&buf[..n]);
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Calls METHOD(ARGUMENT) through the relay; returns what the relay saw.
async fn observed(server: ServerSecurity, client: ClientSecurity) -> Vec<u8> {
    let server = common::server(Server::builder("server").security(server));
    server
        .register(METHOD, |arg: String| {
            assert_eq!(arg, ARGUMENT);
            REPLY.to_string()
        })
        .unwrap();
    let (relay, seen) = recording_relay(server.endpoints()[0].clone()).await;
    let client = Client::builder().security(client).connect(&relay).unwrap();
    let reply: String = client.call(METHOD, (ARGUMENT,)).await.unwrap();
    assert_eq!(reply, REPLY);
    client.stop().await;
    server.stop().await;
    seen.lock().unwrap().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_shows_everything_in_clear() {
    let seen = observed(
        ServerSecurity::plain(|user, pass| user == "alice" && pass == PASSWORD.as_bytes()),
        ClientSecurity::plain("alice", PASSWORD),
    )
    .await;
    assert!(contains(&seen, "PLAIN"), "the relay saw the handshake");
    for clear in ["alice", PASSWORD, METHOD, ARGUMENT, REPLY] {
        assert!(contains(&seen, clear), "{clear:?} is visible under PLAIN");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curve_shows_nothing_of_the_call() {
    let server_keys = KeyPair::generate();
    let seen = observed(
        ServerSecurity::curve(server_keys.clone()),
        ClientSecurity::curve(server_keys.public, KeyPair::generate()),
    )
    .await;
    assert!(contains(&seen, "CURVE"), "the relay saw the handshake");
    assert!(contains(&seen, "MESSAGE"), "and the boxed messages");
    for secret in [METHOD, "open_sesame", ARGUMENT, REPLY, "ROUTER", "v1"] {
        assert!(
            !contains(&seen, secret),
            "{secret:?} must not be visible under CURVE"
        );
    }
}
