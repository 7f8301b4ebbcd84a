//! Lead-pipeline routes: rescore one lead now (`POST .../leads/{id}/rescore`, answers the
//! rescored Lead), rescore a whole campaign in the background (`POST .../campaigns/{id}/rescore`,
//! 202) and the ALS tier distribution per campaign (`GET .../reports/tiers`).

use agency_domain::Role;
use agency_engine::pipeline::{self, PipelineError, TierReport};
use agency_store::leads::Lead;
use agency_store::pipeline as store;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Tenant};
use crate::server::AppState;

/// The pipeline routes.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(rescore_lead))
        .routes(routes!(rescore_campaign))
        .routes(routes!(tier_report))
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

fn pipeline_error(e: PipelineError, what: &str) -> ApiError {
    match e {
        PipelineError::NotFound => ApiError::not_found(what),
        other => ApiError::internal(other),
    }
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
    tenant.require(Role::Member)?;
    let client_id = tenant.client_id.into_uuid();
    // A lead that is not the client's (or deleted) is 404 before anything is computed.
    agency_store::leads::get(&state.pool, client_id, path.id).await?;
    let lead = pipeline::rescore_lead(&state.pool, &*state.cache, client_id, path.id, Utc::now())
        .await
        .map_err(|e| pipeline_error(e, "lead"))?;
    Ok(ApiJson(lead))
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
    tenant.require(Role::Member)?;
    let client_id = tenant.client_id.into_uuid();
    let mut tx = state.pool.begin().await?;
    if store::campaigns(&mut *tx, client_id, &[path.id])
        .await?
        .is_empty()
    {
        return Err(ApiError::not_found("campaign"));
    }
    let job_id = pipeline::enqueue_campaign_rescore(&mut tx, client_id, path.id)
        .await
        .map_err(ApiError::internal)?;
    tx.commit().await?;
    Ok((
        StatusCode::ACCEPTED,
        ApiJson(RescoreQueued {
            job_id,
            status: "queued".into(),
        }),
    ))
}

/// Live leads per ALS tier, per campaign and in total.
#[utoipa::path(get, path = "/api/v1/clients/{client_id}/reports/tiers", tag = "reports",
    params(("client_id" = Uuid, Path)),
    responses((status = 200, body = TierReport), (status = 404, body = ErrorBody)))]
async fn tier_report(
    State(state): State<AppState>,
    tenant: Tenant,
) -> ApiResult<ApiJson<TierReport>> {
    let report = pipeline::tier_report(&state.pool, tenant.client_id.into_uuid())
        .await
        .map_err(|e| pipeline_error(e, "client"))?;
    Ok(ApiJson(report))
}
