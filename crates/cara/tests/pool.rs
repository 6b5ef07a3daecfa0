//! Client-side balancing (`pseud::Pool`, `cara::pooled`): calls spread over
//! replicas, objects stay bound to the replica that made them, replicas call
//! the client back, and a replica that goes loses only its own calls.

#[allow(dead_code)] // helpers the other test binaries use
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use cara::{Fault, PeerEvent};
use support::eventually;

mod schemas {
    cara::schema!("../../schemas/tier.capnp");
}

use schemas::tier_capnp::{
    Callback, CallbackClient, CallbackServer, Counter, CounterClient, Tier, TierClient, TierServer,
    counter, tier,
};

struct Replica {
    name: String,
    server: Arc<std::sync::OnceLock<cara::Remote>>,
    gate: Arc<tokio::sync::Semaphore>,
}

impl Tier for Replica {
    async fn whoami(&self) -> Result<tier::WhoamiResults, Fault> {
        let user = cara::caller().map(|c| String::from_utf8_lossy(c.user_id()).into_owned());
        Ok(tier::WhoamiResults {
            replica: self.name.clone(),
            user: user.unwrap_or_default(),
        })
    }
    async fn counter(&self, start: i64) -> Result<CounterClient, Fault> {
        Ok(CounterClient::from_server(Count(
            self.name.clone(),
            AtomicI64::new(start),
        )))
    }
    async fn apply(&self, callback: CallbackClient, x: i64) -> Result<i64, Fault> {
        Ok(callback.double(x).await? + 1)
    }
    async fn call_me_back(&self, x: i64) -> Result<i64, Fault> {
        let send_to = self
            .server
            .get()
            .cloned()
            .ok_or_else(|| Fault::new("ValueError", "no server"))?;
        Ok(CallbackClient::new(send_to).double(x).await? + 1)
    }
    async fn work(&self, tag: u64, _millis: u32) -> Result<tier::WorkResults, Fault> {
        // Held until the test lets it go: a call in flight, for certain.
        let _permit = self
            .gate
            .acquire()
            .await
            .map_err(|e| Fault::new("ValueError", e.to_string()))?;
        Ok(tier::WorkResults {
            tag,
            replica: self.name.clone(),
        })
    }
}

struct Count(String, AtomicI64);

impl Counter for Count {
    async fn next(&self) -> Result<counter::NextResults, Fault> {
        Ok(counter::NextResults {
            value: self.1.fetch_add(1, Ordering::Relaxed),
            replica: self.0.clone(),
        })
    }
}

struct Doubler;

impl Callback for Doubler {
    async fn double(&self, x: i64) -> Result<i64, Fault> {
        Ok(2 * x)
    }
}

/// Three replicas under `trusted_peer`, and a pool of clients logged in to
/// each as alice, serving the Callback the replicas call back.
async fn tier() -> (
    Vec<cara::Server>,
    Vec<Arc<tokio::sync::Semaphore>>,
    Arc<cara::Pool>,
) {
    let mut servers = Vec::new();
    let mut gates = Vec::new();
    for name in ["r1", "r2", "r3"] {
        let server = cara::Server::builder("server")
            .security(cara::ServerSecurity::TrustedPeer)
            .bind("tcp://127.0.0.1:0")
            // Stopping cancels the held calls soon (see the failover test).
            .stop_grace(Duration::from_millis(50))
            .start()
            .unwrap();
        let slot = Arc::new(std::sync::OnceLock::new());
        slot.set(server.send_to("alice")).unwrap();
        let gate = Arc::new(tokio::sync::Semaphore::new(1000));
        gates.push(gate.clone());
        cara::serve(
            server.registry(),
            TierServer::new(Replica {
                name: name.into(),
                server: slot,
                gate,
            }),
        )
        .unwrap();
        servers.push(server);
    }
    let mut clients = Vec::new();
    for server in &servers {
        let client = support::logged_in(server, "alice").await;
        cara::serve(client.registry(), CallbackServer::new(Doubler)).unwrap();
        clients.push(client);
    }
    let pool = Arc::new(cara::Pool::new(clients).unwrap());
    // Each server saw its client log in; the clients may learn that their
    // connection is up a moment later, and a pool skips those that have not.
    eventually("every client of the pool is connected", || {
        pool.connected() == 3
    })
    .await;
    (servers, gates, pool)
}

