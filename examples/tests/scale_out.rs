//! Scale-out across hosts: a client host, a broker host and replica hosts, each a
//! network namespace this test creates (see `net.rs`), with the real binaries
//! started as docs/scaling.md shows: `cara broker` and `tier-replica`.
//!
//! Needs root (network namespaces) and the `cara` binary built beside this test's
//! (`build-support/scale-out.sh` does both). Nothing is skipped: without them the
//! tests fail and say why.

#[path = "scale_out/net.rs"]
mod net;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use cara::{ClientSecurity, Error, Fault};
use net::Net;

mod schemas {
    cara::include_schemas!();
}

use schemas::tier_capnp::{Callback, CallbackClient, CallbackServer, TierClient};

const SECRET: &str = "the replicas' shared secret";
const PORT: u16 = 5555;

/// The `cara` binary: `CARA_BIN`, or the one cargo built beside this test.
fn cara_bin() -> String {
    if let Ok(bin) = std::env::var("CARA_BIN") {
        return bin;
    }
    let exe = std::env::current_exe().expect("test path");
    let bin: PathBuf = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>")
        .join("cara");
    assert!(
        bin.exists(),
        "{} is missing: build it first (cargo build -p cara-cli --bin cara), as build-support/scale-out.sh does",
        bin.display()
    );
    bin.display().to_string()
}

/// The broker host with `replicas` replica hosts (`r1`, `r2`, …) behind it and a
/// `client` host in front; the broker and the replicas running.
fn tier(tag: &str, replicas: usize) -> Net {
    let names: Vec<String> = (1..=replicas).map(|i| format!("r{i}")).collect();
    let mut hosts = vec!["client"];
    hosts.extend(names.iter().map(String::as_str));
    let mut net = Net::create(tag, &hosts);
    let env = [("CARA_REPLICA_SECRET", SECRET)];
    let mut broker_args = vec![
        "broker".to_string(),
        "--bind".into(),
        format!("tcp://10.231.1.1:{PORT}"),
        "--security".into(),
        "trusted-peer".into(),
    ];
    for (i, name) in names.iter().enumerate() {
        // Host K+1 is replica K (host 1 is the client).
        let endpoint = format!("tcp://10.231.{}.2:{PORT}", i + 2);
        net.start(
            name,
            env!("CARGO_BIN_EXE_tier-replica"),
            &["--name", name, "--endpoint", &endpoint],
            &env,
            "listening on",
        );
        broker_args.extend(["--replica".into(), endpoint]);
    }
    let args: Vec<&str> = broker_args.iter().map(String::as_str).collect();
    net.start("broker", &cara_bin(), &args, &env, "listening on");
    net
}

/// A client on the client host, logged in to the broker as `user`, serving the
/// Callback the replicas call back.
fn user(user: &str) -> (cara::Client, TierClient) {
    let client = cara::Client::builder()
        .security(ClientSecurity::plain(user, "any password"))
        .connect(&format!("tcp://10.231.1.1:{PORT}"))
        .expect("connects");
    cara::serve(client.registry(), CallbackServer::new(Doubler)).expect("serves Callback");
    let tier = TierClient::new(client.server().clone());
    (client, tier)
}

struct Doubler;

