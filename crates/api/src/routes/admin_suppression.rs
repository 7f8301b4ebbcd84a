//! The platform-wide suppression list for platform admins: list (search by email or phone),
//! add (normalised email and/or E.164 phone; an address already listed is 409), delete.

use agency_domain::{SuppressionId, SuppressionReason};
use agency_engine::suppression::{self, SuppressionRow};
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, PlatformAdmin};
use crate::pagination::{Page, Pagination};
use crate::request_id;
use crate::server::AppState;

/// A suppressed address.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuppressionDto {
    /// Id.
    pub id: Uuid,
    /// Email.
    pub email: Option<String>,
    /// Phone (E.164).
    pub phone: Option<String>,
    /// unsubscribe, bounce, complaint, manual or dncr.
    pub reason: String,
    /// Where it came from.
    pub source: String,
    /// Added.
    pub created_at: DateTime<Utc>,
}

impl From<SuppressionRow> for SuppressionDto {
    fn from(r: SuppressionRow) -> Self {
        Self {
            id: r.id,
            email: r.email,
            phone: r.phone,
            reason: r.reason,
            source: r.source,
            created_at: r.created_at,
        }
    }
}

/// `POST /admin/suppression` body: at least one of email and phone.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SuppressionCreate {
    /// Email to suppress.
    pub email: Option<String>,
    /// Phone to suppress (national numbers read as Australian).
    pub phone: Option<String>,
    /// unsubscribe, bounce, complaint, manual or dncr.
    #[schema(value_type = String)]
    pub reason: SuppressionReason,
}

/// List filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuppressionFilters {
    /// A substring of the email or phone.
    pub search: Option<String>,
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_suppression, add_suppression))
        .routes(routes!(delete_suppression))
}

/// The suppression list, newest first.
#[utoipa::path(get, path = "/api/v1/admin/suppression", tag = "admin",
    params(Pagination, SuppressionFilters),
    responses((status = 200, body = Page<SuppressionDto>), (status = 403, body = ErrorBody)))]
pub async fn list_suppression(
    State(state): State<AppState>,
    _admin: PlatformAdmin,
    page: Pagination,
    ApiQuery(filters): ApiQuery<SuppressionFilters>,
) -> ApiResult<ApiJson<Page<SuppressionDto>>> {
    let (rows, total) = suppression::list(
        &state.services,
        filters.search.as_deref(),
        page.limit(),
        page.offset(),
    )
    .await?;
    Ok(ApiJson(
        Page::new(rows, total, page).map(SuppressionDto::from),
    ))
}

/// Adds an address to the suppression list.
#[utoipa::path(post, path = "/api/v1/admin/suppression", tag = "admin", request_body = SuppressionCreate,
    responses((status = 201, body = SuppressionDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn add_suppression(
    State(state): State<AppState>,
    PlatformAdmin(admin): PlatformAdmin,
    ApiJson(body): ApiJson<SuppressionCreate>,
) -> ApiResult<(StatusCode, ApiJson<SuppressionDto>)> {
    let row = suppression::add(
        &state.services,
        admin.id,
        request_id::current(),
        body.email.as_deref(),
        body.phone.as_deref(),
        body.reason,
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(row.into())))
}

/// Removes an address from the suppression list.
#[utoipa::path(delete, path = "/api/v1/admin/suppression/{id}", tag = "admin",
    params(("id" = Uuid, Path, description = "Suppression id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_suppression(
    State(state): State<AppState>,
    PlatformAdmin(admin): PlatformAdmin,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<StatusCode> {
    let id = SuppressionId::from_uuid(id);
    suppression::remove(&state.services, admin.id, request_id::current(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}
