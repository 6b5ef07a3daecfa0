//! `cara call`: call one method of a cara (or pseud) server from a shell, with JSON
//! arguments read through a schema, and print its result as JSON with field names.
//!
//! Exit status: 0 when the call returned, 1 when the server raised an error (printed
//! as `{"error":{"class":…,"message":…}}` on stdout), 2 for a bad command line
//! (schema, interface, method or arguments), 3 when the call did not get through
//! (connection refused, no such server, unauthorized, timeout, disconnected, …).

pub mod from_value;
pub mod to_value;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use cara::pseud::{self, Args as CallArgs, ClientSecurity};
use cara::{Error, Value};
use serde_json::{Value as Json, json};

use super::view::{Bindings, FlatMethod, LookupError, View};
use from_value::FromValue;
use to_value::{ConvertError, ToValue};

/// Security modes of the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Security {
    /// No authentication (ZeroMQ NULL).
    Noop,
    /// PLAIN credentials (`--user`, `--password`).
    Plain,
    /// CurveZMQ towards `--server-key` (as `--key`, or a fresh key pair).
    Curve,
}

/// Arguments of `cara call`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Import path and file-name options.
    #[command(flatten)]
    pub schema: super::schema_args::SchemaArgs,
    /// A schema file declaring the interface (repeat for several).
    #[arg(long = "schema", value_name = "FILE", required = true)]
    pub schemas: Vec<String>,
    /// The server's name (its routing id).
    #[arg(long, default_value = "server")]
    pub name: String,
    /// Security mode.
    #[arg(long, value_enum, default_value = "noop")]
    pub security: Security,
    /// PLAIN user name (with `--security plain`).
    #[arg(long)]
    pub user: Option<String>,
    /// PLAIN password (with `--security plain`).
    #[arg(long)]
    pub password: Option<String>,
    /// The server's public key, for `--security curve`: its NAME.key certificate
    /// file, or the key's 40 characters of Z85.
    #[arg(long, allow_hyphen_values = true)]
    pub server_key: Option<String>,
    /// Our key pair for `--security curve` (a NAME.key_secret certificate, as
    /// `cara keygen` writes); a fresh key pair without it.
    #[arg(long)]
    pub key: Option<std::path::PathBuf>,
    /// Call timeout in seconds.
    #[arg(long, default_value_t = 5.0)]
    pub timeout: f64,
    /// Seconds to wait for the endpoint to accept the connection (a server just
    /// started may not listen yet) before failing as refused.
    #[arg(long, default_value_t = 1.0)]
    pub connect_grace: f64,
    /// Print the reply as it came over the wire (the `pseud::json` form: ordinals, no names).
    #[arg(long)]
    pub raw: bool,
    /// The server's endpoint, e.g. tcp://127.0.0.1:5555.
    pub endpoint: String,
    /// The method: `Interface.method` (`Outer.Iface.method` for a nested interface).
    #[arg(value_name = "Interface.method")]
    pub method: String,
    /// Arguments: a JSON array (positional) or object (by parameter name).
    #[arg(value_name = "ARGS-JSON")]
    pub args: Option<String>,
}

