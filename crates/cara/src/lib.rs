//! # cara
//!
//! The runtime of schema-driven RPC: Cap'n Proto schemas become Rust types, async
//! server traits and typed client stubs (see the `cara-build` crate and the
//! [`schema!`] macro), which travel over the [`pseud`] transport in cara's msgpack
//! encoding — a struct is a map keyed by field ordinal; field names are accepted on
//! input.
//!
//! Generated code depends on this crate alone.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod blocking;
mod capability;
mod codec;
mod dispatch;
mod error;
mod interface;
mod pipelined;
mod structs;

pub use capability::{
    CALL, CAPABILITY_ERROR, Caps, EXT_EXPORTED, EXT_YOURS, RELEASE, exported_objects,
    pipelining_state, sends_releases,
};
pub use codec::{Data, Decode, Dynamic, Encode, Param, from_value, to_value};
pub use dispatch::{ANY, BoxFuture, Dispatch, InterfaceInfo, MethodInfo, Reply, caller};
pub use error::{DecodeError, EncodeError};
pub use interface::{Interface, RegisteredMethod, Stub, call_registered, pooled, serve};
pub use pseud::{self, Client, Context, Error, Fault, Remote, Server, Value};
// What the docs use next to the generated code, reachable from `cara` alone.
pub use pseud::{
    Broker, BrokerBuilder, ClientBuilder, ClientSecurity, DEFAULT_CONNECT_GRACE, DEFAULT_TIMEOUT,
    Function, Limits, MESSAGE_TOO_LARGE, PANIC_ERROR, PROTOCOL_ERROR, PeerEvent, Pool,
    RESOURCE_EXHAUSTED, Registry, RemoteError, SERVICE_NOT_FOUND, SERVICE_UNAVAILABLE, SecondLogin,
    ServerBuilder, ServerSecurity, SocketLoop, TYPE_ERROR,
};

pub use cara_macros::schema;
#[doc(hidden)]
pub use cara_macros::{__include_schemas, __schema_source};

/// Includes the code a `cara_build::Config` wrote in the build script: put
/// `cara::include_schemas!();` inside a module of the crate whose `build.rs` ran it.
#[macro_export]
macro_rules! include_schemas {
    () => {
        $crate::__include_schemas!();
    };
}

/// Support for generated code; not a stable API.
#[doc(hidden)]
pub mod __private {
    pub use crate::codec::literal;
    pub use crate::dispatch::missing_param;
    pub use crate::interface::{decode_param, decode_result, pipeline};
    pub use crate::structs::{
        enum_ordinal, explode, implode, named_map, struct_fields, struct_map,
    };
    pub use std::future::Future;
    pub use std::sync::Arc;
    pub use std::time::Duration;
}
