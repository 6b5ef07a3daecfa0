//! `pseud-demo call`: one call, its result as compact JSON.

use std::process::ExitCode;
use std::time::Duration;

use pseud::{Args, Client, ClientSecurity, Error, Value};
use serde_json::json;

use crate::{Security, emit};

/// Arguments of `call`.
#[derive(clap::Args)]
pub struct CallArgs {
    /// Endpoint of the server, e.g. tcp://127.0.0.1:5555.
    #[arg(long)]
    endpoint: String,
    /// The server's name (routing id).
    #[arg(long, default_value = "server")]
    name: String,
    /// Security mode (`noop` or `plain`).
    #[arg(long, value_enum, default_value = "noop")]
    security: Security,
    /// PLAIN username.
    #[arg(long, default_value = "")]
    user: String,
    /// PLAIN password.
    #[arg(long, default_value = "")]
    password: String,
    /// `curve`: the server's public key (its NAME.key file, or 40 characters of Z85).
    #[arg(long, allow_hyphen_values = true)]
    server_key: Option<String>,
    /// `curve`: our key file (NAME.key_secret); a fresh key pair without it.
    #[arg(long)]
    key: Option<std::path::PathBuf>,
    /// Call timeout in seconds.
    #[arg(long, default_value_t = 5.0)]
    timeout: f64,
    /// Keep serving server→client calls for this many seconds after the call.
    #[arg(long, default_value_t = 0.0)]
    stay: f64,
    /// The function name, e.g. `add` or `string.upper`.
    function: String,
    /// Positional arguments as a JSON array.
    args: Option<String>,
    /// Keyword arguments as a JSON object.
    kwargs: Option<String>,
}

pub async fn run(args: CallArgs) -> ExitCode {
    match call(&args).await {
        Ok(value) => {
            emit(&pseud::json::to_json(&value));
            ExitCode::SUCCESS
        }
        Err(e) => {
            let (class, message) = error_parts(&e);
            emit(&json!({"error": {"class": class, "message": message}}));
            ExitCode::FAILURE
        }
    }
}

async fn stay(seconds: f64) {
    if seconds > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(seconds.min(86_400.0))).await;
    }
}

async fn call(args: &CallArgs) -> Result<Value, Error> {
    let usage = |m: String| Error::Encode {
        what: "arguments".into(),
        reason: m,
    };
    let positional = match &args.args {
        Some(text) => match parse(text).map_err(usage)? {
            Value::Array(items) => items,
            _ => return Err(usage("ARGS_JSON must be a JSON array".into())),
        },
        None => Vec::new(),
    };
    let mut call_args = Args::positional(positional);
    if let Some(text) = &args.kwargs {
        match parse(text).map_err(usage)? {
            Value::Map(pairs) => {
                for (k, v) in pairs {
                    let key = k
                        .as_str()
                        .map(str::to_string)
                        .ok_or_else(|| usage("keyword names must be strings".into()))?;
                    call_args = call_args.kwarg(key, v);
                }
            }
            _ => return Err(usage("KWARGS_JSON must be a JSON object".into())),
        }
    }
    let security = match args.security {
        Security::Plain => ClientSecurity::plain(&args.user, &args.password),
        Security::Noop => ClientSecurity::Noop,
        Security::TrustedPeer => {
            return Err(Error::Setup(
                "trusted_peer is a server mode; a client of such a server uses --security plain"
                    .into(),
            ));
        }
        Security::Curve => crate::curve::client(args.server_key.as_deref(), args.key.as_deref())
            .map_err(|e| Error::Setup(e.to_string()))?,
    };
    if args.security != Security::Curve && (args.server_key.is_some() || args.key.is_some()) {
        return Err(Error::Setup(
            "--server-key and --key go with --security curve".into(),
        ));
    }
    let timeout = Duration::from_secs_f64(args.timeout.clamp(0.001, 86_400.0));
    // Registered before connecting: a server may call us as soon as we arrive.
    let registry = pseud::Registry::new();
    registry.register("client.ping", || "pong")?;
    let client = Client::builder()
        .server_name(&args.name)
        .security(security)
        .timeout(timeout)
        .registry(registry)
        .connect(&args.endpoint)?;
    let result = client.call_dynamic(&args.function, call_args).await;
    if let Ok(value) = &result
        && args.stay > 0.0
    {
        // Print now; the process keeps serving the server's calls for a while.
        emit(&pseud::json::to_json(value));
        stay(args.stay).await;
        client.stop().await;
        std::process::exit(0);
    }
    client.stop().await;
    result
}

fn parse(text: &str) -> Result<Value, String> {
    let json: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("{text:?} is not JSON: {e}"))?;
    pseud::json::from_json(&json).map_err(|e| e.to_string())
}

/// The `{class, message}` printed for an error, named like the Python peer's.
pub fn error_parts(e: &Error) -> (String, String) {
    let class = match e {
        Error::Remote(r) => return (r.class.clone(), r.message.clone()),
        Error::Timeout { .. } => "TimeoutError",
        Error::Unauthorized(_) => "UnauthorizedError",
        Error::Unreachable { .. } => "UnreachableError",
        Error::ConnectionRefused { .. } => "ConnectionRefusedError",
        Error::NoSuchServer { .. } => "NoSuchServerError",
        Error::Handshake(_) => "HandshakeError",
        Error::Disconnected { .. } => "DisconnectedError",
        Error::Encode { .. } | Error::Setup(_) => "UsageError",
        Error::Decode { .. } => "DecodeError",
        _ => "Error",
    };
    (class.to_string(), e.to_string())
}
