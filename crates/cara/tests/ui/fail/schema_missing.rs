// A schema file that does not exist.
cara::schema!("ui/schemas/does_not_exist.capnp");

fn main() {}
