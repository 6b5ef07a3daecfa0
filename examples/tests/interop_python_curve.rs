//! CURVE with the real Python pseud 1.0.1 and pyzmq's libzmq, both ways:
//! `pseud-demo` (ours) against `pseud_peer.py` with its `curve` plugins
//! (build-support/python/pseud_curve.py for clients). Key files go both ways
//! too: ours are written by `pseud::certificate` (what `cara keygen` uses),
//! the client's by pyzmq's `zmq.auth.create_certificates`.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use pseud::{KeyPair, PublicKey, certificate};
use serde_json::json;
use support::python::{Served, demo, py, python, python_server, run};

/// A fresh directory with `server.key[_secret]` (ours) and `client.key[_secret]` (pyzmq's).
fn key_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cara-curve-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    certificate::write(&dir, "server", &KeyPair::generate()).unwrap();
    let made = Command::new(python())
        .arg("-c")
        .arg("import sys, zmq.auth; zmq.auth.create_certificates(sys.argv[1], 'client')")
        .arg(&dir)
        .status()
        .expect("python runs");
    assert!(made.success(), "pyzmq wrote the client's certificates");
    dir
}

fn public(dir: &Path, name: &str) -> PublicKey {
    certificate::load(dir.join(format!("{name}.key")))
        .unwrap()
        .public
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn curve_call(call: &mut Command, endpoint: &str, dir: &Path, server_key: &str) {
    call.args(["call", "--endpoint", endpoint, "--security", "curve"]);
    call.arg("--key").arg(dir.join("client.key_secret"));
    call.args(["--server-key", server_key]);
}

/// `pseud-demo serve --security curve` with the server key of `dir`.
fn rust_curve_server(dir: &Path, extra: &[&str]) -> Served {
    let mut serve = demo();
    serve.args([
        "serve",
        "--endpoint",
        "tcp://127.0.0.1:0",
        "--security",
        "curve",
    ]);
    serve.arg("--key").arg(dir.join("server.key_secret"));
    serve.args(extra);
    Served::start(serve)
}

#[test]
fn python_curve_client_calls_rust_curve_server_and_is_called_back() {
    let dir = key_dir("py-client");
    let client_z85 = public(&dir, "client").to_z85();
    // A CURVE client's user id is its public key in Z85: the server calls it by that.
    // (`=`: a Z85 key may start with `-`.)
    let mut server = rust_curve_server(&dir, &[&format!("--call-client={client_z85}")]);
    let server_key = dir.join("server.key");
    let server_key = server_key.to_str().unwrap();

    let mut call = py();
    curve_call(&mut call, &server.endpoint, &dir, server_key);
    call.args(["--stay", "3", "whoami"]);
    let child = std::thread::spawn(move || run(call, ""));
    let event = server.next_event("server_callback");
    assert_eq!(
        event,
        json!({"event": "server_callback", "user": client_z85, "ok": true, "result": "pong"})
    );
    let (ok, lines) = child.join().unwrap();
    assert!(ok, "{lines:?}");
    assert_eq!(lines, vec![json!({"$bytes": hex(&client_z85)})]);

    let mut call = py();
    curve_call(&mut call, &server.endpoint, &dir, server_key);
    call.args(["add", "[2,5]"]);
    assert_eq!(run(call, "").1, vec![json!(7)]);
}

#[test]
fn rust_curve_client_calls_python_curve_server() {
    let dir = key_dir("rust-client");
    let client_z85 = public(&dir, "client").to_z85();
    let server_key = public(&dir, "server").to_z85();
    let secret = dir.join("server.key_secret");
    let server = python_server("curve", &["--key", secret.to_str().unwrap()]);
    for (name, args, want) in [
        ("whoami", "[]", json!({"$bytes": hex(&client_z85)})),
        ("add", "[2,5]", json!(7)),
        ("string.upper", "[\"secret\"]", json!("SECRET")),
    ] {
        let mut call = demo();
        // The server key as Z85 text this time (a key file works as well).
        curve_call(&mut call, &server.endpoint, &dir, &server_key);
        call.args([name, args]);
        let (ok, lines) = run(call, "");
        assert!(ok, "{name}: {lines:?}");
        assert_eq!(lines, vec![want], "{name}");
    }
}

#[test]
fn a_wrong_server_key_is_a_handshake_error_both_ways() {
    let dir = key_dir("wrong-key");
    let impostor = KeyPair::generate().public.to_z85();
    let secret = dir.join("server.key_secret");
    let py_server = python_server("curve", &["--key", secret.to_str().unwrap()]);
    let mut call = demo();
    curve_call(&mut call, &py_server.endpoint, &dir, &impostor);
    call.args(["--timeout", "3", "add", "[1,1]"]);
    let (ok, lines) = run(call, "");
    assert!(!ok);
    assert_eq!(lines[0]["error"]["class"], "HandshakeError", "{}", lines[0]);

    let rust_server = rust_curve_server(&dir, &[]);
    // The client's own public key is not the server's: the handshake fails.
    let wrong = dir.join("client.key");
    let mut call = py();
    curve_call(
        &mut call,
        &rust_server.endpoint,
        &dir,
        wrong.to_str().unwrap(),
    );
    call.args(["--timeout", "3", "add", "[1,1]"]);
    let (ok, lines) = run(call, "");
    assert!(!ok);
    assert_eq!(lines[0]["error"]["class"], "HandshakeError", "{}", lines[0]);
}
