//! End-to-end tests of `cara call`, `cara list` and `cara describe`: the `cara`
//! binary against servers made in this process from the schemas (`cara::schema!` and
//! `cara::Server`, as the examples do), and against the real Python pseud 1.0.1
//! (`build-support/interop/pseud_peer.py`, run by the python in `CARA_PYTHON`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;

use cara::Fault;
use serde_json::{Value as Json, json};

mod calc {
    cara::schema!("../../schemas/calculator.capnp");
}
mod shop_schema {
    cara::schema!("../../schemas/tests/cli.capnp");
}

use calc::calculator_capnp::{
    Adder, AdderClient, Calculator, CalculatorServer, Op, Stats, ValueClient, calculator,
};
use shop_schema::cli_capnp::{
    Clerk, ClerkClient, Item, Shop, ShopServer, outer::Counter, outer::CounterServer, shop,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repo root")
}

/// What a `cara` run printed, and how it ended.
#[derive(Debug)]
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `cara` from the repository root (where the schema paths of the docs hold).
fn cara<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_cara"))
        .current_dir(root())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run cara");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `cara call --schema SCHEMA ENDPOINT METHOD [ARGS]`, plus `extra` options first.
fn call(schema: &str, endpoint: &str, extra: &[&str], method: &str, args: Option<&str>) -> Run {
    let mut v: Vec<&str> = vec!["call", "--schema", schema];
    v.extend_from_slice(extra);
    v.extend([endpoint, method]);
    v.extend(args);
    cara(&v)
}

/// The one stdout line of a successful call, as JSON.
fn ok(run: Run) -> Json {
    assert_eq!(run.code, Some(0), "{run:?}");
    serde_json::from_str(run.stdout.trim_end()).expect("one JSON line")
}

/// The stderr of a run that failed with `code`.
fn failed(run: Run, code: i32) -> String {
    assert_eq!(run.code, Some(code), "{run:?}");
    run.stderr
}

/// A server in this process, on an ephemeral loopback port.
struct Served {
    server: cara::Server,
    endpoint: String,
    // Dropped last: the server's tasks run on it.
    _rt: tokio::runtime::Runtime,
}

impl Served {
    fn start(serve: impl FnOnce(&cara::Server)) -> Served {
        Served::with_security(cara::pseud::ServerSecurity::Noop, serve)
    }

    fn with_security(
        security: cara::pseud::ServerSecurity,
        serve: impl FnOnce(&cara::Server),
    ) -> Served {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let _guard = rt.enter();
        let server = cara::Server::builder("server")
            .bind("tcp://127.0.0.1:0")
            .security(security)
            .start()
            .expect("server starts");
        serve(&server);
        let endpoint = server.endpoints()[0].clone();
        Served {
            server,
            endpoint,
            _rt: rt,
        }
    }

    fn calculator() -> Served {
        Served::start(|s| {
            cara::serve(s.registry(), CalculatorServer::new(Calc::default())).expect("serve")
        })
    }

    fn shop() -> Served {
        Served::start(|s| {
            cara::serve(s.registry(), ShopServer::new(Store)).expect("serve");
            cara::serve(s.registry(), CounterServer::new(Store)).expect("serve");
        })
    }
}

/// The calculator of `examples/src/bin/calculator.rs`, as the docs show it.
#[derive(Default)]
struct Calc {
    stats: Mutex<Stats>,
}

impl Calc {
    fn record(&self, op: Op, value: i32) {
        let mut stats = self.stats.lock().unwrap();
        stats.calls += 1;
        stats.last_op = op;
        stats.history.push(value);
    }
}

impl Calculator for Calc {
    async fn add(&self, first: i32, second: i32) -> Result<i32, Fault> {
        let sum = first
            .checked_add(second)
            .ok_or_else(|| Fault::new("OverflowError", "overflow"))?;
        self.record(Op::Add, sum);
        Ok(sum)
    }
    async fn divide(&self, n: f64, d: f64) -> Result<calculator::DivideResults, Fault> {
        if d == 0.0 {
            return Err(Fault::new("ZeroDivisionError", "float division by zero"));
        }
        let quotient = (n / d).trunc();
        self.record(Op::Divide, quotient as i32);
        Ok(calculator::DivideResults {
            quotient,
            remainder: n - quotient * d,
        })
    }
    async fn stats(&self) -> Result<Stats, Fault> {
        Ok(self.stats.lock().unwrap().clone())
    }
    async fn get_adder(&self, offset: i32) -> Result<AdderClient, Fault> {
        Ok(AdderClient::from_server(Total(Mutex::new(offset))))
    }
    async fn evaluate(&self, value: ValueClient) -> Result<f64, Fault> {
        Ok(value.read().await? * 2.0)
    }
}

