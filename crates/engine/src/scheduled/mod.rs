//! The handlers of scheduled safety-net jobs that this release builds: the nightly
//! [`enrichment_sweep`] and the hourly [`credit_reset`]. Which schedules run at all is derived
//! from the worker's handler registry (see `agency-scheduler`), so a schedule whose work is not
//! built is never enqueued.

pub mod credit_reset;
pub mod enrichment_sweep;

use crate::jobs::Registry;

pub use credit_reset::{CreditResetSummary, next_reset_at, reset_due_credits};
pub use enrichment_sweep::{ENRICHMENT_SWEEP_BATCH, SweepSummary, sweep_enrichment};

/// Registers the scheduled handlers.
pub fn register(registry: &mut Registry) -> &mut Registry {
    registry
        .register(enrichment_sweep::enrichment_sweep_job)
        .register(credit_reset::credit_reset_job)
}
