//! Promise pipelining, serving side. A caller that wants to call an object a call
//! will return, before the reply arrives, wraps that call as `cara.promise
//! [promise id, name, args, kwargs]`; we run `name` as if called directly and keep
//! its result under (caller, promise id). `cara.pipelined [promise id, path,
//! interface id, ordinal, args, kwargs]` then calls the object at `path` in that
//! result: at once if it is there, else queued and started in arrival order when
//! the result comes; if the wrapped call failed, with its error.
//!
//! The result holds the objects it exported, so a release that crosses queued
//! pipelined calls does not pull an object from under them. It goes when the
//! caller released those objects (every pipelined call on them was sent before
//! the release, on the same connection), with `cara.forget [promise id]` when it
//! holds none (an error, a null), or with the caller's disconnect.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use pseud::{Args, Context, Fault, Function, Registry, Value};
use tokio::sync::oneshot;

use super::Target;
use super::forward::Prepared;
use super::session::{Session, run_prepared, session_for};
use super::wire::{
    CAPABILITY_ERROR, EXT_EXPORTED, FORGET, PIPELINED, PROMISE, Positional, UNKNOWN_PROMISE,
    read_id,
};
use crate::dispatch::InterfaceInfo;

/// The promises one peer made, and which of them hold which exported object.
#[derive(Default)]
pub(crate) struct PeerPromises {
    slots: HashMap<u64, Arc<Slot>>,
    by_object: HashMap<u64, Vec<u64>>,
}

/// One promise: the wrapped call's outcome, or the calls waiting for it.
pub(crate) struct Slot {
    state: Mutex<SlotState>,
}

enum SlotState {
    /// The wrapped call runs; pipelined calls wait, in arrival order.
    Pending(Vec<Queued>),
    /// It returned `value`, which exported `objects` to the caller.
    Resolved {
        value: Value,
        objects: HashMap<u64, (Target, &'static InterfaceInfo)>,
    },
    /// It failed: so do the calls on it.
    Failed(Fault),
}

/// A pipelined call that arrived before its promise resolved.
struct Queued {
    call: Pipelined,
    start: oneshot::Sender<Result<Prepared, Fault>>,
}

/// What a `cara.pipelined` call asks for.
struct Pipelined {
    path: Vec<Value>,
    interface_id: u64,
    ordinal: u16,
    args: Vec<Value>,
    kwargs: Vec<(String, Value)>,
}

/// Registers `cara.promise`, `cara.pipelined` and `cara.forget` on `registry`.
/// The handlers find the session of the endpoint that runs them, so they work on
/// a registry served before any capability was (`cara::serve` installs them).
pub(crate) fn install(registry: &Registry) {
    let promise = |ctx: Context, args: Args| {
        let started = start_promise(&ctx, args);
        async move {
            let (session, slot, id, name, args) = started?;
            let outcome = ctx.call_here(&name, args).await;
            session.resolve(&ctx, id, &slot, &outcome);
            outcome
        }
    };
    let pipelined = |ctx: Context, args: Args| {
        let started = start_pipelined(&ctx, args);
        async move {
            let prepared = match started? {
                Start::Now(prepared) => prepared,
                Start::Queued(rx) => rx.await.map_err(|_| {
                    Fault::new(UNKNOWN_PROMISE, "the promise went before its result came")
                })??,
            };
            run_prepared(ctx, prepared).await
        }
    };
    let forget = |ctx: Context, id: u64| {
        let session = session_for(&ctx.caller());
        let mut promises = session.lock_promises();
        if let Some(peer) = promises.get_mut(ctx.routing_id()) {
            peer.slots.remove(&id);
        }
    };
    // Registration of fixed names with valid handlers cannot fail.
    let _ = registry.register(PROMISE, Function::new(promise));
    let _ = registry.register(PIPELINED, Function::new(pipelined));
    let _ = registry.register(FORGET, Function::new(forget));
}

type Started = (Arc<Session>, Arc<Slot>, u64, String, Args);

/// The synchronous part of `cara.promise`: the slot exists before any later
/// message of this caller is looked at.
fn start_promise(ctx: &Context, args: Args) -> Result<Started, Fault> {
    let session = session_for(&ctx.caller());
    let mut positional = Positional::new(PROMISE, args.args);
    let id = positional.id("promise id")?;
    let name = positional.text("name")?;
    let call_args = positional.array("args")?;
    let kwargs = positional.kwargs();
    let peer = ctx.routing_id().to_vec();
    let slot = Arc::new(Slot {
        state: Mutex::new(SlotState::Pending(Vec::new())),
    });
    let mut promises = session.lock_promises();
    let mine = promises.entry(peer).or_default();
    let held = mine.slots.len();
    if held >= session.max_exports {
        return Err(Fault::new(
            pseud::RESOURCE_EXHAUSTED,
            format!(
                "the peer holds {held} promises of this endpoint, as many as it may (Limits::max_exports)"
            ),
        ));
    }
    if mine.slots.contains_key(&id) {
        return Err(Fault::new(
            CAPABILITY_ERROR,
            format!("promise {id:#x} is already in use"),
        ));
    }
    mine.slots.insert(id, slot.clone());
    drop(promises);
    Ok((
        session.clone(),
        slot,
        id,
        name,
        Args {
            args: call_args,
            kwargs,
        },
    ))
}

/// How a pipelined call starts.
enum Start {
    /// Its promise is resolved: the call is prepared.
    Now(Prepared),
    /// Its promise is pending: the call is prepared when it resolves.
    Queued(oneshot::Receiver<Result<Prepared, Fault>>),
}

fn start_pipelined(ctx: &Context, args: Args) -> Result<Start, Fault> {
    let session = session_for(&ctx.caller());
    let mut positional = Positional::new(PIPELINED, args.args);
    let id = positional.id("promise id")?;
    let call = Pipelined {
        path: positional.array("path")?,
        interface_id: positional.id("interface id")?,
        ordinal: positional.ordinal()?,
        args: positional.array("args")?,
        kwargs: positional.kwargs(),
    };
    let slot = session
        .lock_promises()
        .get(ctx.routing_id())
        .and_then(|p| p.slots.get(&id))
        .cloned()
        .ok_or_else(|| Fault::new(UNKNOWN_PROMISE, format!("no promise {id:#x} of this peer")))?;
    let mut state = slot.state.lock().unwrap_or_else(|p| p.into_inner());
    match &mut *state {
        SlotState::Pending(queue) => {
            let (start, rx) = oneshot::channel();
            queue.push(Queued { call, start });
            Ok(Start::Queued(rx))
        }
        SlotState::Resolved { value, objects } => session
            .prepare_pipelined(ctx, value, objects, call)
            .map(Start::Now),
        SlotState::Failed(fault) => Err(fault.clone()),
    }
}

impl Session {
    /// The wrapped call returned: keep its outcome and start what waited on it.
    fn resolve(
        self: &Arc<Self>,
        ctx: &Context,
        id: u64,
        slot: &Slot,
        outcome: &Result<Value, Fault>,
    ) {
        let peer = ctx.routing_id();
        let next = match outcome {
            Ok(value) => {
                let mut objects = HashMap::new();
                self.collect_exports(peer, value, &mut objects);
                // Released objects end the promises that hold them.
                if let Some(mine) = self.lock_promises().get_mut(peer) {
                    for object in objects.keys() {
                        mine.by_object.entry(*object).or_default().push(id);
                    }
                }
                SlotState::Resolved {
                    value: value.clone(),
                    objects,
                }
            }
            Err(fault) => SlotState::Failed(fault.clone()),
        };
        let mut state = slot.state.lock().unwrap_or_else(|p| p.into_inner());
        let SlotState::Pending(queue) = std::mem::replace(&mut *state, next) else {
            return;
        };
        // Started in arrival order, as calls on one connection are.
        for Queued { call, start } in queue {
            let prepared = match &*state {
                SlotState::Resolved { value, objects } => {
                    self.prepare_pipelined(ctx, value, objects, call)
                }
                SlotState::Failed(fault) => Err(fault.clone()),
                SlotState::Pending(_) => continue,
            };
            let _ = start.send(prepared);
        }
    }

