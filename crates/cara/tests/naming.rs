//! Which names typed clients call, over real sockets: qualified names on our
//! servers (also when two served interfaces share a method name), the bare names
//! of an original-cara-style server, learned per connection.

use std::sync::Mutex;

use cara::{Fault, Value};

cara::schema!("../../schemas/calculator.capnp");

use calculator_capnp::*;

struct Calc;

impl Calculator for Calc {
    async fn add(&self, first: i32, second: i32) -> Result<i32, Fault> {
        Ok(first + second)
    }
    async fn divide(&self, n: f64, d: f64) -> Result<calculator::DivideResults, Fault> {
        Ok(calculator::DivideResults {
            quotient: (n / d).trunc(),
            remainder: n % d,
        })
    }
    async fn stats(&self) -> Result<Stats, Fault> {
        Ok(Stats::default())
    }
    async fn get_adder(&self, offset: i32) -> Result<AdderClient, Fault> {
        Ok(AdderClient::from_server(Total(Mutex::new(offset))))
    }
    async fn evaluate(&self, value: ValueClient) -> Result<f64, Fault> {
        Ok(value.read().await?)
    }
}

struct Total(Mutex<i32>);

impl Adder for Total {
    async fn add(&self, x: i32) -> Result<i32, Fault> {
        let mut t = self.0.lock().unwrap();
        *t += x;
        Ok(*t)
    }
}

fn server() -> cara::Server {
    cara::Server::builder("server")
        .bind("tcp://127.0.0.1:0")
        .start()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn colliding_method_names_of_two_served_interfaces_stay_apart() {
    let server = server();
    cara::serve(server.registry(), CalculatorServer::new(Calc)).unwrap();
    cara::serve(server.registry(), AdderServer::new(Total(Mutex::new(100)))).unwrap();
    let client = cara::Client::builder()
        .connect(&server.endpoints()[0])
        .unwrap();
    let calc = CalculatorClient::new(client.server().clone());
    let adder = AdderClient::new(client.server().clone());
    for _ in 0..3 {
        assert_eq!(calc.add(2, 5).await.unwrap(), 7);
    }
    assert_eq!(adder.add(1).await.unwrap(), 101);
    assert_eq!(adder.add(1).await.unwrap(), 102);
    // The bare name is ambiguous here, so neither interface has it.
    let bare = client.call::<i32>("add", (2, 5)).await;
    assert!(
        matches!(&bare, Err(cara::Error::Remote(e)) if e.class == cara::pseud::SERVICE_NOT_FOUND),
        "{bare:?}"
    );
    client.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_named_server_answers_the_first_call_of_every_fresh_connection() {
    // What the original cara registers: bare method names, several results by name.
    let server = server();
    server
        .register(
            "add",
            cara::pseud::Function::new(|a: i32, b: i32| a + b).params(["first", "second"]),
        )
        .unwrap();
    server
        .register("divide", |n: f64, d: f64| {
            Value::Map(vec![
                ("quotient".into(), (n / d).trunc().into()),
                ("remainder".into(), (n % d).into()),
            ])
        })
        .unwrap();
    for i in 0..20 {
        let client = cara::Client::builder()
            .connect(&server.endpoints()[0])
            .unwrap();
        let calc = CalculatorClient::new(client.server().clone());
        assert_eq!(calc.add(i, 1).await.unwrap(), i + 1, "connection {i}");
        let d = calc.divide(7.0, 2.0).await.unwrap();
        assert_eq!((d.quotient, d.remainder), (3.0, 1.0));
        // A method this bare-named server lacks: its own error, at once.
        let missing = calc.stats().await;
        assert!(
            matches!(&missing, Err(cara::Error::Remote(e))
                if e.class == cara::pseud::SERVICE_NOT_FOUND && e.message.contains("stats")),
            "{missing:?}"
        );
        client.stop().await;
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_is_the_short_way_in() {
    let server = cara::Server::builder("calc")
        .security(cara::ServerSecurity::TrustedPeer)
        .bind("tcp://127.0.0.1:0")
        .start()
        .unwrap();
    cara::serve(server.registry(), CalculatorServer::new(Calc)).unwrap();
    let endpoint = server.endpoints()[0].clone();
    // The defaults: a server named "server", no security; this one differs, so
    // the short form fails at once, and the builder form works.
    let wrong = CalculatorClient::connect(&endpoint).unwrap();
    assert!(wrong.add(2, 5).await.is_err());
    let calc = CalculatorClient::connect_with(
        cara::Client::builder()
            .server_name("calc")
            .security(cara::ClientSecurity::plain("alice", "x"))
            .timeout(std::time::Duration::from_secs(2)),
        &endpoint,
    )
    .unwrap();
    let clone = calc.clone();
    drop(calc);
    // A clone keeps the connection open.
    assert_eq!(clone.add(2, 5).await.unwrap(), 7);
    server.stop().await;
}
