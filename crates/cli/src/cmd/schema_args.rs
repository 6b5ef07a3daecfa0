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
    /// The generator options these arguments say.
    pub fn options(&self) -> cara_codegen::Options {
        let mut options = cara_codegen::Options::new();
        for dir in &self.include {
            options = options.include(dir);
        }
        for prefix in &self.src_prefix {
            options = options.src_prefix(prefix.clone());
        }
        if self.no_standard_import {
            options = options.no_standard_import();
        }
        options
    }

    /// A front-end configured with these options (for subcommands that need the
    /// schema model, not generated code).
    pub fn compiler(&self) -> cara_schema::Compiler {
        self.options().compiler()
    }
}
