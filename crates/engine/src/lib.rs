//! engine crate.
