//! Calls over real loopback sockets: typed, dynamic, kwargs, dotted names, errors.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pseud::{Args, Context, Error, Fault, Function, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_sync_and_async_calls() {
    let (server, client) = common::pair().await;
    server.register("add", |a: i64, b: i64| a + b).unwrap();
    server
        .register("string.upper", |s: String| s.to_uppercase())
        .unwrap();
    server
        .register("sleep", |s: f64| async move {
            tokio::time::sleep(Duration::from_secs_f64(s)).await;
            s
        })
        .unwrap();
    let sum: i64 = client.call("add", (2, 5)).await.unwrap();
    assert_eq!(sum, 7);
    let up: String = client.call("string.upper", ("hello",)).await.unwrap();
    assert_eq!(up, "HELLO");
    let slept: f64 = client.call("sleep", (0.01,)).await.unwrap();
    assert_eq!(slept, 0.01);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyword_arguments_and_defaults() {
    let (server, client) = common::pair().await;
    server
        .register(
            "kw",
            Function::new(|a: i64, b: i64| vec![a, b])
                .params(["a", "b"])
                .default("b", 2),
        )
        .unwrap();
    let r: Vec<i64> = client
        .request("kw")
        .arg(1)
        .kwarg("b", 3)
        .send()
        .await
        .unwrap();
    assert_eq!(r, vec![1, 3]);
    let r: Vec<i64> = client.call("kw", (1,)).await.unwrap();
    assert_eq!(r, vec![1, 2]);
    let r: Vec<i64> = client
        .request("kw")
        .kwarg("b", 4)
        .kwarg("a", 5)
        .send()
        .await
        .unwrap();
    assert_eq!(r, vec![5, 4]);
    let err = client
        .request("kw")
        .kwarg("c", 1)
        .arg(1)
        .send::<Value>()
        .await
        .unwrap_err();
    let remote = err.remote().unwrap();
    assert_eq!(remote.class, "TypeError");
    assert!(
        remote.message.contains("unexpected keyword argument \"c\""),
        "{remote}"
    );
    let err = client
        .request("kw")
        .arg(1)
        .kwarg("a", 1)
        .send::<Value>()
        .await
        .unwrap_err();
    assert!(err.remote().unwrap().message.contains("multiple values"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamic_handlers_see_args_and_kwargs() {
    let (server, client) = common::pair().await;
    server
        .register("dyn", |args: Args| {
            Value::Array(vec![
                Value::from(args.args.len()),
                Value::from(args.kwargs.len()),
            ])
        })
        .unwrap();
    server.register("echo", |x: Value| x).unwrap();
    let r: Vec<u64> = client
        .call_dynamic(
            "dyn",
            Args::positional(vec![1.into(), 2.into()]).kwarg("k", "v"),
        )
        .await
        .map(|v| pseud::value::from_value(v).unwrap())
        .unwrap();
    assert_eq!(r, vec![2, 1]);
    let odd = Value::Map(vec![
        (Value::from(1), Value::from("intkey")),
        (Value::from("bin"), Value::Binary(vec![0, 255])),
        (Value::from("f"), Value::F64(1.5)),
        (Value::from("nil"), Value::Nil),
        (Value::from("ext"), Value::Ext(125, vec![1, 2, 3])),
    ]);
    let back: Value = client.call("echo", vec![odd.clone()]).await.unwrap();
    assert_eq!(back, odd);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_carry_class_message_and_traceback() {
    let (server, client) = common::pair().await;
    server
        .register("fail", || -> Result<(), Fault> {
            Err(Fault::new("ValueError", "boom"))
        })
        .unwrap();
    server
        .register("parse", |s: String| s.parse::<i32>())
        .unwrap();
    server
        .register("panics", || -> i64 { panic!("kaput") })
        .unwrap();
    struct Unencodable;
    impl serde::Serialize for Unencodable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("not representable"))
        }
    }
    server.register("unencodable", || Unencodable).unwrap();

    let err = client.call::<Value>("fail", ()).await.unwrap_err();
    let r = err.remote().unwrap();
    assert_eq!(
        (r.class.as_str(), r.message.as_str()),
        ("ValueError", "boom")
    );

    let err = client.call::<i32>("parse", ("x",)).await.unwrap_err();
    let r = err.remote().unwrap();
    assert_eq!(r.class, "ParseIntError");
    assert!(r.traceback.contains("ParseIntError"), "{}", r.traceback);

    let err = client.call::<Value>("no.such.fn", ()).await.unwrap_err();
    let r = err.remote().unwrap();
    assert!(r.is_service_not_found());
    assert_eq!(r.message, "no.such.fn");

    let err = client.call::<i64>("panics", ()).await.unwrap_err();
    let r = err.remote().unwrap();
    assert_eq!(r.class, "PanicError");
    assert!(r.message.contains("kaput"));

    let err = client.call::<Value>("unencodable", ()).await.unwrap_err();
    assert_eq!(err.remote().unwrap().class, "EncodeError");

    // The server still serves after all of that.
    let ok: bool = client.call("__ping", ()).await.unwrap();
    assert!(ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arguments_that_do_not_fit_are_type_errors() {
    let (server, client) = common::pair().await;
    server.register("add", |a: i64, b: i64| a + b).unwrap();
    for (args, needle) in [
        (vec![Value::from(1)], "takes 2 positional arguments but 1"),
        (
            vec![1.into(), 2.into(), 3.into()],
            "takes 2 positional arguments but 3",
        ),
        (vec![1.into(), "x".into()], "argument 2"),
    ] {
        let err = client.call::<i64>("add", args).await.unwrap_err();
        let r = err.remote().unwrap();
        assert_eq!(r.class, "TypeError", "{r}");
        assert!(r.message.contains(needle), "{r}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decode_errors_on_the_caller_side_are_typed() {
    let (server, client) = common::pair().await;
    server.register("s", || "text").unwrap();
    let err = client.call::<i64>("s", ()).await.unwrap_err();
    assert!(matches!(err, Error::Decode { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_handler_never_delays_others() {
    let (server, client) = common::pair().await;
    let (release, wait) = tokio::sync::oneshot::channel::<()>();
    let wait = Arc::new(tokio::sync::Mutex::new(Some(wait)));
    server
        .register("block", move || {
            let wait = wait.clone();
            async move {
                let rx = wait.lock().await.take();
                if let Some(rx) = rx {
                    let _ = rx.await;
                }
                "released"
            }
        })
        .unwrap();
    server.register("add", |a: i64, b: i64| a + b).unwrap();
    let slow = {
        let remote = client.server().clone();
        tokio::spawn(async move { remote.call::<String>("block", ()).await })
    };
    // Many fast calls complete while the slow one is still running.
    for i in 0..50 {
        let r: i64 = client.call("add", (i, 1)).await.unwrap();
        assert_eq!(r, i + 1);
    }
    assert!(!slow.is_finished());
    release.send(()).unwrap();
    assert_eq!(slow.await.unwrap().unwrap(), "released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_calls_in_flight_on_one_socket() {
    let (server, client) = common::pair().await;
    server.register("add", |a: i64, b: i64| a + b).unwrap();
    let mut tasks = Vec::new();
    for t in 0..20i64 {
        let remote = client.server().clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..50i64 {
                let r: i64 = remote.call("add", (t, i)).await.unwrap();
                assert_eq!(r, t + i);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_fire_and_late_replies_are_dropped() {
    let (server, client) = common::pair().await;
    let finished = Arc::new(AtomicUsize::new(0));
    let f2 = finished.clone();
    server
        .register("slow", move |ms: u64| {
            let f = f2.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                f.fetch_add(1, Ordering::SeqCst);
                ms
            }
        })
        .unwrap();
    let started = Instant::now();
    let err = client
        .request("slow")
        .arg(300)
        .timeout(Duration::from_millis(50))
        .send::<u64>()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { .. }), "{err}");
    assert!(started.elapsed() < Duration::from_millis(290));
    assert_eq!(client.calls_in_flight(), 0);
    // The late reply arrives and is dropped quietly; the client keeps working.
    let r: u64 = client.call("slow", (1,)).await.unwrap();
    assert_eq!(r, 1);
    while finished.load(Ordering::SeqCst) < 2 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let r: u64 = client.call("slow", (2,)).await.unwrap();
    assert_eq!(r, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_client_timeout_applies() {
    let server = common::server(pseud::Server::builder("server"));
    server
        .register("never", std::future::pending::<i64>)
        .unwrap();
    let client = common::client(
        &server,
        pseud::Client::builder().timeout(Duration::from_millis(100)),
    );
    let err = client.call::<i64>("never", ()).await.unwrap_err();
    assert!(
        matches!(err, Error::Timeout { timeout, .. } if timeout == Duration::from_millis(100)),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_call_future_cleans_up() {
    let (server, client) = common::pair().await;
    server
        .register("never", std::future::pending::<i64>)
        .unwrap();
    let call = client.call::<i64>("never", ());
    // Poll it once so it is really sent, then drop it.
    let r = tokio::time::timeout(Duration::from_millis(50), call).await;
    assert!(r.is_err());
    assert_eq!(
        client.calls_in_flight(),
        0,
        "the dropped call left its entry behind"
    );
    // A fresh call still works and the dropped one left nothing behind.
    let ok: bool = client.call("__ping", ()).await.unwrap();
    assert!(ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_wide_registry_and_fn_names() {
    fn triple(x: i64) -> i64 {
        3 * x
    }
    pseud::Registry::global().register_fn(triple).unwrap();
    let (_server, client) = common::pair().await;
    let r: i64 = client.call("triple", (3,)).await.unwrap();
    assert_eq!(r, 9);
    let isolated = common::server(pseud::Server::builder("iso").without_global_registry());
    let c = common::client(&isolated, pseud::Client::builder());
    let err = c.call::<i64>("triple", (3,)).await.unwrap_err();
    assert!(err.remote().unwrap().is_service_not_found());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn context_gives_identity_and_caller() {
    let (server, client) = common::pair().await;
    server
        .register("whoami", |ctx: Context| {
            serde_bytes::ByteBuf::from(ctx.user_id().to_vec())
        })
        .unwrap();
    let who: serde_bytes::ByteBuf = client.call("whoami", ()).await.unwrap();
    assert!(who.is_empty(), "noop has an empty user id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipc_and_inproc_endpoints_work() {
    let dir = std::env::temp_dir().join(format!("pseud-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ipc = format!("ipc://{}/s.sock", dir.display());
    for endpoint in [ipc.as_str(), "inproc://pseud-test-inproc"] {
        let server = pseud::Server::builder("server")
            .bind(endpoint)
            .start()
            .unwrap();
        server.register("add", |a: i64, b: i64| a + b).unwrap();
        let client = pseud::Client::builder().connect(endpoint).unwrap();
        let r: i64 = client.call("add", (2, 5)).await.unwrap();
        assert_eq!(r, 7, "{endpoint}");
        client.stop().await;
        server.stop().await;
    }
}
