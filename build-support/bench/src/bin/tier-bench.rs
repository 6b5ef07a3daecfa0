//! `tier-bench`: what the broker costs, measured in one run on `tcp://127.0.0.1`.
//!
//! Two replicas (pseud servers serving `add`) run in this process, with a
//! `pseud::Broker` in front of them. The same clients (4 unless `--clients`),
//! each with a window of calls in flight (32 unless `--window`), call `add`
//! either straight at the replicas (half the clients on each) or through the
//! broker (which pairs them half on each too). The two ways alternate in slices
//! (direct, broker, direct, ...), so a burst of machine load hits both alike.
//! `broker_ratio` is through-broker calls/s over direct calls/s, from all
//! slices; the median of the per-round ratios is printed beside it.
//!
//! Every slice is bounded in time: a stalled run fails instead of hanging. The
//! last output line is one JSON object. `--quick` is the CI smoke run.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use pseud::{Broker, Client, ClientSecurity, Server, ServerSecurity};

const SECRET: &str = "tier-bench";
/// Longest time one slice may take.
const SLICE_DEADLINE: Duration = Duration::from_secs(60);

#[derive(clap::Parser)]
#[command(
    name = "tier-bench",
    about = "calls/s through a broker vs direct to the replicas"
)]
struct Cli {
    /// Small counts for a CI smoke run.
    #[arg(long)]
    quick: bool,
    /// Calls per slice, over all clients.
    #[arg(long)]
    calls: Option<usize>,
    /// Slices per side.
    #[arg(long)]
    rounds: Option<usize>,
    /// Client connections.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Calls in flight per client.
    #[arg(long, default_value_t = 32)]
    window: usize,
}

type Res<T> = Result<T, String>;

fn main() {
    let cli = <Cli as clap::Parser>::parse();
    let calls = cli.calls.unwrap_or(if cli.quick { 4_000 } else { 40_000 });
    let rounds = cli.rounds.unwrap_or(if cli.quick { 4 } else { 10 });
    if cli.clients < 2 || cli.clients % 2 != 0 || cli.window == 0 {
        eprintln!("tier-bench: --clients must be even and at least 2, --window at least 1");
        std::process::exit(2);
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "tier-bench: tcp://127.0.0.1, {cpus} CPUs; 2 replicas, {} clients x window {}, {calls} calls per slice, {rounds} slices per side",
        cli.clients, cli.window
    );
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tier-bench: tokio runtime: {e}");
            std::process::exit(1);
        }
    };
    let result = rt.block_on(async move {
        match tokio::spawn(run(calls, rounds, cli.clients, cli.window)).await {
            Ok(result) => result,
            Err(e) => Err(format!("benchmark task failed: {e}")),
        }
    });
    rt.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(json) => println!("{json}"),
        Err(e) => {
            eprintln!("tier-bench: {e}");
            std::process::exit(1);
        }
    }
}

fn replica() -> Res<Server> {
    let server = Server::builder("server")
        .bind("tcp://127.0.0.1:0")
        .security(ServerSecurity::plain(|_, p| p == SECRET.as_bytes()))
        .start()
        .map_err(|e| e.to_string())?;
    server
        .register("add", |a: i64, b: i64| a + b)
        .map_err(|e| e.to_string())?;
    Ok(server)
}

fn client(endpoint: &str, user: &str) -> Res<Client> {
    // Straight at a replica the client logs in as the broker would for it.
    Client::builder()
        .security(ClientSecurity::plain(user, SECRET))
        .connect(endpoint)
        .map_err(|e| e.to_string())
}

async fn run(calls: usize, rounds: usize, clients: usize, window: usize) -> Res<String> {
    let replicas = [replica()?, replica()?];
    let broker = Broker::builder("server")
        .bind("tcp://127.0.0.1:0")
        .security(ServerSecurity::TrustedPeer)
        .replica_secret(SECRET)
        .replica(&replicas[0].endpoints()[0])
        .replica(&replicas[1].endpoints()[0])
        .start()
        .map_err(|e| e.to_string())?;
    let mut direct = Vec::new();
    let mut brokered = Vec::new();
    for i in 0..clients {
        let user = format!("user{i}");
        direct.push(client(&replicas[i % 2].endpoints()[0], &user)?);
        brokered.push(client(&broker.endpoints()[0], &user)?);
    }
    // Warm-up: every connection up, and a first slice each way.
    slice(&direct, calls / 4, window).await?;
    slice(&brokered, calls / 4, window).await?;
    let pairing: Vec<usize> = broker.replicas().iter().map(|r| r.clients).collect();
    if pairing != [clients / 2, clients / 2] {
        return Err(format!(
            "the broker paired clients {pairing:?}, not half on each"
        ));
    }
    let (mut direct_time, mut broker_time) = (Duration::ZERO, Duration::ZERO);
    let mut ratios = Vec::new();
    for _ in 0..rounds {
        let d = slice(&direct, calls, window).await?;
        let b = slice(&brokered, calls, window).await?;
        direct_time += d;
        broker_time += b;
        ratios.push(d.as_secs_f64() / b.as_secs_f64());
    }
    let total = (calls * rounds) as f64;
    let direct_rate = total / direct_time.as_secs_f64();
    let broker_rate = total / broker_time.as_secs_f64();
    let ratio = broker_rate / direct_rate;
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    println!(
        "{:<34} {direct_rate:>9.0} calls/s",
        "direct to the replicas"
    );
    println!("{:<34} {broker_rate:>9.0} calls/s", "through the broker");
    println!(
        "{:<34} {ratio:>9.3} (median of {} paired slices {median:.3}, range {:.3}..{:.3})",
        "broker_ratio (broker / direct)",
        ratios.len(),
        ratios[0],
        ratios[ratios.len() - 1]
    );
    for c in direct.iter().chain(&brokered) {
        c.stop().await;
    }
    broker.stop().await;
    for r in &replicas {
        r.stop().await;
    }
    Ok(format!(
        "{{\"direct_calls_per_s\":{direct_rate:.0},\"broker_calls_per_s\":{broker_rate:.0},\"broker_ratio\":{ratio:.4},\"broker_ratio_median\":{median:.4}}}"
    ))
}

/// `calls` calls of `add`, spread evenly over `clients`, `window` in flight on each.
async fn slice(clients: &[Client], calls: usize, window: usize) -> Res<Duration> {
    let per_client = calls / clients.len();
    let started = Instant::now();
    let work = clients.iter().map(|c| {
        let remote = c.server().clone();
        tokio::spawn(async move {
            let mut in_flight = FuturesUnordered::new();
            let mut sent = 0;
            let mut done = 0;
            while done < per_client {
                while sent < per_client && in_flight.len() < window {
                    let remote = remote.clone();
                    let a = sent as i64;
                    in_flight.push(async move { (a, remote.call::<i64>("add", (a, 1)).await) });
                    sent += 1;
                }
                match in_flight.next().await {
                    Some((a, Ok(sum))) if sum == a + 1 => done += 1,
                    Some((a, Ok(sum))) => return Err(format!("add({a}, 1) returned {sum}")),
                    Some((_, Err(e))) => return Err(format!("a call failed: {e}")),
                    None => return Err("no call in flight".into()),
                }
            }
            Ok(())
        })
    });
    let tasks: Vec<_> = work.collect();
    for task in tasks {
        match tokio::time::timeout(SLICE_DEADLINE, task).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(e))) => return Err(e),
            Ok(Err(e)) => return Err(format!("a client task failed: {e}")),
            Err(_) => return Err(format!("a slice took over {SLICE_DEADLINE:?}")),
        }
    }
    Ok(started.elapsed())
}
