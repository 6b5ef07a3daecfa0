//! Ours: pseud's `Server` / `Client` from `crates/pseud` (a path dependency, so the
//! runner measures whatever transport pseud has at the time), `add` registered as a
//! plain sync function, as in the README's quick start.

use std::time::Duration;

use anyhow::{Context, Result};

use super::{Mode, multi_thread, ready};
use crate::measure::drive;

/// A pseud server named `server` with `add` registered, on `endpoint`.
pub fn serve(endpoint: &str) -> Result<()> {
    multi_thread()?.block_on(async {
        let server = pseud::Server::builder("server")
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
pub fn client(endpoint: &str, mode: Mode, duration: Duration) -> Result<f64> {
    multi_thread()?.block_on(async {
        let client = pseud::Client::builder()
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
