//! What a handler knows about its call: who is calling, and how to call them back.
//!
//! An inherent circle: the engine makes a `Context` for each call it runs, and a
//! `Context` (like a `Remote`) reaches back into the engine's `Shared` state to
//! call the caller back; handlers sit between them. Splitting `Shared` out of
//! `engine` would only move the circle.

use std::sync::Arc;

use crate::engine::{Route, Shared};
use crate::remote::Remote;

/// The call a handler is serving. Take it as a handler's first parameter.
#[derive(Clone)]
pub struct Context {
    shared: Arc<Shared>,
    user_id: Vec<u8>,
    routing_id: Arc<[u8]>,
}

impl Context {
    pub(crate) fn new(shared: Arc<Shared>, user_id: Vec<u8>, routing_id: Arc<[u8]>) -> Self {
        Context {
            shared,
            user_id,
            routing_id,
        }
    }

    /// The caller's user id, as the security mechanism established it
    /// (ZeroMQ `User-Id`; empty under `noop`).
    pub fn user_id(&self) -> &[u8] {
        &self.user_id
    }

    /// The caller's routing id on this socket.
    pub fn routing_id(&self) -> &[u8] {
        &self.routing_id
    }

    /// A handle to call functions on the caller, over the connection this call came
    /// in on. Works under every security mode, `noop` included.
    pub fn caller(&self) -> Remote {
        Remote::new(
            self.shared.clone(),
            Route::RoutingId(self.routing_id.clone()),
        )
    }
}

impl Context {
    /// Runs the function this endpoint serves under `name` for this same caller,
    /// as a WORK naming it would run (its domain rules, argument binding, panics
    /// as `PanicError`), and returns its reply. For protocols layered on pseud that
    /// wrap a call: cara's promise pipelining runs the call it wraps with this.
    pub async fn call_here(
        &self,
        name: &str,
        args: crate::value::Args,
    ) -> Result<crate::value::Value, crate::error::Fault> {
        let reply = crate::engine::run_here(
            &self.shared,
            self.user_id.clone(),
            self.routing_id.clone(),
            name.to_string(),
            args,
        )
        .await?;
        crate::value::read_value(&reply).map_err(|e| {
            crate::error::Fault::new(
                crate::error::PROTOCOL_ERROR,
                format!("{name}() replied with what does not decode: {e}"),
            )
        })
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("user_id", &String::from_utf8_lossy(&self.user_id))
            .field("routing_id", &crate::protocol::hex(&self.routing_id))
            .finish()
    }
}
