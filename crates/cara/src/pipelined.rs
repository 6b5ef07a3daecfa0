//! Promise pipelining at the stub layer: [`Stub::pipeline`] calls a method whose
//! result is an interface and returns at once a stub on that result; calls on it
//! are sent before the result arrives (see `capability::pipeline` and
//! `capability::promise` for the wire).
//!
//! This module and `interface` are one type split by concern: it adds `Stub`'s
//! pipelining methods, and `Stub::call` hands it calls on promised objects, so
//! the two name each other.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll, Waker};

use pseud::{Args, Value};

use crate::capability::{
    Begin, CALL, Caps, Naming, PIPELINED, PROMISE, PeerCtx, Pipelining, Promise, Target,
    UNKNOWN_PROMISE, Wire, call_args, decode_target, pipelined_args,
};
use crate::codec::Decode;
use crate::error::EncodeError;
use crate::interface::{RegisteredMethod, Stub, call_in, decode_result};

/// Arguments encoded for a peer, boxed so that a call on a promise can be
/// retried on its result with the same type.
pub(crate) type BoxedArgs<'a> =
    Box<dyn FnOnce(Caps<'_>) -> Result<Vec<Value>, EncodeError> + Send + 'a>;

type BoxedCall<'a, T> = Pin<Box<dyn Future<Output = Result<T, pseud::Error>> + Send + 'a>>;

/// A result that is a capability, whatever its interface (typed by the caller).
struct Promised(Target);

impl Decode for Promised {
    fn decode(value: Value, caps: Caps<'_>) -> Result<Self, crate::DecodeError> {
        decode_target(value, caps).map(Promised)
    }
}

/// How the promised call goes out, to a peer that may pipeline.
enum Wrapped {
    /// A method of a server's registered interface, under its served name.
    Named(String),
    /// A method of an object the peer exported (`call`).
    Object(u64),
    /// A method of the object another promise of the peer's will hold.
    Pipelined(u64),
}

/// Whether a peer answered `cara.promise` with `ServiceNotFoundError`: it does
/// not pipeline (Python pseud, the original cara).
fn refuses_promises(e: &pseud::RemoteError) -> bool {
    e.is_service_not_found() && e.message == PROMISE
}

/// A pipelined call on a promise, counted in flight there until this drops.
struct InFlight(Arc<Promise>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.end();
    }
}

