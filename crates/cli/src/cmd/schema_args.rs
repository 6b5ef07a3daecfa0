//! The schema-reading options `cara compile` and `cara gen` share (those of
//! `capnp compile`).

/// Import path and file-name options.
#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// Add a directory to the import search path (for `/absolute` imports).
    #[arg(short = 'I', long = "import-path", value_name = "DIR")]
    pub include: Vec<String>,
    /// Strip this prefix from requested file names.
    #[arg(long = "src-prefix", value_name = "DIR")]
    pub src_prefix: Vec<String>,
    /// Do not search the standard import directories nor the bundled standard files.
    #[arg(long = "no-standard-import")]
    pub no_standard_import: bool,
}

impl SchemaArgs {
    /// A front-end configured with these options.
    pub fn compiler(&self) -> cara_schema::Compiler {
        let mut compiler = cara_schema::Compiler::new();
        for i in &self.include {
            compiler = compiler.include(i);
        }
        for p in &self.src_prefix {
            compiler = compiler.src_prefix(p.clone());
        }
        if self.no_standard_import {
            compiler = compiler.no_standard_import();
        }
        compiler
    }
}
