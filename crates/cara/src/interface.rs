//! Serving implementations of generated server traits, and calling them.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use pseud::{Args, Context, Fault, Function, Registry, Remote, Value};

use crate::capability::{CALL, Captured, PeerCtx, Target, capture_value, release_captured};
use crate::codec::{Decode, Encode};
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

impl InterfaceInfo {
    /// The name method number `index` is served and called under:
    /// `<Interface>.<method>`, or `<Interface>.<Declaring>.<method>` for an
    /// inherited method whose name an earlier method already took.
    pub fn served_name(&self, index: usize) -> String {
        let Some(m) = self.methods.get(index) else {
            return String::new();
        };
        if self.methods[..index].iter().any(|x| x.name == m.name) {
            format!("{}.{}", self.name, m.wire_name)
        } else {
            format!("{}.{}", self.name, m.name)
        }
    }
}

tokio::task_local! {
    static CALLER: Context;
}

/// The call being served, inside a generated trait method's implementation: the
/// caller's user id, and a handle to call it back. `None` outside of a call (or in
/// a call from this same process).
pub fn caller() -> Option<Context> {
    CALLER.try_with(Context::clone).ok()
}

/// Runs a dispatched future with `ctx` as the [`caller`].
pub(crate) fn scope_caller<T>(ctx: Context, future: BoxFuture<T>) -> impl Future<Output = T> {
    CALLER.scope(ctx, future)
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

/// A dispatched call's result, encoded by the caller of `dispatch` (which knows
/// whom the reply goes to, for capabilities in it).
pub type Reply = Box<dyn Encode + Send>;

/// A server object: generated `<Interface>Server<T>` types implement this by
/// decoding arguments, calling the user's implementation and returning its result.
pub trait Dispatch: Send + Sync + 'static {
    /// The interface served.
    fn info(&self) -> &'static InterfaceInfo;

    /// Runs method number `method` (an index into `info().methods`) with exactly
    /// as many arguments as it has parameters (absent ones are nil). Arguments are
    /// decoded before this returns; the future runs the implementation.
    fn dispatch(&self, method: usize, args: Vec<Value>) -> BoxFuture<Result<Reply, Fault>>;
}

/// The interface of a capability whose type is not known here (forwarding).
pub static ANY: InterfaceInfo = InterfaceInfo {
    id: 0,
    name: "Capability",
    methods: &[],
};

