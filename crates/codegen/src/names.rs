//! Rust names for schema names: case conventions, keywords, file modules.

use heck::{ToShoutySnakeCase, ToSnakeCase, ToUpperCamelCase};
use proc_macro2::{Ident, Span};

/// Words that cannot be identifiers even as raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Rust keywords (2024 edition, reserved ones included).
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "extern", "false",
    "fn", "for", "gen", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "static", "struct", "trait", "true", "type", "unsafe", "use", "where",
    "while", "abstract", "become", "box", "do", "final", "macro", "override", "priv", "try",
    "typeof", "unsized", "virtual", "yield",
];

/// An identifier from a name already in the wanted case.
pub fn ident(name: &str) -> Ident {
    let name = if name.is_empty() { "_empty" } else { name };
    let name = if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name.to_string()
    };
    if NOT_RAW.contains(&name.as_str()) {
        Ident::new(&format!("{name}_"), Span::call_site())
    } else if KEYWORDS.contains(&name.as_str()) {
        Ident::new_raw(&name, Span::call_site())
    } else {
        Ident::new(&name, Span::call_site())
    }
}

/// `fooBar` → `foo_bar` (fields, methods, modules, parameters).
pub fn snake(name: &str) -> String {
    name.to_snake_case()
}

/// `fooBar` → `FooBar` (types, variants).
pub fn camel(name: &str) -> String {
    let c = name.to_upper_camel_case();
    if c.is_empty() { "_".into() } else { c }
}

/// `fooBar` → `FOO_BAR` (constants).
pub fn shouty(name: &str) -> String {
    name.to_shouty_snake_case()
}

/// Rust names for a list of sibling members, in order: each keeps its converted name
/// unless a `reserved` name or an earlier member already has it; then `_` is appended until
/// it is free (`unknown` → `Unknown_` beside the generated `Unknown(u16)`).
pub fn distinct(names: impl IntoIterator<Item = String>, reserved: &[&str]) -> Vec<String> {
    let mut taken: std::collections::HashSet<String> =
        reserved.iter().map(|r| (*r).to_string()).collect();
    names
        .into_iter()
        .map(|mut n| {
            while taken.contains(&n) {
                n.push('_');
            }
            taken.insert(n.clone());
            n
        })
        .collect()
}

/// The module a schema file becomes: `schemas/calculator.capnp` → `calculator_capnp`.
pub fn file_module(filename: &str) -> String {
    let stem = filename
        .rsplit('/')
        .next()
        .unwrap_or(filename)
        .trim_end_matches(".capnp");
    let cleaned: String = stem
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let snaked = snake(cleaned.trim_matches('_'));
    if snaked.is_empty() {
        "schema_capnp".into()
    } else {
        format!("{snaked}_capnp")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_and_cases() {
        assert_eq!(ident("type").to_string(), "r#type");
        assert_eq!(ident("self").to_string(), "self_");
        assert_eq!(ident("1x").to_string(), "_1x");
        assert_eq!(snake("fooBarBaz"), "foo_bar_baz");
        assert_eq!(camel("fooBar"), "FooBar");
        let names = ["unknown", "fooBAR", "fooBar"].map(camel);
        assert_eq!(
            distinct(names, &["Unknown"]),
            ["Unknown_", "FooBar", "FooBar_"]
        );
        assert_eq!(shouty("fooBar"), "FOO_BAR");
        assert_eq!(file_module("schemas/calculator.capnp"), "calculator_capnp");
        assert_eq!(file_module("/capnp/c++.capnp"), "c_capnp");
        assert_eq!(file_module("rpc-twoparty.capnp"), "rpc_twoparty_capnp");
    }
}
