//! Interop with the real Python `pseud` 1.0.1, in both directions, over tcp on 127.0.0.1.
//!
//! The Python peer is `build-support/interop/pseud_peer.py`, run by the venv python in
//! `CARA_PYTHON` (the README's test command sets it up). The Rust side is `pseud-demo`
//! and the `pseud` crate itself.

mod support;

use support::python::{Served, demo, py, python, python_server, run};

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value as Json, json};

/// `call --endpoint E --security plain --user U --password P` (then the call's own words).
fn plain_call(call: &mut Command, endpoint: &str, user: &str, password: &str) {
    call.args(["call", "--endpoint", endpoint, "--security", "plain"]);
    call.args(["--user", user, "--password", password]);
}

fn security_args(security: &str, user: &str) -> Vec<String> {
    match security {
        "noop" => vec![],
        _ => [
            "--security",
            "plain",
            "--user",
            user,
            "--password",
            "secret",
        ]
        .map(String::from)
        .to_vec(),
    }
}

/// (request, expected reply) for every demo function.
fn cases(user_hex: &str) -> Vec<(Json, Json)> {
    vec![
        (json!({"name": "add", "args": [2, 5]}), json!(7)),
        (json!({"name": "add", "args": [1.5, 2]}), json!(3.5)),
        (
            json!({"name": "kw", "args": [1], "kwargs": {"b": 3}}),
            json!([1, 3]),
        ),
        (json!({"name": "kw", "args": [1]}), json!([1, 2])),
        (
            json!({"name": "kw", "kwargs": {"a": 4, "b": 5}}),
            json!([4, 5]),
        ),
        (
            json!({"name": "string.upper", "args": ["hello"]}),
            json!("HELLO"),
        ),
        (
            json!({"name": "echo", "args": [{"$map": [[1, "intkey"]]}]}),
            json!({"$map": [[1, "intkey"]]}),
        ),
        (
            json!({"name": "echo", "args": [{"$bytes": "00ff"}]}),
            json!({"$bytes": "00ff"}),
        ),
        (
            json!({"name": "echo", "args": [[1, "a", null, 1e300, -1]]}),
            json!([1, "a", null, 1e300, -1]),
        ),
        (
            json!({"name": "echo", "args": [{"nested": {"deep": [1, {"x": {"$bytes": "79"}}]}}]}),
            json!({"nested": {"deep": [1, {"x": {"$bytes": "79"}}]}}),
        ),
        (
            json!({"name": "echo", "args": [18446744073709551615u64]}),
            json!(18446744073709551615u64),
        ),
        (json!({"name": "sleep", "args": [0.05]}), json!(0.05)),
        (json!({"name": "whoami"}), json!({"$bytes": user_hex})),
        (
            json!({"name": "fail"}),
            json!({"error": {"class": "ValueError", "message": "boom"}}),
        ),
        (
            json!({"name": "no.such.fn"}),
            json!({"error": {"class": "ServiceNotFoundError", "message": "no.such.fn"}}),
        ),
        (json!({"name": "callback.inline"}), json!("pong")),
        (json!({"name": "callback.ping"}), json!("scheduled")),
        (json!({"name": "callback.results"}), json!(["pong"])),
    ]
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

/// `pseud-demo serve` on a free port of 127.0.0.1.
fn demo_server(security: &str) -> Served {
    let mut serve = demo();
    serve.args([
        "serve",
        "--endpoint",
        "tcp://127.0.0.1:0",
        "--security",
        security,
    ]);
    Served::start(serve)
}

fn python_client_against_rust_server(security: &str, user: &str) {
    let server = demo_server(security);
    python_cases_against(&server.endpoint, security, user);
}

/// Runs every case of [`cases`] from a Python pseud client against `endpoint`.
fn python_cases_against(endpoint: &str, security: &str, user: &str) {
    let cases = cases(&hex(user));
    let input: String = cases.iter().map(|(req, _)| format!("{req}\n")).collect();
    let mut batch = py();
    batch
        .args(["batch", "--endpoint", endpoint])
        .args(security_args(security, user));
    let (ok, lines) = run(batch, &input);
    assert!(ok, "python batch failed");
    assert_eq!(lines.len(), cases.len());
    for ((req, want), got) in cases.iter().zip(&lines) {
        assert_eq!(
            got, want,
            "python client -> rust server ({security}): {req}"
        );
    }
    // A TypeError from Rust is a TypeError for Python.
    let (_, lines) = {
        let mut batch = py();
        batch
            .args(["batch", "--endpoint", endpoint])
            .args(security_args(security, user));
        run(batch, "{\"name\":\"add\",\"args\":[1]}\n")
    };
    assert_eq!(lines[0]["error"]["class"], "TypeError", "{}", lines[0]);
}

/// The broker passes pseud messages unchanged: a Python pseud client works through
/// it as against one server, its user id and the server's calls back to it included.
#[test]
fn python_client_calls_rust_replicas_through_the_broker() {
    let replicas = [demo_server("trusted_peer"), demo_server("trusted_peer")];
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let broker = runtime
        .block_on(async {
            pseud::Broker::builder("server")
                .bind("tcp://127.0.0.1:0")
                .security(pseud::ServerSecurity::TrustedPeer)
                .replica_secret("between broker and replicas")
                .replica(&replicas[0].endpoint)
                .replica(&replicas[1].endpoint)
                .start()
        })
        .expect("broker starts");
    // Each batch is one client connection; the broker pairs them in turn.
    python_cases_against(&broker.endpoints()[0], "trusted_peer", "alice");
    python_cases_against(&broker.endpoints()[0], "trusted_peer", "bob");
}

#[test]
fn python_client_calls_rust_server_noop() {
    python_client_against_rust_server("noop", "");
}

#[test]
fn python_client_calls_rust_server_trusted_peer() {
    python_client_against_rust_server("trusted_peer", "alice");
}

#[test]
fn rust_client_calls_python_server() {
    let server = python_server("trusted_peer", &[]);
    for (i, (req, want)) in cases(&hex("carol")).into_iter().enumerate() {
        let mut call = demo();
        plain_call(&mut call, &server.endpoint, "carol", "x");
        if req["name"] == "callback.ping" {
            // Stay to answer the server's background call.
            call.args(["--stay", "1"]);
        }
        call.arg(req["name"].as_str().unwrap());
        call.arg(req.get("args").cloned().unwrap_or(json!([])).to_string());
        if let Some(kwargs) = req.get("kwargs") {
            call.arg(kwargs.to_string());
        }
        let (ok, lines) = run(call, "");
        assert_eq!(
            lines.first(),
            Some(&want),
            "case {i}: rust client -> python server: {req}"
        );
        assert_eq!(ok, want.get("error").is_none(), "exit status of {req}");
    }
}

#[test]
fn server_to_client_calls_both_ways() {
    // Rust server calls a Python client as soon as it connects.
    let mut serve = demo();
    serve.args([
        "serve",
        "--endpoint",
        "tcp://127.0.0.1:0",
        "--security",
        "trusted_peer",
        "--call-client",
        "dave",
    ]);
    let mut rust_server = Served::start(serve);
    let mut call = py();
    plain_call(&mut call, &rust_server.endpoint, "dave", "x");
    call.args(["--stay", "3", "add", "[1,1]"]);
    let child = std::thread::spawn(move || run(call, ""));
    let event = rust_server.next_event("server_callback");
    assert_eq!(
        event,
        json!({"event": "server_callback", "user": "dave", "ok": true, "result": "pong"})
    );
    assert_eq!(child.join().unwrap().1, vec![json!(2)]);

    // Python server calls a Rust client as soon as it connects.
    let mut py_server = python_server("trusted_peer", &["--call-client", "erin"]);
    let mut call = demo();
    plain_call(&mut call, &py_server.endpoint, "erin", "x");
    call.args(["--stay", "3", "add", "[1,1]"]);
    let child = std::thread::spawn(move || run(call, ""));
    let event = py_server.next_event("server_callback");
    assert_eq!(
        event,
        json!({"event": "server_callback", "user": "erin", "ok": true, "result": "pong"})
    );
    assert_eq!(child.join().unwrap().1, vec![json!(2)]);
}

#[test]
fn failed_logins_are_clear_errors_both_ways() {
    let mut serve = demo();
    serve.args([
        "serve",
        "--endpoint",
        "tcp://127.0.0.1:0",
        "--security",
        "plain",
    ]);
    let rust_server = Served::start(serve);
    let mut call = py();
    plain_call(&mut call, &rust_server.endpoint, "alice", "wrong");
    call.args(["add", "[1,1]"]);
    let (ok, lines) = run(call, "");
    assert!(!ok);
    assert_eq!(
        lines[0]["error"]["class"], "UnauthorizedError",
        "{}",
        lines[0]
    );
    let mut call = py();
    plain_call(&mut call, &rust_server.endpoint, "alice", "secret");
    call.args(["add", "[1,1]"]);
    assert_eq!(run(call, "").1, vec![json!(2)]);

    let py_server = python_server("plain", &[]);
    let mut call = demo();
    plain_call(&mut call, &py_server.endpoint, "alice", "wrong");
    call.args(["add", "[1,1]"]);
    let (ok, lines) = run(call, "");
    assert!(!ok);
    assert_eq!(
        lines[0]["error"]["class"], "UnauthorizedError",
        "{}",
        lines[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pseud_crate_client_with_typed_values_against_python() {
    let mut serve = py();
    serve.args(["serve", "--endpoint", "tcp://127.0.0.1:*"]);
    let server = Served::start(serve);
    let client = pseud::Client::builder().connect(&server.endpoint).unwrap();
    let sum: i64 = client.call("add", (2, 5)).await.unwrap();
    assert_eq!(sum, 7);
    let pair: Vec<i64> = client
        .request("kw")
        .arg(1)
        .kwarg("b", 3)
        .send()
        .await
        .unwrap();
    assert_eq!(pair, vec![1, 3]);
    let up: String = client.call("string.upper", ("hello",)).await.unwrap();
    assert_eq!(up, "HELLO");
    let err = client.call::<i64>("fail", ()).await.unwrap_err();
    let remote = err.remote().unwrap();
    assert_eq!(
        (remote.class.as_str(), remote.message.as_str()),
        ("ValueError", "boom")
    );
    assert!(
        remote.traceback.contains("Traceback"),
        "{}",
        remote.traceback
    );
    client.stop().await;
}

#[test]
fn python_pseud_client_calls_the_generated_calculator() {
    let mut serve = Command::new(env!("CARGO_BIN_EXE_calculator"));
    serve.args(["serve", "--endpoint", "tcp://127.0.0.1:0"]);
    let server = Served::start(serve);
    let mut call = Command::new(python());
    call.arg(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../build-support/interop/calculator_client.py"),
    );
    call.arg(&server.endpoint);
    let (ok, lines) = run(call, "");
    assert!(ok, "calculator_client.py failed: {lines:?}");
    assert_eq!(
        lines,
        vec![json!([7, 7, 7, {"quotient": 3.0, "remainder": 1.0}])]
    );
}

mod interop_schemas {
    cara::schema!("../schemas/tests/interop.capnp");
}

#[test]
fn python_client_calls_an_object_returned_by_a_rust_server() {
    let mut serve = Command::new(env!("CARGO_BIN_EXE_calculator"));
    serve.args(["serve", "--endpoint", "tcp://127.0.0.1:0"]);
    let server = Served::start(serve);
    let adder_id = interop_schemas::calculator_capnp::adder::INFO.id;
    let mut call = Command::new(python());
    call.arg(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../build-support/interop/cara_caps.py"),
    );
    call.args(["client", &server.endpoint, &adder_id.to_string()]);
    let (ok, lines) = run(call, "");
    assert!(ok, "cara_caps.py client failed: {lines:?}");
    assert_eq!(
        lines,
        vec![json!({"ext": 100, "first": 6, "second": 16, "guessed": "CapabilityError"})]
    );
}

/// `cara_caps.py serve` (Python pseud handing out cara objects), a client of it,
/// and its typed service.
fn python_caps_server() -> (
    Served,
    cara::Client,
    interop_schemas::interop_capnp::PyServiceClient,
) {
    let mut serve = Command::new(python());
    serve.arg(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../build-support/interop/cara_caps.py"),
    );
    serve.arg("serve");
    let server = Served::start(serve);
    let client = cara::Client::builder().connect(&server.endpoint).unwrap();
    let service = interop_schemas::interop_capnp::PyServiceClient::new(client.server().clone());
    (server, client, service)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_client_calls_an_object_a_python_server_handed_out() {
    let (server, client, service) = python_caps_server();
    let adder = service.make_adder(5).await.unwrap();
    assert_eq!(adder.add(1).await.unwrap(), 6);
    assert_eq!(
        adder.add(10).await.unwrap(),
        16,
        "the Python object keeps its state"
    );
    drop(adder);
    // Dropping the last reference releases the Python object.
    let mut server = server;
    let released = tokio::task::spawn_blocking(move || server.next_event("released"))
        .await
        .unwrap();
    assert!(released["id"].as_u64().is_some(), "{released}");
    client.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipelined_calls_to_python_pseud_fall_back_to_plain_ones() {
    // Python pseud serves no cara.promise / cara.pipelined: the client learns it
    // from the first refusal and makes the same calls plainly, with the same results.
    let (_server, client, service) = python_caps_server();
    let adder = service.make_adder_pipelined(5);
    assert_eq!(adder.add(1).await.unwrap(), 6);
    assert_eq!(adder.add(10).await.unwrap(), 16, "the same Python object");
    // Known not to pipeline now: the next one waits for its result at once.
    let second = service.make_adder_pipelined(100);
    assert_eq!(second.add(1).await.unwrap(), 101);
    client.stop().await;
}

#[test]
fn the_python_guides_plain_client_calls_calculator_serve_trusted_peer() {
    // docs/python.md: build-support/python/calculator_client.py, verbatim.
    let mut serve = Command::new(env!("CARGO_BIN_EXE_calculator"));
    serve.args([
        "serve",
        "--endpoint",
        "tcp://127.0.0.1:0",
        "--security",
        "trusted_peer",
    ]);
    let server = Served::start(serve);
    let mut call = Command::new(python());
    call.arg(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../build-support/python/calculator_client.py"),
    );
    call.arg(&server.endpoint);
    let out = call.output().expect("the guide's client runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "7",
            "7",
            "{'quotient': 3.0, 'remainder': 1.0}",
            "{0: 3, 1: 1, 2: (7, 7, 3)}",
            "ZeroDivisionError: float division by zero",
            "2",
        ]
    );
}

#[test]
fn a_blocking_client_calls_python_pseud_with_plain_and_a_callback() {
    let server = python_server("trusted_peer", &[]);
    // Plain synchronous code: no async fn anywhere in this test.
    let rt = cara::blocking::Runtime::new().unwrap();
    let client = rt
        .enter(|| {
            cara::Client::builder()
                .security(cara::ClientSecurity::plain("dave", "x"))
                .connect(&server.endpoint)
        })
        .unwrap();
    client
        .register("client.ping", || "pong from a blocking client")
        .unwrap();
    let remote = client.server().clone();
    assert_eq!(rt.block_on(remote.call::<i64>("add", (2, 5))).unwrap(), 7);
    let kw: Vec<i64> = rt
        .block_on(remote.request("kw").arg(1).kwarg("b", 3).send())
        .unwrap();
    assert_eq!(kw, [1, 3]);
    // The Python server calls us back while this thread waits in block_on.
    let back: String = rt.block_on(remote.call("callback.inline", ())).unwrap();
    assert_eq!(back, "pong from a blocking client");
    let who: serde_bytes::ByteBuf = rt.block_on(remote.call("whoami", ())).unwrap();
    assert_eq!(&who[..], b"dave");
    rt.block_on(client.stop());
}

mod calc {
    cara::schema!("../schemas/calculator.capnp");
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
async fn capabilities_travel_on_send_to_calls_to_python_clients_both_ways() {
    use calc::calculator_capnp::{CalculatorClient, ValueClient, adder, value};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use support::{Process, Stdin, WAIT};

    let server = support::trusted_peer_server();
    let mut events = server.events();
    // Two pseud 1.0.1 clients in one process: alice serves Calculator methods, bob
    // is another connection that tries the ids alice was given.
    let mut cmd = Command::new(python());
    cmd.arg(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../build-support/interop/cara_caps.py"),
    );
    cmd.args(["user", &server.endpoints()[0]]);
    cmd.args([value::INFO.id.to_string(), adder::INFO.id.to_string()]);
    let mut py = Process::start(cmd, Stdin::Open);
    support::event(&mut py, "ready");
    // Both logins registered their user ids here.
    support::until_connected(&mut events, &["alice", "bob"]).await;
    let on_alice = CalculatorClient::new(server.send_to("alice"));

    // Server -> client: the server passes its own object; alice calls it back.
    let reads = Arc::new(AtomicUsize::new(0));
    let mine = ValueClient::from_server(Counted {
        value: 4.5,
        reads: reads.clone(),
    });
    assert_eq!(on_alice.evaluate(mine.clone()).await.unwrap(), 9.0);
    let evaluated = support::event(&mut py, "evaluated");
    assert_eq!(evaluated["reads"], json!([4.5, 4.5]), "{evaluated}");
    // Scoping: bob named the id exported to alice, while alice still held it.
    support::assert_refused_to_bob(&evaluated);
    assert_eq!(
        reads.load(Ordering::SeqCst),
        2,
        "alice's two reads reached the object, bob's did not"
    );
    // alice released it before she answered: nothing is exported any more.
    assert_eq!(cara::exported_objects(&server.send_to("alice")), 0);
    assert_eq!(
        mine.read().await.unwrap(),
        4.5,
        "the server's own reference"
    );

    // Client -> server: alice returns an object of hers; the server calls it.
    let adder = on_alice.get_adder(10).await.unwrap();
    assert!(!adder.stub().is_local());
    let exported = support::event(&mut py, "exported");
    assert_eq!(adder.add(1).await.unwrap(), 11);
    assert_eq!(
        adder.add(1).await.unwrap(),
        12,
        "alice's object keeps its state"
    );
    assert_eq!(adder.add(5).await.unwrap(), 17);
    // Dropping the last stub sends alice `cara.release`.
    drop(adder);
    let released = support::event(&mut py, "released");
    assert_eq!(
        released,
        json!({"event": "released", "id": exported["id"], "count": 1})
    );

    // EOF on stdin stops the Python clients cleanly.
    drop(py.child.stdin.take());
    let status = tokio::task::block_in_place(|| py.wait_exit(WAIT));
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    server.stop().await;
}
