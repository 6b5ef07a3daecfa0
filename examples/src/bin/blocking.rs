//! `blocking`: the calculator called from plain synchronous code (no `async fn main`),
//! with PLAIN security and a server→client callback.
//!
//! ```sh
//! cargo run --bin calculator -- serve --endpoint tcp://127.0.0.1:5555 --security plain --login alice:secret &
//! cargo run --bin blocking -- --endpoint tcp://127.0.0.1:5555 --user alice --password secret
//! ```

use cara::Fault;
use clap::Parser;

mod schemas {
    cara::include_schemas!();
}

use schemas::calculator_capnp::{CalculatorClient, Value, ValueClient};

/// A value the server reads back while `main` waits in `block_on`.
struct Constant(f64);

impl Value for Constant {
    async fn read(&self) -> Result<f64, Fault> {
        Ok(self.0)
    }
}

#[derive(Parser)]
#[command(name = "blocking", about = "The calculator from synchronous code")]
struct Cli {
    /// Endpoint of a `calculator serve`, e.g. tcp://127.0.0.1:5555.
    #[arg(long)]
    endpoint: String,
    /// PLAIN user name.
    #[arg(long)]
    user: String,
    /// PLAIN password.
    #[arg(long)]
    password: String,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cli = Cli::parse();
    let rt = cara::blocking::Runtime::new()?;
    let calc = rt.enter(|| {
        CalculatorClient::connect_with(
            cara::Client::builder().security(cara::ClientSecurity::plain(cli.user, cli.password)),
            &cli.endpoint,
        )
    })?;
    println!("add(2, 5) = {}", rt.block_on(calc.add(2, 5))?);
    let adder = rt.block_on(calc.get_adder(5))?;
    println!("adder(5).add(1) = {}", rt.block_on(adder.add(1))?);
    // The server calls our value back; the runtime's worker answers it.
    let doubled = rt.block_on(calc.evaluate(ValueClient::from_server(Constant(21.0))))?;
    println!("evaluate(value 21) = {doubled} (the server called our value back)");
    Ok(())
}
