// A misspelt option: only `include = "dir"` is known.
cara::schema!("schemas/calculator.capnp", includes = "schemas");

fn main() {}
