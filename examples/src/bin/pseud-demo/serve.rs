//! `pseud-demo serve`: the demo functions on a pseud server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pseud::{Context, Fault, Function, PeerEvent, Registry, Server, ServerSecurity, Value};
use serde_bytes::ByteBuf;
use serde_json::json;
use tokio::task::JoinHandle;

use crate::{Security, emit};

/// Arguments of `serve`.
#[derive(clap::Args)]
pub struct ServeArgs {
    /// Endpoint to bind, e.g. tcp://127.0.0.1:5555 (port 0 or * picks a free one).
    #[arg(long)]
    endpoint: String,
    /// The server's name (routing id) that clients address.
    #[arg(long, default_value = "server")]
    name: String,
    /// Security mode.
    #[arg(long, value_enum, default_value = "noop")]
    security: Security,
    /// `curve`: the server's key file (NAME.key_secret).
    #[arg(long)]
    key: Option<std::path::PathBuf>,
    /// `curve`: admit only the clients with a USER.key file in this directory
    /// (each known as USER); without it, any client (known by its key in Z85).
    #[arg(long)]
    allow: Option<std::path::PathBuf>,
    /// Once this user connects, call `client.ping` on it and print the outcome.
    #[arg(long)]
    call_client: Option<String>,
}

/// The passwords the `plain` server accepts.
const USERS: [(&str, &[u8]); 2] = [("alice", b"secret"), ("bob", b"hunter2")];

/// Background `client.ping` calls per caller, for `callback.results`.
type Pings = Arc<Mutex<HashMap<Vec<u8>, Vec<JoinHandle<Value>>>>>;

pub async fn run(args: ServeArgs) -> Result<(), Box<dyn std::error::Error>> {
    if args.security != Security::Curve && (args.key.is_some() || args.allow.is_some()) {
        return Err("--key and --allow go with --security curve".into());
    }
    let security = match args.security {
        Security::Noop => ServerSecurity::Noop,
        Security::TrustedPeer => ServerSecurity::TrustedPeer,
        Security::Plain => ServerSecurity::plain(|user, password| {
            USERS.iter().any(|(u, p)| *u == user && *p == password)
        }),
        Security::Curve => crate::curve::server(args.key.as_deref(), args.allow.as_deref())?,
    };
    let endpoint = args.endpoint.replace(":*", ":0");
    // Registered before the server starts: a client that connects at once (the
    // README starts the server in the background and calls right away) finds them.
    let registry = Registry::new();
    register_demo_functions(&registry)?;
    let signals = crate::shutdown::Signals::install()?;
    let server = Server::builder(&args.name)
        .stop_grace(crate::shutdown::STOP_GRACE)
        .security(security)
        .registry(registry)
        .bind(&endpoint)
        .start()?;
    let events = server.events();
    if let Some(user) = args.call_client {
        tokio::spawn(call_client_on_connect(server.send_to(&user), events, user));
    }
    emit(&json!({"event": "ready", "endpoint": server.endpoints()[0]}));
    let signal = signals.wait().await;
    tracing::info!(%signal, "stopping");
    server.stop().await;
    Ok(())
}

