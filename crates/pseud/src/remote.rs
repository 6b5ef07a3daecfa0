//! Calling a peer: typed calls, dynamic calls, keyword arguments and timeouts.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;

use crate::engine::{Command, Outgoing, Pending, RawReply, Route, Shared, WireId};
use crate::error::{Error, RemoteError};
use crate::protocol::{MessageId, MessageType};
use crate::value::{
    Args, CodecError, IntoArgs, Value, from_value, read_value, work_body, write_msgpack,
    write_value,
};

/// A peer you can call: the server of a [`crate::Client`], a client of a
/// [`crate::Server`] (by user id), or the caller of a handler.
///
/// Cheap to clone, `Send + Sync`, callable from any task.
#[derive(Clone)]
pub struct Remote {
    pub(crate) shared: Arc<Shared>,
    pub(crate) route: Route,
    timeout: Option<Duration>,
}

impl Remote {
    pub(crate) fn new(shared: Arc<Shared>, route: Route) -> Self {
        Remote {
            shared,
            route,
            timeout: None,
        }
    }

    /// The same peer with another default timeout for its calls.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// How many calls made through this endpoint are waiting for their reply.
    pub fn calls_in_flight(&self) -> usize {
        self.shared.lock_pending().len()
    }

    /// Calls `name` with positional arguments and decodes the result as `R`.
    ///
    /// ```no_run
    /// # async fn f(client: pseud::Client) -> Result<(), pseud::Error> {
    /// let sum: i64 = client.call("add", (2, 5)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn call<R: DeserializeOwned + 'static>(
        &self,
        name: &str,
        args: impl IntoArgs,
    ) -> Result<R, Error> {
        // What `self.request(name).args(args).send()` does, without the builder's
        // copies of the name and the arguments.
        let timeout = self.timeout.unwrap_or(self.shared.timeout);
        let body = plain_work_body(name, args)?;
        let reply = self.call_raw(name, body, timeout).await?;
        decode_reply(name, reply)
    }

    /// Starts a call with a builder: arguments one by one, keyword arguments, timeout.
    pub fn request(&self, name: &str) -> Request {
        Request {
            remote: self.clone(),
            name: name.to_string(),
            args: Vec::new(),
            nargs: 0,
            kwargs: Vec::new(),
            nkwargs: 0,
            timeout: None,
            error: None,
        }
    }

    /// Calls `name` with dynamic arguments and returns the raw result value.
    pub async fn call_dynamic(&self, name: &str, args: Args) -> Result<Value, Error> {
        let mut request = self.request(name).args(args.args);
        for (k, v) in args.kwargs {
            request = request.kwarg_value(&k, &v);
        }
        request.send().await
    }

    async fn call_raw(
        &self,
        name: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<RawReply, Error> {
        let id = MessageId::random();
        let (tx, rx) = oneshot::channel();
        self.shared.lock_pending().insert(
            id,
            Pending {
                tx,
                routing_id: None,
                route: self.route.clone(),
            },
        );
        // Removes the pending entry however this future ends (reply, timeout, drop).
        let _guard = PendingGuard {
            shared: &self.shared,
            id,
        };
        self.shared
            .cmd
            .send(Command::Send(Outgoing {
                route: self.route.clone(),
                id: WireId::Fixed(id.0),
                kind: MessageType::Work,
                body,
                call: Some(id),
                task: None,
            }))
            .map_err(|_| Error::Closed)?;
        let result = match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(_)) => Err(Error::Closed),
            Err(_) => Err(Error::Timeout {
                name: name.to_string(),
                timeout,
            }),
        };
        if let Err(e) = &result {
            tracing::debug!(name, peer = %self.route.describe(), error = %e, "call failed");
        }
        result
    }
}

impl std::fmt::Debug for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Remote({})", self.route.describe())
    }
}

/// The peer as it is addressed: `server "server"`, `user "alice"`, or a
/// connection's routing id.
impl std::fmt::Display for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.route.describe())
    }
}

struct PendingGuard<'a> {
    shared: &'a Shared,
    id: MessageId,
}

impl Drop for PendingGuard<'_> {
    fn drop(&mut self) {
        self.shared.lock_pending().remove(&self.id);
    }
}

/// A call being built. Finish it with [`Request::send`].
#[must_use = "a request does nothing until .send().await"]
pub struct Request {
    remote: Remote,
    name: String,
    args: Vec<u8>,
    nargs: u32,
    kwargs: Vec<u8>,
    nkwargs: u32,
    timeout: Option<Duration>,
    error: Option<Error>,
}

impl Request {
    /// Appends one positional argument.
    pub fn arg(mut self, value: impl Serialize) -> Self {
        if let Err(reason) = write_msgpack(&mut self.args, &value) {
            self.error.get_or_insert(Error::Encode {
                what: format!("argument {}", self.nargs + 1),
                reason: reason.to_string(),
            });
        }
        self.nargs += 1;
        self
    }

