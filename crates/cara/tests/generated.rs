//! Generated code over the wire: structs, unions, groups, enums, generics,
//! recursion, defaults, inheritance and generic interfaces (schemas/tests/features.capnp).

use std::sync::Mutex;

use cara::Value;

cara::schema!("../../schemas/tests/features.capnp");

use features_capnp::*;

fn bytes(v: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    cara::pseud::value::write_value(&mut out, v);
    out
}

#[test]
fn the_golden_vector_of_cara() {
    let f = Field { field: "x".into() };
    assert_eq!(
        bytes(&cara::to_value(&f).unwrap()),
        [0x81, 0x00, 0xa1, 0x78]
    );
    // Decoding accepts the field name too.
    let by_name = Value::Map(vec![("field".into(), "x".into())]);
    assert_eq!(cara::from_value::<Field>(by_name).unwrap(), f);
}

#[test]
fn schema_defaults_apply_to_absent_fields() {
    let e = cara::from_value::<Everything>(Value::Map(vec![])).unwrap();
    assert!(e.flag);
    assert_eq!(
        (e.i8, e.i32, e.i64, e.u16, e.u64),
        (-8, 32, -64, 16, u64::MAX)
    );
    assert_eq!(e.f32, 1.5);
    assert_eq!(e.f64, f64::INFINITY);
    assert_eq!(e.text, "hello");
    assert_eq!(e.data.0, vec![0, 255]);
    assert_eq!(e.color, Color::Green);
    assert_eq!(e.list, vec![1, 2, 3]);
    assert_eq!(e.point, Point { x: 1.0, y: 2.0 });
    assert_eq!(Everything::default(), e);
    assert_eq!(ANSWER, 42);
    assert_eq!(GREETING, "hi");
    assert_eq!(origin(), Point::default());
}

#[test]
fn every_value_survives_a_round_trip() {
    let e = Everything {
        flag: false,
        i8: i8::MIN,
        i16: i16::MAX,
        i32: -1,
        i64: i64::MIN,
        u8: u8::MAX,
        u16: 0,
        u32: u32::MAX,
        u64: 7,
        f32: -0.25,
        f64: 1e300,
        text: "héllo ☃".into(),
        data: cara::Data(vec![1, 2, 3]),
        color: Color::Unknown(9),
        list: vec![],
        nested: vec![vec!["a".into()], vec![]],
        point: Point { x: -1.0, y: 0.5 },
        nothing: (),
        any: cara::Dynamic(Value::Map(vec![(Value::from(1), Value::from("intkey"))])),
        which: everything::Which::Square(Point { x: 3.0, y: 4.0 }),
        position: everything::Position { lat: 1.0, lon: 2.0 },
        shape: everything::Shape::Flat("flat".into()),
    };
    let encoded = cara::to_value(&e).unwrap();
    assert_eq!(
        cara::from_value::<Everything>(encoded).unwrap(),
        e,
        "unknown enumerants survive too"
    );
}

#[test]
fn unions_groups_and_unknown_keys_decode_by_name() {
    let v = Value::Map(vec![
        ("circle".into(), Value::F64(2.0)),
        (
            "position".into(),
            Value::Map(vec![("lon".into(), Value::F64(5.0))]),
        ),
        (
            "shape".into(),
            Value::Map(vec![("round".into(), Value::from(3))]),
        ),
        ("color".into(), "blue".into()),
        ("from_the_future".into(), Value::from(1)),
    ]);
    let e = cara::from_value::<Everything>(v).unwrap();
    assert_eq!(e.which, everything::Which::Circle(2.0));
    assert_eq!(e.position.lon, 5.0);
    assert_eq!(e.shape, everything::Shape::Round(3));
    assert_eq!(e.color, Color::Blue);
}

#[test]
fn decode_errors_say_where() {
    let v = Value::Map(vec![(
        "point".into(),
        Value::Map(vec![("x".into(), "nope".into())]),
    )]);
    let err = cara::from_value::<Everything>(v).unwrap_err();
    assert_eq!(
        err.to_string(),
        "point.x: expected Float64, got str \"nope\""
    );
}

#[test]
fn recursive_and_generic_structs() {
    let tree = Tree {
        label: "root".into(),
        children: vec![Tree {
            label: "leaf".into(),
            ..Default::default()
        }],
        parent: Some(Box::new(Tree {
            label: "up".into(),
            ..Default::default()
        })),
    };
    assert_eq!(
        cara::from_value::<Tree>(cara::to_value(&tree).unwrap()).unwrap(),
        tree
    );
    let g = UsesGenerics {
        named: Pair {
            first: "one".into(),
            second: vec![1, 2],
        },
        open: Pair {
            first: cara::Dynamic(Value::from(true)),
            ..Default::default()
        },
    };
    assert_eq!(
        cara::from_value::<UsesGenerics>(cara::to_value(&g).unwrap()).unwrap(),
        g
    );
}

struct Impl {
    stored: Mutex<Vec<String>>,
}

impl Base for Impl {
    async fn ping(&self) -> Result<String, cara::Fault> {
        Ok("pong".into())
    }
}

impl Sub for Impl {
    async fn echo(&self, value: Everything) -> Result<Everything, cara::Fault> {
        Ok(value)
    }
    async fn swap(&self, pair: Pair<String, cara::Data>) -> Result<sub::SwapResults, cara::Fault> {
        Ok(sub::SwapResults {
            first: pair.second,
            second: pair.first,
        })
    }
    async fn nothing(&self) -> Result<(), cara::Fault> {
        Ok(())
    }
}

