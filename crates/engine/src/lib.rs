//! The engine of Agency OS: every use-case the API, the worker and the scheduler run, over
//! one [`Services`] value, in a [`TenantContext`] where a tenant acts. Arranged by feature:
//! [`tenancy`] (access, the acting user), [`clients`], [`members`], [`suppression`], [`leads`], [`campaigns`], [`import`],
//! [`pipeline`] (enrich, score, allocate), [`scheduled`] sweeps, and the [`jobs`] system that
//! runs their handlers. `docs/features.md` says where a new feature's parts go.

pub mod admin;
pub mod ai;
pub mod campaigns;
pub mod clients;
pub mod erasure;
pub mod error;
pub mod import;
pub mod inbound;
pub mod jobs;
pub mod leads;
pub mod members;
pub mod onboarding;
pub mod outbound;
pub mod outreach;
pub mod pipeline;
pub mod records;
pub mod reports;
pub mod resources;
pub mod scheduled;
pub mod services;
pub mod single_flight;
pub mod suppression;
pub mod tenancy;
pub mod twilio_accounts;
pub mod usecase;

pub use error::{FieldError, UseCaseError};
pub use services::{Clock, EngineSettings, Providers, Services};
pub use tenancy::TenantContext;
