//! Ours: pseud's `Server` / `Client`, under NULL or CURVE from `crates/pseud` (a path dependency, so the
//! runner measures whatever transport pseud has at the time), `add` registered as a
//! plain sync function, as in the README's quick start.

use std::time::Duration;

use anyhow::{Context, Result};

use super::{Mode, multi_thread, ready};
use crate::measure::drive;

/// Which security the pseud sides use.
#[derive(Clone, Copy)]
pub enum Security {
    /// ZMTP NULL (pseud's `noop`).
    Null,
    /// CURVE with fixed keys (a benchmark needs no secret).
    Curve,
}

/// Fixed benchmark key pairs, from fixed secrets: server and client.
fn keys(byte: u8) -> pseud::KeyPair {
    pseud::KeyPair::from_secret(pseud::SecretKey::from_bytes([byte; 32]))
}

impl Security {
    fn server(self) -> pseud::ServerSecurity {
        match self {
            Security::Null => pseud::ServerSecurity::Noop,
            Security::Curve => pseud::ServerSecurity::curve(keys(1)),
        }
    }

    fn client(self) -> pseud::ClientSecurity {
        match self {
            Security::Null => pseud::ClientSecurity::Noop,
            Security::Curve => pseud::ClientSecurity::curve(keys(1).public, keys(2)),
        }
    }
}

/// A pseud server named `server` with `add` registered, on `endpoint`.
pub fn serve(endpoint: &str, security: Security) -> Result<()> {
    multi_thread()?.block_on(async {
        let server = pseud::Server::builder("server")
            .security(security.server())
            .bind(endpoint)
            .start()
            .with_context(|| format!("pseud server on {endpoint}"))?;
        server
            .register("add", |a: i64, b: i64| a + b)
            .context("register add")?;
        let bound = server
            .endpoints()
            .first()
            .context("pseud server has no endpoint")?;
        ready(bound);
        std::future::pending::<()>().await;
        Ok(())
    })
}

/// One pseud client calling `add(1, 2)`; calls/s.
pub fn client(endpoint: &str, mode: Mode, duration: Duration, security: Security) -> Result<f64> {
    multi_thread()?.block_on(async {
        let client = pseud::Client::builder()
            .security(security.client())
            .connect(endpoint)
            .with_context(|| format!("pseud client to {endpoint}"))?;
        let caller = &client;
        let rate = drive(mode, duration, move || async move {
            Ok(caller.call::<i64>("add", (1, 2)).await?)
        })
        .await;
        client.stop().await;
        rate
    })
}
