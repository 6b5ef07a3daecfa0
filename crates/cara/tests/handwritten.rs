//! The shape of generated code, written by hand against the runtime: a struct and
//! an interface served and called over real sockets. The generator emits this
//! shape; this test pins the runtime contract it relies on.
#![allow(missing_docs)]

use std::time::Duration;

// ---- what the generator emits for: struct Point { x @0 :Float64; y @1 :Float64; label @2 :Text; }
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub label: String,
}

impl cara::Encode for Point {
    fn encode(&self) -> cara::Value {
        cara::__private::struct_map(vec![
            (0, cara::Encode::encode(&self.x)),
            (1, cara::Encode::encode(&self.y)),
            (2, cara::Encode::encode(&self.label)),
        ])
    }
}

impl cara::Decode for Point {
    fn decode(value: cara::Value) -> Result<Self, cara::DecodeError> {
        let mut out = Self::default();
        for (index, value) in
            cara::__private::struct_fields(value, "Point", &[(0, "x"), (1, "y"), (2, "label")])?
        {
            match index {
                0 => out.x = cara::Decode::decode(value).map_err(|e| e.at("x"))?,
                1 => out.y = cara::Decode::decode(value).map_err(|e| e.at("y"))?,
                2 => out.label = cara::Decode::decode(value).map_err(|e| e.at("label"))?,
                _ => {}
            }
        }
        Ok(out)
    }
}

// ---- interface Calculator { add @0 (first :Int32, second :Int32) -> (result :Int32);
//                             norm @1 (p :Point) -> (length :Float64, point :Point); }
pub trait Calculator: Send + Sync + 'static {
    fn add(&self, first: i32, second: i32)
    -> impl Future<Output = Result<i32, cara::Fault>> + Send;
    fn norm(
        &self,
        p: Point,
    ) -> impl Future<Output = Result<calculator::NormResults, cara::Fault>> + Send;
}

pub mod calculator {
    #[derive(Debug, Clone, PartialEq, Default)]
    pub struct NormResults {
        pub length: f64,
        pub point: super::Point,
    }
    impl cara::Encode for NormResults {
        fn encode(&self) -> cara::Value {
            cara::__private::struct_map(vec![
                (0, cara::Encode::encode(&self.length)),
                (1, cara::Encode::encode(&self.point)),
            ])
        }
    }
    impl cara::Decode for NormResults {
        fn decode(value: cara::Value) -> Result<Self, cara::DecodeError> {
            let mut out = Self::default();
            for (index, value) in cara::__private::struct_fields(
                value,
                "NormResults",
                &[(0, "length"), (1, "point")],
            )? {
                match index {
                    0 => out.length = cara::Decode::decode(value).map_err(|e| e.at("length"))?,
                    1 => out.point = cara::Decode::decode(value).map_err(|e| e.at("point"))?,
                    _ => {}
                }
            }
            Ok(out)
        }
    }

    pub static INFO: cara::InterfaceInfo = cara::InterfaceInfo {
        id: 0x9f3c_6b8a_1c2d_4e5f,
        name: "Calculator",
        methods: &[
            cara::MethodInfo {
                name: "add",
                wire_name: "Calculator.add",
                interface_id: 0x9f3c_6b8a_1c2d_4e5f,
                ordinal: 0,
                params: &["first", "second"],
            },
            cara::MethodInfo {
                name: "norm",
                wire_name: "Calculator.norm",
                interface_id: 0x9f3c_6b8a_1c2d_4e5f,
                ordinal: 1,
                params: &["p"],
            },
        ],
    };
}

pub struct CalculatorServer<T>(cara::__private::Arc<T>);

impl<T: Calculator> CalculatorServer<T> {
    pub fn new(implementation: T) -> Self {
        Self(cara::__private::Arc::new(implementation))
    }
}