/// A command line that cannot make a call.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    /// The schema did not compile.
    #[error("{0}")]
    Schema(cara_schema::Diagnostics),
    /// Unknown interface or method.
    #[error(transparent)]
    Lookup(#[from] LookupError),
    /// ARGS-JSON is not JSON.
    #[error("ARGS-JSON is not JSON: {0}")]
    Json(serde_json::Error),
    /// ARGS-JSON is JSON of the wrong shape.
    #[error("ARGS-JSON must be a JSON array (positional arguments) or object (by name), got {0}")]
    Shape(String),
    /// More positional arguments than parameters.
    #[error("{method} takes {takes} arguments ({params}), {given} given")]
    TooMany {
        /// The method.
        method: String,
        /// How many it takes.
        takes: usize,
        /// Their names.
        params: String,
        /// How many were given.
        given: usize,
    },
    /// A keyword that is not a parameter.
    #[error("{method} has no parameter {name:?}; its parameters: {params}")]
    UnknownParam {
        /// The method.
        method: String,
        /// The keyword given.
        name: String,
        /// Its parameter names.
        params: String,
    },
    /// An argument does not fit its parameter's type.
    #[error("argument {0}")]
    Convert(#[from] ConvertError),
    /// Options that do not go together.
    #[error("{0}")]
    Options(String),
}

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    let set = match args.schema.compiler().compile(&args.schemas) {
        Ok(set) => set,
        Err(d) => return usage(UsageError::Schema(d)),
    };
    let view = View::new(&set);
    let (method, call_args) = match prepare(&args, view) {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    let client = match client_builder(&args) {
        Ok(b) => b,
        Err(e) => return usage(e),
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cara call: cannot start the runtime: {e}");
            return ExitCode::from(3);
        }
    };
    let result = runtime.block_on(async {
        let client = client.connect(&args.endpoint)?;
        let result = call(client.server(), &method, call_args).await;
        client.stop().await;
        result
    });
    match result {
        Ok(value) => {
            let json = if args.raw {
                pseud::json::to_json(&value)
            } else {
                let mut from = FromValue::new(view);
                let json = from.results(&value, &method);
                for w in from.warnings() {
                    eprintln!("cara call: warning: {w}");
                }
                json
            };
            print(&json);
            ExitCode::SUCCESS
        }
        Err(Error::Remote(e)) => {
            print(&json!({"error": {"class": e.class, "message": e.message}}));
            if !e.traceback.is_empty() {
                eprintln!("{}", e.traceback);
            }
            ExitCode::FAILURE
        }
        Err(Error::NoSuchServer { name, endpoint }) => {
            eprintln!(
                "cara call: the server at {endpoint} is not named {name:?}: pass its name with --name"
            );
            ExitCode::from(3)
        }
        Err(e) => {
            eprintln!("cara call: {e}");
            ExitCode::from(3)
        }
    }
}

fn usage(e: UsageError) -> ExitCode {
    eprintln!("cara call: {e}");
    ExitCode::from(2)
}

fn print(json: &Json) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{json}");
    let _ = out.flush();
}

/// The method and its arguments, converted through the schema.
fn prepare<'a>(args: &Args, view: View<'a>) -> Result<(FlatMethod<'a>, CallArgs), UsageError> {
    let (_, method) = view.target(&args.method)?;
    let json = match &args.args {
        Some(text) => serde_json::from_str(text).map_err(UsageError::Json)?,
        None => Json::Null,
    };
    let call_args = arguments(view, &method, &json)?;
    Ok((method, call_args))
}

/// ARGS-JSON as pseud arguments: an array travels positionally, an object by keyword.
pub fn arguments(
    view: View<'_>,
    method: &FlatMethod<'_>,
    json: &Json,
) -> Result<CallArgs, UsageError> {
    let params = match view.struct_node(method.method.param_struct_type) {
        Some((_, s)) => s.fields.as_slice(),
        None => &[],
    };
    let param_names = || {
        let names: Vec<&str> = params.iter().map(|f| f.name.as_str()).collect();
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    };
    let to = ToValue::new(view);
    let b = &view.enter(&method.method.param_brand, &Bindings::new());
    match json {
        Json::Null => Ok(CallArgs::default()),
        Json::Array(items) => {
            if items.len() > params.len() {
                return Err(UsageError::TooMany {
                    method: method.served_name.clone(),
                    takes: params.len(),
                    params: param_names(),
                    given: items.len(),
                });
            }
            let values = items
                .iter()
                .zip(params)
                .map(|(item, field)| to.field(item, field, b, &field.name))
                .collect::<Result<Vec<Value>, _>>()?;
            Ok(CallArgs::positional(values))
        }
        Json::Object(object) => {
            let mut out = CallArgs::default();
            for (key, item) in object {
                let Some(field) = params.iter().find(|f| &f.name == key) else {
                    return Err(UsageError::UnknownParam {
                        method: method.served_name.clone(),
                        name: key.clone(),
                        params: param_names(),
                    });
                };
                out = out.kwarg(key.clone(), to.field(item, field, b, key)?);
            }
            Ok(out)
        }
        other => Err(UsageError::Shape(to_value::describe(other))),
    }
}