impl Callback for Doubler {
    async fn double(&self, x: i64) -> Result<i64, Fault> {
        Ok(x * 2)
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn identity_send_to_and_capabilities_cross_the_broker_between_hosts() {
    let net = tier("i", 2);
    let checked = net.run_in("client", || {
        runtime().block_on(async {
            let mut on = Vec::new();
            let mut keep = Vec::new();
            for name in ["alice", "bob", "carol", "dave"] {
                let (client, tier) = user(name);
                let me = tier.whoami().await.expect("whoami");
                assert_eq!(me.user, name, "the replica knows the caller by its user id");
                // A capability the replica returned is called on that replica.
                let counter = tier.counter(10).await.expect("counter");
                for expected in 10..13 {
                    let next = counter.next().await.expect("next");
                    assert_eq!(
                        (next.value, next.replica.as_str()),
                        (expected, me.replica.as_str())
                    );
                }
                // Pipelined through the broker: both calls leave before the first returns.
                let next = tier.counter_pipelined(100).next().await.expect("pipelined");
                assert_eq!(
                    (next.value, next.replica.as_str()),
                    (100, me.replica.as_str())
                );
                // A capability the client exports, called back by the replica.
                let applied = tier
                    .apply(CallbackClient::from_server(Doubler), 20)
                    .await
                    .expect("apply");
                assert_eq!(applied, 41);
                // The replica calls the client by user id (send_to).
                assert_eq!(tier.call_me_back(5).await.expect("callMeBack"), 11);
                on.push(me.replica);
                keep.push(client);
            }
            on.sort();
            on
        })
    });
    let on = checked.join().expect("the client host's checks passed");
    assert_eq!(
        on,
        ["r1", "r1", "r2", "r2"],
        "four clients, two on each replica"
    );
}

/// What became of one call.
struct Outcome {
    client: usize,
    tag: u64,
    started: Instant,
    at: Instant,
    result: Result<String, String>,
}

/// Calls per client in the broker test (about 0.75 s of load).
const CALLS_PER_CLIENT: u64 = 150;
const WINDOW: u64 = 4;
const KILL_AFTER: usize = 300;

/// Calls `work(tag, 20 ms)` on each of `clients` from `WINDOW` tasks each, until
/// each client has made `calls` calls; tells `answered` once
/// `KILL_AFTER` calls have returned. Every call's outcome, in no order.
async fn load(clients: Vec<TierClient>, calls: u64, answered: mpsc::Sender<()>) -> Vec<Outcome> {
    let record: Arc<Mutex<Vec<Outcome>>> = Arc::default();
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let signal = Arc::new(Mutex::new(Some(answered)));
    let mut tasks = Vec::new();
    for (i, tier) in clients.iter().enumerate() {
        for lane in 0..WINDOW {
            let (tier, record, count, signal) =
                (tier.clone(), record.clone(), count.clone(), signal.clone());
            tasks.push(tokio::spawn(async move {
                let mut tag = i as u64 * 1_000_000 + lane;
                while tag % 1_000_000 < calls {
                    let started = Instant::now();
                    let result = match tier.work(tag, 20).await {
                        Ok(r) => {
                            assert_eq!(r.tag, tag, "each reply answers its own call");
                            Ok(r.replica)
                        }
                        Err(Error::Disconnected { peer }) => Err(format!("Disconnected({peer})")),
                        Err(Error::ConnectionRefused { endpoint }) => {
                            Err(format!("ConnectionRefused({endpoint})"))
                        }
                        Err(other) => Err(format!("other: {other}")),
                    };
                    let at = Instant::now();
                    record.lock().unwrap().push(Outcome {
                        client: i,
                        tag,
                        started,
                        at,
                        result,
                    });
                    let n = count.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                    if n == KILL_AFTER
                        && let Some(tx) = signal.lock().unwrap().take()
                    {
                        let _ = tx.send(());
                    }
                    tag += WINDOW;
                }
            }));
        }
    }
    for t in tasks {
        t.await.expect("a load task panicked");
    }
    std::mem::take(&mut *record.lock().unwrap())
}

/// No call lost silently: exactly one outcome per call issued.
fn assert_every_call_returned(outcomes: &[Outcome], clients: usize, calls: u64) {
    let issued = clients as u64 * calls;
    assert_eq!(outcomes.len() as u64, issued, "every call returned");
    let tags: HashSet<u64> = outcomes.iter().map(|o| o.tag).collect();
    assert_eq!(tags.len() as u64, issued, "one outcome per call");
}

fn per_replica(outcomes: &[Outcome]) -> HashMap<&str, usize> {
    let mut per_replica: HashMap<&str, usize> = HashMap::new();
    for o in outcomes {
        if let Ok(r) = &o.result {
            *per_replica.entry(r.as_str()).or_default() += 1;
        }
    }
    per_replica
}

#[test]
fn killing_a_replica_under_load_loses_no_call_and_new_calls_succeed() {
    const CLIENTS: usize = 9;
    let mut net = tier("k", 3);
    let (answered_tx, answered_rx) = mpsc::channel::<()>();
    let run = net.run_in("client", move || {
        runtime().block_on(async move {
            let mut first_on = Vec::new();
            let mut clients = Vec::new();
            let mut tiers = Vec::new();
            for i in 0..CLIENTS {
                let (client, tier) = user(&format!("user{i}"));
                first_on.push(tier.whoami().await.expect("whoami").replica);
                clients.push(client);
                tiers.push(tier);
            }
            (first_on, load(tiers, CALLS_PER_CLIENT, answered_tx).await)
        })
    });
    answered_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the load got under way");
    // Replica r2 is process 1 (r1 is 0): three clients are on each.
    let killed_at = Instant::now();
    net.kill(1);
    let (first_on, outcomes) = run.join().expect("the load ran to its end");

    assert_every_call_returned(&outcomes, CLIENTS, CALLS_PER_CLIENT);
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.result.is_err()).collect();
    for f in &failed {
        let err = f.result.as_ref().unwrap_err();
        assert!(
            err.starts_with("Disconnected"),
            "a call failed other than as Disconnected: {err}"
        );
        assert_eq!(
            first_on[f.client], "r2",
            "only clients of the killed replica lose calls"
        );
    }
    assert!(
        !failed.is_empty(),
        "calls were in flight on the killed replica"
    );
    assert!(
        failed.len() <= 3 * WINDOW as usize,
        "{} calls failed; at most the ones in flight on r2 may",
        failed.len()
    );
    // The killed replica's clients fail over: each gets answers from a live
    // replica, the first within a bound of its failure.
    let mut recovery = Duration::ZERO;
    for client in (0..CLIENTS).filter(|&c| first_on[c] == "r2") {
        let mine: Vec<&Outcome> = outcomes.iter().filter(|o| o.client == client).collect();
        let failure = mine
            .iter()
            .filter(|o| o.result.is_err())
            .map(|o| o.at)
            .min()
            .expect("each client of r2 had calls in flight on it");
        let back = mine
            .iter()
            .filter(|o| o.at > failure)
            .filter_map(|o| o.result.as_ref().ok().map(|r| (o.at, r)))
            .min_by_key(|(at, _)| *at)
            .expect("the client got answers again after failing over");
        assert_ne!(back.1, "r2", "served by a live replica");
        recovery = recovery.max(back.0 - failure);
    }
    assert!(
        recovery < Duration::from_secs(3),
        "failover took {recovery:?}"
    );
    let per_replica = per_replica(&outcomes);
    eprintln!(
        "scale-out (broker): {} calls, {} answered, {} failed (Disconnected), per replica {per_replica:?}, slowest failover {recovery:?}, kill {:?} before the end",
        outcomes.len(),
        outcomes.len() - failed.len(),
        failed.len(),
        killed_at.elapsed()
    );
    assert!(per_replica.len() == 3 && per_replica.values().all(|&n| n > 0));
}

/// Client-side balancing across hosts: pools of clients, each connected to every
/// replica directly (the broker's host only routes), spread their calls; when a
/// replica is killed its calls in flight fail, and later calls go to the others.
#[test]
fn pools_spread_calls_over_replica_hosts_and_survive_a_kill() {
    const POOLS: usize = 3;
    // About 2 s of load: the kill comes after 300 calls, a fifth of the way.
    const POOL_CALLS: u64 = 500;
    let mut net = tier("p", 3);
    net.route_through_broker(4);
    let (answered_tx, answered_rx) = mpsc::channel::<()>();
    let run = net.run_in("client", move || {
        runtime().block_on(async move {
            let mut tiers = Vec::new();
            let mut pools = Vec::new();
            for i in 0..POOLS {
                let clients = (2..=4)
                    .map(|k| {
                        let client = cara::Client::builder()
                            .security(ClientSecurity::plain(format!("user{i}"), SECRET))
                            .connect(&format!("tcp://10.231.{k}.2:{PORT}"))
                            .expect("connects");
                        cara::serve(client.registry(), CallbackServer::new(Doubler))
                            .expect("serves");
                        client
                    })
                    .collect::<Vec<_>>();
                // One call each first, which waits for its connection: a pool
                // sends only to connected replicas while any is.
                for client in &clients {
                    TierClient::new(client.server().clone())
                        .whoami()
                        .await
                        .expect("direct whoami");
                }
                let pool = Arc::new(cara::Pool::new(clients).expect("pool"));
                let tier: TierClient = cara::pooled(pool.clone());
                // Round the replicas in turn; a counter stays on its maker; the
                // replica that takes a call can call back by user id.
                let mut on = Vec::new();
                for _ in 0..3 {
                    let me = tier.whoami().await.expect("whoami");
                    assert_eq!(me.user, format!("user{i}"));
                    on.push(me.replica);
                    assert_eq!(tier.call_me_back(4).await.expect("callMeBack"), 9);
                }
                on.sort();
                assert_eq!(on, ["r1", "r2", "r3"]);
                let counter = tier.counter(0).await.expect("counter");
                let maker = counter.next().await.expect("next").replica;
                assert_eq!(counter.next().await.expect("next").replica, maker);
                tiers.push(tier);
                pools.push(pool);
            }
            let outcomes = load(tiers, POOL_CALLS, answered_tx).await;
            let connected: Vec<usize> = pools.iter().map(|p| p.connected()).collect();
            (outcomes, connected)
        })
    });
    answered_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the load got under way");
    let killed_at = Instant::now();
    net.kill(1); // r2
    let (outcomes, connected) = run.join().expect("the load ran to its end");

    assert_every_call_returned(&outcomes, POOLS, POOL_CALLS);
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.result.is_err()).collect();
    for f in &failed {
        let err = f.result.as_ref().unwrap_err();
        // In flight on r2: Disconnected. Sent to r2 in the instant before its
        // client saw it go: refused when reconnecting fails.
        assert!(
            err.starts_with("Disconnected") || err.starts_with("ConnectionRefused"),
            "a call failed other than as Disconnected: {err}"
        );
    }
    assert!(
        !failed.is_empty(),
        "calls were in flight on the killed replica"
    );
    assert!(
        failed.len() <= POOLS * WINDOW as usize,
        "{} calls failed",
        failed.len()
    );
    // Calls started a bound after the kill all succeed, on live replicas.
    let bound = Duration::from_millis(500);
    let later: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| o.started > killed_at + bound)
        .collect();
    assert!(!later.is_empty(), "the load went on after the kill");
    for o in &later {
        let replica = o
            .result
            .as_ref()
            .expect("a call started after the bound failed");
        assert_ne!(replica, "r2");
    }
    assert_eq!(connected, [2, 2, 2], "each pool sees two replicas up");
    let per_replica = per_replica(&outcomes);
    eprintln!(
        "scale-out (pools): {} calls, {} answered, {} failed, per replica {per_replica:?}, {} calls after the kill+{bound:?} all on live replicas",
        outcomes.len(),
        outcomes.len() - failed.len(),
        failed.len(),
        later.len()
    );
}
