//! A caller sees the same failure whether the object is in its process or behind a
//! connection: a `Fault` as `Error::Remote` with its class and message, a panic as
//! `PanicError`.

use cara::Fault;

cara::schema!("../../schemas/calculator.capnp");

use calculator_capnp::*;

/// `add(0)` faults, `add(1)` panics, anything else answers.
struct Touchy;

impl Adder for Touchy {
    async fn add(&self, x: i32) -> Result<i32, Fault> {
        match x {
            0 => Err(Fault::new("ValueError", "zero is not a number to add")),
            1 => panic!("one is too many"),
            x => Ok(x),
        }
    }
}

fn remote_error(r: Result<i32, cara::Error>) -> (String, String) {
    match r {
        Err(cara::Error::Remote(e)) => (e.class, e.message),
        other => panic!("expected a remote error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_and_panics_look_the_same_locally_and_remotely() {
    let server = cara::Server::builder("server")
        .bind("tcp://127.0.0.1:0")
        .start()
        .unwrap();
    cara::serve(server.registry(), AdderServer::new(Touchy)).unwrap();
    let client = cara::Client::builder()
        .connect(&server.endpoints()[0])
        .unwrap();
    let remote = AdderClient::new(client.server().clone());
    let local = AdderClient::from_server(Touchy);

    for adder in [&remote, &local] {
        assert_eq!(adder.add(5).await.unwrap(), 5);
    }
    let fault = (
        "ValueError".to_string(),
        "zero is not a number to add".to_string(),
    );
    assert_eq!(remote_error(remote.add(0).await), fault);
    assert_eq!(remote_error(local.add(0).await), fault);
    let panicked = (
        "PanicError".to_string(),
        "Adder.add() panicked: one is too many".to_string(),
    );
    assert_eq!(remote_error(remote.add(1).await), panicked);
    // Locally too: the caller's task goes on.
    assert_eq!(remote_error(local.add(1).await), panicked);
    assert_eq!(local.add(7).await.unwrap(), 7, "the object still works");
    client.stop().await;
    server.stop().await;
}
