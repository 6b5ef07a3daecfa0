// A schema with a syntax error: the compile error names the schema's file:line:col.
cara::schema!("ui/schemas/syntax_error.capnp");

fn main() {}