impl<T: Calculator> cara::Dispatch for CalculatorServer<T> {
    fn info(&self) -> &'static cara::InterfaceInfo {
        &calculator::INFO
    }
    fn dispatch(
        &self,
        _ctx: cara::Context,
        method: usize,
        args: Vec<cara::Value>,
    ) -> cara::BoxFuture<Result<cara::Value, cara::Fault>> {
        let this = self.0.clone();
        let mut args = args.into_iter();
        let mut next = move || args.next().unwrap_or(cara::Value::Nil);
        match method {
            0 => {
                let first = cara::__private::decode_param::<i32>("add", "first", next());
                let second = cara::__private::decode_param::<i32>("add", "second", next());
                Box::pin(async move {
                    let result = this.add(first?, second?).await?;
                    Ok(cara::Encode::encode(&result))
                })
            }
            1 => {
                let p = cara::__private::decode_param::<Point>("norm", "p", next());
                Box::pin(async move {
                    let result = this.norm(p?).await?;
                    Ok(cara::Encode::encode(&result))
                })
            }
            _ => Box::pin(
                async move { Err(cara::Fault::type_error(format!("no method #{method}"))) },
            ),
        }
    }
}

#[derive(Clone, Debug)]
pub struct CalculatorClient(cara::Stub);

impl CalculatorClient {
    pub fn new(remote: cara::Remote) -> Self {
        Self(cara::Stub::new(remote, &calculator::INFO))
    }
    pub fn with_timeout(&self, timeout: cara::__private::Duration) -> Self {
        Self(self.0.with_timeout(timeout))
    }
    pub async fn add(&self, first: i32, second: i32) -> Result<i32, cara::Error> {
        let value = self
            .0
            .call(
                0,
                vec![cara::Encode::encode(&first), cara::Encode::encode(&second)],
            )
            .await?;
        cara::__private::decode_result("add", value)
    }
    pub async fn norm(&self, p: &Point) -> Result<calculator::NormResults, cara::Error> {
        let value = self.0.call(1, vec![cara::Encode::encode(p)]).await?;
        cara::__private::decode_result("norm", value)
    }
}

// ---- the user's side
struct Calc;

impl Calculator for Calc {
    async fn add(&self, first: i32, second: i32) -> Result<i32, cara::Fault> {
        first
            .checked_add(second)
            .ok_or_else(|| cara::Fault::new("OverflowError", "int32 overflow"))
    }
    async fn norm(&self, p: Point) -> Result<calculator::NormResults, cara::Fault> {
        let length = (p.x * p.x + p.y * p.y).sqrt();
        Ok(calculator::NormResults {
            length,
            point: Point {
                label: format!("{}!", p.label),
                ..p
            },
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_shape_works_over_real_sockets() {
    let server = cara::Server::builder("server")
        .bind("tcp://127.0.0.1:0")
        .start()
        .unwrap();
    cara::serve(server.registry(), CalculatorServer::new(Calc)).unwrap();
    let client = cara::Client::builder()
        .connect(&server.endpoints()[0])
        .unwrap();
    let calc = CalculatorClient::new(client.server().clone()).with_timeout(Duration::from_secs(5));

    assert_eq!(calc.add(2, 5).await.unwrap(), 7);
    let r = calc
        .norm(&Point {
            x: 3.0,
            y: 4.0,
            label: "p".into(),
        })
        .await
        .unwrap();
    assert_eq!(r.length, 5.0);
    assert_eq!(r.point.label, "p!");
    let err = calc.add(i32::MAX, 1).await.unwrap_err();
    assert_eq!(err.remote().unwrap().class, "OverflowError");

    // Dynamic callers: bare name, kwargs by parameter name, structs keyed by names.
    let v: i64 = client.call("add", (2, 5)).await.unwrap();
    assert_eq!(v, 7);
    let v: i64 = client
        .request("Calculator.add")
        .kwarg("first", 2)
        .kwarg("second", 5)
        .send()
        .await
        .unwrap();
    assert_eq!(v, 7);
    let point = cara::Value::Map(vec![
        ("x".into(), 6.into()),
        ("y".into(), 8.into()),
        ("zzz".into(), 1.into()),
    ]);
    let reply: cara::Value = client.call("Calculator.norm", vec![point]).await.unwrap();
    assert_eq!(
        reply.as_map().unwrap()[0],
        (cara::Value::from(0), cara::Value::F64(10.0))
    );

    // Arguments that do not fit are a TypeError naming the parameter.
    let err = client
        .call::<cara::Value>("Calculator.add", ("x", 1))
        .await
        .unwrap_err();
    let remote = err.remote().unwrap();
    assert_eq!(remote.class, "TypeError");
    assert!(remote.message.contains("argument \"first\""), "{remote}");
    let err = client
        .call::<cara::Value>("Calculator.add", (1, 2, 3))
        .await
        .unwrap_err();
    assert_eq!(err.remote().unwrap().class, "TypeError");
}