    /// Appends positional arguments (a tuple or a `Vec<Value>`).
    pub fn args(mut self, args: impl IntoArgs) -> Self {
        match args.write_args(&mut self.args) {
            Ok(n) => self.nargs += n,
            Err(e) => {
                self.error.get_or_insert(e);
            }
        }
        self
    }

    /// Adds a keyword argument.
    pub fn kwarg(mut self, name: &str, value: impl Serialize) -> Self {
        let _ = rmp::encode::write_str(&mut self.kwargs, name);
        if let Err(reason) = write_msgpack(&mut self.kwargs, &value) {
            self.error.get_or_insert(Error::Encode {
                what: format!("keyword argument {name:?}"),
                reason: reason.to_string(),
            });
        }
        self.nkwargs += 1;
        self
    }

    /// Adds a keyword argument that is already a [`Value`] (written as it is).
    pub fn kwarg_value(mut self, name: &str, value: &Value) -> Self {
        let _ = rmp::encode::write_str(&mut self.kwargs, name);
        write_value(&mut self.kwargs, value);
        self.nkwargs += 1;
        self
    }

    /// Sets this call's timeout (else the remote's, else the endpoint's default, 5 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sends the call and waits for the result, decoded as `R` (use [`Value`] for any).
    pub async fn send<R: DeserializeOwned + 'static>(self) -> Result<R, Error> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let timeout = self
            .timeout
            .or(self.remote.timeout)
            .unwrap_or(self.remote.shared.timeout);
        let body = work_body(
            &self.name,
            self.nargs,
            &self.args,
            self.nkwargs,
            &self.kwargs,
        );
        let reply = self.remote.call_raw(&self.name, body, timeout).await?;
        decode_reply(&self.name, reply)
    }
}

/// The WORK body `[name, args, {}]`, the arguments written in place.
fn plain_work_body(name: &str, args: impl IntoArgs) -> Result<Vec<u8>, Error> {
    let mut body = Vec::with_capacity(name.len() + 32);
    // Writing into a Vec cannot fail.
    let _ = rmp::encode::write_array_len(&mut body, 3);
    let _ = rmp::encode::write_str(&mut body, name);
    // A one-byte fixarray header, patched once the count is known.
    let header = body.len();
    body.push(0x90);
    let nargs = args.write_args(&mut body)?;
    if nargs < 16 {
        body[header] = 0x90 | nargs as u8;
    } else {
        let mut len = Vec::new();
        let _ = rmp::encode::write_array_len(&mut len, nargs);
        body.splice(header..=header, len);
    }
    let _ = rmp::encode::write_map_len(&mut body, 0);
    Ok(body)
}

fn decode_reply<R: DeserializeOwned + 'static>(name: &str, reply: RawReply) -> Result<R, Error> {
    let decode = |e: CodecError| Error::Decode {
        name: name.to_string(),
        reason: e.to_string(),
    };
    match reply.kind {
        MessageType::Ok => {
            let value = read_value(&reply.body).map_err(decode)?;
            from_value(value).map_err(decode)
        }
        MessageType::Error => Err(Error::Remote(decode_error(&reply.body))),
        _ => Err(Error::Unauthorized(
            String::from_utf8_lossy(&reply.body).into_owned(),
        )),
    }
}

/// Reads an ERROR body `[class, message, traceback]`, tolerating odd shapes.
fn decode_error(body: &[u8]) -> RemoteError {
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) => s.as_str().map(str::to_string).unwrap_or_default(),
        Some(Value::Binary(b)) => String::from_utf8_lossy(b).into_owned(),
        Some(Value::Nil) | None => String::new(),
        Some(other) => other.to_string(),
    };
    match read_value(body) {
        Ok(Value::Array(items)) if !items.is_empty() => RemoteError {
            class: text(items.first()),
            message: text(items.get(1)),
            traceback: text(items.get(2)),
        },
        Ok(other) => RemoteError {
            class: crate::error::PROTOCOL_ERROR.into(),
            message: format!("ERROR body is not [class, message, traceback]: {other}"),
            traceback: String::new(),
        },
        Err(e) => RemoteError {
            class: crate::error::PROTOCOL_ERROR.into(),
            message: format!("ERROR body: {e}"),
            traceback: String::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_body_is_the_builders_body() {
        for n in [0usize, 1, 2, 15, 16, 17, 300] {
            let args: Vec<Value> = (0..n as i64).map(Value::from).collect();
            let mut written = Vec::new();
            let count = args.clone().write_args(&mut written).unwrap();
            let expected = work_body("f", count, &written, 0, &[]);
            assert_eq!(plain_work_body("f", args).unwrap(), expected, "{n} args");
        }
    }
}
