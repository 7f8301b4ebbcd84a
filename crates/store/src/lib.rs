//! PostgreSQL storage for Agency OS: pool set-up, the embedded migrations (ours and the
//! apalis-postgres job tables) and the repositories. Every function that touches tenant data
//! takes the tenant's `ClientId` first; nothing here decides business rules.

pub mod activities;
pub mod admin;
pub mod ai_usage;
pub mod alerts;
pub mod audit;
pub mod call_slots;
pub mod campaigns;
pub mod circuits;
pub mod clients;
pub mod credits;
pub mod erasure;
pub mod error;
pub mod health;
pub mod job_effects;
#[cfg(feature = "test-kinds")]
pub mod job_probe_hits;
pub mod jobs;
pub mod leads;
pub mod meetings;
pub mod memberships;
pub mod migrate;
pub mod onboarding_jobs;
pub mod outreach;
pub mod outreach_approvals;
pub mod pool;
pub mod replies;
pub mod reports;
pub mod retention;
mod rows;
pub mod schedule_runs;
pub mod sending_resources;
pub mod suppression;
pub mod text_search;
pub mod twilio_accounts;
pub mod users;
pub mod webhook_deliveries;
pub mod webhook_endpoints;
pub mod webhook_events;

pub use error::StoreError;
pub use pool::{PoolSettings, PoolerMode, connect, connect_lazy};
pub use sqlx::{PgPool, Postgres, Transaction};