struct Total(Mutex<i32>);

impl Adder for Total {
    async fn add(&self, x: i32) -> Result<i32, Fault> {
        let mut t = self.0.lock().unwrap();
        *t += x;
        Ok(*t)
    }
}

/// `Shop` and `Outer.Counter` of `schemas/tests/cli.capnp`.
struct Store;

impl Shop for Store {
    async fn echo(&self, item: Item) -> Result<Item, Fault> {
        Ok(item)
    }
    async fn add(&self, a: i64, b: i64) -> Result<i64, Fault> {
        Ok(a.wrapping_add(b))
    }
    async fn fail(&self) -> Result<(), Fault> {
        Err(Fault::new("ValueError", "boom"))
    }
    async fn total(&self, items: Vec<Item>) -> Result<shop::TotalResults, Fault> {
        Ok(shop::TotalResults {
            count: items.len() as u32,
            kinds: items.iter().map(|i| i.kind).collect(),
        })
    }
    async fn clerk(&self) -> Result<ClerkClient, Fault> {
        Ok(ClerkClient::from_server(Store))
    }
}

impl Clerk for Store {
    async fn hello(&self) -> Result<String, Fault> {
        Ok("hi".into())
    }
}

impl Counter for Store {
    async fn next(&self) -> Result<u64, Fault> {
        Ok(u64::MAX)
    }
}

const SHOP: &str = "schemas/tests/cli.capnp";
const CALC: &str = "schemas/calculator.capnp";

/// An item with every kind of field, by name.
fn item() -> Json {
    json!({
        "name": "hammer",
        "kind": "tool",
        "tags": ["steel", "heavy"],
        "size": {"width": 3, "height": 30},
        "weight": 2.5,
        "place": {"shelf": 2, "row": -1},
        "blob": {"$bytes": "00ff"},
    })
}

#[test]
fn calculator_results_by_name_one_unboxed_struct_and_capability() {
    let s = Served::calculator();
    let e = s.endpoint.as_str();
    assert_eq!(
        call(CALC, e, &[], "Calculator.divide", Some("[7, 2]")).stdout,
        "{\"quotient\":3.0,\"remainder\":1.0}\n"
    );
    let sum = ok(call(
        CALC,
        e,
        &[],
        "Calculator.add",
        Some(r#"{"second": 5, "first": 2}"#),
    ));
    assert_eq!(sum, json!(7));
    let stats = ok(call(CALC, e, &[], "Calculator.stats", None));
    assert_eq!(
        stats,
        json!({"calls": 2, "lastOp": "add", "history": [3, 7]})
    );
    let raw = ok(call(CALC, e, &["--raw"], "Calculator.stats", None));
    assert_eq!(raw, json!({"$map": [[0, 2], [1, 0], [2, [3, 7]]]}));
    let adder = ok(call(CALC, e, &[], "Calculator.getAdder", Some("[5]")));
    assert_eq!(adder, json!({"$capability": "Adder"}));
}

#[test]
fn struct_arguments_with_enums_lists_unions_groups_and_data_round_trip() {
    let s = Served::shop();
    let e = s.endpoint.as_str();
    let args = json!([item()]).to_string();
    assert_eq!(ok(call(SHOP, e, &[], "Shop.echo", Some(&args))), item());
    // The wire form: ordinals, the group under its smallest ordinal, the enum as a number.
    let raw = ok(call(SHOP, e, &["--raw"], "Shop.echo", Some(&args)));
    assert_eq!(raw["$map"][0], json!([0, "hammer"]));
    assert_eq!(raw["$map"][1], json!([1, 0]));
    assert!(
        raw["$map"]
            .as_array()
            .unwrap()
            .contains(&json!([7, {"$map": [[7, 2], [8, -1]]}])),
        "{raw}"
    );
    // By keyword, a union member of another type, an enum by number.
    let kw = json!({"item": {"kind": 2, "count": 4, "unknown": null}}).to_string();
    let e2 = failed(call(SHOP, e, &[], "Shop.echo", Some(&kw)), 2);
    assert!(
        e2.contains("only one member of a union of Item may be set, got count, unknown"),
        "{e2}"
    );
    let kw = json!({"item": {"kind": 2, "count": 4}}).to_string();
    let back = ok(call(SHOP, e, &[], "Shop.echo", Some(&kw)));
    assert_eq!(back["kind"], "food");
    assert_eq!(back["count"], 4);
    let list = json!([[{"kind": "toy"}, {"kind": "food"}, {}]]).to_string();
    assert_eq!(
        ok(call(SHOP, e, &[], "Shop.total", Some(&list))),
        json!({"count": 3, "kinds": ["toy", "food", "tool"]})
    );
    assert_eq!(
        ok(call(
            SHOP,
            e,
            &[],
            "Shop.add",
            Some(&format!("[{}, 1]", i64::MAX - 1))
        )),
        json!(i64::MAX)
    );
    let run = call(SHOP, e, &[], "Shop.fail", None);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stdout,
        "{\"error\":{\"class\":\"ValueError\",\"message\":\"boom\"}}\n"
    );
}

