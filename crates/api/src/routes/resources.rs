//! A client's sending resources (SPEC 3.2): list them with today's cap and use and whether
//! each is verified (any member); add one, remove one and verify one (admin or owner). The
//! rules (normalisation, uniqueness per client, proof of ownership) are the engine's
//! (`agency_engine::resources`).

use agency_cache::Cache;
use agency_domain::ResourceKind;
use agency_engine::pipeline::allocation::{counter_name, effective_cap, warmup_day};
use agency_engine::records::SendingResource;
use agency_engine::resources::{self, VerificationSteps, verification_steps};
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Tenant};
use crate::pagination::{Page, Pagination};
use crate::server::AppState;

/// A sending resource with its cap and use today (the day in the client's timezone).
#[derive(Debug, Serialize, ToSchema)]
pub struct ResourceDto {
    /// Resource id.
    pub id: Uuid,
    /// Owning client.
    pub client_id: Uuid,
    /// `email_domain`, `sms_number`, `voice_number` or `linkedin_seat`.
    pub kind: String,
    /// The normalised domain, E.164 number, seat name or profile URL.
    pub value: String,
    /// Used for new allocations.
    pub active: bool,
    /// First warm-up day of an email domain (null: warmed up or not an email domain).
    pub warmup_started_on: Option<NaiveDate>,
    /// Today's warm-up day of an email domain (1 = first day; null once warmed up).
    pub warmup_day: Option<u32>,
    /// A lower daily cap set for this resource, if any.
    pub daily_cap_override: Option<i32>,
    /// Sends allowed today (the kind's cap with warm-up, lowered by the override).
    pub daily_cap: u32,
    /// Sends counted today; null when the counters could not be read.
    pub used_today: Option<u32>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// True once ownership is proved: only verified resources send and receive replies.
    pub verified: bool,
    /// When it was verified.
    pub verified_at: Option<DateTime<Utc>>,
    /// How to verify it (null once verified).
    pub verification: Option<VerificationSteps>,
}

impl ResourceDto {
    fn new(r: SendingResource, day: NaiveDate, used: Option<u32>) -> Self {
        Self {
            daily_cap: effective_cap(&r, day),
            warmup_day: warmup_day(&r, day),
            used_today: used,
            verified: r.is_verified(),
            verified_at: r.verified_at,
            verification: verification_steps(&r),
            id: r.id,
            client_id: r.client_id,
            kind: r.kind.to_string(),
            value: r.value,
            active: r.active,
            warmup_started_on: r.warmup_started_on,
            daily_cap_override: r.daily_cap_override,
            created_at: r.created_at,
        }
    }
}

/// `POST /resources` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewResource {
    /// `email_domain`, `sms_number`, `voice_number` or `linkedin_seat`.
    #[schema(value_type = String)]
    pub kind: ResourceKind,
    /// A domain (or URL), a phone number (national numbers read as Australian), or a LinkedIn
    /// seat name or profile URL.
    pub value: String,
}

/// Path of a resource within a client.
#[derive(Debug, Deserialize)]
pub struct ResourcePath {
    /// Client id (checked by `Tenant`).
    pub client_id: Uuid,
    /// Resource id.
    pub id: Uuid,
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_resources, create_resource))
        .routes(routes!(delete_resource))
        .routes(routes!(verify_resource))
}

/// The client's timezone.
async fn timezone(state: &AppState, client_id: Uuid) -> ApiResult<Tz> {
    Ok(resources::timezone(
        &state.services,
        agency_domain::ClientId::from_uuid(client_id),
    )
    .await?)
}

/// Today's count of a resource; `None` (logged) when the cache cannot answer.
async fn used_today(
    state: &AppState,
    r: &SendingResource,
    tz: Tz,
    now: DateTime<Utc>,
) -> Option<u32> {
    match state
        .services
        .cache
        .read_daily(&counter_name(r.kind, r.id), tz, now)
        .await
    {
        Ok(n) => Some(u32::try_from(n.max(0)).unwrap_or(u32::MAX)),
        Err(e) => {
            tracing::warn!(resource = %r.id, error = %e, "resource usage unreadable");
            None
        }
    }
}

/// The client's live sending resources, oldest first, with today's cap and use (any member).
#[utoipa::path(get, path = "/api/v1/clients/{client_id}/resources", tag = "resources",
    params(("client_id" = Uuid, Path, description = "Client id"), Pagination),
    responses((status = 200, body = Page<ResourceDto>), (status = 404, body = ErrorBody)))]
pub async fn list_resources(
    State(state): State<AppState>,
    tenant: Tenant,
    page: Pagination,
) -> ApiResult<ApiJson<Page<ResourceDto>>> {
    let (rows, total, tz) = resources::list(
        &state.services,
        &tenant.context(),
        page.limit(),
        page.offset(),
    )
    .await?;
    let now = Utc::now();
    let day = now.with_timezone(&tz).date_naive();
    let used = futures::future::join_all(rows.iter().map(|r| used_today(&state, r, tz, now))).await;
    let items = rows
        .into_iter()
        .zip(used)
        .map(|(r, used)| ResourceDto::new(r, day, used))
        .collect();
    Ok(ApiJson(Page::new(items, total, page)))
}

/// Adds a sending resource (admin or owner). A new email domain starts its warm-up today.
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/resources", tag = "resources", request_body = NewResource,
    params(("client_id" = Uuid, Path, description = "Client id")),
    responses((status = 201, body = ResourceDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_resource(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<NewResource>,
) -> ApiResult<(StatusCode, ApiJson<ResourceDto>)> {
    let row = resources::create(&state.services, &tenant.context(), body.kind, &body.value).await?;
    let tz = timezone(&state, row.client_id).await?;
    let today = Utc::now().with_timezone(&tz).date_naive();
    // A new resource has sent nothing yet.
    Ok((
        StatusCode::CREATED,
        ApiJson(ResourceDto::new(row, today, Some(0))),
    ))
}

/// Removes a sending resource (admin or owner): soft-deleted and deactivated, so leads
/// allocated to it keep their history; its value can be registered again.
#[utoipa::path(delete, path = "/api/v1/clients/{client_id}/resources/{id}", tag = "resources",
    params(("client_id" = Uuid, Path, description = "Client id"), ("id" = Uuid, Path, description = "Resource id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_resource(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath(path): ApiPath<ResourcePath>,
) -> ApiResult<StatusCode> {
    resources::delete(&state.services, &tenant.context(), path.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Verifies a sending resource (admin or owner): an email domain by its DNS TXT record, a
/// number by the client's (or the agency's) Twilio account. 409 `not_verified` when the proof
/// is missing; the resource is answered verified otherwise.
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/resources/{id}/verify", tag = "resources",
    params(("client_id" = Uuid, Path, description = "Client id"), ("id" = Uuid, Path, description = "Resource id")),
    responses((status = 200, body = ResourceDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn verify_resource(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath(path): ApiPath<ResourcePath>,
) -> ApiResult<ApiJson<ResourceDto>> {
    let row = resources::verify(&state.services, &tenant.context(), path.id).await?;
    let tz = timezone(&state, row.client_id).await?;
    let now = Utc::now();
    let used = used_today(&state, &row, tz, now).await;
    Ok(ApiJson(ResourceDto::new(
        row,
        now.with_timezone(&tz).date_naive(),
        used,
    )))
}
