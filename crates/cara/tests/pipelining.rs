//! Promise pipelining over real sockets: calls on a result that has not arrived
//! are sent at once and run when it does; errors and release behave as for
//! resolved capabilities; objects in this process pipeline too.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use cara::Fault;
use tokio::sync::Semaphore;

mod support;

cara::schema!("../../schemas/tests/capabilities.capnp");

use capabilities_capnp::*;

struct Total(AtomicI32);

impl Adder for Total {
    async fn add(&self, x: i32) -> Result<i32, Fault> {
        Ok(self.0.fetch_add(x, Ordering::SeqCst) + x)
    }
}

/// A Calc whose `getAdder` and `factory` wait for a permit (so a test can hold
/// their results back); `getAdder` fails for a negative offset.
struct Gated(Arc<Semaphore>);

impl Calc for Gated {
    async fn get_adder(&self, offset: i32) -> Result<AdderClient, Fault> {
        if offset < 0 {
            return Err(Fault::new("ValueError", "a negative offset"));
        }
        // Each call takes a permit for good: a test gives as many as it lets through.
        self.0
            .acquire()
            .await
            .map_err(|_| Fault::new("Closed", "gate"))?
            .forget();
        Ok(AdderClient::from_server(Total(AtomicI32::new(offset))))
    }
    async fn get_sub_adder(&self, _: i32) -> Result<SubAdderClient, Fault> {
        Err(Fault::new("NotImplementedError", "getSubAdder"))
    }
    async fn evaluate(&self, value: ValueClient) -> Result<f64, Fault> {
        Ok(value.read().await?)
    }
    async fn echo(&self, adder: AdderClient) -> Result<calc::EchoResults, Fault> {
        let was_local = adder.stub().is_local();
        Ok(calc::EchoResults { adder, was_local })
    }
    async fn store(&self, _: AdderClient) -> Result<(), Fault> {
        Ok(())
    }
    async fn use_stored(&self, _: i32) -> Result<i32, Fault> {
        Err(Fault::new("LookupError", "nothing stored"))
    }
    async fn fetch_stored(&self) -> Result<AdderClient, Fault> {
        Err(Fault::new("LookupError", "nothing stored"))
    }
    async fn holder(&self, holder: Holder) -> Result<Holder, Fault> {
        Ok(holder)
    }
    async fn factory(&self) -> Result<FactoryClient, Fault> {
        // Each call takes a permit for good: a test gives as many as it lets through.
        self.0
            .acquire()
            .await
            .map_err(|_| Fault::new("Closed", "gate"))?
            .forget();
        Ok(FactoryClient::from_server(Maker(self.0.clone())))
    }
}

/// Makes adders, once given a permit by the same gate.
struct Maker(Arc<Semaphore>);

impl Factory for Maker {
    async fn make(&self, offset: i32) -> Result<AdderClient, Fault> {
        // Each call takes a permit for good: a test gives as many as it lets through.
        self.0
            .acquire()
            .await
            .map_err(|_| Fault::new("Closed", "gate"))?
            .forget();
        Ok(AdderClient::from_server(Total(AtomicI32::new(offset))))
    }
}

fn serve(permits: usize) -> (cara::Server, Arc<Semaphore>, cara::Remote) {
    let gate = Arc::new(Semaphore::new(permits));
    let server = cara::Server::builder("server")
        .bind("tcp://127.0.0.1:0")
        .start()
        .unwrap();
    cara::serve(server.registry(), CalcServer::new(Gated(gate.clone()))).unwrap();
    let probe = server.send_to("");
    (server, gate, probe)
}

fn connect(server: &cara::Server) -> (cara::Client, CalcClient) {
    let client = support::connect(server);
    let calc = CalcClient::new(client.server().clone());
    (client, calc)
}