#[test]
fn nested_and_inherited_methods_and_returned_capabilities() {
    let s = Served::shop();
    let e = s.endpoint.as_str();
    // The names `cara call` tries first are those the generated server registers.
    let names = s.server.registry().names();
    for name in ["Outer.Counter.next", "Outer.Counter.add", "Shop.clerk"] {
        assert!(names.contains(&name.to_string()), "{name} not in {names:?}");
    }
    assert_eq!(
        ok(call(SHOP, e, &[], "Outer.Counter.next", None)),
        json!(u64::MAX)
    );
    // The own name is enough when unambiguous; inherited methods are the interface's.
    assert_eq!(
        ok(call(SHOP, e, &[], "Counter.add", Some("[1, 2]"))),
        json!(3)
    );
    assert_eq!(
        ok(call(SHOP, e, &[], "Shop.clerk", None)),
        json!({"$capability": "Clerk"})
    );
}

#[test]
fn remote_errors_print_json_on_stdout_and_exit_1() {
    let s = Served::calculator();
    let run = call(CALC, &s.endpoint, &[], "Calculator.divide", Some("[1, 0]"));
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        run.stdout,
        "{\"error\":{\"class\":\"ZeroDivisionError\",\"message\":\"float division by zero\"}}\n"
    );
}

#[test]
fn bad_command_lines_are_clear_errors_with_exit_2() {
    let s = Served::shop();
    let e = s.endpoint.as_str();
    for (method, args, want) in [
        (
            "Shop.nope",
            None,
            "interface Shop has no method \"nope\"; its methods: echo, add, fail, total, clerk",
        ),
        (
            "Counter.nope",
            None,
            "interface Outer.Counter has no method \"nope\"; its methods: next, echo, add, fail, total, clerk",
        ),
        (
            "Shopp.echo",
            None,
            "no interface named \"Shopp\" in the schema; interfaces: Shop, Clerk, Outer.Counter",
        ),
        ("echo", None, "\"echo\" is not of the form Interface.method"),
        (
            "Shop.echo",
            Some(r#"[{"size": {"depth": 1}}]"#),
            "argument item.size: struct Size has no field \"depth\"; its fields: width, height",
        ),
        (
            "Shop.echo",
            Some(r#"[{"colour": 1}]"#),
            "argument item: struct Item has no field \"colour\"; its fields: name, kind, tags, size, weight, count, unknown, place, blob",
        ),
        (
            "Shop.echo",
            Some(r#"[{"kind": "drink"}]"#),
            "argument item.kind: \"drink\" is not an enumerant of Kind; its enumerants: tool, toy, food",
        ),
        (
            "Shop.echo",
            Some(r#"[{"place": {"shelf": 256}}]"#),
            "argument item.place.shelf: 256 is out of range for UInt8",
        ),
        (
            "Shop.echo",
            Some(r#"[{"tags": ["a", 1]}]"#),
            "argument item.tags[1]: expected Text (a string), got number 1",
        ),
        (
            "Shop.echo",
            Some(r#"[{"blob": "00ff"}]"#),
            "argument item.blob: expected Data ({\"$bytes\":\"<hex>\"}), got string \"00ff\"",
        ),
        (
            "Shop.add",
            Some("[1, 2, 3]"),
            "Shop.add takes 2 arguments (a, b), 3 given",
        ),
        (
            "Shop.add",
            Some(r#"{"c": 1}"#),
            "Shop.add has no parameter \"c\"; its parameters: a, b",
        ),
        (
            "Shop.add",
            Some("[1.5]"),
            "argument a: expected Int64 (an integer), got number 1.5",
        ),
        (
            "Shop.add",
            Some("7"),
            "ARGS-JSON must be a JSON array (positional arguments) or object (by name), got number 7",
        ),
        ("Shop.add", Some("[1,"), "ARGS-JSON is not JSON: "),
    ] {
        let run = call(SHOP, e, &[], method, args);
        let err = failed(run, 2);
        assert!(
            err.starts_with(&format!("cara call: {want}")),
            "{method} {args:?}: {err}"
        );
    }
    // Interfaces are not passable.
    let err = failed(call(CALC, e, &[], "Calculator.evaluate", Some("[{}]")), 2);
    assert!(err.contains("argument value: Value is an interface; capabilities cannot be passed from the command line (only null)"), "{err}");
    let err = failed(
        call(CALC, e, &["--security", "plain"], "Calculator.add", None),
        2,
    );
    assert!(
        err.contains("--security plain needs --user and --password"),
        "{err}"
    );
    let err = failed(cara(&["call", "--schema", "nope.capnp", e, "A.b"]), 2);
    assert!(err.contains("nope.capnp"), "{err}");
}

#[test]
fn connection_problems_exit_3_with_their_message() {
    // A port nobody listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nobody = format!("tcp://127.0.0.1:{port}");
    let err = failed(
        call(CALC, &nobody, &[], "Calculator.add", Some("[1, 2]")),
        3,
    );
    assert!(err.contains("nothing accepts connections at"), "{err}");
    let s = Served::calculator();
    let err = failed(
        call(
            CALC,
            &s.endpoint,
            &["--name", "other"],
            "Calculator.add",
            Some("[1, 2]"),
        ),
        3,
    );
    assert!(
        err.contains("is not named \"other\": pass its name with --name"),
        "{err}"
    );
}

#[test]
fn a_call_that_outlasts_its_timeout_exits_3() {
    // A handler that never answers within the call's timeout.
    let s = Served::start(|s| {
        s.register("Shop.fail", || async {
            std::future::pending::<()>().await;
        })
        .unwrap();
    });
    let run = call(SHOP, &s.endpoint, &["--timeout", "0.3"], "Shop.fail", None);
    let err = failed(run, 3);
    assert_eq!(err, "cara call: call \"Shop.fail\" timed out after 300ms\n");
    let err = failed(
        call(SHOP, &s.endpoint, &["--timeout", "0"], "Shop.fail", None),
        2,
    );
    assert!(
        err.contains("--timeout must be a number of seconds above 0"),
        "{err}"
    );
}

#[test]
fn bare_method_names_are_the_fallback_as_for_typed_clients() {
    // A plain pseud server with the original cara's bare names only.
    let s = Served::start(|s| {
        s.register("add", |a: i64, b: i64| a + b).unwrap();
    });
    assert_eq!(
        ok(call(SHOP, &s.endpoint, &[], "Shop.add", Some("[2, 5]"))),
        json!(7)
    );
    // Neither form served: the error names the qualified one.
    let run = call(SHOP, &s.endpoint, &[], "Shop.fail", None);
    assert_eq!(run.code, Some(1));
    let err: Json = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(err["error"]["class"], "ServiceNotFoundError");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Shop.fail"),
        "{err}"
    );
    drop(s.server);
}

#[test]
fn qualified_names_go_first_and_nested_interfaces_use_their_path() {
    let s = Served::start(|s| {
        s.register("Shop.add", |a: i64, b: i64| a + b + 100)
            .unwrap();
        s.register("add", |a: i64, b: i64| a + b).unwrap();
        s.register("Outer.Counter.next", || 42u64).unwrap();
        s.register("Outer.Counter.add", |a: i64, b: i64| a * b)
            .unwrap();
    });
    let e = s.endpoint.as_str();
    assert_eq!(
        ok(call(SHOP, e, &[], "Shop.add", Some("[1, 2]"))),
        json!(103)
    );
    assert_eq!(ok(call(SHOP, e, &[], "Counter.next", None)), json!(42));
    assert_eq!(
        ok(call(SHOP, e, &[], "Counter.add", Some("[3, 4]"))),
        json!(12)
    );
}

#[test]
fn list_and_describe() {
    let run = cara(&["list", SHOP]);
    assert_eq!(
        run.stdout,
        "Shop: echo, add, fail, total, clerk\nClerk: hello\n\
         Outer.Counter: next, echo (from Shop), add (from Shop), fail (from Shop), total (from Shop), clerk (from Shop)\n"
    );
    let run = cara(&["describe", SHOP, "Counter"]);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert!(
        run.stdout.starts_with("interface Outer.Counter @0x"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "\n  next @0 () -> (n :UInt64);\n  echo @0 (item :Item) -> (item :Item);  # from Shop\n"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "\n  total @3 (items :List(Item)) -> (count :UInt32, kinds :List(Kind));  # from Shop\n"
        ),
        "{}",
        run.stdout
    );
    let run = cara(&["describe", SHOP, "Kind"]);
    assert!(
        run.stdout
            .ends_with("{  # schemas/tests/cli.capnp\n  tool @0;\n  toy @1;\n  food @2;\n}\n"),
        "{}",
        run.stdout
    );
    let err = failed(cara(&["describe", SHOP, "Nope"]), 2);
    assert!(err.contains("no declaration named \"Nope\" in the schema; declarations: Kind, Size, Item, Shop, Clerk, Outer, Outer.Counter"), "{err}");
}

/// Splits a documented command line as sh would (single and double quotes, no escapes).
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.get_or_insert_default().push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                word.get_or_insert_default();
            }
            (None, c) if c.is_whitespace() => out.extend(word.take()),
            (None, c) => word.get_or_insert_default().push(c),
        }
    }
    out.extend(word);
    out
}

#[test]
fn the_documented_calculator_session_prints_what_docs_cli_md_shows() {
    let doc = std::fs::read_to_string(root().join("docs/cli.md")).expect("docs/cli.md");
    let s = Served::calculator();
    // The `$ ` lines of ```sh blocks, each with the lines up to the next one.
    let mut session: Vec<(String, Vec<String>)> = Vec::new();
    let mut block: Option<bool> = None;
    let mut current: Option<(String, Vec<String>)> = None;
    for line in doc.lines() {
        if line.starts_with("```") {
            block = match block {
                None => Some(line == "```sh"),
                Some(_) => None,
            };
            session.extend(current.take());
        } else if block == Some(true) {
            if let Some(command) = line.strip_prefix("$ ") {
                session.extend(current.take());
                current = Some((command.to_string(), Vec::new()));
            } else if let Some((_, output)) = current.as_mut() {
                output.push(line.to_string());
            }
        }
    }
    assert!(
        session.len() >= 10,
        "the session in docs/cli.md has {} commands",
        session.len()
    );
    for (command, output) in &session {
        let argv = words(&command.replace("tcp://127.0.0.1:5555", &s.endpoint));
        assert_eq!(argv[0], "cara", "{command}");
        let run = cara(&argv[1..]);
        let printed = format!("{}{}", run.stdout, run.stderr);
        let want: String = output.iter().map(|l| format!("{l}\n")).collect();
        assert_eq!(printed, want, "$ {command}");
    }
}

/// The Python peer, serving until its stdin closes (or it is killed on drop).
struct PythonServer {
    child: Child,
    _stdin: ChildStdin,
    endpoint: String,
}

impl PythonServer {
    fn start() -> PythonServer {
        let python = std::env::var_os("CARA_PYTHON").unwrap_or_else(|| {
            panic!(
                "CARA_PYTHON is not set: it must name a python with pseud==1.0.1 installed. \
                 Run the tests with build-support/test.sh, or create the venv with \
                 build-support/interop/setup-venv.sh and export CARA_PYTHON=<its last output line>"
            )
        });
        let mut child = Command::new(python)
            .arg(root().join("build-support/interop/pseud_peer.py"))
            .args(["serve", "--endpoint", "tcp://127.0.0.1:*"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python peer starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        // The first line says where it listens: {"event":"ready","endpoint":...}.
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("ready line");
        let ready: Json = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
        assert_eq!(ready["event"], "ready", "{line}");
        let endpoint = ready["endpoint"].as_str().unwrap().to_string();
        PythonServer {
            child,
            _stdin: stdin,
            endpoint,
        }
    }
}

impl Drop for PythonServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn python_pseud_server_answers_through_the_schema() {
    let py = PythonServer::start();
    let e = py.endpoint.as_str();
    // Shop.add is not served there: the bare `add` is.
    assert_eq!(ok(call(SHOP, e, &[], "Shop.add", Some("[2, 5]"))), json!(7));
    // Python echoes the ordinal-keyed map back; it prints with names.
    let args = json!([item()]).to_string();
    assert_eq!(ok(call(SHOP, e, &[], "Shop.echo", Some(&args))), item());
    let raw = ok(call(SHOP, e, &["--raw"], "Shop.echo", Some(&args)));
    assert_eq!(raw["$map"][0], json!([0, "hammer"]));
    let run = call(SHOP, e, &[], "Shop.fail", None);
    assert_eq!(run.code, Some(1), "{run:?}");
    assert_eq!(
        serde_json::from_str::<Json>(&run.stdout).unwrap(),
        json!({"error": {"class": "ValueError", "message": "boom"}})
    );
    let run = call(SHOP, e, &[], "Shop.clerk", None);
    assert_eq!(run.code, Some(1), "{run:?}");
    let err: Json = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(err["error"]["class"], "ServiceNotFoundError", "{err}");
}

#[test]
fn plain_credentials_are_checked_and_refusals_exit_3() {
    let s = Served::with_security(
        cara::pseud::ServerSecurity::plain(|user, password| {
            user == "alice" && password == b"secret"
        }),
        |s| cara::serve(s.registry(), CalculatorServer::new(Calc::default())).expect("serve"),
    );
    let e = s.endpoint.as_str();
    let good = [
        "--security",
        "plain",
        "--user",
        "alice",
        "--password",
        "secret",
    ];
    assert_eq!(
        ok(call(CALC, e, &good, "Calculator.add", Some("[2, 5]"))),
        json!(7)
    );
    let bad = [
        "--security",
        "plain",
        "--user",
        "alice",
        "--password",
        "wrong",
    ];
    let err = failed(call(CALC, e, &bad, "Calculator.add", Some("[2, 5]")), 3);
    assert!(err.starts_with("cara call: unauthorized"), "{err}");
}

#[test]
fn curve_calls_use_key_files_and_a_wrong_server_key_is_a_handshake_error() {
    let keys = cara::pseud::KeyPair::generate();
    let s = Served::with_security(cara::pseud::ServerSecurity::curve(keys.clone()), |s| {
        cara::serve(s.registry(), CalculatorServer::new(Calc::default())).expect("serve")
    });
    let e = s.endpoint.as_str();
    let dir = tempfile::tempdir().unwrap();
    cara::pseud::certificate::write(dir.path(), "server", &keys).unwrap();
    cara::pseud::certificate::write(dir.path(), "me", &cara::pseud::KeyPair::generate()).unwrap();
    let server_key = dir.path().join("server.key");
    let my_key = dir.path().join("me.key_secret");
    let with_files = [
        "--security",
        "curve",
        "--server-key",
        server_key.to_str().unwrap(),
        "--key",
        my_key.to_str().unwrap(),
    ];
    assert_eq!(
        ok(call(CALC, e, &with_files, "Calculator.add", Some("[2, 5]"))),
        json!(7)
    );
    // The key as Z85 text (it may start with '-'), and a fresh key pair of ours.
    let z85 = format!("--server-key={}", keys.public.to_z85());
    assert_eq!(
        ok(call(
            CALC,
            e,
            &["--security", "curve", &z85],
            "Calculator.add",
            Some("[1, 1]")
        )),
        json!(2)
    );
    let impostor = format!(
        "--server-key={}",
        cara::pseud::KeyPair::generate().public.to_z85()
    );
    let wrong = ["--security", "curve", &impostor, "--timeout", "3"];
    let err = failed(call(CALC, e, &wrong, "Calculator.add", Some("[2, 5]")), 3);
    assert!(err.contains("handshake"), "{err}");
    let err = failed(
        call(CALC, e, &["--security", "curve"], "Calculator.add", None),
        2,
    );
    assert!(err.contains("--server-key"), "{err}");
}
