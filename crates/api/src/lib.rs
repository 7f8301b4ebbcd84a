//! api crate.
