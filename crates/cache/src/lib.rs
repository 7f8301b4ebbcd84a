//! cache crate.
