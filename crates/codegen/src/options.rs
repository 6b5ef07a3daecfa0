//! [`Options`]: what the three doors (`cara-build`, `cara::schema!`, `cara gen`) can
//! ask of the generator, and the one place they become a schema [`Compiler`].

use std::path::{Path, PathBuf};

use cara_schema::Compiler;

/// The runtime crate generated code names when no other is configured.
pub const DEFAULT_RUNTIME: &str = "::cara";

/// How to read the schemas and what the generated code refers to.
///
/// ```
/// let options = cara_codegen::Options::new()
///     .include("schemas")
///     .src_prefix("schemas/")
///     .runtime("::my_rpc::cara");
/// # let _ = options;
/// ```
#[non_exhaustive]
#[derive(Debug, Clone, Default)]
pub struct Options {
    includes: Vec<PathBuf>,
    src_prefixes: Vec<String>,
    standard_imports: StandardImports,
    base_dir: Option<PathBuf>,
    runtime: Option<String>,
}

/// Whether the standard import directories and bundled standard files are searched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StandardImports {
    /// `/usr/include`, `/usr/local/include` and the bundled `/capnp/*.capnp` (the default).
    #[default]
    Search,
    /// Only `-I` directories (`--no-standard-import`).
    Skip,
}

impl Options {
    /// Default options: standard imports, paths relative to the working directory,
    /// runtime `::cara`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an import directory for `/absolute` imports (`-I`).
    pub fn include(mut self, dir: impl Into<PathBuf>) -> Self {
        self.includes.push(dir.into());
        self
    }

    /// Strips a prefix from requested file names, as `capnp compile --src-prefix`
    /// does (the longest matching prefix wins).
    pub fn src_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.src_prefixes.push(prefix.into());
        self
    }

    /// Disables the standard import directories and the bundled standard files.
    pub fn no_standard_import(self) -> Self {
        self.standard_imports(StandardImports::Skip)
    }

    /// Sets whether the standard import directories and bundled files are searched.
    pub fn standard_imports(mut self, mode: StandardImports) -> Self {
        self.standard_imports = mode;
        self
    }

    /// Resolves relative schema paths and `-I` directories against `dir` instead of
    /// the process's working directory (a proc-macro's crate root).
    pub fn base_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.base_dir = Some(dir.into());
        self
    }

    /// The path generated code reaches the runtime crate by (default `::cara`): set
    /// it when `cara` is renamed in `Cargo.toml` or re-exported by another crate
    /// (`::my_rpc::cara`). Checked by [`crate::generate`].
    pub fn runtime(mut self, path: impl Into<String>) -> Self {
        self.runtime = Some(path.into());
        self
    }

    /// The configured runtime path, as written.
    pub fn runtime_path(&self) -> &str {
        self.runtime.as_deref().unwrap_or(DEFAULT_RUNTIME)
    }

    /// The directory relative paths are resolved against, if set.
    pub fn base(&self) -> Option<&Path> {
        self.base_dir.as_deref()
    }

    /// A schema front-end configured with these options (for callers that need the
    /// schema model itself, such as `cara compile` or `cara call`).
    pub fn compiler(&self) -> Compiler {
        let mut compiler = Compiler::new();
        if let Some(dir) = &self.base_dir {
            compiler = compiler.base_dir(dir);
        }
        for dir in &self.includes {
            compiler = compiler.include(dir);
        }
        for prefix in &self.src_prefixes {
            compiler = compiler.src_prefix(prefix.clone());
        }
        if self.standard_imports == StandardImports::Skip {
            compiler = compiler.no_standard_import();
        }
        compiler
    }
}
