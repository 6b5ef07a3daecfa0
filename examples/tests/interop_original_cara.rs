//! Interop with the original Python cara 0.10.3 on pseud git `cadb5d6` — the seed's
//! own system — as a real peer, in both directions, over tcp on 127.0.0.1.
//!
//! Needs the peer kit of `../shared/peers/original-cara`, so it is not part of the
//! README's test command: `build-support/interop/original-cara.sh` builds the peer
//! and runs this file (feature `original-cara`), as a step of `.ci/run`. The same
//! wire behaviour is pinned without the peer by `crates/cara/tests/original_cara_vectors.rs`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use nix::sys::signal::Signal;
use serde_json::{Value as Json, json};
use support::{Process, Stdin};

fn env_path(name: &str) -> PathBuf {
    match std::env::var_os(name) {
        Some(p) => PathBuf::from(p),
        None => panic!(
            "{name} is not set: run these tests with build-support/interop/original-cara.sh, \
             which builds the original cara peer from ../shared/peers/original-cara and sets \
             CARA_ORIGINAL_PYTHON, CARA_ORIGINAL_KIT and CARA_ORIGINAL_SCHEMA"
        ),
    }
}

/// The original peer's script `name` (server.py or client.py), run by its venv.
fn original(script: &str) -> Command {
    let mut c = Command::new(env_path("CARA_ORIGINAL_PYTHON"));
    c.arg(env_path("CARA_ORIGINAL_KIT").join(script));
    c
}

fn schema_module() -> PathBuf {
    env_path("CARA_ORIGINAL_SCHEMA")
}

fn calculator() -> Command {
    Command::new(env!("CARGO_BIN_EXE_calculator"))
}

/// `calculator serve` with these extra arguments; (process, endpoint).
fn rust_server(extra: &[&str]) -> (Process, String) {
    let mut cmd = calculator();
    cmd.args(["serve", "--endpoint", "tcp://127.0.0.1:0"])
        .args(extra);
    let mut p = Process::start(cmd, Stdin::Null);
    let endpoint = p.ready_endpoint();
    (p, endpoint)
}

/// The original `server.py` with `--security security`; (process, endpoint).
fn original_server(security: &str) -> (Process, String) {
    let endpoint = format!("tcp://127.0.0.1:{}", support::free_port());
    let mut cmd = original("server.py");
    cmd.arg(&endpoint)
        .arg(schema_module())
        .args(["--security", security]);
    let mut p = Process::start(cmd, Stdin::Null);
    p.wait_for("ready line", |l| l.starts_with("ready ").then_some(()));
    (p, endpoint)
}

/// Runs the original seed client; its JSON lines.
fn original_client(endpoint: &str, extra: &[&str]) -> Vec<Json> {
    let mut cmd = original("client.py");
    cmd.arg(endpoint)
        .arg("--schema")
        .arg(schema_module())
        .args(extra);
    let (ok, out, err) = support::run(cmd);
    let lines: Vec<Json> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l:?}: {e}")))
        .collect();
    assert!(ok, "the original client failed:\n{out}\n{err}");
    lines
}

/// Each call's (label, result) from the original client's output.
fn results(lines: &[Json]) -> Vec<(String, Json)> {
    lines
        .iter()
        .filter(|l| l.get("call").is_some())
        .map(|l| {
            assert_eq!(l["ok"], true, "{l}");
            (l["call"].as_str().unwrap().to_string(), l["result"].clone())
        })
        .collect()
}

