//! Serving `call`: a peer calls an object we exported to it. The object is local
//! (dispatched here) or someone else's that we passed on (the call is forwarded,
//! its capabilities rewritten from one peer's view to the other's).

use std::sync::Arc;

use pseud::{Args, Context, Fault, Value};

use super::Target;
use super::context::{Caps, PeerCtx, decode_target, encode_target};
use super::session::{Session, hex};
use super::wire::{CALL, CAPABILITY_ERROR, Positional, call_args, is_capability};
use crate::dispatch::{ANY, BoxFuture, InterfaceInfo, Reply, bind};
use crate::error::EncodeError;

/// A `call` ready to run.
pub(crate) enum Prepared {
    /// A local object's dispatched method, and the context to encode its reply in.
    Local {
        future: BoxFuture<Result<Reply, Fault>>,
        here: PeerCtx,
    },
    /// A call forwarded to another peer.
    Forward(BoxFuture<Result<Value, Fault>>),
}

impl Session {
    /// The `call` handler, up to the dispatch. It is synchronous, so the future
    /// boxed per call only holds what lives across the await.
    pub(crate) fn prepare_call(
        self: &Arc<Self>,
        ctx: &Context,
        args: Args,
    ) -> Result<Prepared, Fault> {
        let peer = ctx.routing_id().to_vec();
        let mut positional = Positional::new(CALL, args.args);
        let id = positional.id("object id")?;
        let interface_id = positional.id("interface id")?;
        let ordinal = positional.ordinal()?;
        let call_args = positional.array("args")?;
        let call_kwargs = positional.kwargs();
        let Some((target, info)) = self.exported(&peer, id) else {
            // Scoping: never reach an object that was not exported to this peer.
            tracing::warn!(peer = %hex(&peer), id = format_args!("{id:x}"), "call on an object not exported to this peer");
            return Err(Fault::new(
                CAPABILITY_ERROR,
                format!("no object {id:#x} was exported to this peer"),
            ));
        };
        self.prepare_on(
            ctx,
            target,
            info,
            interface_id,
            ordinal,
            call_args,
            call_kwargs,
        )
    }

    /// A call of method `ordinal` of `interface_id` on `target`, an object
    /// exported to the caller of `ctx` (found by id, or through a promise).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn prepare_on(
        self: &Arc<Self>,
        ctx: &Context,
        target: Target,
        info: &'static InterfaceInfo,
        interface_id: u64,
        ordinal: u16,
        call_args: Vec<Value>,
        call_kwargs: Vec<(String, Value)>,
    ) -> Result<Prepared, Fault> {
        let peer = ctx.routing_id().to_vec();
        let here = PeerCtx::Remote {
            session: Arc::clone(self),
            peer: peer.clone(),
            remote: ctx.caller(),
        };
        match target {
            Target::Local(object) => {
                let info = object.info();
                let Some(index) = info
                    .methods
                    .iter()
                    .position(|m| m.interface_id == interface_id && m.ordinal == ordinal)
                else {
                    return Err(Fault::new(
                        CAPABILITY_ERROR,
                        format!(
                            "{} has no method {ordinal} of interface {interface_id:#x}",
                            info.name
                        ),
                    ));
                };
                let method = &info.methods[index];
                let bound = bind(
                    method,
                    Args {
                        args: call_args,
                        kwargs: call_kwargs,
                    },
                )?;
                let future = object.dispatch(index, bound, here.caps());
                Ok(Prepared::Local { future, here })
            }
            // Forwarding: rewrite capabilities from this peer's view to the owner's.
            other => {
                let args: Vec<Captured> = call_args
                    .into_iter()
                    .map(|v| capture(v, here.caps()))
                    .collect();
                Ok(Prepared::Forward(Box::pin(async move {
                    forward(&other, info, interface_id, ordinal, args, &here)
                        .await
                        .map_err(|e| match e {
                            pseud::Error::Remote(r) => Fault::from(r),
                            other => Fault::new(CAPABILITY_ERROR, other.to_string()),
                        })
                })))
            }
        }
    }
}

/// Forwards a raw call (`call` from another peer) to `target`, which is not ours;
/// its reply is rewritten for `back`, the peer that called.
async fn forward(
    target: &Target,
    info: &'static InterfaceInfo,
    interface_id: u64,
    ordinal: u16,
    args: Vec<Captured>,
    back: &PeerCtx,
) -> Result<Value, pseud::Error> {
    // A pool forwards each call to its next replica.
    let target = &*target.resolved();
    let (remote, request_name, object) = match target {
        Target::Imported(import) => {
            if !import.is_alive() {
                return Err(pseud::Error::Disconnected {
                    peer: import.remote.to_string(),
                });
            }
            (import.remote.clone(), CALL.to_string(), Some(import.id))
        }
        Target::Named(remote) => {
            let Some(m) = info
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
        // (`Pool` was resolved above.)
        Target::Null | Target::Local(_) | Target::Promise(_) | Target::Pool(_) => {
            return Err(pseud::Error::Unreachable {
                peer: "a forwarded capability".into(),
            });
        }
    };
    let ctx = PeerCtx::for_remote(&remote);
    let args = args
        .into_iter()
        .map(|c| release_captured(c, ctx.caps()))
        .collect::<Result<Vec<Value>, _>>()?;
    let request = remote.request(&request_name);
    let request = match object {
        Some(id) => request.args(call_args(id, interface_id, ordinal, args)),
        None => request.args(args),
    };
    let value = request.send::<Value>().await?;
    let captured = capture(value, ctx.caps());
    Ok(release_captured(captured, back.caps())?)
}

/// A value whose capabilities have been resolved to targets (in the context of
/// the peer it came from), ready to be encoded for another peer.
pub(crate) enum Captured {
    /// A plain value.
    Plain(Value),
    /// A capability.
    Cap(Target),
    /// An array.
    Array(Vec<Captured>),
    /// A map.
    Map(Vec<(Captured, Captured)>),
}

/// Resolves the capabilities in `v`, which came from the peer of `caps`.
fn capture(v: Value, caps: Caps<'_>) -> Captured {
    match v {
        Value::Ext(code, data) if is_capability(code) => {
            match decode_target(Value::Ext(code, data.clone()), caps) {
                Ok(t) => Captured::Cap(t),
                Err(_) => Captured::Plain(Value::Ext(code, data)),
            }
        }
        Value::Array(items) => {
            Captured::Array(items.into_iter().map(|v| capture(v, caps)).collect())
        }
        Value::Map(pairs) => Captured::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (capture(k, caps), capture(v, caps)))
                .collect(),
        ),
        other => Captured::Plain(other),
    }
}

/// Encodes captured values for the peer of `caps`.
fn release_captured(c: Captured, caps: Caps<'_>) -> Result<Value, EncodeError> {
    Ok(match c {
        Captured::Plain(v) => v,
        Captured::Cap(t) => encode_target(&t, &ANY, caps)?,
        Captured::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|c| release_captured(c, caps))
                .collect::<Result<_, _>>()?,
        ),
        Captured::Map(pairs) => Value::Map(
            pairs
                .into_iter()
                .map(|(k, v)| Ok((release_captured(k, caps)?, release_captured(v, caps)?)))
                .collect::<Result<_, EncodeError>>()?,
        ),
    })
}
