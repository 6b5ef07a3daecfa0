//! Strict arguments, as a Python caller sends them: a parameter the caller leaves
//! out takes the schema default where the schema gives one and is a `TypeError`
//! otherwise; an explicit nil is a `TypeError` for a type that cannot be nil; an
//! unknown keyword, a keyword given twice or too many positionals are `TypeError`s.
//! Property-tested over real sockets against the generated dispatcher.

use cara::Value;
use proptest::prelude::*;

cara::schema!("../../schemas/tests/strict.capnp");

use strict_capnp::*;

struct Impl;

impl Strict for Impl {
    async fn f(
        &self,
        a: i32,
        b: String,
        c: i32,
        d: Vec<i32>,
        e: Point,
    ) -> Result<String, cara::Fault> {
        Ok(format!("{a} {b} {c} {d:?} {}", e.x))
    }
}

/// How one parameter is passed.
#[derive(Clone, Copy, Debug)]
enum Pass {
    Absent,
    Value,
    Nil,
}

const NAMES: [&str; 5] = ["a", "b", "c", "d", "e"];
/// Which parameters have a schema default (only `c`), and which types take nil.
const HAS_DEFAULT: [bool; 5] = [false, false, true, false, false];
const NULLABLE: [bool; 5] = [false, false, false, true, true];

fn value(i: usize) -> Value {
    match i {
        0 => 1.into(),
        1 => "x".into(),
        2 => 3.into(),
        3 => Value::Array(vec![4.into()]),
        _ => Value::Map(vec![(0.into(), 5.into())]),
    }
}

#[derive(Clone, Debug)]
struct Case {
    /// How many leading parameters go positionally (the rest by keyword or not at all).
    positional: usize,
    pass: [Pass; 5],
    extra_positional: bool,
    unknown_keyword: bool,
}

fn case() -> impl Strategy<Value = Case> {
    let pass = prop_oneof![Just(Pass::Absent), Just(Pass::Value), Just(Pass::Nil)];
    (
        0..=5usize,
        [pass.clone(), pass.clone(), pass.clone(), pass.clone(), pass],
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(positional, mut pass, extra_positional, unknown_keyword)| {
                // Positional arguments are a prefix: none of them is absent.
                for p in pass.iter_mut().take(positional) {
                    if let Pass::Absent = p {
                        *p = Pass::Value;
                    }
                }
                Case {
                    positional,
                    pass,
                    extra_positional: extra_positional && positional == 5,
                    unknown_keyword,
                }
            },
        )
}

/// What the rules say: `Ok(result text)` or the start of the TypeError message.
#[allow(clippy::needless_range_loop)]
fn expected(c: &Case) -> Result<String, String> {
    if c.extra_positional {
        return Err("f() takes 5 positional arguments but 6 were given".into());
    }
    if c.unknown_keyword {
        return Err("f() got an unexpected keyword argument \"zzz\"".into());
    }
    for i in 0..5 {
        match c.pass[i] {
            Pass::Absent if !HAS_DEFAULT[i] => {
                return Err(format!("f() missing required argument {:?}", NAMES[i]));
            }
            Pass::Nil if !NULLABLE[i] => return Err(format!("f() argument {:?}", NAMES[i])),
            _ => {}
        }
    }
    let c_value = match c.pass[2] {
        Pass::Absent => 7,
        _ => 3,
    };
    let d = match c.pass[3] {
        Pass::Nil => "[]",
        _ => "[4]",
    };
    let e = match c.pass[4] {
        Pass::Nil => 0,
        _ => 5,
    };
    Ok(format!("1 x {c_value} {d} {e}"))
}

fn runtime() -> &'static (tokio::runtime::Runtime, cara::Server, cara::Client) {
    static RT: std::sync::OnceLock<(tokio::runtime::Runtime, cara::Server, cara::Client)> =
        std::sync::OnceLock::new();
    RT.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (server, client) = rt.block_on(async {
            let server = cara::Server::builder("server")
                .bind("tcp://127.0.0.1:0")
                .start()
                .unwrap();
            cara::serve(server.registry(), StrictServer::new(Impl)).unwrap();
            let client = cara::Client::builder()
                .connect(&server.endpoints()[0])
                .unwrap();
            (server, client)
        });
        (rt, server, client)
    })
}

// One index walks the parameter tables together.
#[allow(clippy::needless_range_loop)]
fn call(c: &Case) -> Result<String, (String, String)> {
    let (rt, _server, client) = runtime();
    rt.block_on(async {
        let mut request = client.request("Strict.f");
        for i in 0..c.positional {
            request = request.arg(match c.pass[i] {
                Pass::Nil => Value::Nil,
                _ => value(i),
            });
        }
        if c.extra_positional {
            request = request.arg(9);
        }
        for i in c.positional..5 {
            match c.pass[i] {
                Pass::Absent => {}
                Pass::Value => request = request.kwarg(NAMES[i], value(i)),
                Pass::Nil => request = request.kwarg(NAMES[i], Value::Nil),
            }
        }
        if c.unknown_keyword {
            request = request.kwarg("zzz", 1);
        }
        match request.send::<String>().await {
            Ok(text) => Ok(text),
            Err(cara::Error::Remote(e)) => Err((e.class, e.message)),
            Err(other) => panic!("{other}"),
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn binding_follows_the_rules(c in case()) {
        match (expected(&c), call(&c)) {
            (Ok(want), Ok(got)) => prop_assert_eq!(got, want),
            (Err(want), Err((class, message))) => {
                prop_assert_eq!(class, "TypeError");
                prop_assert!(message.starts_with(&want), "{message:?} should start with {want:?}");
            }
            (want, got) => prop_assert!(false, "{c:?}: expected {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn the_issue_cases() {
    // `add(2)`, `add()`, `add(None, 5)` from Python no longer become zeros.
    let (rt, _server, client) = runtime();
    let err = |r: Result<String, cara::Error>| match r {
        Err(cara::Error::Remote(e)) => format!("{}: {}", e.class, e.message),
        other => panic!("{other:?}"),
    };
    rt.block_on(async {
        assert_eq!(
            err(client.call::<String>("Strict.f", (1,)).await),
            "TypeError: f() missing required argument \"b\""
        );
        assert_eq!(
            err(client.call::<String>("Strict.f", ()).await),
            "TypeError: f() missing required argument \"a\""
        );
        assert!(
            err(client
                .call::<String>("Strict.f", (Value::Nil, "x", 1, Value::Nil, Value::Nil))
                .await)
            .starts_with("TypeError: f() argument \"a\": expected Int32, got nil")
        );
        // The typed client always sends every argument.
        let typed = StrictClient::new(client.server().clone());
        assert_eq!(
            typed
                .f(1, "x".into(), 2, vec![], Point { x: 3, y: 0 })
                .await
                .unwrap(),
            "1 x 2 [] 3"
        );
    });
}
