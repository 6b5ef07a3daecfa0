//! The original Python cara 0.10.3 (on pseud git `cadb5d6`), pinned byte for byte.
//!
//! The vectors below are the WORK bodies and replies the original sends for the seed
//! calculator (`schemas/calculator.capnp`), produced by its own packer
//! (`cara_pseud.setup_client`/`setup_server` translation tables, msgpack 0.4.6). They
//! stand in for the real peer, which the `.ci/run` step `interop_original_cara` runs:
//! a raw DEALER plays the original client against our generated server, and a raw
//! ROUTER plays the original server against our typed client.

use std::sync::Mutex;
use std::time::Duration;

use cara::{Fault, Value};

cara::schema!("../../schemas/calculator.capnp");

use calculator_capnp::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn pack(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    cara::pseud::value::write_value(&mut out, v);
    out
}

// The original client's WORK bodies: `[name, args, kwargs]`, bare method names.
const ADD: &str = "93a361646492020580";
const ADD_KW: &str = "93a36164649082a5666972737402a67365636f6e6405";
const DIVIDE: &str = "93a664697669646592cb401c000000000000cb400000000000000080";
const STATS: &str = "93a573746174739080";
const GET_ADDER: &str = "93a86765744164646572910580";
/// `evaluate(Value(lambda: 21.0))` from a PLAIN client with user id `test`: the
/// capability is ext 100 `[id(obj), "test"]`, the user id a msgpack str.
const EVALUATE: &str = "93a86576616c7561746591c70f6492cf00007f029c93f890a47465737480";
const EVALUATE_OBJECT: u64 = 0x7f02_9c93_f890;
// The original server's replies.
const DIVIDE_REPLY: &str =
    "82a871756f7469656e74cb4008000000000000a972656d61696e646572cb3ff0000000000000";
const STATS_REPLY: &str = "830002010102920703";
/// `getAdder` returns ext 100 holding `id(obj)` as a msgpack int.
const GET_ADDER_REPLY: &str = "c70964cf00007f029c25b450";
const ADDER_OBJECT: u64 = 0x7f02_9c25_b450;

const OK: u8 = 0x01;
const WORK: u8 = 0x03;
const HEARTBEAT: u8 = 0x06;
const ERROR: u8 = 0x10;

fn add_vector() -> Vec<u8> {
    hex(ADD)
}

#[test]
fn schema_ids_agree_with_the_original_generator() {
    // capnpc-cara's generated module gives these ids: calls on objects carry them.
    assert_eq!(calculator::INFO.id, 0xa66e_e1a8_004e_6f0f);
    assert_eq!(adder::INFO.id, 0x93ca_6a6a_5446_2e34);
    assert_eq!(value::INFO.id, 0xb336_9995_beda_48a7);
}

#[derive(Default)]
struct Calc {
    stats: Mutex<Stats>,
}

