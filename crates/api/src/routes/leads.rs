//! Lead routes under `/api/v1/clients/{client_id}/leads`: list (filters, sort, offset pages or
//! a keyset `cursor`), get, create, bulk create, partial update, soft delete and the lead's
//! activity timeline. Another tenant's lead is always 404.

use agency_domain::LeadId;
use agency_domain::Role;
use agency_engine::leads::{
    self, LeadBulkCreate, LeadBulkResult, LeadCreate, LeadQuery, LeadUpdate,
};
use agency_engine::records::{Activity, Lead};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Tenant, TenantClaim};
use crate::pagination::{Cursor, CursorPage, MAX_PAGE_SIZE, Page, Pagination};
use crate::routes::campaigns::actor;
use crate::server::AppState;

/// Filters, order and keyset position of the lead list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeadFilters {
    /// Only leads of this campaign.
    pub campaign_id: Option<Uuid>,
    /// Lifecycle status.
    pub status: Option<String>,
    /// ALS tier (`hot`, `warm`, `cool`, `cold`, `dead`).
    pub tier: Option<String>,
    /// Case-insensitive substring of email, names or company.
    pub search: Option<String>,
    /// `created_at`, `-created_at` (default), `als_score` or `-als_score`.
    pub sort: Option<String>,
    /// Keyset mode (for exports): empty for the first page, then the `next_cursor` returned;
    /// the answer is then `{items, next_cursor}`.
    pub cursor: Option<String>,
    /// Page size alias (1-100) when `page_size` is not given.
    pub limit: Option<u32>,
}

/// Query of the activity timeline.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityQuery {
    /// Most activities to answer (default 50, at most 500).
    pub limit: Option<i64>,
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_leads, create_lead))
        .routes(routes!(bulk_create))
        .routes(routes!(get_lead, update_lead, delete_lead))
        .routes(routes!(lead_activities))
}

