//! One module per subcommand.

pub mod broker;
pub mod call;
pub mod compile;
pub mod describe;
pub mod generate;
pub mod keygen;
pub mod schema_args;
pub mod view;

/// A command-line number of seconds (`flag`'s value) as a duration, if it is
/// from 0 to a day; otherwise the usage error to print.
pub(crate) fn seconds(flag: &str, value: f64) -> Result<std::time::Duration, String> {
    if value.is_finite() && (0.0..=86_400.0).contains(&value) {
        Ok(std::time::Duration::from_secs_f64(value))
    } else {
        Err(format!(
            "{flag} must be a number of seconds from 0 to 86400, got {value}"
        ))
    }
}