    /// `peer` released its last reference to object `id`: the promises that
    /// returned it are done.
    pub(super) fn object_released(&self, peer: &[u8], id: u64) {
        let mut promises = self.lock_promises();
        let Some(mine) = promises.get_mut(peer) else {
            return;
        };
        for promise in mine.by_object.remove(&id).unwrap_or_default() {
            mine.slots.remove(&promise);
        }
    }

    /// The objects `value` exported to `peer`, held for pipelined calls.
    fn collect_exports(
        &self,
        peer: &[u8],
        value: &Value,
        into: &mut HashMap<u64, (Target, &'static InterfaceInfo)>,
    ) {
        match value {
            Value::Ext(EXT_EXPORTED, data) => {
                if let Some(id) = read_id(data)
                    && let Some(found) = self.exported(peer, id)
                {
                    into.insert(id, found);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.collect_exports(peer, item, into);
                }
            }
            Value::Map(pairs) => {
                for (_, v) in pairs {
                    self.collect_exports(peer, v, into);
                }
            }
            _ => {}
        }
    }

    /// A pipelined call on the object at `call.path` in a resolved result.
    fn prepare_pipelined(
        self: &Arc<Self>,
        ctx: &Context,
        value: &Value,
        objects: &HashMap<u64, (Target, &'static InterfaceInfo)>,
        call: Pipelined,
    ) -> Result<Prepared, Fault> {
        let mut at = value;
        for key in &call.path {
            at = match at {
                Value::Map(pairs) => pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
                Value::Array(items) => key
                    .as_u64()
                    .and_then(|i| usize::try_from(i).ok())
                    .and_then(|i| items.get(i)),
                _ => None,
            }
            .ok_or_else(|| {
                Fault::new(
                    CAPABILITY_ERROR,
                    format!("the promised result has no {key}"),
                )
            })?;
        }
        let found = match at {
            Value::Ext(EXT_EXPORTED, data) => read_id(data).and_then(|id| objects.get(&id)),
            _ => None,
        };
        let Some((target, info)) = found.cloned() else {
            return Err(Fault::new(
                CAPABILITY_ERROR,
                "the promised result holds no object of ours there (null, or not an interface)",
            ));
        };
        self.prepare_on(
            ctx,
            target,
            info,
            call.interface_id,
            call.ordinal,
            call.args,
            call.kwargs,
        )
    }
}

/// How many promises the endpoint of `remote` keeps for its peers (results of
/// `cara.promise` calls not yet forgotten), and how many pipelined calls wait in
/// them for their result. For diagnostics and tests.
pub fn pipelining_state(remote: &pseud::Remote) -> (usize, usize) {
    let Some(session) = remote.existing_endpoint_state::<Session>() else {
        return (0, 0);
    };
    let promises = session.lock_promises();
    let slots = promises.values().flat_map(|p| p.slots.values());
    let waiting = slots
        .clone()
        .map(
            |slot| match &*slot.state.lock().unwrap_or_else(|p| p.into_inner()) {
                SlotState::Pending(queue) => queue.len(),
                _ => 0,
            },
        )
        .sum();
    (slots.count(), waiting)
}
