//! The example programs run and print what they promise.

use std::process::Command;

fn run(bin: &str) -> String {
    let out = Command::new(bin).output().expect("example runs");
    assert!(
        out.status.success(),
        "{bin}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[test]
fn calculator_prints_its_results() {
    let out = run(env!("CARGO_BIN_EXE_calculator"));
    for line in [
        "add(2, 5) = 7",
        "divide(7, 2) = 3 remainder 1",
        "divide(1, 0) raised ZeroDivisionError: float division by zero",
        "adder(5).add(1) = 6",
        "adder(5).add(10) = 16",
        "get_adder_pipelined(100).add(1) = 101",
        "evaluate(value 21) = 42 (the server called our value back)",
    ] {
        assert!(
            out.lines().any(|l| l == line),
            "missing {line:?} in:\n{out}"
        );
    }
}

#[test]
fn back_and_forth_goes_back_and_forth() {
    let out = run(env!("CARGO_BIN_EXE_back-and-forth"));
    let expected = [
        "client: start, passing our callback",
        "server: start; calling the client's callback with a callback of ours",
        "client: ping from server",
        "client: pinging server back",
        "server: ping from client",
        "client: server answered \"pong from server\"",
        "client: start returned \"pong from client (after pong from server)\"",
    ];
    assert_eq!(out.lines().collect::<Vec<_>>(), expected);
}

#[test]
fn pseud_demo_runs() {
    let out = Command::new(env!("CARGO_BIN_EXE_pseud-demo"))
        .arg("demo")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("add(2, 5) = 7"), "{text}");
    assert!(text.contains("callback.inline() = \"pong\""), "{text}");
}
