//! The `cara::schema!` macro (use it through the `cara` crate).
//!
//! `cara::schema!("schemas/calculator.capnp")` expands, at compile time, to one
//! module per schema file reached (`calculator_capnp`, …): the same code the
//! `cara-build` helper writes. Paths are relative to the crate's manifest directory;
//! `include = "dir"` adds an import directory and `runtime = "::my_rt"` names the
//! runtime crate's path (default `::cara`, for a renamed or re-exported `cara`).
//! Schema errors become compile errors on the schema's path literal, whose message
//! starts with the schema's `file:line:col`.

use std::path::PathBuf;

use proc_macro::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Token};

struct Input {
    files: Vec<LitStr>,
    includes: Vec<LitStr>,
    runtime: Option<LitStr>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut files = Vec::new();
        let mut includes = Vec::new();
        let mut runtime = None;
        while !input.is_empty() {
            if input.peek(syn::Ident) {
                let key: syn::Ident = input.parse()?;
                input.parse::<Token![=]>()?;
                let value: LitStr = input.parse()?;
                match key.to_string().as_str() {
                    "include" => includes.push(value),
                    "runtime" if runtime.is_none() => runtime = Some(value),
                    "runtime" => {
                        return Err(syn::Error::new(key.span(), "`runtime` given twice"));
                    }
                    other => {
                        return Err(syn::Error::new(
                            key.span(),
                            format!("unknown option `{other}` (expected `include` or `runtime`)"),
                        ));
                    }
                }
            } else {
                files.push(input.parse()?);
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        if files.is_empty() {
            return Err(input.error(
                "expected at least one schema file, e.g. schema!(\"schemas/calculator.capnp\")",
            ));
        }
        Ok(Input {
            files,
            includes,
            runtime,
        })
    }
}

/// Generates the code for the given schema files (paths relative to the crate root).
#[proc_macro]
pub fn schema(input: TokenStream) -> TokenStream {
    match expand(input) {
        Ok((tokens, _)) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// Expands to `pub const SOURCE: &str`, the pretty-printed code `schema!` generates,
/// so tests can compare it with the build-script output.
#[doc(hidden)]
#[proc_macro]
pub fn __schema_source(input: TokenStream) -> TokenStream {
    match expand(input) {
        Ok((_, source)) => quote!(pub const SOURCE: &str = #source;).into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// What `cara::include_schemas!()` expands to: `include!` of the file the build
/// script wrote, or a compile error that says what is missing (rather than
/// rustc's "environment variable `OUT_DIR` not defined").
#[doc(hidden)]
#[proc_macro]
pub fn __include_schemas(input: TokenStream) -> TokenStream {
    let fail = |message: String| {
        syn::Error::new(proc_macro2::Span::call_site(), message)
            .to_compile_error()
            .into()
    };
    if !input.is_empty() {
        return fail(
            "cara::include_schemas!() takes no arguments: the files are chosen in build.rs".into(),
        );
    }
    let Some(out_dir) = std::env::var_os("OUT_DIR") else {
        return fail(
            "cara::include_schemas!() includes what a build script generated, and this crate has none: \
             add `cara-build` to [build-dependencies] and a build.rs with \
             `cara_build::Config::new().file(\"schemas/x.capnp\").compile()`, \
             or generate in place with `cara::schema!(\"schemas/x.capnp\")`"
                .into(),
        );
    };
    let path = PathBuf::from(out_dir).join("cara_schemas.rs");
    if !path.is_file() {
        return fail(format!(
            "cara::include_schemas!(): the build script wrote no {}: does build.rs call \
             `cara_build::Config::new().file(..).compile()`?",
            path.display()
        ));
    }
    let path = path.display().to_string();
    quote!(::core::include!(#path);).into()
}

fn expand(input: TokenStream) -> syn::Result<(proc_macro2::TokenStream, String)> {
    let input: Input = syn::parse(input)?;
    let base = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_default();
    let mut options = cara_codegen::Options::new().base_dir(&base);
    for dir in &input.includes {
        options = options.include(dir.value());
    }
    if let Some(runtime) = &input.runtime {
        options = options.runtime(runtime.value());
    }
    let files: Vec<String> = input.files.iter().map(LitStr::value).collect();
    for (file, lit) in files.iter().zip(&input.files) {
        if !base.join(file).is_file() {
            return Err(syn::Error::new(
                lit.span(),
                format!(
                    "schema file `{file}` not found; paths are relative to the crate's manifest directory ({})",
                    base.display()
                ),
            ));
        }
    }
    let generated = cara_codegen::generate(&options, &cara_codegen::Input::files(&files))
        .map_err(|e| generate_error(&input, &files, e))?;
    let tokens = generated.tokens();
    let source = generated
        .source()
        .map_err(|e| syn::Error::new(input.files[0].span(), e))?;
    // Make rustc rebuild when a schema changes.
    let tracked = generated.source_files().iter().map(|p| {
        let path = base.join(p).display().to_string();
        quote!(
            const _: &[u8] = ::core::include_bytes!(#path);
        )
    });
    Ok((quote!(#tokens #(#tracked)*), source))
}

/// A generator error as a compile error on the literal it is about: schema errors
/// on the path of the first file with one (the first path if none is named), a
/// bad runtime path on `runtime = "…"`.
fn generate_error(input: &Input, files: &[String], e: cara_codegen::GenerateError) -> syn::Error {
    let first = input.files[0].span();
    match e {
        cara_codegen::GenerateError::Schema(diags) => {
            let span = diags
                .errors
                .iter()
                .find_map(|d| files.iter().position(|f| same_file(f, &d.file)))
                .map_or(first, |at| input.files[at].span());
            syn::Error::new(span, format!("schema errors:\n{diags}"))
        }
        e @ cara_codegen::GenerateError::RuntimePath { .. } => {
            let span = input.runtime.as_ref().map_or(first, LitStr::span);
            syn::Error::new(span, e)
        }
        e => syn::Error::new(first, e),
    }
}

/// Whether a diagnostic's file name is the requested path `file` (names are shown
/// relative to the manifest directory, as written).
fn same_file(file: &str, shown: &str) -> bool {
    file.trim_start_matches("./") == shown
}
