//! The pipeline as members ask for it (the API's lead-pipeline routes): rescore one lead now,
//! queue enrichment for one lead or a list of them, rescore a whole campaign in the
//! background. Each use-case checks the role, owns its transaction, its audit row and the jobs
//! it queues.

use agency_domain::CampaignId;
use agency_domain::ClientId;
use agency_domain::LeadId;
use agency_domain::Role;
use agency_store::leads::{self, Lead};
use agency_store::{audit, campaigns};
use serde_json::json;

use super::jobs::{enqueue_campaign_rescore, enqueue_new_leads};
use super::scoring::rescore_lead;
use crate::Services;
use crate::error::UseCaseError;
use crate::tenancy::TenantContext;

/// Most lead ids one bulk-enrich request may name.
pub const BULK_ENRICH_MAX: usize = 1_000;

/// The client's live lead, or 404 naming the lead.
async fn live_lead(
    db: impl sqlx::PgExecutor<'_>,
    client_id: ClientId,
    lead_id: LeadId,
) -> Result<Lead, UseCaseError> {
    leads::get(db, client_id, lead_id)
        .await
        .map_err(|e| UseCaseError::from(e).naming("lead"))
}

/// Rescores one lead of the tenant now (ALS with the client's weights) and re-plans its first
/// touch; a lead that is not the client's (or deleted) is 404 before anything is computed.
pub async fn rescore_one(
    services: &Services,
    tenant: &TenantContext,
    lead_id: LeadId,
) -> Result<Lead, UseCaseError> {
    tenant.require(Role::Member)?;
    let client_id = tenant.client_id;
    live_lead(&services.pool, client_id, lead_id).await?;
    rescore_lead(
        &services.pool,
        &*services.cache,
        client_id,
        lead_id,
        services.now(),
    )
    .await
    .map_err(|e| e.naming("lead"))
}

/// Queues enrichment (the provider waterfall, then scoring and allocation) for one lead and
/// answers it as it is now; nothing is queued for a lead that is not the client's.
pub async fn enrich_one(
    services: &Services,
    tenant: &TenantContext,
    lead_id: LeadId,
) -> Result<Lead, UseCaseError> {
    tenant.require(Role::Member)?;
    let client_id = tenant.client_id;
    let mut tx = services.pool.begin().await?;
    let lead = live_lead(&mut *tx, client_id, lead_id).await?;
    enqueue_new_leads(&mut tx, client_id, &[lead_id]).await?;
    audit::record(
        &mut tx,
        &tenant.audit("lead.enrich", "lead").entity(lead.id),
    )
    .await?;
    tx.commit().await?;
    Ok(lead)
}

/// Queues enrichment for up to [`BULK_ENRICH_MAX`] leads; ids that are not live leads of the
/// client are ignored and not counted, repeats count once. Answers how many were queued.
pub async fn enrich_many(
    services: &Services,
    tenant: &TenantContext,
    lead_ids: &[LeadId],
) -> Result<usize, UseCaseError> {
    tenant.require(Role::Member)?;
    if lead_ids.len() > BULK_ENRICH_MAX {
        return Err(UseCaseError::field(
            "lead_ids",
            format!(
                "at most {BULK_ENRICH_MAX} ids per request (got {})",
                lead_ids.len()
            ),
        ));
    }
    let client_id = tenant.client_id;
    let mut tx = services.pool.begin().await?;
    let ids = leads::live_lead_ids(&mut *tx, client_id, lead_ids).await?;
    let queued = enqueue_new_leads(&mut tx, client_id, &ids).await?;
    let entry = tenant
        .audit("lead.bulk_enrich", "lead")
        .after(json!({"requested": lead_ids.len(), "queued": queued, "lead_ids": ids}));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(queued)
}

/// Queues the background rescore of every lead of a campaign of the client (batches of
/// 1,000); answers the fan-out job's id. 404 for a campaign that is not the client's.
pub async fn rescore_campaign(
    services: &Services,
    tenant: &TenantContext,
    campaign_id: CampaignId,
) -> Result<String, UseCaseError> {
    tenant.require(Role::Member)?;
    let client_id = tenant.client_id;
    let mut tx = services.pool.begin().await?;
    if campaigns::pipeline_settings(&mut *tx, client_id, &[campaign_id])
        .await?
        .is_empty()
    {
        return Err(UseCaseError::NotFound("campaign"));
    }
    let job_id = enqueue_campaign_rescore(&mut tx, client_id, campaign_id).await?;
    tx.commit().await?;
    Ok(job_id)
}
