//! Live capabilities over real sockets: returned interfaces, callbacks, passing
//! back, forwarding, release, disconnects, scoping and inheritance.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cara::{Fault, Value};

mod support;

cara::schema!("../../schemas/tests/capabilities.capnp");

use capabilities_capnp::*;

/// Keeps a running total.
struct Total {
    total: AtomicI32,
    calls: Arc<AtomicUsize>,
}

impl Total {
    fn new(offset: i32) -> Self {
        Total {
            total: AtomicI32::new(offset),
            calls: Arc::new(AtomicUsize::new(0)),
        }
    }
}

impl Adder for Total {
    async fn add(&self, x: i32) -> Result<i32, Fault> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(self.total.fetch_add(x, Ordering::SeqCst) + x)
    }
}

impl SubAdder for Total {
    async fn twice(&self, x: i32) -> Result<i32, Fault> {
        Ok(self.total.fetch_add(2 * x, Ordering::SeqCst) + 2 * x)
    }
}

#[derive(Default)]
struct CalcImpl {
    stored: Mutex<Option<AdderClient>>,
}

impl Calc for CalcImpl {
    async fn get_adder(&self, offset: i32) -> Result<AdderClient, Fault> {
        Ok(AdderClient::from_server(Total::new(offset)))
    }
    async fn get_sub_adder(&self, offset: i32) -> Result<SubAdderClient, Fault> {
        Ok(SubAdderClient::from_server(Total::new(offset)))
    }
    async fn evaluate(&self, value: ValueClient) -> Result<f64, Fault> {
        // Call the caller's object back, over the same connection.
        Ok(value.read().await? * 2.0)
    }
    async fn echo(&self, adder: AdderClient) -> Result<calc::EchoResults, Fault> {
        let was_local = adder.stub().is_local();
        Ok(calc::EchoResults { adder, was_local })
    }
    async fn store(&self, adder: AdderClient) -> Result<(), Fault> {
        *self.stored.lock().unwrap() = Some(adder);
        Ok(())
    }
    async fn use_stored(&self, x: i32) -> Result<i32, Fault> {
        let stored = self.stored.lock().unwrap().clone();
        match stored {
            Some(adder) => Ok(adder.add(x).await?),
            None => Err(Fault::new("LookupError", "nothing stored")),
        }
    }
    async fn fetch_stored(&self) -> Result<AdderClient, Fault> {
        self.stored
            .lock()
            .unwrap()
            .clone()
            .ok_or_else(|| Fault::new("LookupError", "nothing stored"))
    }
    async fn factory(&self) -> Result<FactoryClient, Fault> {
        Err(Fault::new("NotImplementedError", "factory"))
    }
    async fn holder(&self, holder: Holder) -> Result<Holder, Fault> {
        let mut sum = 0;
        for adder in &holder.many {
            sum += adder.add(1).await?;
        }
        Ok(Holder {
            name: format!("{} {sum}", holder.name),
            ..holder
        })
    }
}

struct Constant(f64);

impl capabilities_capnp::Value for Constant {
    async fn read(&self) -> Result<f64, Fault> {
        Ok(self.0)
    }
}

fn server() -> cara::Server {
    let server = cara::Server::builder("server")
        .bind("tcp://127.0.0.1:0")
        .start()
        .unwrap();
    cara::serve(server.registry(), CalcServer::new(CalcImpl::default())).unwrap();
    server
}

