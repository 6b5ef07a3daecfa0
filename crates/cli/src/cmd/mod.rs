//! One module per subcommand.

pub mod compile;
pub mod generate;
pub mod schema_args;
