//! Lead-pipeline routes: rescore one lead now (`POST .../leads/{id}/rescore`, answers the
//! rescored Lead), queue enrichment for one lead (`POST .../leads/{id}/enrich`, 202 with the
//! Lead as it is now) or for a list of leads (`POST .../leads/bulk-enrich`, 202 `{queued}`),
//! rescore a whole campaign in the background (`POST .../campaigns/{id}/rescore`, 202) and the
//! ALS tier distribution per campaign (`GET .../reports/tiers`). Each enrich request writes one
//! audit row (`lead.enrich` / `lead.bulk_enrich`) in the transaction that queues its jobs.

use agency_domain::Role;
use agency_engine::pipeline::{self, TierReport};
use agency_store::audit;
use agency_store::leads::Lead;
use agency_store::pipeline as store;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::json;
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
        .routes(routes!(enrich_lead))
        .routes(routes!(bulk_enrich))
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

/// Most lead ids one bulk-enrich request may name.
pub const BULK_ENRICH_MAX: usize = 1_000;

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
    tenant.require(Role::Member)?;
    let client_id = tenant.client_id.into_uuid();
    // A lead that is not the client's (or deleted) is 404 before anything is computed.
    agency_store::leads::get(&state.services.pool, client_id, path.id).await?;
    let lead = pipeline::rescore_lead(
        &state.services.pool,
        &*state.services.cache,
        client_id,
        path.id,
        state.services.now(),
    )
    .await
    .map_err(|e| e.naming("lead"))?;
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
    tenant.require(Role::Member)?;
    let client_id = tenant.client_id.into_uuid();
    let mut tx = state.services.pool.begin().await?;
    // A lead that is not the client's (or deleted) is 404, and nothing is queued.
    let lead = agency_store::leads::get(&mut *tx, client_id, path.id).await?;
    pipeline::enqueue_new_leads(&mut tx, client_id, &[lead.id])
        .await
        .map_err(ApiError::internal)?;
    audit::record(
        &mut tx,
        &tenant.audit("lead.enrich", "lead").entity(lead.id),
    )
    .await?;
    tx.commit().await?;
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
    tenant.require(Role::Member)?;
    if body.lead_ids.len() > BULK_ENRICH_MAX {
        return Err(ApiError::field(
            "lead_ids",
            format!(
                "at most {BULK_ENRICH_MAX} ids per request (got {})",
                body.lead_ids.len()
            ),
        ));
    }
    let client_id = tenant.client_id.into_uuid();
    let mut tx = state.services.pool.begin().await?;
    let ids = live_lead_ids(&mut tx, client_id, &body.lead_ids).await?;
    let queued = pipeline::enqueue_new_leads(&mut tx, client_id, &ids)
        .await
        .map_err(ApiError::internal)?;
    audit::record(
        &mut tx,
        &tenant
            .audit("lead.bulk_enrich", "lead")
            .after(json!({"requested": body.lead_ids.len(), "queued": queued, "lead_ids": ids})),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::ACCEPTED, ApiJson(BulkEnrichQueued { queued })))
}

/// The distinct ids among `ids` that are live leads of the client, in id order.
async fn live_lead_ids(
    conn: &mut sqlx::PgConnection,
    client_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar(
        "SELECT id FROM leads
          WHERE client_id = $1 AND id = ANY($2) AND deleted_at IS NULL
          ORDER BY id",
    )
    .bind(client_id)
    .bind(ids)
    .fetch_all(conn)
    .await
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
    let mut tx = state.services.pool.begin().await?;
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
    let report = pipeline::tier_report(&state.services.pool, tenant.client_id.into_uuid())
        .await
        .map_err(|e| e.naming("client"))?;
    Ok(ApiJson(report))
}
