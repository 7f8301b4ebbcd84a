//! Built-in handlers (noop, probe, retention clean-up) and [`registry`], the list of every
//! handler a worker runs. To add a kind's handler: write `async fn(JobContext, Payload) ->
//! Result<(), JobError>` and add one `register` line below.

use std::time::Duration;

use super::context::{JobContext, JobError};
use super::idempotency;
use super::payload::{Cleanup, Noop, Probe};
use super::registry::Registry;

/// Every handler this build runs.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    r.register(noop).register(probe).register(cleanup);
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

/// Does nothing.
pub async fn noop(_ctx: JobContext, _job: Noop) -> Result<(), JobError> {
    Ok(())
}

/// Sleeps, fails on the first `fail_attempts` attempts, then bumps `job_probe_hits` once per job.
pub async fn probe(ctx: JobContext, job: Probe) -> Result<(), JobError> {
    if job.sleep_ms > 0 {
        tokio::time::sleep(Duration::from_millis(job.sleep_ms)).await;
    }
    if ctx.attempt <= job.fail_attempts {
        let message = format!("probe {} failing attempt {}", job.name, ctx.attempt);
        return Err(if job.permanent {
            JobError::Permanent(message)
        } else {
            JobError::Retryable(message)
        });
    }
    let mut tx = ctx.services.pool.begin().await?;
    let key = format!("probe:{}", ctx.job_id);
    if idempotency::first_time(&mut tx, &ctx, &key).await? {
        sqlx::query(
            "INSERT INTO job_probe_hits (name, hits) VALUES ($1, 1)
             ON CONFLICT (name) DO UPDATE SET hits = job_probe_hits.hits + 1, updated_at = now()",
        )
        .bind(&job.name)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes in batches of this many rows, so no statement holds locks for long.
const CLEANUP_BATCH: i64 = 5_000;

async fn delete_in_batches(
    ctx: &JobContext,
    sql: &'static str,
    days: i32,
) -> Result<u64, JobError> {
    let mut total = 0;
    loop {
        let deleted = sqlx::query(sql)
            .bind(days)
            .bind(CLEANUP_BATCH)
            .execute(&ctx.services.pool)
            .await?
            .rows_affected();
        total += deleted;
        if deleted < CLEANUP_BATCH as u64 {
            return Ok(total);
        }
    }
}

/// Retention: finished jobs, processed webhook events, old idempotency records and schedule
/// runs, finished outbound deliveries, and raw call transcripts past their client's policy.
pub async fn cleanup(ctx: JobContext, job: Cleanup) -> Result<(), JobError> {
    let jobs = delete_in_batches(
        &ctx,
        "DELETE FROM apalis.jobs WHERE id IN (
             SELECT id FROM apalis.jobs
              WHERE status = 'Done' AND done_at < now() - make_interval(days => $1) LIMIT $2)",
        job.done_jobs_days,
    )
    .await?;
    let events = delete_in_batches(
        &ctx,
        "DELETE FROM webhook_events WHERE id IN (
             SELECT id FROM webhook_events
              WHERE status IN ('processed', 'ignored')
                AND coalesce(processed_at, received_at) < now() - make_interval(days => $1) LIMIT $2)",
        job.webhook_events_days,
    )
    .await?;
    let effects = delete_in_batches(
        &ctx,
        "DELETE FROM job_effects WHERE effect_key IN (
             SELECT effect_key FROM job_effects
              WHERE created_at < now() - make_interval(days => $1) LIMIT $2)",
        job.bookkeeping_days,
    )
    .await?;
    let runs = delete_in_batches(
        &ctx,
        "DELETE FROM schedule_runs WHERE (schedule, tick) IN (
             SELECT schedule, tick FROM schedule_runs
              WHERE tick < now() - make_interval(days => $1) LIMIT $2)",
        job.bookkeeping_days,
    )
    .await?;
    let deliveries = delete_in_batches(
        &ctx,
        "DELETE FROM webhook_deliveries WHERE id IN (
             SELECT id FROM webhook_deliveries
              WHERE status <> 'pending' AND created_at < now() - make_interval(days => $1) LIMIT $2)",
        job.delivery_logs_days,
    )
    .await?;
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
        agency_store::activities::allow_redaction(&mut tx)
            .await
            .map_err(JobError::retryable)?;
        let stripped = sqlx::query(
            "UPDATE activities SET metadata = metadata - 'transcript'
              WHERE id IN (
                    SELECT a.id FROM activities a JOIN clients c ON c.id = a.client_id
                     WHERE a.metadata ? 'transcript'
                       AND a.created_at < now() - make_interval(days => c.transcript_retention_days)
                     LIMIT $1)",
        )
        .bind(CLEANUP_BATCH)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        total += stripped;
        if stripped < CLEANUP_BATCH as u64 {
            return Ok(total);
        }
    }
}
