//! The platform-wide suppression list for platform admins: list (search by email or phone),
//! add (normalised email and/or E.164 phone; an address already listed is 409), delete.

use agency_domain::{Email, Phone, SuppressionId, SuppressionReason};
use agency_store::audit::{self, AuditEntry};
use agency_store::suppression::{self, NewSuppression, SuppressionRow};
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody, FieldError};
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
    let mut conn = state.services.pool.acquire().await?;
    let (rows, total) = suppression::list(
        &mut conn,
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
    let mut fields = Vec::new();
    let email = body
        .email
        .as_deref()
        .filter(|e| !e.trim().is_empty())
        .and_then(|e| match Email::parse(e) {
            Ok(e) => Some(e.as_str().to_owned()),
            Err(err) => {
                fields.push(FieldError {
                    path: "email".into(),
                    message: err.to_string(),
                });
                None
            }
        });
    let phone = body
        .phone
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .and_then(|p| match Phone::parse(p) {
            Ok(p) => Some(p.as_str().to_owned()),
            Err(err) => {
                fields.push(FieldError {
                    path: "phone".into(),
                    message: err.to_string(),
                });
                None
            }
        });
    if fields.is_empty() && email.is_none() && phone.is_none() {
        fields.push(FieldError {
            path: "email".into(),
            message: "give an email or a phone".into(),
        });
    }
    if !fields.is_empty() {
        return Err(ApiError::validation(fields));
    }
    let new = NewSuppression {
        email,
        phone,
        reason: body.reason.as_str().to_owned(),
        source: "admin".into(),
        created_by: Some(admin.id),
    };
    let mut tx = state.services.pool.begin().await?;
    let row = suppression::insert(&mut tx, &new).await.map_err(|e| {
        if e.is_conflict_on("global_suppression_email_idx")
            || e.is_conflict_on("global_suppression_phone_idx")
        {
            ApiError::conflict("already_suppressed", "This address is already suppressed.")
        } else {
            e.into()
        }
    })?;
    let entry = AuditEntry::user(None, admin.id, "suppression.added", "global_suppression")
        .entity(row.id)
        .after(json!({"email": row.email, "phone": row.phone, "reason": row.reason}))
        .request_id(request_id::current());
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
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
    let mut tx = state.services.pool.begin().await?;
    let row = suppression::delete(&mut tx, SuppressionId::from_uuid(id)).await?;
    let entry = AuditEntry::user(None, admin.id, "suppression.removed", "global_suppression")
        .entity(row.id)
        .before(json!({"email": row.email, "phone": row.phone, "reason": row.reason}))
        .request_id(request_id::current());
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
