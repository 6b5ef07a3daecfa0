//! The blocking client: plain synchronous code against a server in another
//! process, with PLAIN security and a server→client callback; and `block_on`
//! called from inside an async runtime neither panics nor deadlocks.

mod support;

use std::process::Command;

use support::{Process, Stdin};

#[test]
fn the_blocking_example_calls_a_plain_server_in_another_process() {
    let mut serve = Command::new(env!("CARGO_BIN_EXE_calculator"));
    serve.args([
        "serve",
        "--endpoint",
        "tcp://127.0.0.1:0",
        "--security",
        "plain",
    ]);
    serve.args(["--login", "alice:secret"]);
    let mut server = Process::start(serve, Stdin::Null); // killed when dropped
    let endpoint = server.ready_endpoint();
    let blocking = |password: &str| {
        let mut call = Command::new(env!("CARGO_BIN_EXE_blocking"));
        call.args([
            "--endpoint",
            &endpoint,
            "--user",
            "alice",
            "--password",
            password,
        ]);
        support::run(call)
    };
    let (ok, out, err) = blocking("secret");
    assert!(ok, "{out}{err}");
    assert_eq!(
        out,
        "add(2, 5) = 7\nadder(5).add(1) = 6\nevaluate(value 21) = 42 (the server called our value back)\n"
    );
    // A wrong password fails, and says so.
    let (ok, _, err) = blocking("nope");
    assert!(!ok && err.contains("refused our credentials"), "{err}");
}

mod calc {
    cara::schema!("../schemas/calculator.capnp");
}
use calc::calculator_capnp::{Calculator, CalculatorClient, CalculatorServer, Stats};

struct Calc;

impl Calculator for Calc {
    async fn add(&self, a: i32, b: i32) -> Result<i32, cara::Fault> {
        Ok(a + b)
    }
    async fn divide(
        &self,
        _: f64,
        _: f64,
    ) -> Result<calc::calculator_capnp::calculator::DivideResults, cara::Fault> {
        Err(cara::Fault::new("NotImplementedError", "divide"))
    }
    async fn stats(&self) -> Result<Stats, cara::Fault> {
        Ok(Stats::default())
    }
    async fn get_adder(&self, _: i32) -> Result<calc::calculator_capnp::AdderClient, cara::Fault> {
        Err(cara::Fault::new("NotImplementedError", "getAdder"))
    }
    async fn evaluate(&self, _: calc::calculator_capnp::ValueClient) -> Result<f64, cara::Fault> {
        Err(cara::Fault::new("NotImplementedError", "evaluate"))
    }
}

#[test]
fn block_on_inside_an_async_runtime_neither_panics_nor_deadlocks() {
    let rt = cara::blocking::Runtime::new().unwrap();
    let (server, calc) = rt.enter(|| {
        let server = cara::Server::builder("server")
            .bind("tcp://127.0.0.1:0")
            .start()
            .unwrap();
        cara::serve(server.registry(), CalculatorServer::new(Calc)).unwrap();
        let calc = CalculatorClient::connect(&server.endpoints()[0]).unwrap();
        (server, calc)
    });
    // From plain code.
    assert_eq!(rt.block_on(calc.add(2, 5)).unwrap(), 7);
    // From inside someone else's runtime, current-thread and multi-thread.
    let single = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    assert_eq!(
        single
            .block_on(async { rt.block_on(calc.add(1, 1)) })
            .unwrap(),
        2
    );
    let multi = tokio::runtime::Runtime::new().unwrap();
    assert_eq!(
        multi
            .block_on(async { rt.block_on(calc.add(3, 4)) })
            .unwrap(),
        7
    );
    rt.block_on(server.stop());
}
