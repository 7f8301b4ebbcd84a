//! `enrichment_sweep` (02:00 daily): enqueues `enrich_lead` for leads still `new` and never
//! enriched that nothing is working on: leads whose job was lost or dead-lettered, and leads
//! waiting with `enrichment_wait_reason = 'no_credits'` whose client has credits again.
//!
//! Bounded: at most [`ENRICHMENT_SWEEP_BATCH`] leads per run (oldest first); the rest wait for
//! the next run. Idempotent: a lead with an open `enrich_lead` job is skipped, the candidate
//! rows are locked until the jobs commit (a concurrent sweep skips them), and a redelivered
//! sweep of the same tick does nothing (its effect key is recorded in the same transaction).

use agency_domain::{ClientId, LeadId};
use std::collections::BTreeMap;

use agency_store::credits as store;
use sqlx::PgConnection;

use crate::jobs::payload::EnrichmentSweep;
use crate::jobs::{EnqueueError, JobContext, JobError, JobKind, idempotency};
use crate::pipeline::enqueue_new_leads;
use crate::pipeline::enrich::WAIT_NO_CREDITS;
use crate::pipeline::jobs::ENRICH_KEY_PREFIX;

/// Leads enqueued per sweep run at most.
pub const ENRICHMENT_SWEEP_BATCH: i64 = 5_000;

/// What one sweep did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SweepSummary {
    /// Leads enqueued for enrichment.
    pub enqueued: usize,
    /// Clients they belong to.
    pub clients: usize,
    /// The batch was full: more leads may be waiting for the next run.
    pub batch_full: bool,
}

/// Enqueues enrichment for up to `limit` leads that need it, on the caller's transaction
/// (the rows stay locked until it ends).
pub async fn sweep_enrichment(
    conn: &mut PgConnection,
    limit: i64,
) -> Result<SweepSummary, JobError> {
    let leads = store::sweep_candidates(
        &mut *conn,
        JobKind::EnrichLead.name(),
        ENRICH_KEY_PREFIX,
        WAIT_NO_CREDITS,
        limit.max(0),
    )
    .await
    .map_err(JobError::retryable)?;
    let mut by_client: BTreeMap<ClientId, Vec<LeadId>> = BTreeMap::new();
    for lead in &leads {
        by_client
            .entry(lead.client_id)
            .or_default()
            .push(lead.lead_id);
    }
    let mut enqueued = 0;
    for (client_id, lead_ids) in &by_client {
        enqueued += enqueue_new_leads(&mut *conn, *client_id, lead_ids)
            .await
            .map_err(|e: EnqueueError| JobError::retryable(e))?;
    }
    Ok(SweepSummary {
        enqueued,
        clients: by_client.len(),
        batch_full: i64::try_from(leads.len()).unwrap_or(i64::MAX) >= limit && limit > 0,
    })
}

/// `enrichment_sweep`: one bounded sweep per tick, once however often the job is delivered.
pub async fn enrichment_sweep_job(ctx: JobContext, job: EnrichmentSweep) -> Result<(), JobError> {
    let mut tx = ctx.services.pool.begin().await?;
    let key = format!(
        "enrichment_sweep:{}:{}",
        job.0.schedule,
        job.0.tick.to_rfc3339()
    );
    if !idempotency::first_time(&mut tx, &ctx, &key).await? {
        tracing::info!(tick = %job.0.tick, "enrichment sweep of this tick ran before; skipped");
        return Ok(());
    }
    let summary = sweep_enrichment(&mut tx, ENRICHMENT_SWEEP_BATCH).await?;
    tx.commit().await?;
    tracing::info!(
        enqueued = summary.enqueued,
        clients = summary.clients,
        batch_full = summary.batch_full,
        "enrichment sweep done"
    );
    Ok(())
}
