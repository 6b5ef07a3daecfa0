//! `proxy_to`: a server hands the calls it has no function for to another
//! server, through a client of its own, and answers with that server's reply.
//!
//! As Python pseud's `proxy_to`, the names served here win, and only unknown
//! ones travel on. Unlike it (which looks in another RPC object of the same
//! process), the other server may be anywhere: the hop is a pseud call, so the
//! other server knows the caller as this server's client (its own user id), not
//! as the original caller. cara capabilities do not cross it: an object the
//! other server returns is its own, and the caller could not reach it here.

use std::sync::Arc;

use crate::client::Client;
use crate::error::{Error, Fault, SERVICE_UNAVAILABLE};
use crate::value::{Args, write_value};

/// Calls `name` on the upstream server; its result, or its error as it gave it.
pub(crate) async fn forward(
    upstream: Arc<Client>,
    name: String,
    args: Args,
) -> Result<Vec<u8>, Fault> {
    match upstream.call_dynamic(&name, args).await {
        Ok(value) => {
            let mut body = Vec::new();
            write_value(&mut body, &value);
            Ok(body)
        }
        Err(Error::Remote(e)) => Err(Fault::new(e.class, e.message).with_traceback(e.traceback)),
        Err(e) => {
            tracing::warn!(%name, error = %e, "proxied call failed");
            Err(Fault::new(
                SERVICE_UNAVAILABLE,
                format!("{name}: the server this one proxies to did not answer: {e}"),
            ))
        }
    }
}
