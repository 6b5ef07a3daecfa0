//! Generates the example schemas' Rust code into OUT_DIR (see `cara::include_schemas!`).

fn main() -> Result<(), cara_build::BuildError> {
    cara_build::Config::new()
        .file("../schemas/calculator.capnp")
        .file("../schemas/back_and_forth.capnp")
        .file("../schemas/tier.capnp")
        .compile()?;
    Ok(())
}