/// Registers every method of `dispatcher` on `registry` as `<Interface>.<method>`,
/// and, while no other served interface claims them, as the bare method name and
/// (for inherited methods) as `<DeclaringInterface>.<method>`.
pub fn serve<D: Dispatch>(registry: &Registry, dispatcher: D) -> Result<(), pseud::Error> {
    let dispatcher = Arc::new(dispatcher);
    let info = dispatcher.info();
    for (index, method) in info.methods.iter().enumerate() {
        let served_name = info.served_name(index);
        let d = dispatcher.clone();
        let handler = move |ctx: Context, args: Args| {
            let d = d.clone();
            async move {
                let bound = bind(method, args)?;
                let here = PeerCtx::for_remote(&ctx.caller());
                let future = here.enter(|| d.dispatch(index, bound));
                let reply = CALLER.scope(ctx, future).await?;
                Ok::<Value, Fault>(here.enter(|| reply.encode()))
            }
        };
        if registry.names().contains(&served_name) {
            tracing::warn!(name = %served_name, "already served on this registry; replaced");
        }
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
pub(crate) fn bind(method: &MethodInfo, args: Args) -> Result<Vec<Value>, Fault> {
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

/// A typed client's reference to an object: generated `<Interface>Client` types
/// wrap one. It may name a server's registered interface, an object another peer
/// exported to us (a live capability), an object in this process, or nothing.
#[derive(Clone)]
pub struct Stub {
    target: Target,
    info: &'static InterfaceInfo,
    timeout: Option<Duration>,
}

impl std::fmt::Debug for Stub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Stub({}: {:?})", self.info.name, self.target)
    }
}

impl PartialEq for Stub {
    /// Two stubs are equal when they reach the same object.
    fn eq(&self, other: &Self) -> bool {
        self.target.same(&other.target)
    }
}

impl Stub {
    /// A stub calling the interface a server registered (`<Interface>.<method>`) on `remote`.
    pub fn new(remote: Remote, info: &'static InterfaceInfo) -> Self {
        Stub {
            target: Target::Named(remote),
            info,
            timeout: None,
        }
    }

    /// A null capability of this interface: calls fail.
    pub fn null(info: &'static InterfaceInfo) -> Self {
        Stub {
            target: Target::Null,
            info,
            timeout: None,
        }
    }

    /// A stub on an object in this process (pass it to a peer to export it).
    pub fn local<D: Dispatch>(dispatcher: D) -> Self {
        let info = dispatcher.info();
        Stub {
            target: Target::Local(Arc::new(dispatcher)),
            info,
            timeout: None,
        }
    }

    pub(crate) fn from_target(target: Target, info: &'static InterfaceInfo) -> Self {
        Stub {
            target,
            info,
            timeout: None,
        }
    }

    /// The same object seen through another interface (a super-interface).
    pub fn with_info(&self, info: &'static InterfaceInfo) -> Self {
        Stub {
            info,
            ..self.clone()
        }
    }

    /// The same stub with another timeout for its calls.
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Stub {
            timeout: Some(timeout),
            ..self.clone()
        }
    }

    /// Whether the object lives in this process (a local implementation, or a
    /// capability passed back to its owner).
    pub fn is_local(&self) -> bool {
        matches!(self.target, Target::Local(_))
    }

    /// Whether this is a null capability.
    pub fn is_null(&self) -> bool {
        matches!(self.target, Target::Null)
    }

    /// The capability as a value, for whoever is being called or answered.
    pub fn to_value(&self) -> Value {
        crate::capability::encode_target(&self.target, self.info)
    }

    /// A capability read from a value, from whoever is calling or answering.
    pub fn from_value(value: Value, info: &'static InterfaceInfo) -> Result<Self, DecodeError> {
        Ok(Stub::from_target(
            crate::capability::decode_target(value)?,
            info,
        ))
    }

    /// Calls method number `method`: `args` encodes the arguments, the result
    /// decodes as `T`.
    pub async fn call<T: Decode>(
        &self,
        method: usize,
        args: impl FnOnce() -> Vec<Value>,
    ) -> Result<T, pseud::Error> {
        let Some(m) = self.info.methods.get(method) else {
            return Err(pseud::Error::Encode {
                what: format!("method #{method} of {}", self.info.name),
                reason: "no such method".into(),
            });
        };
        match &self.target {
            Target::Null => Err(pseud::Error::Unreachable {
                peer: format!("a null {} capability", self.info.name),
            }),
            Target::Named(remote) => {
                let ctx = PeerCtx::for_remote(remote);
                let args = ctx.enter(args);
                let name = self.info.served_name(method);
                let value = self
                    .request(remote, &name)
                    .args(args)
                    .send::<Value>()
                    .await?;
                ctx.enter(|| decode_result(m.name, value))
            }
            Target::Imported(import) => {
                if !import.is_alive() {
                    return Err(pseud::Error::Disconnected {
                        peer: format!("{:?}", import.remote),
                    });
                }
                let ctx = PeerCtx::for_import(import);
                let args = ctx.enter(args);
                let value = self
                    .request(&import.remote, CALL)
                    .args((
                        import.id,
                        m.interface_id,
                        m.ordinal,
                        args,
                        Value::Map(Vec::new()),
                    ))
                    .send::<Value>()
                    .await
                    .map_err(|e| import_error(import, e))?;
                ctx.enter(|| decode_result(m.name, value))
            }
            Target::Local(object) => {
                let ctx = PeerCtx::Loopback(std::sync::Mutex::new(Vec::new()));
                let args = ctx.enter(args);
                let info = object.info();
                let Some(index) = info
                    .methods
                    .iter()
                    .position(|x| x.interface_id == m.interface_id && x.ordinal == m.ordinal)
                else {
                    return Err(pseud::Error::Encode {
                        what: format!("{}.{}", self.info.name, m.name),
                        reason: format!("the object ({}) has no such method", info.name),
                    });
                };
                let future = ctx.enter(|| object.dispatch(index, args));
                let reply = future
                    .await
                    .map_err(|f| pseud::Error::Remote(f.into_remote()))?;
                let value = ctx.enter(|| reply.encode());
                ctx.enter(|| decode_result(m.name, value))
            }
        }
    }

    /// Forwards a raw call (`call` from another peer) to this stub's object.
    pub(crate) async fn call_raw(
        &self,
        interface_id: u64,
        ordinal: u16,
        args: Vec<Captured>,
        back: &PeerCtx,
    ) -> Result<Value, pseud::Error> {
        let (remote, request_name, call_args) = match &self.target {
            Target::Imported(import) => {
                if !import.is_alive() {
                    return Err(pseud::Error::Disconnected {
                        peer: format!("{:?}", import.remote),
                    });
                }
                (import.remote.clone(), CALL.to_string(), Some(import.id))
            }
            Target::Named(remote) => {
                let Some(m) = self
                    .info
                    .methods
                    .iter()
                    .find(|m| m.interface_id == interface_id && m.ordinal == ordinal)
                else {
                    return Err(pseud::Error::Encode {
                        what: format!("method {ordinal} of {interface_id:#x}"),
                        reason: "not a method of the forwarded interface".into(),
                    });
                };
                (remote.clone(), m.wire_name.to_string(), None)
            }
            Target::Null | Target::Local(_) => {
                return Err(pseud::Error::Unreachable {
                    peer: "a forwarded capability".into(),
                });
            }
        };
        let ctx = PeerCtx::for_remote(&remote);
        let args: Vec<Value> = ctx.enter(|| args.into_iter().map(release_captured).collect());
        let request = self.request(&remote, &request_name);
        let request = match call_args {
            Some(id) => request.args((id, interface_id, ordinal, args, Value::Map(Vec::new()))),
            None => request.args(args),
        };
        let value = request.send::<Value>().await?;
        let captured = ctx.enter(|| capture_value(value));
        Ok(back.enter(|| release_captured(captured)))
    }

    fn request(&self, remote: &Remote, name: &str) -> pseud::Request {
        let request = remote.request(name);
        match self.timeout {
            Some(t) => request.timeout(t),
            None => request,
        }
    }
}

/// A lost connection shows as `Disconnected`, never as a wait for the timeout.
fn import_error(import: &crate::capability::Import, e: pseud::Error) -> pseud::Error {
    match e {
        pseud::Error::Unreachable { peer } => pseud::Error::Disconnected { peer },
        other if !import.is_alive() => pseud::Error::Disconnected {
            peer: format!("{:?} ({other})", import.remote),
        },
        other => other,
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
