//! Turning Rust functions into callable handlers.
//!
//! A handler is any `Fn` whose parameters are serde values (decoded from the call's
//! positional arguments), optionally preceded by a [`Context`], or whose only
//! parameter is [`Args`] (dynamic: it sees args and kwargs as sent). It may be sync
//! or async, and may return a plain serde value or a `Result<T, E>` with
//! `E: Into<Fault>`. The marker type parameter `M` only tells those shapes apart.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::context::Context;
use crate::error::Fault;
use crate::value::{Args, Value, from_value, to_msgpack, write_value};

/// The encoded reply of a handler, or the fault it raised.
pub type Reply = Result<Vec<u8>, Fault>;

/// A boxed handler future.
pub type ReplyFuture = Pin<Box<dyn Future<Output = Reply> + Send>>;

/// What invoking a handler gives: a reply now, or a future of one.
pub enum Invoke {
    /// The handler finished synchronously.
    Ready(Reply),
    /// The handler is async; the future yields its reply.
    Pending(ReplyFuture),
}

/// An argument that could not be decoded: which one, and why.
#[derive(Debug)]
pub struct ArgError {
    /// Zero-based position of the argument.
    pub index: usize,
    /// Why it did not decode.
    pub reason: String,
}

/// A function that can serve calls. Implemented for closures and fn items of the
/// shapes described in the module docs; `M` is an inference marker.
pub trait Handler<M>: Send + Sync + 'static {
    /// How many positional values the handler takes, or `None` if it takes [`Args`].
    fn arity(&self) -> Option<usize>;

    /// Runs the handler. `args` holds exactly [`Handler::arity`] values when that is
    /// `Some`; otherwise the call's arguments as sent.
    fn invoke(&self, ctx: Context, args: Args) -> Result<Invoke, ArgError>;
}

/// A handler's return value that can be encoded as a reply.
pub trait IntoReply<M> {
    /// Encodes the value, or passes on the fault.
    fn into_reply(self) -> Reply;
}

/// Marker: the handler returns a plain value.
pub struct Plain;
/// Marker: the handler returns a `Result`.
pub struct Fallible;

impl<T: Serialize + 'static> IntoReply<Plain> for T {
    fn into_reply(self) -> Reply {
        encode_reply(&self)
    }
}

impl<T: Serialize + 'static, E: Into<Fault>> IntoReply<Fallible> for Result<T, E> {
    fn into_reply(self) -> Reply {
        match self {
            Ok(v) => encode_reply(&v),
            Err(e) => Err(e.into()),
        }
    }
}

fn encode_reply<T: Serialize + 'static>(value: &T) -> Reply {
    if let Some(v) = (value as &dyn Any).downcast_ref::<Value>() {
        let mut buf = Vec::new();
        write_value(&mut buf, v);
        return Ok(buf);
    }
    to_msgpack(value).map_err(|reason| {
        Fault::new(
            "EncodeError",
            format!("the result cannot be encoded as msgpack: {reason}"),
        )
    })
}

fn arg<T: DeserializeOwned + 'static>(
    it: &mut std::vec::IntoIter<Value>,
    index: usize,
) -> Result<T, ArgError> {
    let value = it.next().ok_or_else(|| ArgError {
        index,
        reason: "missing".into(),
    })?;
    from_value(value).map_err(|e| ArgError {
        index,
        reason: e.to_string(),
    })
}

/// Markers for the handler shapes.
#[doc(hidden)]
pub mod marker {
    /// Sync, typed positional parameters.
    pub struct Sync<M, A>(std::marker::PhantomData<(M, A)>);
    /// Async, typed positional parameters.
    pub struct Async<M, A>(std::marker::PhantomData<(M, A)>);
    /// Sync, with a leading `Context`.
    pub struct SyncCtx<M, A>(std::marker::PhantomData<(M, A)>);
    /// Async, with a leading `Context`.
    pub struct AsyncCtx<M, A>(std::marker::PhantomData<(M, A)>);
    /// Sync, dynamic `Args`.
    pub struct SyncDyn<M, C>(std::marker::PhantomData<(M, C)>);
    /// Async, dynamic `Args`.
    pub struct AsyncDyn<M, C>(std::marker::PhantomData<(M, C)>);
}