fn client(server: &cara::Server) -> (cara::Client, CalcClient) {
    let client = support::connect(server);
    let calc = CalcClient::new(client.server().clone());
    (client, calc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_returned_interface_keeps_its_state() {
    let server = server();
    let (_client, calc) = client(&server);
    let adder = calc.get_adder(5).await.unwrap();
    assert_eq!(adder.add(1).await.unwrap(), 6);
    assert_eq!(
        adder.add(10).await.unwrap(),
        16,
        "the same object, with its state"
    );
    let other = calc.get_adder(100).await.unwrap();
    assert_eq!(other.add(1).await.unwrap(), 101);
    assert_eq!(adder.add(0).await.unwrap(), 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_calls_a_client_callback_under_noop() {
    let server = server();
    let (_client, calc) = client(&server);
    let value = ValueClient::from_server(Constant(21.0));
    assert_eq!(calc.evaluate(value).await.unwrap(), 42.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capability_passed_back_resolves_to_the_local_object() {
    let server = server();
    let (_client, calc) = client(&server);
    // The server's object comes back to the server as itself.
    let adder = calc.get_adder(0).await.unwrap();
    let echoed = calc.echo(adder.clone()).await.unwrap();
    assert!(
        echoed.was_local,
        "the server saw its own object, not a proxy"
    );
    assert_eq!(
        echoed.adder, adder,
        "and the client gets the same reference back"
    );
    // The client's own object comes back to the client as itself.
    let mine = AdderClient::from_server(Total::new(7));
    let back = calc.echo(mine.clone()).await.unwrap();
    assert!(!back.was_local);
    assert!(
        back.adder.stub().is_local(),
        "no round trip for our own object"
    );
    assert_eq!(back.adder, mine);
    assert_eq!(back.adder.add(1).await.unwrap(), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_capability_is_forwarded_from_one_client_to_another() {
    let server = server();
    let (_a, calc_a) = client(&server);
    let (_b, calc_b) = client(&server);
    let total = Total::new(1000);
    let calls = total.calls.clone();
    calc_a.store(AdderClient::from_server(total)).await.unwrap();
    let via_server = calc_b.fetch_stored().await.unwrap();
    assert_eq!(
        via_server.add(1).await.unwrap(),
        1001,
        "B reaches A's object through the server"
    );
    assert_eq!(calc_a.use_stored(1).await.unwrap(), 1002);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capabilities_inside_structs_and_lists() {
    let server = server();
    let (_client, calc) = client(&server);
    let adders = vec![
        AdderClient::from_server(Total::new(1)),
        AdderClient::from_server(Total::new(2)),
    ];
    let back = calc
        .holder(Holder {
            name: "sum".into(),
            adder: AdderClient::default(),
            many: adders.clone(),
        })
        .await
        .unwrap();
    assert_eq!(back.name, "sum 5");
    assert_eq!(back.many, adders);
    assert!(back.adder.stub().is_null());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_last_stub_releases_the_export() {
    let server = server();
    let probe = server.send_to("");
    let (_client, calc) = client(&server);
    let adder = calc.get_adder(0).await.unwrap();
    let copy = adder.clone();
    assert_eq!(cara::exported_objects(&probe), 1);
    drop(adder);
    assert_eq!(
        copy.add(1).await.unwrap(),
        1,
        "a remaining clone keeps it alive"
    );
    drop(copy);
    support::eventually("the server freed the object", || {
        cara::exported_objects(&probe) == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnect_frees_exports_and_stubs_fail_fast() {
    let server = server();
    let probe = server.send_to("");
    let (client_a, calc_a) = client(&server);
    let (_b, calc_b) = client(&server);
    calc_a
        .store(AdderClient::from_server(Total::new(0)))
        .await
        .unwrap();
    let held_by_b = calc_b.get_adder(0).await.unwrap();
    assert_eq!(
        cara::exported_objects(&probe),
        1,
        "the server exported one object to B"
    );
    client_a.stop().await;
    let started = Instant::now();
    let err = calc_b.use_stored(1).await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "fails fast, not by timeout"
    );
    assert!(
        err.to_string().contains("Disconnected") || err.to_string().contains("lost"),
        "{err}"
    );
    // It names the peer as it was addressed, not a debug dump of the remote.
    assert!(!err.to_string().contains("Remote("), "{err}");

    // The server goes away: B's stubs fail with Disconnected at once.
    server.stop().await;
    let err = held_by_b.add(1).await.unwrap_err();
    assert!(matches!(err, cara::Error::Disconnected { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sub_interface_stands_in_for_its_super_interface() {
    let server = server();
    let (_client, calc) = client(&server);
    // Server → client: a SubAdder returned, used as an Adder.
    let sub = calc.get_sub_adder(10).await.unwrap();
    assert_eq!(sub.twice(1).await.unwrap(), 12);
    let as_adder: AdderClient = sub.clone().into();
    assert_eq!(as_adder.add(1).await.unwrap(), 13);
    // Client → server: a local SubAdder passed where an Adder is expected.
    let local: AdderClient = SubAdderClient::from_server(Total::new(100)).into();
    calc.store(local).await.unwrap();
    assert_eq!(calc.use_stored(1).await.unwrap(), 101);
}

/// A raw DEALER: sends frames, returns the decoded reply (type byte, body).
fn raw_call(d: &zmq::Socket, name: &str, args: Vec<Value>) -> (u8, Value) {
    let body = Value::Array(vec![
        Value::from(name),
        Value::Array(args),
        Value::Map(vec![]),
    ]);
    let mut bytes = Vec::new();
    cara::pseud::value::write_value(&mut bytes, &body);
    d.send_multipart([&b""[..], b"v1", b"0123456789abcdef", &[0x03], &bytes], 0)
        .unwrap();
    let reply = d.recv_multipart(0).expect("reply within 5 s");
    (
        reply[3][0],
        cara::pseud::value::read_value(&reply[4]).unwrap(),
    )
}

fn dealer(server: &cara::Server) -> zmq::Socket {
    let ctx = zmq::Context::new();
    let d = ctx.socket(zmq::DEALER).unwrap();
    d.set_rcvtimeo(5000).unwrap();
    d.set_linger(0).unwrap();
    d.connect(&server.endpoints()[0]).unwrap();
    std::mem::forget(ctx);
    d
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_cannot_call_objects_exported_to_another_peer() {
    let server = server();
    let owner = dealer(&server);
    let thief = dealer(&server);
    tokio::task::spawn_blocking(move || {
        let (kind, reply) = raw_call(&owner, "Calc.getAdder", vec![Value::from(5)]);
        assert_eq!(kind, 0x01, "{reply}");
        let Value::Ext(100, payload) = reply else {
            panic!("not a capability: {reply}")
        };
        let id = cara::pseud::value::read_value(&payload).unwrap();
        let iface = adder::INFO.id;
        let call = |who: &zmq::Socket| {
            raw_call(
                who,
                "call",
                vec![
                    id.clone(),
                    Value::from(iface),
                    Value::from(0),
                    Value::Array(vec![Value::from(1)]),
                    Value::Map(vec![]),
                ],
            )
        };
        // The owner can call it ...
        assert_eq!(call(&owner), (0x01, Value::from(6)));
        // ... a peer that guesses or replays the id cannot, and the object is not reached.
        let (kind, err) = call(&thief);
        assert_eq!(kind, 0x10);
        assert_eq!(
            err.as_array().unwrap()[0].as_str(),
            Some(cara::CAPABILITY_ERROR),
            "{err}"
        );
        assert_eq!(
            call(&owner),
            (0x01, Value::from(7)),
            "the thief's call did not reach the object"
        );
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callbacks_work_under_plain_security_too() {
    let server = cara::Server::builder("server")
        .security(cara::ServerSecurity::TrustedPeer)
        .bind("tcp://127.0.0.1:0")
        .start()
        .unwrap();
    cara::serve(server.registry(), CalcServer::new(CalcImpl::default())).unwrap();
    let client = cara::Client::builder()
        .security(cara::ClientSecurity::plain("alice", "pw"))
        .connect(&server.endpoints()[0])
        .unwrap();
    let calc = CalcClient::new(client.server().clone());
    let value = ValueClient::from_server(Constant(1.5));
    assert_eq!(calc.evaluate(value).await.unwrap(), 3.0);
    let adder = calc.get_adder(1).await.unwrap();
    assert_eq!(adder.add(1).await.unwrap(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capabilities_travel_on_server_to_client_calls_both_ways() {
    // The client serves a Calc too; the server calls it by user id (send_to).
    let server = support::trusted_peer_server();
    // The client's greeting registers it under its user id.
    let client = support::logged_in(&server, "alice").await;
    cara::serve(client.registry(), CalcServer::new(CalcImpl::default())).unwrap();
    let on_client = CalcClient::new(server.send_to("alice"));
    // Client → server: the client returns an object; the server calls it.
    let adder = on_client.get_adder(10).await.unwrap();
    assert!(!adder.stub().is_local());
    assert_eq!(adder.add(1).await.unwrap(), 11);
    assert_eq!(
        adder.add(1).await.unwrap(),
        12,
        "the client's object keeps its state"
    );
    // Server → client: the server passes its own object; the client calls it back.
    assert_eq!(
        on_client
            .evaluate(ValueClient::from_server(Constant(4.5)))
            .await
            .unwrap(),
        9.0
    );
    // Passed back to its owner: the client's own object comes home as itself.
    let echoed = on_client.echo(adder.clone()).await.unwrap();
    assert!(
        echoed.was_local,
        "the client saw its own object, not a proxy"
    );
    assert_eq!(echoed.adder.add(1).await.unwrap(), 13);
    // Released when the server drops it: the client's export table empties.
    let probe = client.server().clone();
    drop((adder, echoed));
    support::eventually("the client's exports are released", || {
        cara::exported_objects(&probe) == 0
    })
    .await;
    client.stop().await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_per_peer_are_capped() {
    let mut limits = cara::Limits::default();
    limits.max_exports = 3;
    let server = cara::Server::builder("server")
        .bind("tcp://127.0.0.1:0")
        .limits(limits)
        .start()
        .unwrap();
    cara::serve(server.registry(), CalcServer::new(CalcImpl::default())).unwrap();
    let (_client, calc) = client(&server);
    let mut held = Vec::new();
    for i in 0..3 {
        held.push(calc.get_adder(i).await.unwrap());
    }
    let err = calc.get_adder(3).await.unwrap_err();
    assert_eq!(
        err.remote().map(|r| r.class.as_str()),
        Some(cara::RESOURCE_EXHAUSTED),
        "{err}"
    );
    // The others still work, and one released makes room again.
    assert_eq!(held[2].add(1).await.unwrap(), 3);
    let probe = server.send_to("");
    drop(held.pop());
    support::eventually("the release arrived", || {
        cara::exported_objects(&probe) == 2
    })
    .await;
    assert_eq!(calc.get_adder(7).await.unwrap().add(1).await.unwrap(), 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_are_freed_when_hundreds_of_peers_leave_at_once() {
    let server = server();
    let probe = server.send_to("");
    let mut clients = Vec::new();
    for i in 0..300 {
        let (client, calc) = client(&server);
        let adder = calc.get_adder(i).await.unwrap();
        clients.push((client, adder));
    }
    assert_eq!(cara::exported_objects(&probe), 300);
    // All leave together (their stops run concurrently).
    let stops: Vec<_> = clients
        .into_iter()
        .map(|(client, adder)| {
            tokio::spawn(async move {
                std::mem::forget(adder); // no release: only the disconnect frees it
                client.stop().await
            })
        })
        .collect();
    for stop in stops {
        stop.await.unwrap();
    }
    support::eventually("every export was freed", || {
        cara::exported_objects(&probe) == 0
    })
    .await;
}

/// An adder that says when it is dropped.
struct Watched(Option<tokio::sync::oneshot::Sender<()>>);

impl Adder for Watched {
    async fn add(&self, x: i32) -> Result<i32, Fault> {
        Ok(x)
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_endpoint_keeps_its_own_capability_tables_and_they_go_with_it() {
    let (a, b) = (server(), server());
    let (_ca, calc_a) = client(&a);
    let (_cb, calc_b) = client(&b);
    let (tx, dropped) = tokio::sync::oneshot::channel();
    calc_a
        .store(AdderClient::from_server(Watched(Some(tx))))
        .await
        .unwrap();
    let _held = calc_b.get_adder(1).await.unwrap();
    let (probe_a, probe_b) = (a.send_to(""), b.send_to(""));
    assert_eq!(cara::exported_objects(&probe_b), 1);
    assert_eq!(cara::exported_objects(&probe_a), 0, "B's export is not A's");
    // A's client holds its object only through A's tables: stopping the client
    // endpoint drops them, and the object with them.
    _ca.stop().await;
    tokio::time::timeout(Duration::from_secs(5), dropped)
        .await
        .expect("the object was dropped with its endpoint's tables")
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interface_with_no_peer_to_go_to_is_an_error_not_a_nil() {
    // Outside of a call there is nobody to export to: the caller sees why.
    let adder = AdderClient::from_server(Total::new(1));
    assert_eq!(
        cara::to_value(&adder).unwrap_err(),
        cara::EncodeError::NoPeer
    );
    let holder = Holder {
        name: "h".into(),
        many: vec![adder.clone()],
        ..Holder::default()
    };
    assert_eq!(
        cara::to_value(&holder).unwrap_err(),
        cara::EncodeError::NoPeer
    );
    // A null capability is nil anywhere; values without interfaces always encode.
    assert_eq!(cara::to_value(&AdderClient::default()).unwrap(), Value::Nil);
    let err =
        cara::from_value::<AdderClient>(Value::Ext(cara::EXT_EXPORTED, vec![0x01])).unwrap_err();
    assert!(err.to_string().contains("part of a call"), "{err}");

    // A user with no connection: the call fails before anything is sent or exported.
    let server = server();
    let nobody = CalcClient::new(server.send_to("nobody"));
    let err = nobody
        .evaluate(ValueClient::from_server(Constant(1.0)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, cara::Error::Encode { .. }) && err.to_string().contains("not connected"),
        "{err}"
    );
    assert_eq!(cara::exported_objects(&server.send_to("nobody")), 0);
    server.stop().await;
}
