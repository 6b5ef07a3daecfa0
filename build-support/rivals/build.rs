//! Generates the capnp-rpc and tonic stubs. `schema/calc.capnp` goes through the
//! official `capnp` compiler (Debian's `capnproto`); `proto/calc.proto` through
//! protox, a protobuf compiler in pure Rust, so no `protoc` is needed.

fn main() -> anyhow::Result<()> {
    println!("cargo:rerun-if-changed=schema/calc.capnp");
    println!("cargo:rerun-if-changed=proto/calc.proto");

    capnpc::CompilerCommand::new()
        .src_prefix("schema")
        .file("schema/calc.capnp")
        // Included by src/sides/capnp.rs as its `calc_capnp` module.
        .default_parent_module(vec!["sides".into(), "capnp".into()])
        .run()
        .map_err(|e| {
            anyhow::anyhow!(
                "capnp compile failed ({e}); is `capnp` installed (apt-get install capnproto)?"
            )
        })?;

    let fds = protox::compile(["calc.proto"], ["proto"])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    Ok(())
}
