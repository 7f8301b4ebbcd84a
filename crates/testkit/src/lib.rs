//! testkit crate.
