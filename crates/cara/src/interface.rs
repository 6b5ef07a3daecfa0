//! Serving implementations of generated server traits, and calling them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use pseud::{Args, Context, Fault, Function, Registry, Remote, Value};

use crate::codec::Decode;
use crate::error::DecodeError;

/// A boxed, sendable future (what dispatchers return).
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// What generated code records about an interface.
#[derive(Debug)]
pub struct InterfaceInfo {
    /// The schema's 64-bit node id.
    pub id: u64,
    /// The interface's name as written in the schema.
    pub name: &'static str,
    /// Every method a server of this interface answers: its own, then inherited ones.
    pub methods: &'static [MethodInfo],
}

/// One method of an interface.
#[derive(Debug)]
pub struct MethodInfo {
    /// The method name as written in the schema.
    pub name: &'static str,
    /// `<Interface>.<method>` of the interface that declares it.
    pub wire_name: &'static str,
    /// Id of the declaring interface (differs from the served one for inherited methods).
    pub interface_id: u64,
    /// The method's ordinal in the declaring interface.
    pub ordinal: u16,
    /// Parameter names, in order.
    pub params: &'static [&'static str],
}

/// A server object: generated `<Interface>Server<T>` types implement this by
/// decoding arguments, calling the user's implementation and encoding its result.
pub trait Dispatch: Send + Sync + 'static {
    /// The interface served.
    fn info(&self) -> &'static InterfaceInfo;

    /// Runs method number `method` (an index into `info().methods`) with exactly
    /// as many arguments as it has parameters (absent ones are nil).
    fn dispatch(
        &self,
        ctx: Context,
        method: usize,
        args: Vec<Value>,
    ) -> BoxFuture<Result<Value, Fault>>;
}

/// Registers every method of `dispatcher` on `registry` as `<Interface>.<method>`,
/// and, while no other served interface claims them, as the bare method name and
/// (for inherited methods) as `<DeclaringInterface>.<method>`.
pub fn serve<D: Dispatch>(registry: &Registry, dispatcher: D) -> Result<(), pseud::Error> {
    let dispatcher = Arc::new(dispatcher);
    let info = dispatcher.info();
    for (index, method) in info.methods.iter().enumerate() {
        let served_name = format!("{}.{}", info.name, method.name);
        let d = dispatcher.clone();
        let handler = move |ctx: Context, args: Args| {
            let d = d.clone();
            async move {
                let bound = bind(method, args)?;
                d.dispatch(ctx, index, bound).await
            }
        };
        registry.register(served_name.as_str(), Function::new(handler))?;
        // An inherited method is also reachable under its declaring interface, so a
        // client of the super-interface can call this server.
        if method.wire_name != served_name {
            registry.alias(method.wire_name, served_name.clone());
        }
        registry.alias(method.name, served_name);
    }
    tracing::debug!(
        interface = info.name,
        methods = info.methods.len(),
        "serving interface"
    );
    Ok(())
}

/// Binds positional and keyword arguments to the method's parameters (Python rules;
/// an absent parameter is nil, which decodes to the schema default).
fn bind(method: &MethodInfo, args: Args) -> Result<Vec<Value>, Fault> {
    let name = method.name;
    let arity = method.params.len();
    if args.args.len() > arity {
        return Err(Fault::type_error(format!(
            "{name}() takes {arity} positional arguments but {} were given",
            args.args.len()
        )));
    }
    let mut slots: Vec<Option<Value>> = args.args.into_iter().map(Some).collect();
    slots.resize(arity, None);
    for (key, value) in args.kwargs {
        let Some(i) = method.params.iter().position(|p| *p == key) else {
            return Err(Fault::type_error(format!(
                "{name}() got an unexpected keyword argument {key:?}"
            )));
        };
        if slots[i].is_some() {
            return Err(Fault::type_error(format!(
                "{name}() got multiple values for argument {key:?}"
            )));
        }
        slots[i] = Some(value);
    }
    Ok(slots.into_iter().map(|s| s.unwrap_or(Value::Nil)).collect())
}

/// The client side of an interface: generated `<Interface>Client` types wrap one.
#[derive(Clone, Debug)]
pub struct Stub {
    remote: Remote,
    info: &'static InterfaceInfo,
    timeout: Option<Duration>,
}

impl Stub {
    /// A stub calling `info`'s methods on `remote`.
    pub fn new(remote: Remote, info: &'static InterfaceInfo) -> Self {
        Stub {
            remote,
            info,
            timeout: None,
        }
    }

    /// The same stub with another timeout for its calls.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Stub {
            timeout: Some(timeout),
            ..self.clone()
        }
    }

    /// The peer this stub calls.
    pub fn remote(&self) -> &Remote {
        &self.remote
    }

    /// Calls method number `method` with encoded arguments; returns the raw result.
    pub async fn call(&self, method: usize, args: Vec<Value>) -> Result<Value, pseud::Error> {
        let Some(info) = self.info.methods.get(method) else {
            return Err(pseud::Error::Encode {
                what: format!("method #{method} of {}", self.info.name),
                reason: "no such method".into(),
            });
        };
        let name = format!("{}.{}", self.info.name, info.name);
        let mut request = self.remote.request(&name).args(args);
        if let Some(t) = self.timeout {
            request = request.timeout(t);
        }
        request.send::<Value>().await
    }
}

/// Decodes a method's result, naming the method in the error.
pub fn decode_result<T: Decode>(method: &str, value: Value) -> Result<T, pseud::Error> {
    T::decode(value).map_err(|e| pseud::Error::Decode {
        name: method.to_string(),
        reason: e.to_string(),
    })
}

/// Decodes argument `name`; a mismatch is a `TypeError` for the caller.
pub fn decode_param<T: Decode>(method: &str, name: &str, value: Value) -> Result<T, Fault> {
    T::decode(value)
        .map_err(|e: DecodeError| Fault::type_error(format!("{method}() argument {name:?}: {e}")))
}
