//! providers crate.