impl Calculator for Calc {
    async fn add(&self, first: i32, second: i32) -> Result<i32, Fault> {
        let mut s = self.stats.lock().unwrap();
        s.calls += 1;
        s.last_op = Op::Add;
        s.history.push(first + second);
        Ok(first + second)
    }
    async fn divide(&self, n: f64, d: f64) -> Result<calculator::DivideResults, Fault> {
        let quotient = (n / d).trunc();
        let mut s = self.stats.lock().unwrap();
        s.calls += 1;
        s.last_op = Op::Divide;
        s.history.push(quotient as i32);
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

/// A raw socket speaking pseud frames; the routing frame is handled by the caller.
struct Raw(zmq::Socket);

impl Raw {
    fn recv(&self) -> Vec<Vec<u8>> {
        self.0.recv_multipart(0).expect("a message within 5 s")
    }
}

/// (message id, kind, body) of a DEALER's received frames `["", v1, id, kind, body]`.
fn parts(frames: &[Vec<u8>]) -> (Vec<u8>, u8, Vec<u8>) {
    assert_eq!(frames.len(), 5, "{frames:02x?}");
    assert_eq!(frames[1], b"v1");
    (frames[2].clone(), frames[3][0], frames[4].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_original_clients_frames_get_the_answers_it_reads() {
    let server = cara::Server::builder("server")
        .bind("tcp://127.0.0.1:0")
        .start()
        .unwrap();
    cara::serve(server.registry(), CalculatorServer::new(Calc::default())).unwrap();
    let endpoint = server.endpoints()[0].clone();
    tokio::task::spawn_blocking(move || {
        let ctx = zmq::Context::new();
        let d = ctx.socket(zmq::DEALER).unwrap();
        d.set_rcvtimeo(5000).unwrap();
        d.set_linger(0).unwrap();
        d.connect(&endpoint).unwrap();
        let raw = Raw(d);
        let call = |n: u8, body: &[u8]| -> (u8, Vec<u8>) {
            let id = [n; 16];
            raw.0
                .send_multipart([&b""[..], b"v1", &id, &[WORK], body], 0)
                .unwrap();
            let (rid, kind, body) = parts(&raw.recv());
            assert_eq!(rid, id);
            (kind, body)
        };
        assert_eq!(call(1, &add_vector()), (OK, vec![0x07]));
        assert_eq!(call(2, &hex(ADD_KW)), (OK, vec![0x07]));
        // Several results: keyed by result name, the bytes the original server sends.
        assert_eq!(call(3, &hex(DIVIDE)), (OK, hex(DIVIDE_REPLY)));
        // A struct result: keyed by field ordinal, as the original.
        let (kind, stats) = call(4, &hex(STATS));
        assert_eq!(kind, OK);
        assert_eq!(
            stats,
            pack(&Value::Map(vec![
                (0.into(), 3.into()),
                (1.into(), 1.into()),
                (2.into(), Value::Array(vec![7.into(), 7.into(), 3.into()])),
            ]))
        );
        // getAdder: ext 100 with an integer object id, which `call` then reaches.
        let (kind, adder) = call(5, &hex(GET_ADDER));
        assert_eq!(kind, OK);
        let Ok(Value::Ext(100, payload)) = cara::pseud::value::read_value(&adder) else {
            panic!("getAdder reply {adder:02x?}");
        };
        let object = cara::pseud::value::read_value(&payload).unwrap();
        assert!(object.as_u64().is_some(), "{object:?}");
        let call_add = pack(&Value::Array(vec![
            "call".into(),
            Value::Array(vec![
                object,
                adder::INFO.id.into(),
                0.into(),
                Value::Array(vec![1.into()]),
                Value::Map(vec![]),
            ]),
            Value::Map(vec![]),
        ]));
        assert_eq!(call(6, &call_add), (OK, vec![0x06]));
        // evaluate: the server calls the client's object back with `call`.
        let id = [7u8; 16];
        raw.0
            .send_multipart([&b""[..], b"v1", &id, &[WORK], &hex(EVALUATE)], 0)
            .unwrap();
        let (back_id, kind, body) = parts(&raw.recv());
        assert_eq!(kind, WORK);
        assert_eq!(
            cara::pseud::value::read_value(&body).unwrap(),
            Value::Array(vec![
                "call".into(),
                Value::Array(vec![
                    EVALUATE_OBJECT.into(),
                    value::INFO.id.into(),
                    0.into(),
                    Value::Array(vec![]),
                    Value::Map(vec![]),
                ]),
                Value::Map(vec![]),
            ])
        );
        raw.0
            .send_multipart([&b""[..], b"v1", &back_id, &[OK], &pack(&21.0.into())], 0)
            .unwrap();
        let (rid, kind, body) = parts(&raw.recv());
        assert_eq!((rid, kind, body), (id.to_vec(), OK, pack(&42.0.into())));
    })
    .await
    .unwrap();
    server.stop().await;
}

/// What the fake original server saw: each WORK's (name, body).
fn next_work(raw: &Raw) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    loop {
        let f = raw.recv();
        assert_eq!(
            f.len(),
            6,
            "6 frames (never libzmq's 2-frame probe): {f:02x?}"
        );
        if f[4] == [HEARTBEAT] {
            continue;
        }
        assert_eq!(f[4], [WORK], "{f:02x?}");
        return (f[0].clone(), f[3].clone(), f[5].clone());
    }
}

fn reply(raw: &Raw, rid: &[u8], id: &[u8], kind: u8, body: &[u8]) {
    raw.0
        .send_multipart([rid, b"", b"v1", id, &[kind], body], 0)
        .unwrap();
}

fn not_found(name: &str) -> Vec<u8> {
    pack(&Value::Array(vec![
        "ServiceNotFoundError".into(),
        name.into(),
        "Traceback (most recent call last): ...".into(),
    ]))
}

fn work_name(body: &[u8]) -> String {
    match cara::pseud::value::read_value(body) {
        Ok(Value::Array(items)) => items[0].as_str().unwrap_or_default().to_string(),
        other => panic!("not a WORK body: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_client_reads_the_original_servers_frames() {
    let ctx = zmq::Context::new();
    let router = ctx.socket(zmq::ROUTER).unwrap();
    router.set_identity(b"server").unwrap();
    router.set_router_mandatory(true).unwrap();
    router.set_rcvtimeo(5000).unwrap();
    router.set_linger(0).unwrap();
    router.bind("tcp://127.0.0.1:*").unwrap();
    let endpoint = router.get_last_endpoint().unwrap().unwrap();
    let raw = std::sync::Arc::new(Mutex::new(Raw(router)));

    let client = cara::Client::builder().connect(&endpoint).unwrap();
    let remote = client.server().clone();
    let calc = CalculatorClient::new(remote.clone());
    let on = |f: fn(&Raw)| {
        let raw = raw.clone();
        tokio::task::spawn_blocking(move || f(&raw.lock().unwrap()))
    };

    // The first call on a fresh connection: `Calculator.add` is not served by the
    // original, so the client asks again under the bare name, with the original's
    // own bytes.
    let fake = on(|raw| {
        let (rid, id, body) = next_work(raw);
        assert_eq!(work_name(&body), "Calculator.add");
        reply(raw, &rid, &id, ERROR, &not_found("Calculator.add"));
        let (rid, id, body) = next_work(raw);
        assert_eq!(body, add_vector(), "the original client's own bytes");
        reply(raw, &rid, &id, OK, &[0x07]);
        // Learned: the next calls of this interface go bare at once.
        let (rid, id, body) = next_work(raw);
        assert_eq!(body, add_vector());
        reply(raw, &rid, &id, OK, &[0x07]);
        let (rid, id, body) = next_work(raw);
        assert_eq!(body, hex(DIVIDE));
        reply(raw, &rid, &id, OK, &hex(DIVIDE_REPLY));
        let (rid, id, body) = next_work(raw);
        assert_eq!(body, hex(STATS));
        reply(raw, &rid, &id, OK, &hex(STATS_REPLY));
    });
    assert_eq!(calc.add(2, 5).await.unwrap(), 7);
    assert_eq!(calc.add(2, 5).await.unwrap(), 7);
    let division = calc.divide(7.0, 2.0).await.unwrap();
    assert_eq!((division.quotient, division.remainder), (3.0, 1.0));
    let stats = calc.stats().await.unwrap();
    assert_eq!(
        (stats.calls, stats.last_op, stats.history),
        (2, Op::Divide, vec![7, 3])
    );
    fake.await.unwrap();

    // An object of the original server's; dropping it asks for cara.release once.
    let fake = on(|raw| {
        let (rid, id, body) = next_work(raw);
        assert_eq!(body, hex(GET_ADDER));
        reply(raw, &rid, &id, OK, &hex(GET_ADDER_REPLY));
        let (rid, id, body) = next_work(raw);
        let expected = pack(&Value::Array(vec![
            "call".into(),
            Value::Array(vec![
                ADDER_OBJECT.into(),
                adder::INFO.id.into(),
                0.into(),
                Value::Array(vec![1.into()]),
                Value::Map(vec![]),
            ]),
            Value::Map(vec![]),
        ]));
        assert_eq!(body, expected);
        reply(raw, &rid, &id, OK, &[0x06]);
        let (rid, id, body) = next_work(raw);
        assert_eq!(work_name(&body), "cara.release");
        reply(raw, &rid, &id, ERROR, &not_found("cara.release"));
    });
    let adder = calc.get_adder(5).await.unwrap();
    assert_eq!(adder.add(1).await.unwrap(), 6);
    assert!(cara::sends_releases(&remote));
    drop(adder);
    fake.await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), async {
        while cara::sends_releases(&remote) {
            tokio::task::yield_now().await;
        }
    })
    .await
    .expect("the client learns that the peer serves no cara.release");

    // From now on a dropped object costs the peer nothing: the next WORK is the
    // next call, not a release.
    let fake = on(|raw| {
        let (rid, id, body) = next_work(raw);
        assert_eq!(body, hex(GET_ADDER));
        reply(raw, &rid, &id, OK, &hex(GET_ADDER_REPLY));
        let (rid, id, body) = next_work(raw);
        assert_eq!(body, add_vector(), "no cara.release before it");
        reply(raw, &rid, &id, OK, &[0x07]);
    });
    drop(calc.get_adder(5).await.unwrap());
    assert_eq!(calc.add(2, 5).await.unwrap(), 7);
    fake.await.unwrap();

    // A callback: the original server calls our object with `call`.
    let fake = on(|raw| {
        let (rid, id, body) = next_work(raw);
        let Ok(Value::Array(items)) = cara::pseud::value::read_value(&body) else {
            panic!("{body:02x?}");
        };
        assert_eq!(items[0], Value::from("evaluate"));
        let Value::Array(args) = &items[1] else {
            panic!("{items:?}")
        };
        let Value::Ext(100, payload) = &args[0] else {
            panic!("{args:?}")
        };
        // A client's export: [object id, user id] (empty under NULL security).
        let Ok(Value::Array(cap)) = cara::pseud::value::read_value(payload) else {
            panic!("{payload:02x?}")
        };
        let back = pack(&Value::Array(vec![
            "call".into(),
            Value::Array(vec![
                cap[0].clone(),
                value::INFO.id.into(),
                0.into(),
                Value::Array(vec![]),
                Value::Map(vec![]),
            ]),
            Value::Map(vec![]),
        ]));
        let back_id = [9u8; 16];
        reply(raw, &rid, &back_id, WORK, &back);
        let f = raw.recv();
        assert_eq!(
            (&f[3][..], &f[4][..]),
            (&back_id[..], &[OK][..]),
            "{f:02x?}"
        );
        assert_eq!(f[5], pack(&21.0.into()));
        reply(raw, &rid, &id, OK, &pack(&42.0.into()));
    });
    let doubled = calc
        .evaluate(ValueClient::from_server(Constant(21.0)))
        .await
        .unwrap();
    assert_eq!(doubled, 42.0);
    fake.await.unwrap();
    client.stop().await;
}

struct Constant(f64);

impl calculator_capnp::Value for Constant {
    async fn read(&self) -> Result<f64, Fault> {
        Ok(self.0)
    }
}
