//! The native ZMTP 3.1 engine.

pub(crate) mod curve;
