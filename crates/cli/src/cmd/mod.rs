//! One module per subcommand.

pub mod broker;
pub mod call;
pub mod compile;
pub mod describe;
pub mod generate;
pub mod keygen;
pub mod schema_args;
pub mod view;
