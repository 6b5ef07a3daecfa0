//! Where socket loops and handlers run: a server's socket loop on its own thread
//! (the default), handlers and what they spawn on the runtime that started it.

mod common;

use std::time::Duration;

use pseud::{Client, Server};

/// Held by every test here: the thread count check must not see other tests'
/// runtimes come and go.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|p| p.into_inner())
}

/// The name of the thread running the caller.
fn thread_name() -> String {
    std::thread::current().name().unwrap_or("").to_string()
}

/// A runtime whose workers are recognisable by name.
fn app_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("app-worker")
        .enable_all()
        .build()
        .unwrap()
}

/// Where a server built by `builder` runs its handlers, as thread names:
/// `(sync handler, a task the sync handler spawns, async handler after a yield)`.
async fn handler_threads(builder: pseud::ServerBuilder) -> (String, String, String) {
    let server = common::server(builder);
    let (tx, mut spawned) = tokio::sync::mpsc::unbounded_channel();
    server
        .register("where", move || {
            let tx = tx.clone();
            tokio::spawn(async move {
                let _ = tx.send(thread_name());
            });
            thread_name()
        })
        .unwrap();
    server
        .register("where_async", || async {
            tokio::task::yield_now().await;
            thread_name()
        })
        .unwrap();
    let client = common::client(&server, Client::builder());

    let sync_thread: String = client.call("where", ()).await.unwrap();
    let spawned_thread = spawned.recv().await.unwrap();
    let async_thread: String = client.call("where_async", ()).await.unwrap();

    client.stop().await;
    server.stop().await;
    (sync_thread, spawned_thread, async_thread)
}

#[test]
fn a_servers_socket_loop_has_its_own_thread_and_handlers_spawn_onto_the_app() {
    let _serial = serial();
    let (sync_thread, spawned, async_thread) =
        app_runtime().block_on(handler_threads(Server::builder("threaded")));
    assert_eq!(sync_thread, "pseud server threaded");
    assert_eq!(spawned, "app-worker");
    assert_eq!(async_thread, "app-worker");
}

#[test]
fn without_its_own_thread_the_socket_loop_is_a_task_of_the_app() {
    let _serial = serial();
    let (sync_thread, spawned, async_thread) = app_runtime().block_on(handler_threads(
        Server::builder("tasked").socket_loop(pseud::SocketLoop::OnRuntime),
    ));
    assert_eq!(sync_thread, "app-worker");
    assert_eq!(spawned, "app-worker");
    assert_eq!(async_thread, "app-worker");
}

#[test]
fn a_client_may_have_its_own_thread_too() {
    let _serial = serial();
    app_runtime().block_on(async {
        let server = common::server(Server::builder("for-threaded-client"));
        server.register("add", |a: i64, b: i64| a + b).unwrap();
        server
            .register("relay", |ctx: pseud::Context| async move {
                ctx.caller().call::<String>("client.where", ()).await
            })
            .unwrap();
        let client = common::client(
            &server,
            Client::builder().socket_loop(pseud::SocketLoop::OwnThread),
        );
        client.register("client.where", thread_name).unwrap();

        for i in 0..100 {
            let sum: i64 = client.call("add", (i, 1)).await.unwrap();
            assert_eq!(sum, i + 1);
        }
        let client_thread: String = client.call("relay", ()).await.unwrap();
        assert_eq!(client_thread, "pseud client of for-threaded-client");

        client.stop().await;
        server.stop().await;
    });
}

/// Threads of this process, from the kernel's count.
fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("Threads:")).unwrap();
    line["Threads:".len()..].trim().parse().unwrap()
}

#[test]
fn stopped_servers_leave_no_thread_behind() {
    let _serial = serial();
    app_runtime().block_on(async {
        // Warm up what stays: libzmq's threads, the runtime's blocking pool.
        let warm = common::server(Server::builder("warm-up"));
        warm.stop().await;
        let before = threads();
        for k in 0..40 {
            let server = common::server(Server::builder(format!("short-lived-{k}")));
            server.register("k", move || k).unwrap();
            let client = common::client(&server, Client::builder());
            let got: i32 = client
                .request("k")
                .timeout(Duration::from_secs(5))
                .send()
                .await
                .unwrap();
            assert_eq!(got, k);
            client.stop().await;
            server.stop().await;
        }
        let after = threads();
        // One leaked thread per server would show as 40; allow the blocking pool
        // (which joins use) to have grown by a few.
        assert!(
            after <= before + 4,
            "{before} threads before 40 servers, {after} after they stopped"
        );
    });
}
