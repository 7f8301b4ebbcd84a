//! The engine of Agency OS: every use-case the API, the worker and the scheduler run, over
//! one [`Services`] value. Arranged by feature: [`leads`], [`campaigns`], [`import`],
//! [`pipeline`] (enrich, score, allocate), [`scheduled`] sweeps, and the [`jobs`] system that
//! runs their handlers. `docs/features.md` says where a new feature's parts go.

pub mod ai;
pub mod campaigns;
pub mod error;
pub mod import;
pub mod inbound;
pub mod jobs;
pub mod leads;
pub mod pipeline;
pub mod scheduled;
pub mod services;
pub mod usecase;

pub use error::{FieldError, UseCaseError};
pub use services::{Clock, EngineSettings, Providers, Services};
