//! The built-in retention clean-up handler and [`registry`], the list of every handler a
//! worker runs (with the feature `test-kinds`, the test kinds' too). To add a kind's handler:
//! write `async fn(JobContext, Payload) -> Result<(), JobError>` and add one `register` line
//! below.

use agency_store::retention::RetentionDelete;
use agency_store::{
    PgPool, activities, job_effects, schedule_runs, webhook_deliveries, webhook_events,
};

use super::context::{JobContext, JobError};
use super::payload::Cleanup;
use super::registry::Registry;

/// Every handler this build runs.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    r.register(cleanup);
    // Tests and benchmarks only: noop, probe.
    #[cfg(feature = "test-kinds")]
    super::test_kinds::register(&mut r);
    // Real handlers register here, e.g. `.register(crate::leads::enrich_lead)`.
    // Lead pipeline: enrich_lead, score_leads, allocate_lead, rescore_campaign.
    crate::pipeline::jobs::register(&mut r);
    // Scheduled safety nets built in this release: enrichment_sweep, credit_reset.
    crate::scheduled::register(&mut r);
    // Onboarding: analyze_website (reads sites with the services' website reader).
    crate::onboarding::register(&mut r);
    // The daily metrics snapshot (refresh_report) of the admin console.
    crate::admin::register(&mut r);
    // Outreach: send_outreach (with the Services' senders) and the hourly outreach_sweep.
    crate::outreach::jobs::register(&mut r);
    // Inbound webhooks: process_webhook_event.
    crate::inbound::register(&mut r);
    // Outbound webhooks: deliver_webhook.
    crate::outbound::register(&mut r);
    r
}

/// Deletes in batches of this many rows, so no statement holds locks for long.
const CLEANUP_BATCH: i64 = 5_000;

/// Runs `table`'s retention delete of rows older than `days`, [`CLEANUP_BATCH`] rows at a
/// time, until a batch comes back short. Returns the rows deleted.
async fn delete_in_batches(
    pool: &PgPool,
    table: RetentionDelete,
    days: i32,
) -> Result<u64, JobError> {
    let mut total = 0;
    loop {
        let deleted = table.delete_batch(pool, days, CLEANUP_BATCH).await?;
        total += deleted;
        if deleted < CLEANUP_BATCH as u64 {
            return Ok(total);
        }
    }
}

/// Retention: finished jobs, processed webhook events, old idempotency records and schedule
/// runs, finished outbound deliveries, and raw call transcripts past their client's policy.
pub async fn cleanup(ctx: JobContext, job: Cleanup) -> Result<(), JobError> {
    let pool = &ctx.services.pool;
    let jobs =
        delete_in_batches(pool, agency_store::jobs::DONE_RETENTION, job.done_jobs_days).await?;
    let events =
        delete_in_batches(pool, webhook_events::RETENTION, job.webhook_events_days).await?;
    let effects = delete_in_batches(pool, job_effects::RETENTION, job.bookkeeping_days).await?;
    let runs = delete_in_batches(pool, schedule_runs::RETENTION, job.bookkeeping_days).await?;
    let deliveries =
        delete_in_batches(pool, webhook_deliveries::RETENTION, job.delivery_logs_days).await?;
    let transcripts = strip_old_transcripts(&ctx).await?;
    tracing::info!(
        jobs,
        events,
        effects,
        runs,
        deliveries,
        transcripts,
        "retention clean-up done"
    );
    Ok(())
}

/// Removes the raw transcript from call activities older than their client's
/// `transcript_retention_days` (the outcome and summary stay), in batches. Activities are
/// append-only except for this redaction (`agency.erasure`, set for each batch's transaction).
async fn strip_old_transcripts(ctx: &JobContext) -> Result<u64, JobError> {
    let mut total = 0;
    loop {
        let mut tx = ctx.services.pool.begin().await?;
        activities::allow_redaction(&mut tx)
            .await
            .map_err(JobError::retryable)?;
        let stripped = activities::strip_expired_transcripts(&mut tx, CLEANUP_BATCH).await?;
        tx.commit().await?;
        total += stripped;
        if stripped < CLEANUP_BATCH as u64 {
            return Ok(total);
        }
    }
}
