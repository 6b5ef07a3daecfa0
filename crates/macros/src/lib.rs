//! The `cara::schema!` macro (use it through the `cara` crate).
//!
//! `cara::schema!("schemas/calculator.capnp")` expands, at compile time, to one
//! module per schema file reached (`calculator_capnp`, …): the same code the
//! `cara-build` helper writes. Paths are relative to the crate's manifest directory;
//! `include = "dir"` adds an import directory. Schema errors become compile errors
//! whose message starts with the schema's `file:line:col`.

use std::path::PathBuf;

use proc_macro::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Token};

struct Input {
    files: Vec<LitStr>,
    includes: Vec<LitStr>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut files = Vec::new();
        let mut includes = Vec::new();
        while !input.is_empty() {
            if input.peek(syn::Ident) {
                let key: syn::Ident = input.parse()?;
                input.parse::<Token![=]>()?;
                let value: LitStr = input.parse()?;
                match key.to_string().as_str() {
                    "include" => includes.push(value),
                    other => {
                        return Err(syn::Error::new(
                            key.span(),
                            format!("unknown option `{other}` (expected `include`)"),
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
        Ok(Input { files, includes })
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
    let mut compiler = cara_schema::Compiler::new().base_dir(&base);
    for dir in &input.includes {
        compiler = compiler.include(dir.value());
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
    let set = compiler
        .compile(&files)
        .map_err(|d| syn::Error::new(input.files[0].span(), format!("schema errors:\n{d}")))?;
    let tokens = cara_codegen::Generator::new(&set).modules();
    let names: Vec<&str> = files
        .iter()
        .map(|f| f.rsplit('/').next().unwrap_or(f))
        .collect();
    let source = cara_codegen::pretty(&tokens, &names.join(", "))
        .map_err(|e| syn::Error::new(input.files[0].span(), e))?;
    // Make rustc rebuild when a schema changes.
    let tracked = set.source_files().iter().map(|p| {
        let path = base.join(p).display().to_string();
        quote!(
            const _: &[u8] = ::core::include_bytes!(#path);
        )
    });
    Ok((quote!(#tokens #(#tracked)*), source))
}
