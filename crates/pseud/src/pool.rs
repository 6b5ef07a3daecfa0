//! Client-side balancing: several clients, one per replica of a service, and
//! each call sent by the next one whose connection is up.
//!
//! A replica that goes fails the calls it had in flight (`Error::Disconnected`,
//! as for any client) and gets no new ones until its client reconnects; calls
//! made while no replica is connected wait for a connection as a single
//! client's do (within their timeout and the connect grace).

use std::sync::atomic::{AtomicUsize, Ordering};

use serde::de::DeserializeOwned;

use crate::client::Client;
use crate::error::Error;
use crate::remote::{Remote, Request};
use crate::value::IntoArgs;

/// Clients of replicas of one service, taking calls in turn.
///
/// ```no_run
/// # async fn f() -> Result<(), pseud::Error> {
/// let replicas = ["tcp://10.0.0.2:5555", "tcp://10.0.0.3:5555"];
/// let clients = replicas
///     .iter()
///     .map(|e| pseud::Client::builder().connect(e))
///     .collect::<Result<Vec<_>, _>>()?;
/// let pool = pseud::Pool::new(clients)?;
/// let sum: i64 = pool.call("add", (2, 5)).await?; // on whichever replica is next
/// # Ok(()) }
/// ```
pub struct Pool {
    clients: Vec<Client>,
    next: AtomicUsize,
}

impl Pool {
    /// A pool of `clients` (at least one), in turn from the first.
    pub fn new(clients: Vec<Client>) -> Result<Pool, Error> {
        if clients.is_empty() {
            return Err(Error::Setup("a pool needs at least one client".into()));
        }
        Ok(Pool {
            clients,
            next: AtomicUsize::new(0),
        })
    }

    /// The clients, in the order given (to register the functions replicas may
    /// call back on each, or to stop them).
    pub fn clients(&self) -> &[Client] {
        &self.clients
    }

    /// The server the next call goes to: the next in turn whose connection is
    /// up, or, while none is, simply the next in turn.
    pub fn pick(&self) -> &Remote {
        let n = self.clients.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let connected = (0..n)
            .map(|i| (start + i) % n)
            .find(|&i| self.clients[i].server().is_connected());
        let chosen = connected.unwrap_or(start % n);
        if connected.is_some() && chosen != start % n {
            // Skip the dead ones next time too, without drifting the turn.
            self.next.store(chosen + 1, Ordering::Relaxed);
        }
        self.clients[chosen].server()
    }

    /// Calls `name` on the next replica (see [`Remote::call`]).
    pub async fn call<R: DeserializeOwned + 'static>(
        &self,
        name: &str,
        args: impl IntoArgs,
    ) -> Result<R, Error> {
        self.pick().call(name, args).await
    }

    /// Starts a call on the next replica with a builder (see [`Remote::request`]).
    pub fn request(&self, name: &str) -> Request {
        self.pick().request(name)
    }

    /// How many of the clients have their connection up now.
    pub fn connected(&self) -> usize {
        self.clients
            .iter()
            .filter(|c| c.server().is_connected())
            .count()
    }

    /// Stops every client (see [`Client::stop`]).
    pub async fn stop(&self) {
        for c in &self.clients {
            c.stop().await;
        }
    }
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.clients.iter()).finish()
    }
}
