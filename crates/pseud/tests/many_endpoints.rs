//! Many servers and clients in one process stay live while others shut down.
//!
//! Regression test: libzmq's I/O thread blocks on monitor events once their reader
//! is gone, which froze every socket of the process when one endpoint closed.

mod common;

use std::time::Duration;

async fn one_pair(k: i64) {
    let (server, client) = common::pair().await;
    server.register("add", |a: i64, b: i64| a + b).unwrap();
    let remote = client.server().clone().with_timeout(Duration::from_secs(3));
    // Pairs finish at different times, so some close while others still call.
    for i in 0..(50 + 20 * k) {
        let r: i64 = remote.call("add", (i, k)).await.unwrap();
        assert_eq!(r, i + k);
    }
    client.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pairs_in_one_runtime() {
    let tasks: Vec<_> = (0..12).map(|k| tokio::spawn(one_pair(k))).collect();
    for t in tasks {
        t.await.unwrap();
    }
}

#[test]
fn pairs_in_separate_runtimes() {
    let threads: Vec<_> = (0..8)
        .map(|k| {
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(one_pair(k))
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}