fn client_builder(args: &Args) -> Result<pseud::ClientBuilder, UsageError> {
    if args.security != Security::Curve && (args.server_key.is_some() || args.key.is_some()) {
        return Err(UsageError::Options(
            "--server-key and --key go with --security curve".into(),
        ));
    }
    let security = match (args.security, &args.user, &args.password) {
        (Security::Curve, None, None) => curve_security(args)?,
        (Security::Curve, _, _) => {
            return Err(UsageError::Options(
                "--user and --password go with --security plain".into(),
            ));
        }
        (Security::Plain, Some(user), Some(password)) => ClientSecurity::plain(user, password),
        (Security::Plain, _, _) => {
            return Err(UsageError::Options(
                "--security plain needs --user and --password".into(),
            ));
        }
        (Security::Noop, None, None) => ClientSecurity::Noop,
        (Security::Noop, _, _) => {
            return Err(UsageError::Options(
                "--user and --password go with --security plain".into(),
            ));
        }
    };
    if !(args.timeout.is_finite() && args.timeout > 0.0 && args.timeout <= 86_400.0) {
        return Err(UsageError::Options(format!(
            "--timeout must be a number of seconds above 0 (at most 86400), got {}",
            args.timeout
        )));
    }
    let grace =
        super::seconds("--connect-grace", args.connect_grace).map_err(UsageError::Options)?;
    Ok(cara::Client::builder()
        .server_name(&args.name)
        .security(security)
        .connect_grace(grace)
        .timeout(Duration::from_secs_f64(args.timeout)))
}

/// `--security curve`: the server's key and ours, from certificate files (or Z85).
fn curve_security(args: &Args) -> Result<ClientSecurity, UsageError> {
    let server = args.server_key.as_deref().ok_or_else(|| {
        UsageError::Options("--security curve needs --server-key SERVER.key".into())
    })?;
    let (server, keys) = pseud::certificate::client_keys(server, args.key.as_deref())
        .map_err(|e| UsageError::Options(format!("CURVE keys: {e}")))?;
    Ok(ClientSecurity::curve(server, keys))
}

/// Calls the method as a typed client does (`cara::call_registered`):
/// `<Interface>.<method>` first and, if the server answers `ServiceNotFoundError`
/// (the method did not run), the bare method name that the original Python cara serves.
async fn call(
    remote: &pseud::Remote,
    method: &FlatMethod<'_>,
    args: CallArgs,
) -> Result<Value, Error> {
    let named = cara::RegisteredMethod {
        interface_id: method.owner.id,
        qualified: &method.served_name,
        bare: &method.method.name,
    };
    cara::call_registered(remote, named, args, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_by_position_by_name_and_of_a_struct_parameter_list() {
        let src = "@0xd1a3c8f2b4e63105;\n\
            struct P { x @0 :Float64; y @1 :Float64; }\n\
            interface I { f @0 (a :Int8, b :Text) -> (); p @1 P -> P; }\n";
        let set = cara_schema::Compiler::new()
            .compile_sources(&[("a.capnp", src)])
            .unwrap();
        let view = View::new(&set);
        let (_, f) = view.target("I.f").unwrap();
        let args =
            |m: &FlatMethod<'_>, j: &str| arguments(view, m, &serde_json::from_str(j).unwrap());
        assert_eq!(
            args(&f, "[1]").unwrap(),
            CallArgs::positional(vec![Value::from(1)])
        );
        let kw = args(&f, r#"{"b": "x"}"#).unwrap();
        assert_eq!(kw.kwargs, vec![("b".to_string(), Value::from("x"))]);
        assert!(kw.args.is_empty());
        assert_eq!(args(&f, "null").unwrap(), CallArgs::default());
        // A struct as the parameter list: its fields are the parameters.
        let (_, p) = view.target("I.p").unwrap();
        assert_eq!(
            args(&p, "[1, 2]").unwrap(),
            CallArgs::positional(vec![Value::F64(1.0), Value::F64(2.0)])
        );
        assert_eq!(
            args(&p, "[1, 2, 3]").unwrap_err().to_string(),
            "I.p takes 2 arguments (x, y), 3 given"
        );
        assert_eq!(
            args(&p, r#"{"z": 1}"#).unwrap_err().to_string(),
            "I.p has no parameter \"z\"; its parameters: x, y"
        );
        assert_eq!(
            args(&f, "[128]").unwrap_err().to_string(),
            "argument a: 128 is out of range for Int8"
        );
    }
}