/// Registers add, echo, fail, sleep, string.upper, kw, whoami and callback.*.
pub fn register_demo_functions(registry: &Registry) -> Result<(), pseud::Error> {
    registry.register("add", add)?;
    registry.register("echo", |x: Value| x)?;
    registry.register("fail", || -> Result<(), Fault> {
        Err(Fault::new("ValueError", "boom"))
    })?;
    registry.register("sleep", |seconds: Value| async move {
        let secs = seconds
            .as_f64()
            .or_else(|| seconds.as_i64().map(|i| i as f64));
        match secs {
            Some(s) if (0.0..=3600.0).contains(&s) => {
                tokio::time::sleep(Duration::from_secs_f64(s)).await;
                Ok(seconds)
            }
            _ => Err(Fault::type_error(
                "sleep() argument must be a number of seconds from 0 to 3600",
            )),
        }
    })?;
    registry.register("string.upper", |s: String| s.to_uppercase())?;
    registry.register(
        "kw",
        Function::new(|a: Value, b: Value| vec![a, b])
            .params(["a", "b"])
            .default("b", 2),
    )?;
    registry.register("whoami", |ctx: Context| {
        ByteBuf::from(ctx.user_id().to_vec())
    })?;
    let pings = Pings::default();
    let scheduled = pings.clone();
    registry.register("callback.ping", move |ctx: Context| {
        let caller = ctx.caller();
        let handle =
            tokio::spawn(async move { outcome(caller.call::<Value>("client.ping", ()).await) });
        let mut pings = scheduled.lock().unwrap_or_else(|p| p.into_inner());
        pings
            .entry(ctx.user_id().to_vec())
            .or_default()
            .push(handle);
        "scheduled"
    })?;
    registry.register("callback.results", move |ctx: Context| {
        let pings = pings.clone();
        async move {
            let handles = {
                let mut map = pings.lock().unwrap_or_else(|p| p.into_inner());
                map.remove(ctx.user_id()).unwrap_or_default()
            };
            let mut results = Vec::new();
            for handle in handles {
                results.push(handle.await.unwrap_or_else(|e| Value::from(e.to_string())));
            }
            Value::Array(results)
        }
    })?;
    registry.register("callback.inline", |ctx: Context| async move {
        ctx.caller().call::<Value>("client.ping", ()).await
    })?;
    Ok(())
}

/// `a + b` for ints (checked), floats and strings.
fn add(a: Value, b: Value) -> Result<Value, Fault> {
    let unsupported = || Fault::type_error(format!("unsupported operand types for +: {a} and {b}"));
    if let (Some(x), Some(y)) = (a.as_i64(), b.as_i64()) {
        return x
            .checked_add(y)
            .map(Value::from)
            .ok_or_else(|| Fault::new("OverflowError", "integer overflow"));
    }
    if let (Some(x), Some(y)) = (a.as_u64(), b.as_u64()) {
        return x
            .checked_add(y)
            .map(Value::from)
            .ok_or_else(|| Fault::new("OverflowError", "integer overflow"));
    }
    let num = |v: &Value| v.as_f64().or_else(|| v.as_i64().map(|i| i as f64));
    if let (Some(x), Some(y)) = (num(&a), num(&b)) {
        return Ok(Value::F64(x + y));
    }
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => Ok(Value::from(format!("{x}{y}"))),
        _ => Err(unsupported()),
    }
}

/// A call's result as a value, or `{"error": {...}}` like the JSON output.
fn outcome(result: Result<Value, pseud::Error>) -> Value {
    match result {
        Ok(v) => v,
        Err(e) => {
            let (class, message) = crate::call::error_parts(&e);
            Value::Map(vec![(
                "error".into(),
                Value::Map(vec![
                    ("class".into(), class.into()),
                    ("message".into(), message.into()),
                ]),
            )])
        }
    }
}

async fn call_client_on_connect(
    remote: pseud::Remote,
    mut events: tokio::sync::broadcast::Receiver<PeerEvent>,
    user: String,
) {
    loop {
        match events.recv().await {
            Ok(PeerEvent::Connected { user_id, .. }) if user_id == user.as_bytes() => {
                let line = match remote.call::<Value>("client.ping", ()).await {
                    Ok(result) => {
                        json!({"event": "server_callback", "user": user, "ok": true, "result": pseud::json::to_json(&result)})
                    }
                    Err(e) => {
                        let (class, message) = crate::call::error_parts(&e);
                        json!({"event": "server_callback", "user": user, "ok": false, "error": {"class": class, "message": message}})
                    }
                };
                emit(&line);
            }
            Ok(_) => {}
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}
