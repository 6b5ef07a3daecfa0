//! Server→client calls: by user id (`send_to`) and back to the caller (`Context::caller`).

mod common;

use std::time::Duration;

use pseud::{Client, ClientSecurity, Context, Error, PeerEvent, Server, ServerSecurity, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_to_reaches_the_client_with_that_user_id() {
    let server = common::server(Server::builder("server").security(ServerSecurity::TrustedPeer));
    let mut events = server.events();
    let client = common::client(
        &server,
        Client::builder().security(ClientSecurity::plain("alice", "pw")),
    );
    client.register("client.ping", || "pong").unwrap();
    // The greeting alone registers the client: wait for it, then call it.
    let event = tokio::time::timeout(Duration::from_secs(5), events.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(event, PeerEvent::Connected { ref user_id, .. } if user_id == b"alice"),
        "{event:?}"
    );
    let pong: String = server
        .send_to("alice")
        .call("client.ping", ())
        .await
        .unwrap();
    assert_eq!(pong, "pong");
    let err = server
        .send_to("nobody")
        .call::<String>("client.ping", ())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unreachable { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_may_await_a_call_back_to_its_caller_under_noop() {
    let (server, client) = common::pair().await;
    client.register("client.double", |x: i64| x * 2).unwrap();
    server
        .register("quadruple", |ctx: Context, x: i64| async move {
            let twice: i64 = ctx.caller().call("client.double", (x,)).await?;
            ctx.caller().call::<i64>("client.double", (twice,)).await
        })
        .unwrap();
    let r: i64 = client.call("quadruple", (5,)).await.unwrap();
    assert_eq!(r, 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_reach_the_right_one_of_many_clients() {
    let server = common::server(Server::builder("server"));
    server
        .register("who_are_you", |ctx: Context| async move {
            ctx.caller().call::<String>("client.name", ()).await
        })
        .unwrap();
    let mut clients = Vec::new();
    for i in 0..5 {
        let c = common::client(&server, Client::builder());
        c.register("client.name", move || format!("client {i}"))
            .unwrap();
        clients.push(c);
    }
    for (i, c) in clients.iter().enumerate() {
        let name: String = c.call("who_are_you", ()).await.unwrap();
        assert_eq!(name, format!("client {i}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_side_errors_travel_back_to_the_server() {
    let (server, client) = common::pair().await;
    client
        .register("client.fail", || -> Result<(), pseud::Fault> {
            Err(pseud::Fault::new("KeyError", "nope"))
        })
        .unwrap();
    server
        .register("relay", |ctx: Context| async move {
            ctx.caller().call::<Value>("client.fail", ()).await
        })
        .unwrap();
    let err = client.call::<Value>("relay", ()).await.unwrap_err();
    let remote = err.remote().unwrap();
    // The client's fault passes through the server's handler unchanged.
    assert_eq!(
        (remote.class.as_str(), remote.message.as_str()),
        ("KeyError", "nope")
    );
}
