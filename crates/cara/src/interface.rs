//! Serving implementations of generated server traits, and calling objects
//! through typed stubs.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use futures_util::FutureExt;

use pseud::{Args, Context, Fault, Function, Registry, Remote, Value};

use crate::capability::{
    CALL, Caps, Naming, PeerCtx, Target, call_args, decode_target, encode_target,
};
use crate::codec::Decode;
use crate::dispatch::{Dispatch, InterfaceInfo, MethodInfo, bind, scope_caller};
use crate::error::{DecodeError, EncodeError};

/// Registers every method of `dispatcher` on `registry` as `<Interface>.<method>`,
/// and, while no other served interface claims them, as the bare method name and
/// (for inherited methods) as `<DeclaringInterface>.<method>`.
pub fn serve<D: Dispatch>(registry: &Registry, dispatcher: D) -> Result<(), pseud::Error> {
    let dispatcher = Arc::new(dispatcher);
    let info = dispatcher.info();
    // Callers may pipeline from their first call on, before this endpoint has
    // made any capability.
    crate::capability::install_pipelining(registry);
    for (index, method) in info.methods.iter().enumerate() {
        let served_name = info.served_name_of(index, method);
        let d = dispatcher.clone();
        let handler = move |ctx: Context, args: Args| {
            let d = d.clone();
            async move {
                let bound = bind(method, args)?;
                let here = PeerCtx::for_remote(&ctx.caller());
                let future = d.dispatch(index, bound, here.caps());
                let reply = scope_caller(ctx, future).await?;
                reply.encode(here.caps()).map_err(|e| e.fault())
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

/// A typed client's reference to an object: generated `<Interface>Client` types
/// wrap one. It may name a server's registered interface, an object another peer
/// exported to us (a live capability), an object in this process, or nothing.
#[derive(Clone)]
pub struct Stub {
    pub(crate) target: Target,
    pub(crate) info: &'static InterfaceInfo,
    pub(crate) timeout: Option<Duration>,
    /// The connection this stub made (`connect`), kept open while any clone lives.
    pub(crate) connection: Option<Arc<pseud::Client>>,
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
            connection: None,
        }
    }

    /// Connects a client made from `builder` to `endpoint`, and calls the interface
    /// its server registered; the connection closes when the last clone is dropped.
    /// Call inside a tokio runtime.
    pub fn connect(
        builder: pseud::ClientBuilder,
        endpoint: &str,
        info: &'static InterfaceInfo,
    ) -> Result<Self, pseud::Error> {
        let client = builder.connect(endpoint)?;
        let mut stub = Stub::new(client.server().clone(), info);
        stub.connection = Some(Arc::new(client));
        Ok(stub)
    }

    /// A stub calling the interface the servers of `pool` registered, each call
    /// on the next replica whose connection is up ([`pseud::Pool`]). An object a
    /// call returns stays bound to the replica that made it: calls on it go there.
    pub fn pool(pool: Arc<pseud::Pool>, info: &'static InterfaceInfo) -> Self {
        Stub::from_target(Target::Pool(pool), info)
    }

    /// A null capability of this interface: calls fail.
    pub fn null(info: &'static InterfaceInfo) -> Self {
        Stub {
            target: Target::Null,
            info,
            timeout: None,
            connection: None,
        }
    }

    /// A stub on an object in this process (pass it to a peer to export it).
    pub fn local<D: Dispatch>(dispatcher: D) -> Self {
        let info = dispatcher.info();
        Stub {
            target: Target::Local(Arc::new(dispatcher)),
            info,
            timeout: None,
            connection: None,
        }
    }

    /// A call on the interface `remote`'s server registered.
    async fn call_named<T: Decode>(
        &self,
        remote: &Remote,
        method: usize,
        m: &MethodInfo,
        args: impl FnOnce(Caps<'_>) -> Result<Vec<Value>, EncodeError> + Send,
    ) -> Result<T, pseud::Error> {
        let ctx = PeerCtx::for_remote(remote);
        let args = args(ctx.caps())?;
        let served = self.info.served_name_of(method, m);
        let named = RegisteredMethod {
            interface_id: self.info.id,
            qualified: &served,
            bare: m.name,
        };
        let value = call_in(remote, &ctx, named, Args::positional(args), self.timeout).await?;
        decode_result(m.name, value, ctx.caps())
    }

    pub(crate) fn from_target(target: Target, info: &'static InterfaceInfo) -> Self {
        Stub {
            target,
            info,
            timeout: None,
            connection: None,
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

    /// The capability as a value, for the peer of `caps` (exported to it).
    pub fn encode(&self, caps: Caps<'_>) -> Result<Value, EncodeError> {
        encode_target(&self.target, self.info, caps)
    }

    /// A capability read from a value, from the peer of `caps`.
    pub fn decode(
        value: Value,
        info: &'static InterfaceInfo,
        caps: Caps<'_>,
    ) -> Result<Self, DecodeError> {
        Ok(Stub::from_target(decode_target(value, caps)?, info))
    }

    /// Calls method number `method`: `args` encodes the arguments for the
    /// callee's `caps`, the result decodes as `T`.
    pub async fn call<T: Decode>(
        &self,
        method: usize,
        args: impl FnOnce(Caps<'_>) -> Result<Vec<Value>, EncodeError> + Send,
    ) -> Result<T, pseud::Error> {
        let Some(m) = self.info.methods.get(method) else {
            return Err(pseud::Error::NoSuchMethod {
                interface: self.info.name.to_string(),
                method: format!("#{method}"),
            });
        };
        match &self.target {
            Target::Promise(promise) => {
                self.call_promised::<T>(promise.clone(), method, Box::new(args))
                    .await
            }
            Target::Null => Err(pseud::Error::NullCapability {
                interface: self.info.name.to_string(),
            }),
            Target::Named(remote) => self.call_named(remote, method, m, args).await,
            // The next replica's: what the call returns stays bound to it.
            Target::Pool(pool) => self.call_named(pool.pick(), method, m, args).await,
            Target::Imported(import) => {
                if !import.is_alive() {
                    return Err(pseud::Error::Disconnected {
                        peer: import.remote.to_string(),
                    });
                }
                let ctx = PeerCtx::for_import(import);
                let args = args(ctx.caps())?;
                let value = self
                    .request(&import.remote, CALL)
                    .args(call_args(import.id, m.interface_id, m.ordinal, args))
                    .send::<Value>()
                    .await
                    .map_err(|e| import_error(import, e))?;
                decode_result(m.name, value, ctx.caps())
            }
            Target::Local(object) => {
                let ctx = PeerCtx::loopback();
                let args = args(ctx.caps())?;
                let info = object.info();
                let Some((index, found)) = info
                    .methods
                    .iter()
                    .enumerate()
                    .find(|(_, x)| x.interface_id == m.interface_id && x.ordinal == m.ordinal)
                else {
                    return Err(pseud::Error::NoSuchMethod {
                        interface: format!("the object ({})", info.name),
                        method: format!("{}.{}", self.info.name, m.name),
                    });
                };
                // A panic looks as it would to a remote caller: a PanicError.
                let name = info.served_name_of(index, found);
                let panicked = |p| pseud::Error::Remote(Fault::from_panic(&name, p).into_remote());
                let args = args.into_iter().map(Some).collect();
                let future = catch_unwind(AssertUnwindSafe(|| {
                    object.dispatch(index, args, ctx.caps())
                }))
                .map_err(panicked)?;
                let reply = AssertUnwindSafe(future)
                    .catch_unwind()
                    .await
                    .map_err(panicked)?
                    .map_err(|f| pseud::Error::Remote(f.into_remote()))?;
                let value = reply.encode(ctx.caps())?;
                decode_result(m.name, value, ctx.caps())
            }
        }
    }

    pub(crate) fn request(&self, remote: &Remote, name: &str) -> pseud::Request {
        let request = remote.request(name);
        match self.timeout {
            Some(t) => request.timeout(t),
            None => request,
        }
    }
}

/// What every generated `<Interface>Client` is: a typed wrapper of a [`Stub`].
pub trait Interface: Sized {
    /// The interface's method table.
    fn info() -> &'static InterfaceInfo;
    /// Wraps a stub of this interface.
    fn from_stub(stub: Stub) -> Self;
}

/// A typed client spreading its calls over the replicas of `pool` (see
/// [`Stub::pool`]): `let calc: CalculatorClient = cara::pooled(Arc::new(pool));`.
pub fn pooled<C: Interface>(pool: Arc<pseud::Pool>) -> C {
    C::from_stub(Stub::pool(pool, C::info()))
}

/// A generated client's pipelining variant: [`Stub::pipeline`], typed.
pub fn pipeline<C: Interface>(
    stub: &Stub,
    method: usize,
    args: impl FnOnce(Caps<'_>) -> Result<Vec<Value>, EncodeError> + Send + 'static,
) -> C {
    C::from_stub(stub.pipeline(method, C::info(), args))
}

/// A method of an interface a server registered by name, as [`call_registered`] calls it.
#[derive(Clone, Copy, Debug)]
pub struct RegisteredMethod<'a> {
    /// The interface's id: what the name form is remembered under.
    pub interface_id: u64,
    /// `<Interface>.<method>`, as `cara::serve` registers it.
    pub qualified: &'a str,
    /// The bare method name, as the original Python cara registers it.
    pub bare: &'a str,
}

/// Calls a method a server registered by name, under the name form that server is
/// known to answer (see `capability::dialect`): `<Interface>.<method>` until it
/// answers `ServiceNotFoundError`, then the bare `<method>` of the original cara,
/// remembered per connection and interface. Typed clients call through this; so
/// can tools that call by name (`cara call`).
pub async fn call_registered(
    remote: &Remote,
    method: RegisteredMethod<'_>,
    args: Args,
    timeout: Option<Duration>,
) -> Result<Value, pseud::Error> {
    call_in(remote, &PeerCtx::for_remote(remote), method, args, timeout).await
}

/// [`call_registered`] with the peer context already made. The arguments are kept
/// for a second attempt only while the form is not known yet.
pub(crate) async fn call_in(
    remote: &Remote,
    ctx: &PeerCtx,
    method: RegisteredMethod<'_>,
    args: Args,
    timeout: Option<Duration>,
) -> Result<Value, pseud::Error> {
    let name_of = |naming: Naming| match naming {
        Naming::Qualified => method.qualified,
        Naming::Bare => method.bare,
    };
    let send = |name: &str, args: Args| {
        let mut request = remote.request(name).args(args.args);
        for (k, v) in &args.kwargs {
            request = request.kwarg_value(k, v);
        }
        if let Some(t) = timeout {
            request = request.timeout(t);
        }
        request.send::<Value>()
    };
    let Some((session, peer)) = ctx.peer() else {
        return send(method.qualified, args).await;
    };
    let known = session.naming(peer, method.interface_id);
    let first = known.unwrap_or(Naming::Qualified);
    let retry_args = known.is_none().then(|| args.clone());
    let result = send(name_of(first), args).await;
    let not_found = |r: &Result<Value, pseud::Error>| matches!(r, Err(pseud::Error::Remote(e)) if e.class == pseud::SERVICE_NOT_FOUND);
    if !not_found(&result) {
        if result.is_ok() && known.is_none() {
            session.learn_naming(peer, method.interface_id, first);
        }
        return result;
    }
    // The method did not run: the other form is safe to try. But a method missing
    // under the form this peer is known to answer is missing (a peer that changes
    // implementation reconnects, which forgets the form).
    let Some(args) = retry_args else {
        return result;
    };
    let second = first.other();
    let retried = send(name_of(second), args).await;
    if retried.is_ok() {
        session.learn_naming(peer, method.interface_id, second);
        return retried;
    }
    if not_found(&retried) {
        // Neither form is served: report the name our own servers use.
        return result;
    }
    retried
}

/// A lost connection shows as `Disconnected`, never as a wait for the timeout.
fn import_error(import: &crate::capability::Import, e: pseud::Error) -> pseud::Error {
    match e {
        pseud::Error::Unreachable { peer } => pseud::Error::Disconnected { peer },
        other if !import.is_alive() => {
            tracing::debug!(error = %other, "a call on a capability whose peer went");
            pseud::Error::Disconnected {
                peer: import.remote.to_string(),
            }
        }
        other => other,
    }
}

/// Decodes a method's result from the peer of `caps`, naming the method in the error.
pub fn decode_result<T: Decode>(
    method: &str,
    value: Value,
    caps: Caps<'_>,
) -> Result<T, pseud::Error> {
    T::decode(value, caps).map_err(|e| pseud::Error::Decode {
        name: method.to_string(),
        reason: e.to_string(),
    })
}

/// Decodes argument `name` from the caller's `caps`; a mismatch is a `TypeError`
/// for the caller.
pub fn decode_param<T: Decode>(
    method: &str,
    name: &str,
    value: Value,
    caps: Caps<'_>,
) -> Result<T, Fault> {
    T::decode(value, caps)
        .map_err(|e: DecodeError| Fault::type_error(format!("{method}() argument {name:?}: {e}")))
}
