//! Lead-pipeline routes: rescore one lead now (`POST .../leads/{id}/rescore`, answers the
//! rescored Lead), queue enrichment for one lead (`POST .../leads/{id}/enrich`, 202 with the
//! Lead as it is now) or for a list of leads (`POST .../leads/bulk-enrich`, 202 `{queued}`),
//! and rescore a whole campaign in the background (`POST .../campaigns/{id}/rescore`, 202).
//! (The tier distribution is `GET /api/v1/reports/leads/distribution`.) The rules, the audit
//! rows and the jobs are the engine's (`agency_engine::pipeline::requests`).

use agency_domain::CampaignId;
use agency_domain::LeadId;
use agency_engine::pipeline::requests;
use agency_engine::records::Lead;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Tenant};
use crate::server::AppState;

/// The pipeline routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(rescore_lead))
        .routes(routes!(enrich_lead))
        .routes(routes!(bulk_enrich))
        .routes(routes!(rescore_campaign))
}

/// `/clients/{client_id}/.../{id}`.
#[derive(Debug, Deserialize)]
pub struct TenantItemPath {
    /// The client.
    pub client_id: Uuid,
    /// The lead or campaign.
    pub id: Uuid,
}

/// The answer of a background rescore.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RescoreQueued {
    /// The fan-out job.
    pub job_id: String,
    /// Always `queued`.
    pub status: String,
}

/// Most lead ids one bulk-enrich request may name.
pub const BULK_ENRICH_MAX: usize = requests::BULK_ENRICH_MAX;

/// The body of a bulk enrichment.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkEnrich {
    /// The leads to enrich (at most 1,000; repeats count once).
    pub lead_ids: Vec<Uuid>,
}

/// The answer of a bulk enrichment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BulkEnrichQueued {
    /// Enrichment jobs queued: one per distinct live lead of this client in the list.
    pub queued: usize,
}

/// Rescore one lead now (ALS with the client's weights) and re-plan its first touch.
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/leads/{id}/rescore", tag = "leads",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = Lead), (status = 404, body = ErrorBody)))]
async fn rescore_lead(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath(path): ApiPath<TenantItemPath>,
) -> ApiResult<ApiJson<Lead>> {
    let lead = requests::rescore_one(
        &state.services,
        &tenant.context(),
        LeadId::from_uuid(path.id),
    )
    .await?;
    Ok(ApiJson(lead))
}

/// Queue enrichment (the provider waterfall, then scoring and allocation) for one lead;
/// answers the lead as it is now.
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/leads/{id}/enrich", tag = "leads",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path)),
    responses((status = 202, body = Lead), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn enrich_lead(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath(path): ApiPath<TenantItemPath>,
) -> ApiResult<(StatusCode, ApiJson<Lead>)> {
    let lead = requests::enrich_one(
        &state.services,
        &tenant.context(),
        LeadId::from_uuid(path.id),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, ApiJson(lead)))
}

/// Queue enrichment for up to 1,000 leads. Ids that are not live leads of this client (other
/// clients' leads, deleted or unknown ids) are ignored, not refused, and not counted; repeats
/// count once. More than 1,000 ids is 422 on `lead_ids`.
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/leads/bulk-enrich", tag = "leads",
    params(("client_id" = Uuid, Path)),
    request_body = BulkEnrich,
    responses((status = 202, body = BulkEnrichQueued), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn bulk_enrich(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<BulkEnrich>,
) -> ApiResult<(StatusCode, ApiJson<BulkEnrichQueued>)> {
    let lead_ids: Vec<LeadId> = body
        .lead_ids
        .iter()
        .map(|&id| LeadId::from_uuid(id))
        .collect();
    let queued = requests::enrich_many(&state.services, &tenant.context(), &lead_ids).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(BulkEnrichQueued { queued })))
}

/// Rescore and re-allocate every lead of a campaign in the background (batches of 1,000).
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/campaigns/{id}/rescore", tag = "campaigns",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path)),
    responses((status = 202, body = RescoreQueued), (status = 404, body = ErrorBody)))]
async fn rescore_campaign(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath(path): ApiPath<TenantItemPath>,
) -> ApiResult<(StatusCode, ApiJson<RescoreQueued>)> {
    let job_id = requests::rescore_campaign(
        &state.services,
        &tenant.context(),
        CampaignId::from_uuid(path.id),
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        ApiJson(RescoreQueued {
            job_id,
            status: "queued".into(),
        }),
    ))
}
