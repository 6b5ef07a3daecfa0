//! A registered function: a handler plus its parameter names, defaults and domain.

use std::sync::Arc;

use serde::Serialize;

use crate::context::Context;
use crate::error::Fault;
use crate::handler::{Handler, Invoke};
use crate::value::{Args, Value, read_value, to_msgpack};

/// The domain every caller is admitted to.
pub const DEFAULT_DOMAIN: &str = "default";

/// One parameter of a function: its name and optional default value.
#[derive(Debug, Clone)]
struct Param {
    name: String,
    default: Option<Value>,
}

/// A handler ready to register, with optional parameter names (which make keyword
/// arguments work), defaults, and a domain.
///
/// ```
/// use pseud::Function;
/// // kw(a, b=2) -> [a, b]; callable as kw(1), kw(1, 3) or kw(1, b=3)
/// let kw = Function::new(|a: i64, b: i64| vec![a, b])
///     .params(["a", "b"])
///     .default("b", 2);
/// ```
#[derive(Clone)]
pub struct Function {
    handler: Arc<dyn Erased>,
    arity: Option<usize>,
    params: Option<Vec<Param>>,
    domain: String,
    config_error: Option<String>,
}

trait Erased: Send + Sync {
    fn invoke(&self, ctx: Context, args: Args) -> Result<Invoke, crate::handler::ArgError>;
}

struct Wrap<H, M>(H, std::marker::PhantomData<fn() -> M>);

impl<H: Handler<M>, M> Erased for Wrap<H, M> {
    fn invoke(&self, ctx: Context, args: Args) -> Result<Invoke, crate::handler::ArgError> {
        self.0.invoke(ctx, args)
    }
}

impl Function {
    /// Wraps a handler (see [`Handler`] for the shapes accepted).
    pub fn new<M: 'static, H: Handler<M>>(handler: H) -> Self {
        let arity = handler.arity();
        Function {
            handler: Arc::new(Wrap(handler, std::marker::PhantomData)),
            arity,
            params: None,
            domain: DEFAULT_DOMAIN.to_string(),
            config_error: None,
        }
    }

    /// Names the positional parameters, in order, so callers can pass them by keyword.
    pub fn params<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let params: Vec<Param> = names
            .into_iter()
            .map(|n| Param {
                name: n.into(),
                default: None,
            })
            .collect();
        if self.arity.is_none() {
            self.config_error = Some(
                "parameter names are for typed handlers; a handler taking Args binds its own"
                    .into(),
            );
        }
        if let Some(arity) = self.arity
            && arity != params.len()
        {
            self.config_error = Some(format!(
                "{} parameter names given for a function of {arity} parameters",
                params.len()
            ));
        }
        self.params = Some(params);
        self
    }

    /// Gives a named parameter a default value, used when the caller omits it.
    pub fn default(mut self, name: &str, value: impl Serialize) -> Self {
        let encoded = to_msgpack(&value).and_then(|b| read_value(&b));
        match (self.params.as_mut(), encoded) {
            (Some(params), Ok(value)) => match params.iter_mut().find(|p| p.name == name) {
                Some(p) => p.default = Some(value),
                None => self.config_error = Some(format!("no parameter named {name:?}")),
            },
            (None, _) => {
                self.config_error = Some(format!(
                    "default for {name:?} given before the parameter names (call .params first)"
                ))
            }
            (_, Err(e)) => self.config_error = Some(format!("default for {name:?}: {e}")),
        }
        self
    }

    /// Puts the function in a domain; a server's predicate for that domain decides
    /// which callers it serves. Without this the function is in [`DEFAULT_DOMAIN`].
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = domain.into();
        self
    }

    /// The function's domain.
    pub fn domain_name(&self) -> &str {
        &self.domain
    }

    pub(crate) fn check(&self) -> Result<(), String> {
        match &self.config_error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Binds the call's arguments to the parameters and runs the handler.
    pub(crate) fn invoke(&self, name: &str, ctx: Context, args: Args) -> Result<Invoke, Fault> {
        let args = match self.arity {
            None => args,
            Some(arity) => Args::positional(self.bind(name, arity, args)?),
        };
        self.handler.invoke(ctx, args).map_err(|e| {
            let which = self
                .params
                .as_ref()
                .and_then(|p| p.get(e.index))
                .map(|p| format!("argument {:?}", p.name))
                .unwrap_or_else(|| format!("argument {}", e.index + 1));
            Fault::type_error(format!("{name}() {which}: {}", e.reason))
        })
    }

    /// Python-style binding of positional and keyword arguments.
    fn bind(&self, name: &str, arity: usize, args: Args) -> Result<Vec<Value>, Fault> {
        let Args { args, kwargs } = args;
        if args.len() > arity {
            return Err(Fault::type_error(format!(
                "{name}() takes {arity} positional arguments but {} were given",
                args.len()
            )));
        }
        let Some(params) = &self.params else {
            if let Some((k, _)) = kwargs.first() {
                return Err(Fault::type_error(format!(
                    "{name}() got an unexpected keyword argument {k:?}"
                )));
            }
            if args.len() < arity {
                return Err(Fault::type_error(format!(
                    "{name}() takes {arity} positional arguments but {} were given",
                    args.len()
                )));
            }
            return Ok(args);
        };
        let slots = bind_slots(name, params, |p| p.name.as_str(), Args { args, kwargs })?;
        slots
            .into_iter()
            .zip(params)
            .map(|(slot, p)| {
                slot.or_else(|| p.default.clone()).ok_or_else(|| {
                    Fault::type_error(format!("{name}() missing required argument {:?}", p.name))
                })
            })
            .collect()
    }
}

/// Python's binding of positional and keyword arguments to the parameters of
/// function `name`: one slot per parameter, `None` where the caller passed nothing.
/// Too many positionals, an unknown keyword or a keyword given twice is a
/// `TypeError` naming the function. (pseud's `Function` and cara's generated
/// dispatchers both bind with it; defaults are theirs to apply.)
pub fn bind_slots<P>(
    name: &str,
    params: &[P],
    param_name: impl Fn(&P) -> &str,
    args: Args,
) -> Result<Vec<Option<Value>>, Fault> {
    let Args { args, kwargs } = args;
    let arity = params.len();
    if args.len() > arity {
        return Err(Fault::type_error(format!(
            "{name}() takes {arity} positional arguments but {} were given",
            args.len()
        )));
    }
    let mut slots: Vec<Option<Value>> = args.into_iter().map(Some).collect();
    slots.resize(arity, None);
    for (key, value) in kwargs {
        let Some(i) = params.iter().position(|p| param_name(p) == key) else {
            return Err(Fault::type_error(format!(
                "{name}() got an unexpected keyword argument {key:?}"
            )));
        };
        if slots[i].is_some() {
            return Err(Fault::type_error(format!(
                "{name}() got multiple values for argument {key:?}"
            )));
        }
        slots[i] = Some(value);
    }
    Ok(slots)
}

impl std::fmt::Debug for Function {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Function")
            .field("arity", &self.arity)
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

/// Things that can be registered: a [`Function`], or any [`Handler`].
pub trait IntoFunction<M> {
    /// Converts into a [`Function`].
    fn into_function(self) -> Function;
}

/// Marker for [`IntoFunction`] on `Function` itself.
pub struct IsFunction;

impl IntoFunction<IsFunction> for Function {
    fn into_function(self) -> Function {
        self
    }
}

impl<M: 'static, H: Handler<M>> IntoFunction<(M,)> for H {
    fn into_function(self) -> Function {
        Function::new(self)
    }
}