/// List the client's leads: offset pages, or keyset pages with `cursor`.
#[utoipa::path(get, path = "/api/v1/clients/{client_id}/leads", tag = "leads",
    params(("client_id" = Uuid, Path), Pagination, LeadFilters),
    responses((status = 200, body = Page<Lead>, description = "A page; with `cursor` the body is `{items, next_cursor}`"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_leads(
    State(state): State<AppState>,
    claim: TenantClaim,
    p: Pagination,
    ApiQuery(f): ApiQuery<LeadFilters>,
) -> ApiResult<Response> {
    let mut p = p;
    if let Some(limit) = f.limit {
        if !(1..=MAX_PAGE_SIZE).contains(&limit) {
            return Err(ApiError::field(
                "limit",
                format!("must be a whole number from 1 to {MAX_PAGE_SIZE}"),
            ));
        }
        p.page_size = limit;
    }
    let q = LeadQuery {
        campaign_id: f.campaign_id,
        status: f.status,
        tier: f.tier,
        search: f.search,
        sort: f.sort,
    };
    if let Some(cursor) = f.cursor.as_deref() {
        let after = match cursor.trim() {
            "" => None,
            text => {
                let c = Cursor::decode(text)?;
                Some((c.created_at, LeadId::from_uuid(c.id)))
            }
        };
        let tenant = Tenant::of_client(&state, claim.user, claim.client_id).await?;
        let client = tenant.client_id;
        let (items, next) =
            leads::list_keyset(&state.services.pool, client, &q, after, p.limit()).await?;
        let page = CursorPage {
            items,
            next_cursor: next.map(|(created_at, id)| {
                Cursor {
                    created_at,
                    id: id.into_uuid(),
                }
                .encode()
            }),
        };
        return Ok(ApiJson(page).into_response());
    }
    // The membership is checked in the page's own statement (one round trip for both).
    let (items, total) = leads::list_as_member(
        &state.services,
        claim.user.id,
        claim.client_id,
        &q,
        p.limit(),
        p.offset(),
    )
    .await?;
    Ok(ApiJson(Page::new(items, total, p)).into_response())
}

/// Create a lead (email normalised; the same email in the client is 409).
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/leads", tag = "leads",
    params(("client_id" = Uuid, Path)), request_body = LeadCreate,
    responses((status = 201, body = Lead), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn create_lead(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<LeadCreate>,
) -> ApiResult<(StatusCode, ApiJson<Lead>)> {
    tenant.require(Role::Member)?;
    let lead = leads::create(
        &state.services.pool,
        &actor(&tenant),
        tenant.client_id,
        &body,
    )
    .await?;
    leads::invalidate_counts(state.services.cache.as_ref(), tenant.client_id).await;
    Ok((StatusCode::CREATED, ApiJson(lead)))
}

/// Create up to 1,000 leads; invalid, suppressed and duplicate ones are skipped.
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/leads/bulk", tag = "leads",
    params(("client_id" = Uuid, Path)), request_body = LeadBulkCreate,
    responses((status = 201, body = LeadBulkResult), (status = 403, body = ErrorBody), (status = 413, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn bulk_create(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<LeadBulkCreate>,
) -> ApiResult<(StatusCode, ApiJson<LeadBulkResult>)> {
    tenant.require(Role::Member)?;
    let result = leads::bulk_create(
        &state.services.pool,
        &actor(&tenant),
        tenant.client_id,
        &body,
    )
    .await?;
    leads::invalidate_counts(state.services.cache.as_ref(), tenant.client_id).await;
    Ok((StatusCode::CREATED, ApiJson(result)))
}

/// One lead.
#[utoipa::path(get, path = "/api/v1/clients/{client_id}/leads/{id}", tag = "leads",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = Lead), (status = 404, body = ErrorBody)))]
async fn get_lead(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath((_client_id, id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<ApiJson<Lead>> {
    let id = LeadId::from_uuid(id);
    Ok(ApiJson(
        leads::get(&state.services.pool, tenant.client_id, id).await?,
    ))
}

/// Partially update a lead (any create field, and `status`).
#[utoipa::path(put, path = "/api/v1/clients/{client_id}/leads/{id}", tag = "leads",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path)), request_body = LeadUpdate,
    responses((status = 200, body = Lead), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update_lead(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath((_client_id, id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<LeadUpdate>,
) -> ApiResult<ApiJson<Lead>> {
    tenant.require(Role::Member)?;
    let lead = leads::update_as(
        &state.services.pool,
        &actor(&tenant),
        tenant.role,
        tenant.client_id,
        LeadId::from_uuid(id),
        &body,
    )
    .await?;
    leads::invalidate_counts(state.services.cache.as_ref(), tenant.client_id).await;
    Ok(ApiJson(lead))
}

/// Soft-delete a lead (admin or owner: SPEC, deletions are an admin's).
#[utoipa::path(delete, path = "/api/v1/clients/{client_id}/leads/{id}", tag = "leads",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_lead(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath((_client_id, id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    tenant.require(Role::Admin)?;
    let id = LeadId::from_uuid(id);
    leads::delete(&state.services.pool, &actor(&tenant), tenant.client_id, id).await?;
    leads::invalidate_counts(state.services.cache.as_ref(), tenant.client_id).await;
    Ok(StatusCode::NO_CONTENT)
}

/// The lead's latest activities, newest first (a bare array).
#[utoipa::path(get, path = "/api/v1/clients/{client_id}/leads/{id}/activities", tag = "leads",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path), ActivityQuery),
    responses((status = 200, body = Vec<Activity>), (status = 404, body = ErrorBody)))]
async fn lead_activities(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath((_client_id, id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(q): ApiQuery<ActivityQuery>,
) -> ApiResult<ApiJson<Vec<Activity>>> {
    Ok(ApiJson(
        leads::activities(
            &state.services.pool,
            tenant.client_id,
            LeadId::from_uuid(id),
            q.limit,
        )
        .await?,
    ))
}
