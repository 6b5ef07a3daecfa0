//! # cara-build
//!
//! Generates Rust from Cap'n Proto schemas in a build script, with cargo alone (no
//! `capnp` tool):
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), cara_build::BuildError> {
//!     cara_build::Config::new().file("schemas/calculator.capnp").compile()?;
//!     Ok(())
//! }
//! ```
//!
//! and in the crate: `cara::include_schemas!();` brings in one module per schema
//! file (`calculator_capnp`, …). The same generator backs `cara::schema!`.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

use std::path::{Path, PathBuf};

/// The file written in `OUT_DIR` (what `cara::include_schemas!()` includes).
pub const OUT_FILE: &str = "cara_schemas.rs";

/// What can go wrong generating code.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// `OUT_DIR` is not set: not running inside a build script.
    #[error("OUT_DIR is not set (cara_build runs in build scripts)")]
    NoOutDir,
    /// The schemas have errors: the front-end's diagnostics, `file:line:col` first.
    #[error("schema errors:\n{0}")]
    Schema(#[source] cara_schema::Diagnostics),
    /// Code generation failed: a bad option (such as the runtime path) or a
    /// generator bug.
    #[error("code generation failed: {0}")]
    Generate(#[source] GenerateFailure),
    /// Writing the output failed.
    #[error("cannot write {path}: {source}", path = .0.display(), source = .1)]
    Io(PathBuf, #[source] std::io::Error),
}

/// Why the generator failed once the schemas were read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateFailure {
    /// The generator refused the options or the schema set.
    #[error(transparent)]
    Generate(cara_codegen::GenerateError),
    /// The generated code did not print as Rust (a generator bug).
    #[error(transparent)]
    Pretty(#[from] cara_codegen::PrettyError),
}

impl From<cara_codegen::GenerateError> for BuildError {
    fn from(e: cara_codegen::GenerateError) -> Self {
        match e {
            cara_codegen::GenerateError::Schema(d) => BuildError::Schema(d),
            other => BuildError::Generate(GenerateFailure::Generate(other)),
        }
    }
}

// `fn main() -> Result<(), BuildError>` prints errors with `Debug`: show the
// diagnostics as written, not escaped on one line.
impl std::fmt::Debug for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// Which schemas to compile and how.
#[derive(Debug, Clone, Default)]
pub struct Config {
    files: Vec<PathBuf>,
    options: cara_codegen::Options,
}

impl Config {
    /// An empty configuration.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a schema file (relative to the crate's manifest directory).
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.files.push(path.into());
        self
    }

    /// Adds an import directory for `/absolute` imports (`-I`).
    pub fn include(mut self, dir: impl Into<PathBuf>) -> Self {
        self.options = self.options.include(dir);
        self
    }

    /// Strips a prefix from file names, as `capnp compile --src-prefix` does.
    pub fn src_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.options = self.options.src_prefix(prefix);
        self
    }

    /// Disables the standard import directories and bundled standard files.
    pub fn no_standard_import(mut self) -> Self {
        self.options = self.options.no_standard_import();
        self
    }

    /// The path generated code names the runtime by (default `::cara`): for a
    /// crate that renames `cara` in `Cargo.toml` or reaches it through a re-export
    /// (`.runtime("::my_rpc::cara")`).
    pub fn runtime(mut self, path: impl Into<String>) -> Self {
        self.options = self.options.runtime(path);
        self
    }

    /// Generates the code as pretty-printed Rust source, and the schema files read.
    pub fn generate(&self) -> Result<(String, Vec<PathBuf>), BuildError> {
        let input = cara_codegen::Input::files(self.files.iter().cloned());
        let generated = cara_codegen::generate(&self.options, &input)?;
        let code = generated
            .source()
            .map_err(|e| BuildError::Generate(e.into()))?;
        Ok((code, generated.source_files().to_vec()))
    }
    /// Writes the code to `OUT_DIR/cara_schemas.rs` and tells cargo to rerun the
    /// build script when any schema read changes. Returns the file written.
    pub fn compile(&self) -> Result<PathBuf, BuildError> {
        let out_dir = std::env::var_os("OUT_DIR").ok_or(BuildError::NoOutDir)?;
        let result = self.generate();
        // Rerun on changes even after an error, so fixing the schema rebuilds.
        for file in &self.files {
            println!("cargo:rerun-if-changed={}", file.display());
        }
        let (code, sources) = result?;
        for source in &sources {
            println!("cargo:rerun-if-changed={}", source.display());
        }
        let path = Path::new(&out_dir).join(OUT_FILE);
        std::fs::write(&path, code).map_err(|e| BuildError::Io(path.clone(), e))?;
        Ok(path)
    }
}
