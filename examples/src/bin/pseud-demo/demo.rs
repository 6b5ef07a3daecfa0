//! `pseud-demo demo`: a server and a client in one process, calling both ways.

use pseud::{Client, ClientSecurity, Server, ServerSecurity, Value};

pub async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let server = Server::builder("server")
        .security(ServerSecurity::TrustedPeer)
        .bind("tcp://127.0.0.1:0")
        .start()?;
    crate::serve::register_demo_functions(server.registry())?;
    let endpoint = server.endpoints()[0].clone();
    println!("server listening on {endpoint}");

    let client = Client::builder()
        .security(ClientSecurity::plain("alice", "anything"))
        .connect(&endpoint)?;
    client.register("client.ping", || "pong")?;

    let sum: i64 = client.call("add", (2, 5)).await?;
    println!("add(2, 5) = {sum}");
    let up: String = client.call("string.upper", ("hello",)).await?;
    println!("string.upper('hello') = {up:?}");
    let pair: Vec<i64> = client.request("kw").arg(1).kwarg("b", 3).send().await?;
    println!("kw(1, b=3) = {pair:?}");
    let who: serde_bytes::ByteBuf = client.call("whoami", ()).await?;
    println!("whoami() = {:?}", String::from_utf8_lossy(&who));
    let back: Value = client.call("callback.inline", ()).await?;
    println!("callback.inline() = {back} (the server called client.ping on us)");
    let pong: String = server.send_to("alice").call("client.ping", ()).await?;
    println!("server.send_to('alice').client.ping() = {pong:?}");
    match client.call::<Value>("fail", ()).await {
        Err(pseud::Error::Remote(e)) => println!("fail() raised {}: {}", e.class, e.message),
        other => println!("fail() unexpectedly gave {other:?}"),
    }
    client.stop().await;
    server.stop().await;
    Ok(())
}
