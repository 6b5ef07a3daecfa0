//! Helpers shared by the cross-check test binaries (each uses a part of them).
#![allow(dead_code)]

pub mod oracle;
pub mod request;
