//! `calculator`: the seed example — a Cap'n Proto interface served and called over pseud.
//!
//! - `calculator` (no arguments): starts a server and a client in this process on an
//!   ephemeral loopback port and calls the typed stub: prints `add(2, 5) = 7`.
//! - `calculator serve --endpoint E [--name server]`: runs only the server; a Python
//!   pseud client can call `client.Calculator.add(2, 5)` or `client.add(first=2, second=5)`.

use std::sync::Mutex;

use cara::Fault;
use clap::{Parser, Subcommand};

/// Code generated from `schemas/calculator.capnp` by the build script.
mod schemas {
    cara::include_schemas!();
}

use schemas::calculator_capnp::{
    Adder, AdderClient, Calculator, CalculatorClient, CalculatorServer, Op, Stats, Value,
    ValueClient, calculator,
};

/// The server object: it remembers what it did.
#[derive(Default)]
struct Calc {
    stats: Mutex<Stats>,
}

impl Calc {
    fn record(&self, op: Op, value: i32) {
        let mut stats = self.stats.lock().unwrap_or_else(|p| p.into_inner());
        stats.calls += 1;
        stats.last_op = op;
        stats.history.push(value);
    }
}

impl Calculator for Calc {
    async fn add(&self, first: i32, second: i32) -> Result<i32, Fault> {
        let sum = first.checked_add(second).ok_or_else(|| {
            Fault::new(
                "OverflowError",
                format!("{first} + {second} overflows Int32"),
            )
        })?;
        self.record(Op::Add, sum);
        Ok(sum)
    }

    async fn divide(
        &self,
        numerator: f64,
        denominator: f64,
    ) -> Result<calculator::DivideResults, Fault> {
        if denominator == 0.0 {
            return Err(Fault::new("ZeroDivisionError", "division by zero"));
        }
        let quotient = (numerator / denominator).trunc();
        self.record(Op::Divide, quotient as i32);
        Ok(calculator::DivideResults {
            quotient,
            remainder: numerator - quotient * denominator,
        })
    }

    async fn stats(&self) -> Result<Stats, Fault> {
        Ok(self.stats.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }

    async fn get_adder(&self, offset: i32) -> Result<AdderClient, Fault> {
        // A live object: it stays here, and the caller gets a capability to it.
        Ok(AdderClient::from_server(RunningTotal(Mutex::new(offset))))
    }

    async fn evaluate(&self, value: ValueClient) -> Result<f64, Fault> {
        // Call the caller's object back, over the connection the call came in on.
        Ok(value.read().await? * 2.0)
    }
}

/// An adder object: a running total that lives on the server.
struct RunningTotal(Mutex<i32>);

impl Adder for RunningTotal {
    async fn add(&self, x: i32) -> Result<i32, Fault> {
        let mut total = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *total = total
            .checked_add(x)
            .ok_or_else(|| Fault::new("OverflowError", "the total overflows Int32"))?;
        Ok(*total)
    }
}

/// A value the client passes to the server; the server calls it back.
struct Constant(f64);

impl Value for Constant {
    async fn read(&self) -> Result<f64, Fault> {
        Ok(self.0)
    }
}

#[derive(Parser)]
#[command(name = "calculator", about = "The cara calculator example")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the calculator until stdin closes or SIGTERM/SIGINT.
    Serve {
        /// Endpoint to bind, e.g. tcp://127.0.0.1:5555 (port 0 picks a free one).
        #[arg(long)]
        endpoint: String,
        /// The server's name (routing id).
        #[arg(long, default_value = "server")]
        name: String,
    },
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    match Cli::parse().command {
        None => demo().await,
        Some(Command::Serve { endpoint, name }) => serve(&endpoint, &name).await,
    }
}

async fn demo() -> Result<(), Box<dyn std::error::Error>> {
    let server = cara::Server::builder("server")
        .bind("tcp://127.0.0.1:0")
        .start()?;
    cara::serve(server.registry(), CalculatorServer::new(Calc::default()))?;
    let client = cara::Client::builder().connect(&server.endpoints()[0])?;
    let calc = CalculatorClient::new(client.server().clone());

    println!("add(2, 5) = {}", calc.add(2, 5).await?);
    let division = calc.divide(7.0, 2.0).await?;
    println!(
        "divide(7, 2) = {} remainder {}",
        division.quotient, division.remainder
    );
    match calc.divide(1.0, 0.0).await {
        Err(cara::Error::Remote(e)) => println!("divide(1, 0) raised {}: {}", e.class, e.message),
        other => println!("divide(1, 0) unexpectedly gave {other:?}"),
    }
    let stats = calc.stats().await?;
    println!(
        "stats: {} calls, last {:?}, history {:?}",
        stats.calls, stats.last_op, stats.history
    );

    // Live capabilities: an object returned by the server keeps its state there ...
    let adder = calc.get_adder(5).await?;
    println!("adder(5).add(1) = {}", adder.add(1).await?);
    println!("adder(5).add(10) = {}", adder.add(10).await?);
    // ... and an object the client passes is called back by the server.
    let doubled = calc
        .evaluate(ValueClient::from_server(Constant(21.0)))
        .await?;
    println!("evaluate(value 21) = {doubled} (the server called our value back)");
    client.stop().await;
    server.stop().await;
    Ok(())
}

async fn serve(endpoint: &str, name: &str) -> Result<(), Box<dyn std::error::Error>> {
    let server = cara::Server::builder(name)
        .bind(endpoint.replace(":*", ":0"))
        .start()?;
    cara::serve(server.registry(), CalculatorServer::new(Calc::default()))?;
    println!(
        "{{\"event\":\"ready\",\"endpoint\":\"{}\"}}",
        server.endpoints()[0]
    );
    use std::io::Write;
    std::io::stdout().flush()?;
    let stdin_closed = async {
        use tokio::io::AsyncReadExt;
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 64];
        while let Ok(n) = stdin.read(&mut buf).await {
            if n == 0 {
                break;
            }
        }
    };
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = stdin_closed => {}
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    server.stop().await;
    Ok(())
}
