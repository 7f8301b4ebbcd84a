//! engine crate.

pub mod campaigns;
pub mod import;
pub mod jobs;
pub mod leads;
pub mod outreach;
pub mod pipeline;
pub mod scheduled;
pub mod usecase;
