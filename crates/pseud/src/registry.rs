//! Registries: names (possibly dotted) mapped to functions, per domain.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use crate::error::Error;
use crate::function::{DEFAULT_DOMAIN, Function, IntoFunction};

/// A set of callable functions by name. Cheap to clone; clones share the functions.
///
/// Each [`crate::Server`] and [`crate::Client`] has a registry of its own, and also
/// consults the process-wide [`Registry::global`] (unless told not to).
#[derive(Clone, Default)]
pub struct Registry {
    entries: Arc<RwLock<Entries>>,
}

#[derive(Default)]
struct Entries {
    functions: HashMap<String, Vec<Arc<Function>>>,
    /// Second names that stand for a registered name while only one claims them;
    /// `None` once two different targets claimed the same alias.
    aliases: HashMap<String, Option<String>>,
}

static GLOBAL: LazyLock<Registry> = LazyLock::new(Registry::new);

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide registry.
    pub fn global() -> &'static Registry {
        &GLOBAL
    }

    /// Registers a function under `name` (dotted names like `"string.upper"` are fine).
    ///
    /// Registering the same name in the same domain again replaces the function.
    pub fn register<M>(
        &self,
        name: impl Into<String>,
        function: impl IntoFunction<M>,
    ) -> Result<(), Error> {
        let name = name.into();
        let function = function.into_function();
        if name.is_empty() {
            return Err(Error::Register("the name is empty".into()));
        }
        function
            .check()
            .map_err(|e| Error::Register(format!("{name}: {e}")))?;
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        let slot = entries.functions.entry(name).or_default();
        slot.retain(|f| f.domain_name() != function.domain_name());
        // Specific domains are tried before the default one.
        if function.domain_name() == DEFAULT_DOMAIN {
            slot.push(Arc::new(function));
        } else {
            slot.insert(0, Arc::new(function));
        }
        Ok(())
    }

    /// Registers a fn item under its own name (`fn add` → `"add"`).
    ///
    /// Closures have no name: register them with [`Registry::register`].
    pub fn register_fn<M, F>(&self, function: F) -> Result<(), Error>
    where
        F: IntoFunction<M> + 'static,
    {
        if std::any::TypeId::of::<F>() == std::any::TypeId::of::<Function>() {
            return Err(Error::Register(
                "a Function value has no name of its own; use register(name, function)".into(),
            ));
        }
        let name = fn_name::<F>()?;
        self.register(name, function)
    }

    /// Removes every registration of `name`; returns whether there was one.
    pub fn unregister(&self, name: &str) -> bool {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        entries.functions.remove(name).is_some()
    }

    /// Makes `alias` a second name for the registered `target`, as long as no other
    /// target claims the same alias: a second claim withdraws the alias for good, so
    /// an ambiguous short name never silently picks one. A registered function of
    /// the alias's own name always wins over the alias.
    ///
    /// This is how cara makes `Calculator.add` also callable as plain `add`.
    pub fn alias(&self, alias: impl Into<String>, target: impl Into<String>) {
        let (alias, target) = (alias.into(), target.into());
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        match entries.aliases.get(&alias) {
            None => {
                entries.aliases.insert(alias, Some(target));
            }
            Some(Some(existing)) if *existing == target => {}
            Some(_) => {
                tracing::debug!(%alias, "alias claimed twice; withdrawn");
                entries.aliases.insert(alias, None);
            }
        }
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<String> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let mut names: Vec<String> = entries.functions.keys().cloned().collect();
        names.sort();
        names
    }

    /// The function serving `name` for a caller admitted to the domains `admits` accepts.
    pub(crate) fn lookup(
        &self,
        name: &str,
        admits: impl Fn(&str) -> bool,
    ) -> Option<Arc<Function>> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        let pick = |name: &str| {
            entries
                .functions
                .get(name)?
                .iter()
                .find(|f| {
                    let domain = f.domain_name();
                    domain == DEFAULT_DOMAIN || admits(domain)
                })
                .cloned()
        };
        pick(name).or_else(|| match entries.aliases.get(name) {
            Some(Some(target)) => pick(target),
            _ => None,
        })
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("names", &self.names())
            .finish()
    }
}

fn fn_name<F>() -> Result<String, Error> {
    let full = std::any::type_name::<F>();
    let last = full.rsplit("::").next().unwrap_or(full);
    let is_ident = !last.is_empty()
        && !last.starts_with(|c: char| c.is_ascii_digit())
        && last.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !is_ident || !full.contains("::") {
        return Err(Error::Register(format!(
            "{full} has no usable name; register it with an explicit name"
        )));
    }
    Ok(last.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(a: i64, b: i64) -> i64 {
        a + b
    }

    #[test]
    fn fn_items_register_under_their_name() {
        let r = Registry::new();
        r.register_fn(add).unwrap();
        assert_eq!(r.names(), vec!["add".to_string()]);
        assert!(r.register_fn(|x: i64| x).is_err());
        assert!(r.register_fn(Function::new(add)).is_err());
        let pointer: fn(i64, i64) -> i64 = add;
        assert!(r.register_fn(pointer).is_err());
    }

    #[test]
    fn domains_pick_specific_before_default() {
        let r = Registry::new();
        r.register("f", Function::new(|| 1)).unwrap();
        r.register("f", Function::new(|| 2).domain("admin"))
            .unwrap();
        let admin = r.lookup("f", |d| d == "admin").unwrap();
        let other = r.lookup("f", |_| false).unwrap();
        assert_eq!(admin.domain_name(), "admin");
        assert_eq!(other.domain_name(), DEFAULT_DOMAIN);
        assert!(r.lookup("g", |_| true).is_none());
    }

    #[test]
    fn aliases_stand_in_until_claimed_twice() {
        let r = Registry::new();
        r.register("A.add", Function::new(|| 1)).unwrap();
        r.register("B.add", Function::new(|| 2)).unwrap();
        r.alias("add", "A.add");
        r.alias("add", "A.add");
        assert!(r.lookup("add", |_| true).is_some());
        r.alias("add", "B.add");
        assert!(r.lookup("add", |_| true).is_none());
        r.alias("add", "A.add");
        assert!(r.lookup("add", |_| true).is_none(), "withdrawn for good");
        r.register("add", Function::new(|| 3)).unwrap();
        assert!(
            r.lookup("add", |_| true).is_some(),
            "a real registration wins"
        );
    }

    #[test]
    fn bad_configuration_is_refused() {
        let r = Registry::new();
        assert!(
            r.register("f", Function::new(|a: i64| a).params(["a", "b"]))
                .is_err()
        );
        assert!(
            r.register("f", Function::new(|a: i64| a).default("a", 1))
                .is_err()
        );
        assert!(r.register("", Function::new(|| 1)).is_err());
    }
}