/// What the seed example must print against a fresh calculator.
fn seed_answers() -> Vec<(String, Json)> {
    [
        ("add(2, 5)", json!(7)),
        ("add(first=2, second=5)", json!(7)),
        (
            "divide(7.0, 2.0)",
            json!({"quotient": 3.0, "remainder": 1.0}),
        ),
        (
            "stats()",
            json!({"calls": 3, "lastOp": 1, "history": [7, 7, 3]}),
        ),
        ("getAdder(5).add(1)", json!(6)),
        ("evaluate(Value(lambda: 21.0))", json!(42.0)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

#[test]
fn the_seed_example_runs_against_our_calculator_trusted_peer() {
    // Exactly as written in cara's docs: server trusted_peer, client plain, user "test".
    let (mut server, endpoint) = rust_server(&["--security", "trusted_peer"]);
    let lines = original_client(&endpoint, &[]);
    assert_eq!(results(&lines), seed_answers(), "{lines:?}");
    assert_eq!(lines.last().unwrap()["summary"]["ok"], 6);
    let stopped = server.signal_and_wait(Signal::SIGTERM, Duration::from_secs(1));
    assert!(stopped.is_some_and(|(s, _)| s.success()));
}

#[test]
fn the_seed_example_runs_against_our_calculator_plain_and_noop() {
    let (_server, endpoint) = rust_server(&["--security", "plain", "--login", "test:test"]);
    let lines = original_client(&endpoint, &["--password", "test"]);
    assert_eq!(results(&lines), seed_answers(), "{lines:?}");
    let (_server, endpoint) = rust_server(&[]);
    // Under NULL security too (the callback travels back over the connection).
    let lines = original_client(&endpoint, &["--security", "noop"]);
    assert_eq!(results(&lines), seed_answers(), "{lines:?}");
}

/// The broker passes pseud messages unchanged, the original's included: the seed
/// example runs through `pseud::Broker` in front of two calculator replicas, its
/// `evaluate` callback crossing back through the broker. Two clients in turn land
/// on different replicas, so each sees a fresh calculator's stats.
#[test]
fn the_seed_example_runs_through_the_broker() {
    let replicas = [
        rust_server(&["--security", "trusted_peer"]),
        rust_server(&["--security", "trusted_peer"]),
    ];
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let broker = runtime
        .block_on(async {
            let mut builder = pseud::Broker::builder("server")
                .bind("tcp://127.0.0.1:0")
                .security(pseud::ServerSecurity::TrustedPeer)
                .replica_secret("between broker and replicas");
            for (_, endpoint) in &replicas {
                builder = builder.replica(endpoint);
            }
            builder.start()
        })
        .expect("broker starts");
    for _ in 0..2 {
        let lines = original_client(&broker.endpoints()[0], &[]);
        assert_eq!(results(&lines), seed_answers(), "{lines:?}");
    }
}

/// The lines `calculator call` prints for its `n`-th run (from 1) against one
/// original server: the server's stats accumulate across connections.
fn call_lines(n: usize) -> String {
    let history: Vec<String> = (0..n).flat_map(|_| ["7", "3"]).map(String::from).collect();
    format!(
        "add(2, 5) = 7\n\
         divide(7, 2) = 3 remainder 1\n\
         divide(1, 0) raised ZeroDivisionError: float division by zero\n\
         stats: {} calls, last Divide, history [{}]\n\
         adder(5).add(1) = 6\n\
         adder(5).add(10) = 16\n\
         get_adder_pipelined(100).add(1) = 101\n\
         evaluate(value 21) = 42 (the server called our value back)\n",
        2 * n,
        history.join(", ")
    )
}

#[test]
fn calculator_call_against_the_original_server_50_fresh_connections() {
    // The original's default security (trusted_peer): any password; the callback
    // in evaluate() routes by our user id.
    let (_server, endpoint) = original_server("trusted_peer");
    for n in 1..=50 {
        let mut call = calculator();
        call.args(["call", "--endpoint", &endpoint, "--security", "plain"]);
        call.args(["--user", "test", "--password", "_"]);
        let (ok, out, err) = support::run(call);
        assert!(ok, "run {n}: calculator call failed:\n{out}\n{err}");
        assert_eq!(out, call_lines(n), "run {n}");
    }
}

#[test]
fn calculator_call_against_the_original_plain_server() {
    // The original `plain` server wants password == user id.
    let (_server, endpoint) = original_server("plain");
    let mut call = calculator();
    call.args(["call", "--endpoint", &endpoint, "--security", "plain"]);
    call.args(["--user", "test", "--password", "test"]);
    let (ok, out, err) = support::run(call);
    assert!(ok, "{out}\n{err}");
    assert_eq!(out, call_lines(1));
}

mod calc {
    cara::schema!("../schemas/calculator.capnp");
}
use calc::calculator_capnp::{CalculatorClient, ValueClient};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_call_on_every_fresh_connection_succeeds() {
    let (_server, endpoint) = original_server("noop");
    for i in 0..50 {
        let client = cara::Client::builder().connect(&endpoint).unwrap();
        let calc = CalculatorClient::new(client.server().clone());
        assert_eq!(calc.add(i, 1).await.unwrap(), i + 1, "connection {i}");
        client.stop().await;
    }
}

/// The log of a stopped original server (the file is removed), and the names its
/// `ServiceNotFoundError`s named, in order.
fn refused_names(log: &Path) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(log).unwrap();
    let _ = std::fs::remove_file(log);
    let refused = text
        .lines()
        .filter_map(|l| l.strip_prefix("pseud.interfaces.ServiceNotFoundError: "))
        .map(String::from)
        .collect();
    (text, refused)
}

/// An original server (trusted_peer) whose stderr, where its errors show, goes
/// to a file of its own: (server, endpoint, that file).
fn original_server_logging(tag: &str) -> (Process, String, PathBuf) {
    let endpoint = format!("tcp://127.0.0.1:{}", support::free_port());
    let log = std::env::temp_dir().join(format!("original-cara-{tag}-{}.log", std::process::id()));
    let mut cmd = original("server.py");
    cmd.arg(&endpoint)
        .arg(schema_module())
        .args(["--security", "trusted_peer"]);
    let stderr = std::fs::File::create(&log).unwrap();
    let mut server = Process::start_with_stderr(cmd, Stdin::Null, stderr.into());
    server.wait_for("ready line", |l| l.starts_with("ready ").then_some(()));
    (server, endpoint, log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn releases_stop_after_the_first_refusal() {
    let (server, endpoint, log) = original_server_logging("releases");

    let client = cara::Client::builder()
        .security(cara::ClientSecurity::plain("test", "_"))
        .connect(&endpoint)
        .unwrap();
    let remote = client.server().clone();
    let calc = CalculatorClient::new(remote.clone());
    let first = calc.get_adder(1).await.unwrap();
    assert_eq!(first.add(1).await.unwrap(), 2);
    drop(first);
    tokio::time::timeout(Duration::from_secs(5), async {
        while cara::sends_releases(&remote) {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the refused release is noticed");
    for offset in 0..10 {
        let adder = calc.get_adder(offset).await.unwrap();
        assert_eq!(adder.add(1).await.unwrap(), offset + 1);
    }
    // A callback and a last call, so the server has handled everything we sent.
    let doubled = calc
        .evaluate(ValueClient::from_server(Half(10.5)))
        .await
        .unwrap();
    assert_eq!(doubled, 21.0);
    client.stop().await;
    drop(server);
    let (text, refused) = refused_names(&log);
    // What the original logged: the first call's qualified name (our client then
    // learns the bare form) and the first release, once each; nothing for the ten
    // objects dropped after that, nor for the other calls.
    assert_eq!(refused, ["Calculator.getAdder", "cara.release"], "{text}");
    assert_eq!(text.matches("Pseud job failed").count(), 2, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_calls_to_the_original_server_fall_back_to_plain_ones() {
    let (server, endpoint, log) = original_server_logging("pipelined");
    let client = cara::Client::builder()
        .security(cara::ClientSecurity::plain("test", "_"))
        .connect(&endpoint)
        .unwrap();
    let calc = CalculatorClient::new(client.server().clone());
    let adder = calc.get_adder_pipelined(5);
    assert_eq!(adder.add(1).await.unwrap(), 6);
    assert_eq!(adder.add(10).await.unwrap(), 16, "the same object");
    for offset in 0..5 {
        assert_eq!(
            calc.get_adder_pipelined(offset).add(1).await.unwrap(),
            offset + 1
        );
    }
    client.stop().await;
    drop(server);
    let (text, refused) = refused_names(&log);
    // cara.promise was refused once; the client did not send it again.
    assert_eq!(
        refused.iter().filter(|n| *n == "cara.promise").count(),
        1,
        "{text}"
    );
}

struct Half(f64);

impl calc::calculator_capnp::Value for Half {
    async fn read(&self) -> Result<f64, cara::Fault> {
        Ok(self.0)
    }
}

#[test]
fn a_blocking_typed_client_against_the_original_server() {
    let (_server, endpoint) = original_server("trusted_peer");
    let rt = cara::blocking::Runtime::new().unwrap();
    let calc = rt
        .enter(|| {
            CalculatorClient::connect_with(
                cara::Client::builder().security(cara::ClientSecurity::plain("test", "_")),
                &endpoint,
            )
        })
        .unwrap();
    assert_eq!(rt.block_on(calc.add(2, 5)).unwrap(), 7);
    let d = rt.block_on(calc.divide(7.0, 2.0)).unwrap();
    assert_eq!((d.quotient, d.remainder), (3.0, 1.0));
    // The original server calls our object back by our user id.
    let doubled = rt
        .block_on(calc.evaluate(ValueClient::from_server(Half(8.0))))
        .unwrap();
    assert_eq!(doubled, 16.0);
}

/// A Value that counts how often it was read.
struct Counted {
    value: f64,
    reads: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl calc::calculator_capnp::Value for Counted {
    async fn read(&self) -> Result<f64, cara::Fault> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(self.value)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_server_calls_original_clients_by_user_id_with_capabilities_both_ways() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let server = support::trusted_peer_server();
    let mut events = server.events();
    // Two original clients (cara's docs/remote.md setup) in one process: alice serves a
    // Calculator with cara's register_interface, bob only tries the id alice gets.
    let mut cmd = Command::new(env_path("CARA_ORIGINAL_PYTHON"));
    cmd.arg(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../build-support/interop/original_cara_user.py"),
    );
    cmd.arg(&server.endpoints()[0]).arg(schema_module());
    // Its stderr is where the original logs the calls it refused: keep it.
    let log = std::env::temp_dir().join(format!("original-cara-user-{}.log", std::process::id()));
    let stderr = std::fs::File::create(&log).unwrap();
    let mut py = Process::start_with_stderr(cmd, Stdin::Open, stderr.into());
    support::event(&mut py, "ready");
    support::until_connected(&mut events, &["alice", "bob"]).await;
    let on_alice = CalculatorClient::new(server.send_to("alice"));

    // Server -> client: our object in the arguments; the original's stub calls it back.
    let reads = Arc::new(AtomicUsize::new(0));
    let mine = ValueClient::from_server(Counted {
        value: 4.5,
        reads: reads.clone(),
    });
    assert_eq!(on_alice.evaluate(mine).await.unwrap(), 9.0);
    let evaluated = support::event(&mut py, "evaluated");
    assert_eq!(evaluated["reads"], json!([4.5, 4.5]), "{evaluated}");
    // Scoping: bob named the id exported to alice, while alice still held it.
    support::assert_refused_to_bob(&evaluated);
    assert_eq!(
        reads.load(Ordering::SeqCst),
        2,
        "bob's call never reached it"
    );

    // Client -> server: the original client returns its own object (ext 100,
    // [id, user id as str]); our typed stub calls it, and it keeps its state.
    let adder = on_alice.get_adder(10).await.unwrap();
    assert!(!adder.stub().is_local());
    assert_eq!(support::event(&mut py, "exported")["offset"], 10);
    assert_eq!(adder.add(1).await.unwrap(), 11);
    assert_eq!(adder.add(1).await.unwrap(), 12);
    assert_eq!(adder.add(5).await.unwrap(), 17);
    // The original serves no cara.release: the first one is refused, and noticed.
    let alice = server.send_to("alice");
    assert!(cara::sends_releases(&alice));
    drop(adder);
    tokio::time::timeout(Duration::from_secs(5), async {
        while cara::sends_releases(&alice) {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the refused release is noticed");
    // Another object of alice's still works after that.
    let again = on_alice.get_adder(1).await.unwrap();
    assert_eq!(again.add(1).await.unwrap(), 2);

    drop(py.child.stdin.take());
    let status = tokio::task::block_in_place(|| py.wait_exit(support::WAIT));
    let text = std::fs::read_to_string(&log).unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(status.is_some_and(|s| s.success()), "{status:?}\n{text}");
    // What the original client refused, once each: the qualified name (our server
    // then learns the bare form for this connection) and the first release.
    let refused: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("pseud.interfaces.ServiceNotFoundError: "))
        .collect();
    assert_eq!(refused, ["Calculator.evaluate", "cara.release"], "{text}");
    assert_eq!(text.matches("Pseud job failed").count(), 2, "{text}");
    server.stop().await;
}
