//! What generated code and the capability machinery share: interface and method
//! tables, the [`Dispatch`] trait of server objects, argument binding, and the
//! caller of the call being served.
//!
//! Both `interface` (serving and calling) and `capability` (objects passed by
//! reference) build on it. It and `capability` name each other, inherently: a
//! dispatcher decodes its arguments in its call's capability table ([`Caps`]),
//! and capabilities hold dispatchers.

use std::future::Future;
use std::pin::Pin;

use pseud::{Args, Context, Fault, Value};

use crate::capability::Caps;
use crate::codec::Encode;

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
    /// `None` for an index past the table.
    pub fn served_name(&self, index: usize) -> Option<String> {
        self.methods
            .get(index)
            .map(|m| self.served_name_of(index, m))
    }

    /// [`InterfaceInfo::served_name`] of `m`, which is method number `index`.
    pub(crate) fn served_name_of(&self, index: usize, m: &MethodInfo) -> String {
        let earlier = self.methods.get(..index).unwrap_or_default();
        if earlier.iter().any(|x| x.name == m.name) {
            format!("{}.{}", self.name, m.wire_name)
        } else {
            format!("{}.{}", self.name, m.name)
        }
    }
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
    /// as many arguments as it has parameters: `None` for one the caller did not
    /// pass (it takes the schema default, or is a `TypeError` where the schema
    /// gives none). Arguments are decoded, from the caller's `caps`, before this
    /// returns; the future runs the implementation.
    fn dispatch(
        &self,
        method: usize,
        args: Vec<Option<Value>>,
        caps: Caps<'_>,
    ) -> BoxFuture<Result<Reply, Fault>>;
}

/// The interface of a capability whose type is not known here (forwarding).
pub static ANY: InterfaceInfo = InterfaceInfo {
    id: 0,
    name: "Capability",
    methods: &[],
};

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

/// Binds positional and keyword arguments to the method's parameters, with
/// Python's rules (pseud's binder); `None` where the caller passed nothing.
pub(crate) fn bind(method: &MethodInfo, args: Args) -> Result<Vec<Option<Value>>, Fault> {
    pseud::bind_slots(method.name, method.params, |p| p, args)
}

/// The `TypeError` for a parameter the caller did not pass and the schema gives no
/// default for (Python's words).
pub fn missing_param(method: &str, name: &str) -> Fault {
    Fault::type_error(format!("{method}() missing required argument {name:?}"))
}
