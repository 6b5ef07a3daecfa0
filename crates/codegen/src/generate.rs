//! The generator's one entry: [`generate`] reads schemas as [`Options`] say and
//! returns the code of every file reached, or a [`GenerateError`]; [`pretty`]
//! prints it as a Rust source file.

use std::path::PathBuf;

use cara_schema::{Diagnostics, NodeKind, SchemaSet};
use proc_macro2::TokenStream;
use quote::quote;

use crate::{Generator, Options, names};

/// The schemas to generate code for.
#[derive(Debug, Clone)]
pub enum Input {
    /// Schema files on disk (relative paths against [`Options::base_dir`], else the
    /// working directory); their imports are read too.
    Files(Vec<PathBuf>),
    /// In-memory sources, `(name, text)`: all requested; they import each other by
    /// name, and the bundled standard files are available.
    Sources(Vec<(String, String)>),
}

impl Input {
    /// Files on disk.
    pub fn files<P: Into<PathBuf>>(files: impl IntoIterator<Item = P>) -> Self {
        Input::Files(files.into_iter().map(Into::into).collect())
    }

    /// In-memory sources.
    pub fn sources<N: Into<String>, T: Into<String>>(
        sources: impl IntoIterator<Item = (N, T)>,
    ) -> Self {
        Input::Sources(
            sources
                .into_iter()
                .map(|(n, t)| (n.into(), t.into()))
                .collect(),
        )
    }

    /// How the `@generated` header names the input: base names, comma-separated, so
    /// output does not depend on where the schemas sit on the build machine.
    fn label(&self) -> String {
        let names: Vec<String> = match self {
            Input::Files(files) => files
                .iter()
                .map(|f| {
                    f.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                })
                .collect(),
            Input::Sources(sources) => sources.iter().map(|(n, _)| base_name(n)).collect(),
        };
        names.join(", ")
    }
}

/// Why no code was generated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// The schemas have errors; displayed as the front-end renders them
    /// (`file:line:col: error: …`, one per line).
    #[error("{0}")]
    Schema(#[source] Diagnostics),
    /// [`Options::runtime`] is not a Rust path.
    #[error("runtime path `{path}` is not a Rust path: {source}")]
    RuntimePath {
        /// The path as given.
        path: String,
        /// Why it does not parse.
        #[source]
        source: syn::Error,
    },
    /// An interface has more methods than `u16` ordinals number (cara's method
    /// table and the wire carry 16-bit ordinals).
    #[error(
        "interface `{interface}` has {count} methods; ordinals stop at {}",
        u16::MAX
    )]
    TooManyMethods {
        /// The interface's display name.
        interface: String,
        /// Its number of methods.
        count: usize,
    },
    /// An enum has more enumerants than `u16` ordinals number.
    #[error(
        "enum `{enumeration}` has {count} enumerants; ordinals stop at {}",
        u16::MAX
    )]
    TooManyEnumerants {
        /// The enum's display name.
        enumeration: String,
        /// Its number of enumerants.
        count: usize,
    },
}

/// One generated module: a schema file's Rust code.
#[derive(Debug, Clone)]
pub struct GeneratedFile {
    /// The schema file name, as the front-end knows it (its base name).
    pub schema: String,
    /// The module name (`calculator_capnp`).
    pub module: String,
    /// The module's contents.
    pub tokens: TokenStream,
}

impl GeneratedFile {
    /// The module's contents as a Rust source file with the `@generated` header.
    pub fn source(&self) -> Result<String, PrettyError> {
        pretty(&self.tokens, &self.schema)
    }
}

/// The code generated for a set of schemas.
#[derive(Debug, Clone)]
pub struct Generated {
    files: Vec<GeneratedFile>,
    label: String,
    sources: Vec<PathBuf>,
}

impl Generated {
    /// One module per schema file (requested files and the imports they reach),
    /// sorted by file name.
    pub fn files(&self) -> &[GeneratedFile] {
        &self.files
    }

    /// All files as sibling modules in one token stream (what `cara::schema!`
    /// expands to and `cara-build` writes).
    pub fn tokens(&self) -> TokenStream {
        let items = self.files.iter().map(|f| {
            let name = names::ident(&f.module);
            let tokens = &f.tokens;
            let doc = format!(" Generated from `{}`.", f.schema);
            quote! {
                #[doc = #doc]
                // A program uses part of a schema's API; the rest is not dead code.
                #[allow(dead_code)]
                pub mod #name {
                    #tokens
                }
            }
        });
        quote!(#(#items)*)
    }

    /// [`Self::tokens`] as one Rust source file with the `@generated` header.
    pub fn source(&self) -> Result<String, PrettyError> {
        pretty(&self.tokens(), &self.label)
    }

    /// How the header names the input (`calculator.capnp, other.capnp`).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The schema files read from disk (requested files and every import), for
    /// rebuild tracking.
    pub fn source_files(&self) -> &[PathBuf] {
        &self.sources
    }
}

/// Reads the schemas of `input` as `options` say and generates their code.
pub fn generate(options: &Options, input: &Input) -> Result<Generated, GenerateError> {
    let runtime: syn::Path =
        syn::parse_str(options.runtime_path()).map_err(|source| GenerateError::RuntimePath {
            path: options.runtime_path().to_string(),
            source,
        })?;
    let compiler = options.compiler();
    let set = match input {
        Input::Files(files) => compiler.compile(files),
        Input::Sources(sources) => {
            let sources: Vec<(&str, &str)> = sources
                .iter()
                .map(|(n, t)| (n.as_str(), t.as_str()))
                .collect();
            compiler.compile_sources(&sources)
        }
    }
    .map_err(GenerateError::Schema)?;
    check_ordinals(&set)?;
    let generator = Generator::new(&set, quote!(#runtime));
    Ok(Generated {
        files: generator.files(),
        label: input.label(),
        sources: set.source_files().to_vec(),
    })
}

/// Every ordinal the generated code spells fits a `u16`. The front-end's own
/// limits make this hold for any schema it accepts; checked here so the
/// generator never has to clamp one.
fn check_ordinals(set: &SchemaSet) -> Result<(), GenerateError> {
    let limit = usize::from(u16::MAX) + 1;
    for node in set.nodes() {
        match &node.kind {
            NodeKind::Interface(i) if i.methods.len() > limit => {
                return Err(GenerateError::TooManyMethods {
                    interface: node.display_name.clone(),
                    count: i.methods.len(),
                });
            }
            NodeKind::Enum(es) if es.len() > limit => {
                return Err(GenerateError::TooManyEnumerants {
                    enumeration: node.display_name.clone(),
                    count: es.len(),
                });
            }
            _ => {}
        }
    }
    Ok(())
}

/// A schema name's last component (`schemas/x.capnp` → `x.capnp`).
pub(crate) fn base_name(name: &str) -> String {
    name.rsplit('/').next().unwrap_or(name).to_string()
}

/// Why generated tokens could not be printed as Rust source: a generator bug.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PrettyError {
    /// The tokens are not a Rust file.
    #[error("generated code does not parse: {0}")]
    Parse(#[source] syn::Error),
}

/// Pretty-prints generated tokens as a Rust source file with the `@generated`
/// header naming `source`.
pub fn pretty(tokens: &TokenStream, source: &str) -> Result<String, PrettyError> {
    let file: syn::File = syn::parse2(tokens.clone()).map_err(PrettyError::Parse)?;
    Ok(format!(
        "// @generated by cara-codegen from {source}. Do not edit.\n\n{}",
        prettyplease::unparse(&file)
    ))
}
