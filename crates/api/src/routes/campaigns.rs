//! Campaign routes under `/api/v1/clients/{client_id}/campaigns`: list, get, create, partial
//! update, status changes (PATCH and the activate/pause/resume/complete shortcuts), soft
//! delete, the campaign's leads and its sequence.

use agency_domain::{CampaignId, CampaignStatus, Role};
use agency_engine::campaigns::{self, CampaignCreate, CampaignUpdate, SequenceInput, StatusChange};
use agency_engine::leads::{self, LeadQuery};
use agency_engine::records::{Campaign, Lead, SequenceStep};
use agency_engine::usecase::Actor;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Tenant};
use crate::pagination::{Page, Pagination};
use crate::request_id;
use crate::server::AppState;

/// The acting user and request id of a tenant call, for audit rows.
pub(crate) fn actor(tenant: &Tenant) -> Actor {
    Actor {
        user_id: Some(tenant.user.id.into_uuid()),
        request_id: request_id::current(),
    }
}

/// Filters of the campaign list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CampaignFilters {
    /// `draft`, `active`, `paused` or `completed`.
    pub status: Option<String>,
    /// Case-insensitive substring of the name or description.
    pub search: Option<String>,
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_campaigns, create_campaign))
        .routes(routes!(get_campaign, update_campaign, delete_campaign))
        .routes(routes!(change_status))
        .routes(routes!(activate))
        .routes(routes!(pause))
        .routes(routes!(resume))
        .routes(routes!(complete))
        .routes(routes!(campaign_leads))
        .routes(routes!(get_sequence, put_sequence))
}

