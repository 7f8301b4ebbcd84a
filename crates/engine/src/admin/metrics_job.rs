//! The daily metrics job (`refresh_report`, the 00:00 `daily_metrics` schedule): writes the
//! day's snapshot of every live client's plan, billing state, leads and active campaigns into
//! `client_daily_metrics` (rewriting it when run again the same day), which MRR growth and
//! churn compare against. Reports read their own aggregates, maintained with every activity
//! insert (migration 20261204100000); this job only folds their per-connection stripes of
//! days before yesterday into one row per key (migration 20261204130000), which changes no
//! figure.

use agency_domain::report::today_in;
use chrono::Days;

use super::PLATFORM_TZ;
use crate::jobs::payload::RefreshReport;
use crate::jobs::{JobContext, JobError, Registry};

/// Writes today's snapshot (the tick's date in the platform timezone when scheduled).
pub async fn refresh_report(ctx: JobContext, job: RefreshReport) -> Result<(), JobError> {
    let day = today_in(
        PLATFORM_TZ,
        job.tick.unwrap_or_else(|| ctx.services.clock.now()),
    );
    let written = agency_store::admin::write_snapshot(&ctx.services.pool, day)
        .await
        .map_err(JobError::retryable)?;
    let folded = agency_store::reports::fold_stripes(&ctx.services.pool, day - Days::new(1))
        .await
        .map_err(JobError::retryable)?;
    tracing::info!(%day, clients = written, folded, "daily metrics snapshot written");
    Ok(())
}

/// Registers the daily metrics and alert checks handlers.
pub fn register(registry: &mut Registry) -> &mut Registry {
    registry
        .register(refresh_report)
        .register(super::alert_job::check_alerts_job)
}
