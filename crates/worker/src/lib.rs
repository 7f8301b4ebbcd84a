//! worker crate.