/// List the client's campaigns.
#[utoipa::path(get, path = "/api/v1/clients/{client_id}/campaigns", tag = "campaigns",
    params(("client_id" = Uuid, Path), Pagination, CampaignFilters),
    responses((status = 200, body = Page<Campaign>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_campaigns(
    State(state): State<AppState>,
    tenant: Tenant,
    p: Pagination,
    ApiQuery(f): ApiQuery<CampaignFilters>,
) -> ApiResult<ApiJson<Page<Campaign>>> {
    let client = tenant.client_id;
    let (items, total) = campaigns::list(
        &state.services.pool,
        client,
        f.status.as_deref(),
        f.search.as_deref(),
        p.limit(),
        p.offset(),
    )
    .await?;
    Ok(ApiJson(Page::new(items, total, p)))
}

/// Create a draft campaign (allocations default 40/30/20/5/5 and must sum to 100).
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/campaigns", tag = "campaigns",
    params(("client_id" = Uuid, Path)), request_body = CampaignCreate,
    responses((status = 201, body = Campaign), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_campaign(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<CampaignCreate>,
) -> ApiResult<(StatusCode, ApiJson<Campaign>)> {
    tenant.require(Role::Member)?;
    let campaign = campaigns::create(
        &state.services.pool,
        &actor(&tenant),
        tenant.client_id,
        &body,
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(campaign)))
}

/// One campaign with its counters.
#[utoipa::path(get, path = "/api/v1/clients/{client_id}/campaigns/{id}", tag = "campaigns",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = Campaign), (status = 404, body = ErrorBody)))]
async fn get_campaign(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath((_client_id, id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<ApiJson<Campaign>> {
    let id = CampaignId::from_uuid(id);
    Ok(ApiJson(
        campaigns::get(&state.services.pool, tenant.client_id, id).await?,
    ))
}

/// Partially update a campaign (a completed campaign is read-only: 409).
#[utoipa::path(put, path = "/api/v1/clients/{client_id}/campaigns/{id}", tag = "campaigns",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path)), request_body = CampaignUpdate,
    responses((status = 200, body = Campaign), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update_campaign(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath((_client_id, id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<CampaignUpdate>,
) -> ApiResult<ApiJson<Campaign>> {
    tenant.require(Role::Member)?;
    let id = CampaignId::from_uuid(id);
    Ok(ApiJson(
        campaigns::update(
            &state.services.pool,
            &actor(&tenant),
            tenant.client_id,
            id,
            &body,
        )
        .await?,
    ))
}

/// Soft-delete a campaign (admin or owner).
#[utoipa::path(delete, path = "/api/v1/clients/{client_id}/campaigns/{id}", tag = "campaigns",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_campaign(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath((_client_id, id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    tenant.require(Role::Admin)?;
    let id = CampaignId::from_uuid(id);
    campaigns::delete(&state.services.pool, &actor(&tenant), tenant.client_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn transition(
    state: &AppState,
    tenant: &Tenant,
    id: Uuid,
    to: CampaignStatus,
) -> ApiResult<ApiJson<Campaign>> {
    tenant.require(Role::Member)?;
    Ok(ApiJson(
        campaigns::change_status(
            &state.services.pool,
            &actor(tenant),
            tenant.client_id,
            CampaignId::from_uuid(id),
            to,
        )
        .await?,
    ))
}

/// Change the status: draft->active, active->paused|completed, paused->active|completed; else 409.
#[utoipa::path(patch, path = "/api/v1/clients/{client_id}/campaigns/{id}/status", tag = "campaigns",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path)), request_body = StatusChange,
    responses((status = 200, body = Campaign), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn change_status(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath((_client_id, id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<StatusChange>,
) -> ApiResult<ApiJson<Campaign>> {
    tenant.require(Role::Member)?;
    let to = campaigns::parse_status("status", &body.status)?;
    transition(&state, &tenant, id, to).await
}

/// Activate a draft or paused campaign.
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/campaigns/{id}/activate", tag = "campaigns",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = Campaign), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn activate(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath((_client_id, id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<ApiJson<Campaign>> {
    transition(&state, &tenant, id, CampaignStatus::Active).await
}

/// Pause an active campaign.
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/campaigns/{id}/pause", tag = "campaigns",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = Campaign), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn pause(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath((_client_id, id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<ApiJson<Campaign>> {
    transition(&state, &tenant, id, CampaignStatus::Paused).await
}

/// Resume a paused campaign (paused -> active).
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/campaigns/{id}/resume", tag = "campaigns",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = Campaign), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn resume(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath((_client_id, id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<ApiJson<Campaign>> {
    tenant.require(Role::Member)?;
    let (client, id) = (tenant.client_id, CampaignId::from_uuid(id));
    let (from, to) = (Some(CampaignStatus::Paused), CampaignStatus::Active);
    let campaign =
        campaigns::change_status_from(&state.services.pool, &actor(&tenant), client, id, from, to)
            .await?;
    Ok(ApiJson(campaign))
}

/// Complete an active or paused campaign (it becomes read-only).
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/campaigns/{id}/complete", tag = "campaigns",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = Campaign), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn complete(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath((_client_id, id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<ApiJson<Campaign>> {
    transition(&state, &tenant, id, CampaignStatus::Completed).await
}

/// The campaign's leads, newest first.
#[utoipa::path(get, path = "/api/v1/clients/{client_id}/campaigns/{id}/leads", tag = "campaigns",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path), Pagination),
    responses((status = 200, body = Page<Lead>), (status = 404, body = ErrorBody)))]
async fn campaign_leads(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath((_client_id, id)): ApiPath<(Uuid, Uuid)>,
    p: Pagination,
) -> ApiResult<ApiJson<Page<Lead>>> {
    let client = tenant.client_id;
    campaigns::get(&state.services.pool, client, CampaignId::from_uuid(id)).await?;
    let q = LeadQuery {
        campaign_id: Some(id),
        ..Default::default()
    };
    let cache = Some(state.services.cache.as_ref() as &dyn agency_cache::Cache);
    let (items, total) = leads::list(
        &state.services.pool,
        cache,
        client,
        &q,
        p.limit(),
        p.offset(),
    )
    .await?;
    Ok(ApiJson(Page::new(items, total, p)))
}

/// The campaign's sequence steps in order.
#[utoipa::path(get, path = "/api/v1/clients/{client_id}/campaigns/{id}/sequences", tag = "campaigns",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = Vec<SequenceStep>), (status = 404, body = ErrorBody)))]
async fn get_sequence(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath((_client_id, id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<ApiJson<Vec<SequenceStep>>> {
    let id = CampaignId::from_uuid(id);
    Ok(ApiJson(
        campaigns::sequence(&state.services.pool, tenant.client_id, id).await?,
    ))
}

/// Replace the campaign's sequence (a list of steps, or `{steps: [...]}`).
#[utoipa::path(put, path = "/api/v1/clients/{client_id}/campaigns/{id}/sequences", tag = "campaigns",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path)), request_body = SequenceInput,
    responses((status = 200, body = Vec<SequenceStep>), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_sequence(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath((_client_id, id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<SequenceInput>,
) -> ApiResult<ApiJson<Vec<SequenceStep>>> {
    tenant.require(Role::Member)?;
    let (client, id) = (tenant.client_id, CampaignId::from_uuid(id));
    Ok(ApiJson(
        campaigns::replace_sequence(&state.services.pool, &actor(&tenant), client, id, &body)
            .await?,
    ))
}