#[tokio::test]
async fn calls_go_round_the_replicas_in_turn() {
    let (_servers, _gates, pool) = tier().await;
    let tier: TierClient = cara::pooled(pool.clone());
    let mut on = Vec::new();
    for _ in 0..9 {
        let me = tier.whoami().await.unwrap();
        assert_eq!(me.user, "alice");
        on.push(me.replica);
    }
    on.sort();
    assert_eq!(on, ["r1", "r1", "r1", "r2", "r2", "r2", "r3", "r3", "r3"]);
    assert_eq!(pool.connected(), 3);
}

#[tokio::test]
async fn an_object_a_replica_returned_is_called_on_that_replica() {
    let (_servers, _gates, pool) = tier().await;
    let tier: TierClient = cara::pooled(pool);
    let mut counters = Vec::new();
    for start in [0, 100, 200] {
        counters.push((start, tier.counter(start).await.unwrap()));
    }
    let mut makers = Vec::new();
    for (start, counter) in &counters {
        let first = counter.next().await.unwrap();
        assert_eq!(first.value, *start);
        for i in 1..4 {
            let next = counter.next().await.unwrap();
            assert_eq!((next.value, &next.replica), (start + i, &first.replica));
        }
        makers.push(first.replica);
    }
    makers.sort();
    assert_eq!(makers, ["r1", "r2", "r3"], "one counter made on each");
    // Pipelined on the pool: the call on the promised counter follows the
    // first call to its replica.
    for start in [7, 8, 9] {
        let next = tier.counter_pipelined(start).next().await.unwrap();
        assert_eq!(next.value, start);
    }
}

#[tokio::test]
async fn replicas_call_the_pool_client_back() {
    let (_servers, _gates, pool) = tier().await;
    let tier: TierClient = cara::pooled(pool);
    for x in 0..6 {
        // By user id, on whichever replica took the call.
        assert_eq!(tier.call_me_back(x).await.unwrap(), 2 * x + 1);
        // A capability the client passes.
        let applied = tier
            .apply(CallbackClient::from_server(Doubler), x)
            .await
            .unwrap();
        assert_eq!(applied, 2 * x + 1);
    }
}

#[tokio::test]
async fn a_replica_that_goes_fails_its_calls_and_the_rest_serve() {
    let (mut servers, gates, pool) = tier().await;
    let tier: TierClient = cara::pooled(pool.clone());
    // Hold every replica's `work`, and put 6 calls in flight: 2 on each.
    let held: Vec<_> = gates
        .iter()
        .map(|g| g.clone().try_acquire_many_owned(1000).unwrap())
        .collect();
    let mut calls = Vec::new();
    for tag in 0..6u64 {
        let tier = tier.clone();
        calls.push(tokio::spawn(async move { (tag, tier.work(tag, 0).await) }));
    }
    eventually("6 calls are in flight", || {
        pool.clients()
            .iter()
            .map(|c| c.calls_in_flight())
            .sum::<usize>()
            == 6
    })
    .await;
    // r2 goes; its client sees the connection go.
    let mut events = pool.clients()[1].peer_events();
    servers.remove(1).stop().await;
    loop {
        match tokio::time::timeout(Duration::from_secs(5), events.recv()).await {
            Ok(Ok(PeerEvent::Disconnected { .. })) => break,
            Ok(Ok(_)) => {}
            other => panic!("no disconnect seen: {other:?}"),
        }
    }
    drop(held);
    let mut failed = 0;
    for call in calls {
        let (tag, result) = call.await.unwrap();
        match result {
            Ok(r) => {
                assert_eq!(r.tag, tag);
                assert_ne!(r.replica, "r2");
            }
            Err(cara::Error::Disconnected { .. }) => failed += 1,
            Err(other) => panic!("call {tag}: {other:?}"),
        }
    }
    assert_eq!(failed, 2, "exactly the calls in flight on r2 failed");
    assert_eq!(pool.connected(), 2);
    // New calls go to the live replicas only.
    for _ in 0..6 {
        assert_ne!(tier.whoami().await.unwrap().replica, "r2");
    }
}