macro_rules! typed_handlers {
    ($n:expr; $($a:ident $t:ident),*) => {
        impl<F, R, M, $($t,)*> Handler<marker::Sync<M, ($($t,)*)>> for F
        where
            F: Fn($($t),*) -> R + Send + Sync + 'static,
            R: IntoReply<M>,
            $($t: DeserializeOwned + 'static,)*
        {
            fn arity(&self) -> Option<usize> { Some($n) }
            #[allow(unused_variables, unused_mut, unused_assignments)]
            fn invoke(&self, _ctx: Context, args: Args) -> Result<Invoke, ArgError> {
                let mut it = args.args.into_iter();
                let mut i = 0usize;
                $(let $a: $t = arg(&mut it, i)?; i += 1;)*
                Ok(Invoke::Ready((self)($($a),*).into_reply()))
            }
        }

        impl<F, R, M, $($t,)*> Handler<marker::SyncCtx<M, ($($t,)*)>> for F
        where
            F: Fn(Context, $($t),*) -> R + Send + Sync + 'static,
            R: IntoReply<M>,
            $($t: DeserializeOwned + 'static,)*
        {
            fn arity(&self) -> Option<usize> { Some($n) }
            #[allow(unused_variables, unused_mut, unused_assignments)]
            fn invoke(&self, ctx: Context, args: Args) -> Result<Invoke, ArgError> {
                let mut it = args.args.into_iter();
                let mut i = 0usize;
                $(let $a: $t = arg(&mut it, i)?; i += 1;)*
                Ok(Invoke::Ready((self)(ctx, $($a),*).into_reply()))
            }
        }

        impl<F, Fut, R, M, $($t,)*> Handler<marker::Async<M, ($($t,)*)>> for F
        where
            F: Fn($($t),*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = R> + Send + 'static,
            R: IntoReply<M>,
            $($t: DeserializeOwned + 'static,)*
        {
            fn arity(&self) -> Option<usize> { Some($n) }
            #[allow(unused_variables, unused_mut, unused_assignments)]
            fn invoke(&self, _ctx: Context, args: Args) -> Result<Invoke, ArgError> {
                let mut it = args.args.into_iter();
                let mut i = 0usize;
                $(let $a: $t = arg(&mut it, i)?; i += 1;)*
                let fut = (self)($($a),*);
                Ok(Invoke::Pending(Box::pin(async move { fut.await.into_reply() })))
            }
        }

        impl<F, Fut, R, M, $($t,)*> Handler<marker::AsyncCtx<M, ($($t,)*)>> for F
        where
            F: Fn(Context, $($t),*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = R> + Send + 'static,
            R: IntoReply<M>,
            $($t: DeserializeOwned + 'static,)*
        {
            fn arity(&self) -> Option<usize> { Some($n) }
            #[allow(unused_variables, unused_mut, unused_assignments)]
            fn invoke(&self, ctx: Context, args: Args) -> Result<Invoke, ArgError> {
                let mut it = args.args.into_iter();
                let mut i = 0usize;
                $(let $a: $t = arg(&mut it, i)?; i += 1;)*
                let fut = (self)(ctx, $($a),*);
                Ok(Invoke::Pending(Box::pin(async move { fut.await.into_reply() })))
            }
        }
    };
}

typed_handlers!(0;);
typed_handlers!(1; a A);
typed_handlers!(2; a A, b B);
typed_handlers!(3; a A, b B, c C);
typed_handlers!(4; a A, b B, c C, d D);
typed_handlers!(5; a A, b B, c C, d D, e E);
typed_handlers!(6; a A, b B, c C, d D, e E, f G);
typed_handlers!(7; a A, b B, c C, d D, e E, f G, g H);
typed_handlers!(8; a A, b B, c C, d D, e E, f G, g H, h I);

/// Marker: no context parameter.
pub struct NoCtx;
/// Marker: a leading context parameter.
pub struct WithCtx;

impl<F, R, M> Handler<marker::SyncDyn<M, NoCtx>> for F
where
    F: Fn(Args) -> R + Send + Sync + 'static,
    R: IntoReply<M>,
{
    fn arity(&self) -> Option<usize> {
        None
    }
    fn invoke(&self, _ctx: Context, args: Args) -> Result<Invoke, ArgError> {
        Ok(Invoke::Ready((self)(args).into_reply()))
    }
}

impl<F, R, M> Handler<marker::SyncDyn<M, WithCtx>> for F
where
    F: Fn(Context, Args) -> R + Send + Sync + 'static,
    R: IntoReply<M>,
{
    fn arity(&self) -> Option<usize> {
        None
    }
    fn invoke(&self, ctx: Context, args: Args) -> Result<Invoke, ArgError> {
        Ok(Invoke::Ready((self)(ctx, args).into_reply()))
    }
}

impl<F, Fut, R, M> Handler<marker::AsyncDyn<M, NoCtx>> for F
where
    F: Fn(Args) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoReply<M>,
{
    fn arity(&self) -> Option<usize> {
        None
    }
    fn invoke(&self, _ctx: Context, args: Args) -> Result<Invoke, ArgError> {
        let fut = (self)(args);
        Ok(Invoke::Pending(Box::pin(
            async move { fut.await.into_reply() },
        )))
    }
}

impl<F, Fut, R, M> Handler<marker::AsyncDyn<M, WithCtx>> for F
where
    F: Fn(Context, Args) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = R> + Send + 'static,
    R: IntoReply<M>,
{
    fn arity(&self) -> Option<usize> {
        None
    }
    fn invoke(&self, ctx: Context, args: Args) -> Result<Invoke, ArgError> {
        let fut = (self)(ctx, args);
        Ok(Invoke::Pending(Box::pin(
            async move { fut.await.into_reply() },
        )))
    }
}