/// `adder.add(x)` on a task of its own, so that the test can look at the server
/// while the call waits there.
fn add_later(adder: &AdderClient, x: i32) -> tokio::task::JoinHandle<Result<i32, cara::Error>> {
    let adder = adder.clone();
    tokio::spawn(async move { adder.add(x).await })
}

/// Waits until the endpoint of `probe` keeps `state.0` promises, with `state.1`
/// pipelined calls queued in them.
async fn until_state(probe: &cara::Remote, state: (usize, usize), what: &str) {
    support::eventually(what, || cara::pipelining_state(probe) == state).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_on_a_result_not_yet_returned_reaches_the_server_first_and_runs_when_it_returns() {
    let (server, gate, probe) = serve(0);
    let (client, calc) = connect(&server);
    let adder = calc.get_adder_pipelined(5);
    let first = add_later(&adder, 1);
    // getAdder is held back, yet the call on its result is already at the server.
    until_state(&probe, (1, 1), "the pipelined call waits at the server").await;
    assert!(!first.is_finished());
    gate.add_permits(1);
    assert_eq!(first.await.unwrap().unwrap(), 6);
    // Later calls on the same stub reach the same object (state kept).
    assert_eq!(adder.add(10).await.unwrap(), 16);
    let resolved = adder.stub().resolved().await.unwrap();
    assert!(!resolved.is_local() && !resolved.is_null());
    // The server keeps the promise while the client holds its object...
    assert_eq!(cara::pipelining_state(&probe), (1, 0));
    assert_eq!(cara::exported_objects(&probe), 1);
    // ...and dropping the stub releases the object, as for any capability, and
    // with it the promise.
    drop((adder, resolved));
    support::eventually("the adder is released", || {
        cara::exported_objects(&probe) == 0
    })
    .await;
    assert_eq!(cara::pipelining_state(&probe), (0, 0));
    client.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_on_a_failed_promise_fail_with_its_error() {
    let (server, _gate, probe) = serve(10);
    let (client, calc) = connect(&server);
    let adder = calc.get_adder_pipelined(-1);
    let err = adder.add(1).await.unwrap_err();
    assert_eq!(
        err.remote().map(|r| r.class.as_str()),
        Some("ValueError"),
        "{err}"
    );
    let again = adder.add(2).await.unwrap_err();
    assert_eq!(
        again.remote().map(|r| r.message.as_str()),
        Some("a negative offset")
    );
    let resolved = adder.stub().resolved().await.unwrap_err();
    assert_eq!(
        resolved.remote().map(|r| r.class.as_str()),
        Some("ValueError")
    );
    until_state(&probe, (0, 0), "the failed promise is forgotten").await;
    client.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_pipelined_calls_wait_together_and_each_runs_once_the_result_comes() {
    let (server, gate, probe) = serve(0);
    let (client, calc) = connect(&server);
    let adder = calc.get_adder_pipelined(0);
    let calls: Vec<_> = (1..=20).map(|i| add_later(&adder, i)).collect();
    until_state(&probe, (1, 20), "all 20 wait at the server").await;
    gate.add_permits(1);
    let mut sums = Vec::new();
    for c in calls {
        sums.push(c.await.unwrap().unwrap());
    }
    // Each added once to the one object: the running totals cover 1..=20's sum.
    sums.sort();
    assert_eq!(*sums.last().unwrap(), (1..=20).sum::<i32>());
    assert_eq!(adder.add(0).await.unwrap(), 210);
    client.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_promise_cannot_be_passed_on_but_a_resolved_one_can() {
    let (server, gate, _probe) = serve(0);
    let (client, calc) = connect(&server);
    let adder = calc.get_adder_pipelined(3);
    let err = calc.echo(adder.clone()).await.unwrap_err();
    assert!(
        matches!(err, cara::Error::Encode { .. }) && err.to_string().contains("resolved()"),
        "{err}"
    );
    assert_eq!(
        cara::to_value(&adder).unwrap_err(),
        cara::EncodeError::Unresolved
    );
    gate.add_permits(1);
    adder.stub().resolved().await.unwrap();
    // Resolved: it travels back to its owner as itself.
    let echoed = calc.echo(adder.clone()).await.unwrap();
    assert!(echoed.was_local, "the server saw its own object");
    assert_eq!(echoed.adder.add(1).await.unwrap(), 4);
    client.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_in_this_process_and_nulls_pipeline_too() {
    let gate = Arc::new(Semaphore::new(10));
    let local = CalcClient::from_server(Gated(gate));
    assert_eq!(local.get_adder_pipelined(7).add(1).await.unwrap(), 8);
    let err = local.get_adder_pipelined(-1).add(1).await.unwrap_err();
    assert_eq!(err.remote().map(|r| r.class.as_str()), Some("ValueError"));
    let null = CalcClient::default();
    let err = null.get_adder_pipelined(1).add(1).await.unwrap_err();
    assert!(matches!(err, cara::Error::NullCapability { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_leaves_drops_its_promises() {
    let (server, _gate, probe) = serve(0);
    let (client, calc) = connect(&server);
    let adder = calc.get_adder_pipelined(1);
    let pending = add_later(&adder, 1);
    until_state(&probe, (1, 1), "the pipelined call waits").await;
    client.stop().await;
    let err = pending.await.unwrap().unwrap_err();
    assert!(
        matches!(err, cara::Error::Disconnected { .. } | cara::Error::Closed),
        "{err}"
    );
    support::eventually("the promise went with its peer", || {
        cara::pipelining_state(&probe).0 == 0
    })
    .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_on_the_result_of_a_call_on_an_object_pipeline_too() {
    let (server, gate, probe) = serve(1);
    let (client, calc) = connect(&server);
    let factory = calc.factory().await.unwrap();
    assert!(!factory.stub().is_local());
    // make() on an imported object: cara.promise wraps `call`.
    let adder = factory.make_pipelined(5);
    let sum = add_later(&adder, 1);
    until_state(&probe, (1, 1), "the pipelined call waits at the server").await;
    gate.add_permits(1);
    assert_eq!(sum.await.unwrap().unwrap(), 6);
    drop(adder);
    until_state(&probe, (0, 0), "the promise went with the adder").await;
    client.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_of_calls_on_results_goes_out_at_once() {
    let (server, gate, probe) = serve(0);
    let (client, calc) = connect(&server);
    // factory() -> make(7) -> add(1), while factory() waits for a permit: all
    // three are at the server before the first returns, make queued on the
    // factory's promise and add on make's.
    let adder = calc.factory_pipelined().make_pipelined(7);
    let sum = add_later(&adder, 1);
    until_state(&probe, (2, 2), "make and add wait at the server").await;
    gate.add_permits(2);
    assert_eq!(sum.await.unwrap().unwrap(), 8);
    assert_eq!(adder.add(1).await.unwrap(), 9, "the same adder");
    client.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_pipelines_calls_to_a_client_by_user_id() {
    // The client serves the Calc; the server calls it by user id (send_to).
    let server = support::trusted_peer_server();
    let client = support::logged_in(&server, "alice").await;
    let gate = Arc::new(Semaphore::new(0));
    cara::serve(client.registry(), CalcServer::new(Gated(gate.clone()))).unwrap();
    let on_alice = CalcClient::new(server.send_to("alice"));
    let adder = on_alice.get_adder_pipelined(2);
    let sum = add_later(&adder, 1);
    // The client keeps the promise, with the call on its result waiting in it.
    let probe = client.server().clone();
    until_state(&probe, (1, 1), "the pipelined call waits at the client").await;
    gate.add_permits(1);
    assert_eq!(sum.await.unwrap().unwrap(), 3);
    assert_eq!(adder.add(1).await.unwrap(), 4);
    drop(adder);
    until_state(&probe, (0, 0), "the promise went with the adder").await;
    client.stop().await;
    server.stop().await;
}