impl Store<String> for Impl {
    async fn put(&self, value: String) -> Result<u32, cara::Fault> {
        let mut stored = self.stored.lock().unwrap();
        stored.push(value);
        Ok(stored.len() as u32)
    }
    async fn take(&self) -> Result<String, cara::Fault> {
        self.stored
            .lock()
            .unwrap()
            .pop()
            .ok_or_else(|| cara::Fault::new("IndexError", "empty"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interfaces_with_inheritance_and_generics_over_the_wire() {
    let server = cara::Server::builder("server")
        .bind("tcp://127.0.0.1:0")
        .start()
        .unwrap();
    let imp = || Impl {
        stored: Mutex::new(Vec::new()),
    };
    cara::serve(server.registry(), SubServer::new(imp())).unwrap();
    cara::serve(server.registry(), StoreServer::<_, String>::new(imp())).unwrap();
    let client = cara::Client::builder()
        .connect(&server.endpoints()[0])
        .unwrap();
    let remote = client.server().clone();

    let sub = SubClient::new(remote.clone());
    assert_eq!(
        sub.ping().await.unwrap(),
        "pong",
        "inherited method on the sub-interface client"
    );
    let base = BaseClient::new(remote.clone());
    assert_eq!(
        base.ping().await.unwrap(),
        "pong",
        "a Sub server answers Base clients"
    );
    let e = Everything {
        text: "over the wire".into(),
        ..Default::default()
    };
    assert_eq!(sub.echo(e.clone()).await.unwrap(), e);
    let swapped = sub
        .swap(Pair {
            first: "a".into(),
            second: cara::Data(vec![1]),
        })
        .await
        .unwrap();
    assert_eq!((swapped.first.0, swapped.second.as_str()), (vec![1], "a"));
    sub.nothing().await.unwrap();

    let store = StoreClient::<String>::new(remote.clone());
    assert_eq!(store.put("x".into()).await.unwrap(), 1);
    assert_eq!(store.put("y".into()).await.unwrap(), 2);
    assert_eq!(store.take().await.unwrap(), "y");

    // Dynamic callers: several results come back as a map keyed by result name
    // (the original cara's form).
    let raw: Value = client
        .call(
            "Sub.swap",
            vec![Value::Map(vec![
                ("first".into(), "b".into()),
                ("second".into(), Value::Binary(vec![2])),
            ])],
        )
        .await
        .unwrap();
    assert_eq!(
        bytes(&raw),
        bytes(&Value::Map(vec![
            ("first".into(), Value::Binary(vec![2])),
            ("second".into(), "b".into())
        ]))
    );
}

struct GenericImpl;

impl Generic for GenericImpl {
    async fn identity<T: cara::Param>(&self, value: T) -> Result<T, cara::Fault> {
        Ok(value)
    }
    async fn greet(&self, name: String, times: u8) -> Result<String, cara::Fault> {
        Ok(vec![format!("hello {name}"); usize::from(times)].join(", "))
    }
}

struct ClashImpl;

impl Echo for ClashImpl {
    async fn echo(&self, x: String) -> Result<String, cara::Fault> {
        Ok(format!("text {x}"))
    }
}

impl Clash for ClashImpl {
    async fn echo(&self, x: i32) -> Result<i32, cara::Fault> {
        Ok(x + 1)
    }
    async fn new(&self) -> Result<bool, cara::Fault> {
        Ok(true)
    }
}

struct NestedImpl;

impl outer::Nested for NestedImpl {
    async fn ping(&self) -> Result<String, cara::Fault> {
        Ok("pong".into())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generic_methods_defaults_clashes_and_nested_names() {
    let server = cara::Server::builder("server")
        .bind("tcp://127.0.0.1:0")
        .start()
        .unwrap();
    cara::serve(server.registry(), GenericServer::new(GenericImpl)).unwrap();
    cara::serve(server.registry(), ClashServer::new(ClashImpl)).unwrap();
    cara::serve(server.registry(), outer::NestedServer::new(NestedImpl)).unwrap();
    let client = cara::Client::builder()
        .connect(&server.endpoints()[0])
        .unwrap();
    let remote = client.server().clone();

    let generic = GenericClient::new(remote.clone());
    assert_eq!(generic.identity("x".to_string()).await.unwrap(), "x");
    assert_eq!(generic.identity(vec![1u8, 2]).await.unwrap(), vec![1, 2]);
    assert_eq!(
        generic.greet("you".into(), 2).await.unwrap(),
        "hello you, hello you"
    );
    // Absent arguments take the schema defaults.
    let text: String = client.call("Generic.greet", ()).await.unwrap();
    assert_eq!(text, "hello world");
    let text: String = client
        .request("Generic.greet")
        .kwarg("times", 2)
        .send()
        .await
        .unwrap();
    assert_eq!(text, "hello world, hello world");

    // An inherited method and an own method of the same name are both reachable.
    let clash = ClashClient::new(remote.clone());
    assert_eq!(clash.echo(1).await.unwrap(), 2);
    assert_eq!(clash.echo_echo("a".into()).await.unwrap(), "text a");
    assert!(
        clash.new_().await.unwrap(),
        "a method named `new` does not clash with the constructor"
    );
    let as_echo: EchoClient = clash.into();
    assert_eq!(as_echo.echo("b".into()).await.unwrap(), "text b");

    // A nested interface is served under its path in the file.
    let pong: String = client.call("Outer.Nested.ping", ()).await.unwrap();
    assert_eq!(pong, "pong");
    assert_eq!(
        outer::NestedClient::new(remote).ping().await.unwrap(),
        "pong"
    );
}