impl Stub {
    /// Calls method number `method`, whose result is an interface (`result`
    /// describes it), and returns at once a stub on that result: calls on it are
    /// sent before the result arrives and run on the callee when it does. If the
    /// call fails, so do the calls on the stub, with its error. Towards a peer
    /// that does not pipeline (Python pseud, the original cara) or an object in
    /// this process, calls on the stub wait for the result instead.
    ///
    /// Call inside a tokio runtime (the call runs on a task of its own).
    pub fn pipeline(
        &self,
        method: usize,
        result: &'static crate::InterfaceInfo,
        args: impl FnOnce(Caps<'_>) -> Result<Vec<Value>, EncodeError> + Send + 'static,
    ) -> Stub {
        let promised = |promise: Arc<Promise>| Stub {
            target: Target::Promise(promise),
            info: result,
            timeout: self.timeout,
            connection: self.connection.clone(),
        };
        let Ok(handle) = tokio::runtime::Handle::try_current() else {
            return promised(Promise::failed(pseud::Error::Setup(
                "Stub::pipeline needs a tokio runtime".into(),
            )));
        };
        let Some(m) = self.info.methods.get(method) else {
            return promised(Promise::failed(pseud::Error::NoSuchMethod {
                interface: self.info.name.to_string(),
                method: format!("#{method}"),
            }));
        };
        // A call on a promise pipelined on the wire is itself pipelined there:
        // `cara.promise` wraps `cara.pipelined`, so a chain goes out at once.
        let mut on_first = None;
        let (ctx, remote, wrapped) = match &*self.target.resolved() {
            Target::Promise(first) => match first.begin() {
                Begin::Settled(Ok(target)) => {
                    return self.retarget(target).pipeline(method, result, args);
                }
                Begin::Settled(Err(e)) => return promised(Promise::failed(e)),
                Begin::Wait => return promised(self.awaited(&handle, method, args)),
                Begin::Pipeline(wire) => {
                    on_first = Some(InFlight(first.clone()));
                    (
                        wire.ctx(),
                        wire.remote.clone(),
                        Some(Wrapped::Pipelined(wire.id)),
                    )
                }
            },
            Target::Named(remote) => {
                let ctx = PeerCtx::for_remote(remote);
                let bare = ctx
                    .peer()
                    .is_some_and(|(s, p)| s.naming(p, self.info.id) == Some(Naming::Bare));
                let served = self.info.served_name_of(method, m);
                (
                    ctx,
                    remote.clone(),
                    (!bare).then_some(Wrapped::Named(served)),
                )
            }
            Target::Imported(import) if import.is_alive() => (
                PeerCtx::for_import(import),
                import.remote.clone(),
                Some(Wrapped::Object(import.id)),
            ),
            _ => return promised(self.awaited(&handle, method, args)),
        };
        let pipelines = ctx
            .peer()
            .is_some_and(|(s, p)| !p.is_empty() && s.pipelining(p) == Pipelining::Served);
        let (Some(wrapped), true) = (wrapped, pipelines) else {
            return promised(self.awaited(&handle, method, args));
        };
        let encoded = match args(ctx.caps()) {
            Ok(a) => a,
            Err(e) => return promised(Promise::failed(e.into())),
        };
        let Some((session, peer)) = ctx.peer().map(|(s, p)| (s.clone(), p.to_vec())) else {
            return promised(Promise::failed(pseud::Error::Unreachable {
                peer: remote.to_string(),
            }));
        };
        let mut id: u64 = rand::random();
        while id == 0 {
            id = rand::random();
        }
        let promise = Promise::new(Some(Wire {
            id,
            session: session.clone(),
            peer: peer.clone(),
            remote: remote.clone(),
        }));
        let (name, inner) = match &wrapped {
            Wrapped::Named(served) => (served.clone(), encoded.clone()),
            Wrapped::Object(object) => (
                CALL.to_string(),
                call_args(*object, m.interface_id, m.ordinal, encoded.clone()),
            ),
            Wrapped::Pipelined(first) => (
                PIPELINED.to_string(),
                pipelined_args(*first, m.interface_id, m.ordinal, encoded.clone()),
            ),
        };
        let mut send = Box::pin(
            self.request(&remote, PROMISE)
                .args((id, name, inner, Value::Map(Vec::new())))
                .send::<Value>(),
        );
        // One poll hands the message to the socket now, so that it goes out
        // before any call made on the returned stub.
        let first = send
            .as_mut()
            .poll(&mut TaskContext::from_waker(Waker::noop()));
        let (settle, stub) = (promise.clone(), self.clone());
        let interface_id = self.info.id;
        let (served, bare) = (self.info.served_name_of(method, m), m.name);
        handle.spawn(async move {
            let outcome = match first {
                Poll::Ready(r) => r,
                Poll::Pending => send.await,
            };
            let decode = |value| decode_result::<Promised>(m.name, value, ctx.caps()).map(|p| p.0);
            let target = match (outcome, wrapped) {
                (Ok(value), _) => decode(value),
                // The call did not run (the peer did not know the first promise,
                // or pipelines nothing): make it on the first promise's result.
                (Err(pseud::Error::Remote(e)), Wrapped::Pipelined(_))
                    if e.class == UNKNOWN_PROMISE || refuses_promises(&e) =>
                {
                    settle.unwire();
                    match on_first.take() {
                        Some(in_flight) => {
                            let first = in_flight.0.clone();
                            drop(in_flight);
                            match first.wait().await {
                                Ok(target) => stub
                                    .retarget(target)
                                    .call::<Promised>(method, move |_| Ok(encoded))
                                    .await
                                    .map(|p| p.0),
                                Err(e) => Err(e),
                            }
                        }
                        None => Err(pseud::Error::Remote(e)),
                    }
                }
                // The peer does not pipeline: the call did not run; make it plainly.
                (Err(pseud::Error::Remote(e)), wrapped) if refuses_promises(&e) => {
                    session.learn_no_pipelining(&peer);
                    settle.unwire();
                    let plain = match wrapped {
                        Wrapped::Object(object) => {
                            stub.request(&remote, CALL)
                                .args(call_args(object, m.interface_id, m.ordinal, encoded))
                                .send::<Value>()
                                .await
                        }
                        _ => {
                            let named = RegisteredMethod {
                                interface_id,
                                qualified: &served,
                                bare,
                            };
                            call_in(
                                &remote,
                                &ctx,
                                named,
                                Args::positional(encoded),
                                stub.timeout,
                            )
                            .await
                        }
                    };
                    plain.and_then(decode)
                }
                (Err(e), _) => Err(e),
            };
            drop(on_first);
            settle.settle(target);
        });
        promised(promise)
    }

    /// A promise not pipelined on the wire: a task makes the call, and calls on
    /// the promised stub wait for it.
    fn awaited(
        &self,
        handle: &tokio::runtime::Handle,
        method: usize,
        args: impl FnOnce(Caps<'_>) -> Result<Vec<Value>, EncodeError> + Send + 'static,
    ) -> Arc<Promise> {
        let promise = Promise::new(None);
        let (stub, settle) = (self.clone(), promise.clone());
        handle.spawn(async move {
            let outcome = stub.call::<Promised>(method, args).await;
            settle.settle(outcome.map(|p| p.0));
        });
        promise
    }

    /// The stub once the call it comes from has returned: the same stub unless it
    /// came from [`Stub::pipeline`]; that call's error if it failed.
    pub async fn resolved(&self) -> Result<Stub, pseud::Error> {
        match &self.target {
            Target::Promise(promise) => Ok(self.retarget(promise.wait().await?)),
            _ => Ok(self.clone()),
        }
    }

    fn retarget(&self, target: Target) -> Stub {
        Stub {
            target,
            ..self.clone()
        }
    }

    /// A call on a promised object: pipelined, or made on the result.
    pub(crate) fn call_promised<'a, T: Decode + 'a>(
        &'a self,
        promise: Arc<Promise>,
        method: usize,
        args: BoxedArgs<'a>,
    ) -> BoxedCall<'a, T> {
        Box::pin(async move {
            let wire = match promise.begin() {
                Begin::Settled(target) => return self.retarget(target?).call(method, args).await,
                Begin::Wait => {
                    let target = promise.wait().await?;
                    return self.retarget(target).call(method, args).await;
                }
                Begin::Pipeline(wire) => wire,
            };
            let Some(m) = self.info.methods.get(method) else {
                promise.end();
                return Err(pseud::Error::NoSuchMethod {
                    interface: self.info.name.to_string(),
                    method: format!("#{method}"),
                });
            };
            let ctx = wire.ctx();
            let encoded = match args(ctx.caps()) {
                Ok(a) => a,
                Err(e) => {
                    promise.end();
                    return Err(e.into());
                }
            };
            let sent = self
                .request(&wire.remote, PIPELINED)
                .args(pipelined_args(
                    wire.id,
                    m.interface_id,
                    m.ordinal,
                    encoded.clone(),
                ))
                .send::<Value>()
                .await;
            promise.end();
            match sent {
                Ok(value) => decode_result(m.name, value, ctx.caps()),
                // The peer does not pipeline, or did not know the promise (yet):
                // the call did not run; make it on the result.
                Err(pseud::Error::Remote(e))
                    if e.class == UNKNOWN_PROMISE
                        || (e.is_service_not_found() && e.message == PIPELINED) =>
                {
                    let target = promise.wait().await?;
                    let again: BoxedArgs<'a> = Box::new(move |_| Ok(encoded));
                    self.retarget(target).call(method, again).await
                }
                Err(e) => Err(e),
            }
        })
    }
}
