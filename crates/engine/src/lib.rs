//! engine crate.

pub mod campaigns;
pub mod import;
pub mod jobs;
pub mod leads;
pub mod pipeline;
pub mod reports;
pub mod scheduled;
pub mod usecase;
