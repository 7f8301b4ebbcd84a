//! The pipeline's jobs: `enrich_lead` (one lead through the waterfall, then `score_leads` for
//! it in the same transaction), `score_leads` (a batch: ALS scores stored, then allocation),
//! `allocate_lead` (re-plan one scored lead) and `rescore_campaign` (fans a campaign's leads,
//! or only its waiting ones, out as `score_leads` batches of [`SCORE_BATCH`]); the
//! transactional enqueue new leads go through ([`enqueue_new_leads`]). The waterfall comes
//! from the job's [`crate::Services`].

use agency_domain::{CampaignId, ClientId, LeadId};
use agency_store::leads::{self, allocation as allocation_store};
use sqlx::{PgConnection, PgPool};

use super::allocation::allocate_leads;
use super::enrich::{EnrichEnv, EnrichOutcome, enrich_lead};
use super::scoring::{SCORE_BATCH, score_and_allocate};
use crate::error::UseCaseError;
use crate::jobs::payload::{AllocateLead, EnrichLead, RescoreCampaign, ScoreLeads};
use crate::jobs::{
    EnqueueError, EnqueueOptions, JobContext, JobError, Registry, enqueue_batch, enqueue_on,
    enqueue_unique,
};

/// Registers the pipeline's handlers.
pub fn register(registry: &mut Registry) -> &mut Registry {
    registry
        .register(enrich_lead_job)
        .register(score_leads_job)
        .register(allocate_lead_job)
        .register(rescore_campaign_job)
}

/// The idempotency-key prefix of a lead's enrichment job (`enrich_lead:{lead_id}`).
pub const ENRICH_KEY_PREFIX: &str = "enrich_lead:";

/// Enqueues enrichment for leads, on the caller's connection (pass `&mut *tx` so the leads
/// and their jobs commit together). One open job per lead at most: a lead whose enrichment is
/// already queued or running is skipped (idempotency key `enrich_lead:{lead_id}`). Enrichment
/// then enqueues scoring, and scoring allocates. Returns the number of jobs queued.
pub async fn enqueue_new_leads(
    conn: &mut PgConnection,
    client_id: ClientId,
    lead_ids: &[LeadId],
) -> Result<usize, EnqueueError> {
    let jobs: Vec<(EnrichLead, String)> = lead_ids
        .iter()
        .map(|&lead_id| {
            (
                EnrichLead {
                    client_id: client_id.into_uuid(),
                    lead_id: lead_id.into_uuid(),
                },
                format!("{ENRICH_KEY_PREFIX}{lead_id}"),
            )
        })
        .collect();
    Ok(enqueue_unique(conn, &client_id.to_string(), &jobs)
        .await?
        .len())
}

/// Enqueues a rescore of every live lead of a campaign. Returns the job id.
pub async fn enqueue_campaign_rescore(
    conn: &mut PgConnection,
    client_id: ClientId,
    campaign_id: CampaignId,
) -> Result<String, EnqueueError> {
    let job = RescoreCampaign {
        client_id: client_id.into_uuid(),
        campaign_id: campaign_id.into_uuid(),
        only_waiting: false,
    };
    enqueue_on(conn, &job, EnqueueOptions::default()).await
}

/// Enqueues `score_leads` batches for a campaign's leads (all, or only waiting ones, best
/// score first) in one transaction. Returns the number of leads.
pub async fn fan_out_campaign(
    pool: &PgPool,
    client_id: ClientId,
    campaign_id: CampaignId,
    only_waiting: bool,
) -> Result<usize, UseCaseError> {
    let ids = if only_waiting {
        allocation_store::waiting_lead_ids(pool, client_id, campaign_id).await?
    } else {
        leads::lead_ids(pool, client_id, Some(campaign_id)).await?
    };
    let jobs: Vec<ScoreLeads> = ids
        .chunks(SCORE_BATCH)
        .map(|chunk| ScoreLeads {
            client_id: client_id.into_uuid(),
            lead_ids: chunk.iter().map(|id| id.into_uuid()).collect(),
        })
        .collect();
    let mut tx = pool.begin().await?;
    for chunk in jobs.chunks(100) {
        enqueue_batch(&mut tx, chunk, EnqueueOptions::default()).await?;
    }
    tx.commit().await?;
    Ok(ids.len())
}

/// `enrich_lead`: the waterfall for one lead (daily fallback cap), then `score_leads`.
pub async fn enrich_lead_job(ctx: JobContext, job: EnrichLead) -> Result<(), JobError> {
    let services = &ctx.services;
    let env = EnrichEnv {
        pool: &services.pool,
        cache: &*services.cache,
        waterfall: &services.providers.enrichment,
        job: Some(&ctx),
        enqueue_scoring: true,
        force: false,
    };
    match enrich_lead(
        env,
        ClientId::from_uuid(job.client_id),
        LeadId::from_uuid(job.lead_id),
        None,
        services.now(),
    )
    .await
    {
        Ok(EnrichOutcome::AlreadyEnriched) => {
            let next = ScoreLeads {
                client_id: job.client_id,
                lead_ids: vec![job.lead_id],
            };
            let mut conn = services.pool.acquire().await?;
            enqueue_on(&mut conn, &next, EnqueueOptions::default())
                .await
                .map_err(JobError::retryable)?;
            Ok(())
        }
        // Another run holds the lead (it enqueues the scoring), or there is nothing to do.
        Ok(_) => Ok(()),
        // A lead deleted since it was queued has nothing left to enrich.
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// `score_leads`: scores the batch and allocates it.
pub async fn score_leads_job(ctx: JobContext, job: ScoreLeads) -> Result<(), JobError> {
    let services = &ctx.services;
    let lead_ids: Vec<LeadId> = job
        .lead_ids
        .iter()
        .map(|&id| LeadId::from_uuid(id))
        .collect();
    let summary = score_and_allocate(
        &services.pool,
        &*services.cache,
        ClientId::from_uuid(job.client_id),
        &lead_ids,
        services.now(),
    )
    .await?;
    tracing::debug!(
        scored = summary.scored,
        allocated = summary.allocation.allocated,
        "score_leads done"
    );
    Ok(())
}

/// `allocate_lead`: re-plans one scored lead.
pub async fn allocate_lead_job(ctx: JobContext, job: AllocateLead) -> Result<(), JobError> {
    let services = &ctx.services;
    allocate_leads(
        &services.pool,
        &*services.cache,
        ClientId::from_uuid(job.client_id),
        &[LeadId::from_uuid(job.lead_id)],
        services.now(),
    )
    .await?;
    Ok(())
}

/// `rescore_campaign`: fans the campaign out as `score_leads` batches.
pub async fn rescore_campaign_job(ctx: JobContext, job: RescoreCampaign) -> Result<(), JobError> {
    let leads = fan_out_campaign(
        &ctx.services.pool,
        ClientId::from_uuid(job.client_id),
        CampaignId::from_uuid(job.campaign_id),
        job.only_waiting,
    )
    .await?;
    tracing::info!(campaign_id = %job.campaign_id, leads, only_waiting = job.only_waiting, "campaign rescore fanned out");
    Ok(())
}
