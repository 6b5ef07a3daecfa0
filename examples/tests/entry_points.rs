//! The build-script helper and the `schema!` macro generate the same code, and
//! the macro's code works end to end.

mod via_macro_source {
    cara::__schema_source!(
        "../schemas/calculator.capnp",
        "../schemas/back_and_forth.capnp",
        "../schemas/tier.capnp"
    );
}

mod via_macro {
    cara::schema!("../schemas/calculator.capnp");
}

#[test]
fn build_script_and_macro_generate_identical_code() {
    let from_build = include_str!(concat!(env!("OUT_DIR"), "/cara_schemas.rs"));
    assert!(from_build.starts_with("// @generated"));
    assert_eq!(from_build, via_macro_source::SOURCE);
}

struct Adder;

impl via_macro::calculator_capnp::Calculator for Adder {
    async fn add(&self, first: i32, second: i32) -> Result<i32, cara::Fault> {
        Ok(first + second)
    }
    async fn divide(
        &self,
        _numerator: f64,
        _denominator: f64,
    ) -> Result<via_macro::calculator_capnp::calculator::DivideResults, cara::Fault> {
        Err(cara::Fault::new("NotImplementedError", "divide"))
    }
    async fn stats(&self) -> Result<via_macro::calculator_capnp::Stats, cara::Fault> {
        Ok(Default::default())
    }
    async fn get_adder(
        &self,
        _offset: i32,
    ) -> Result<via_macro::calculator_capnp::AdderClient, cara::Fault> {
        Err(cara::Fault::new("NotImplementedError", "get_adder"))
    }
    async fn evaluate(
        &self,
        value: via_macro::calculator_capnp::ValueClient,
    ) -> Result<f64, cara::Fault> {
        value.read().await.map_err(Into::into)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn macro_generated_code_serves_and_calls() {
    use via_macro::calculator_capnp::{CalculatorClient, CalculatorServer};
    let server = cara::Server::builder("server")
        .bind("tcp://127.0.0.1:0")
        .start()
        .unwrap();
    cara::serve(server.registry(), CalculatorServer::new(Adder)).unwrap();
    let client = cara::Client::builder()
        .connect(&server.endpoints()[0])
        .unwrap();
    let calc = CalculatorClient::new(client.server().clone());
    assert_eq!(calc.add(2, 5).await.unwrap(), 7);
    let err = calc.divide(1.0, 2.0).await.unwrap_err();
    assert_eq!(err.remote().unwrap().class, "NotImplementedError");
}
