//! A client's sending resources (SPEC 3.2): list them with today's cap and use (any member),
//! add one (admin or owner; the value normalised per kind: email domains to a bare lowercase
//! domain that starts its warm-up today, SMS/voice numbers to E.164, LinkedIn seats to a name
//! or a canonical profile URL) and remove one (admin or owner; a soft delete that also
//! deactivates it, so leads allocated to it keep their history). A domain or number belongs to
//! one tenant: registering one that is already live anywhere is 409. Writes are audited in
//! their transaction.

use agency_cache::Cache;
use agency_domain::{Phone, ResourceKind, Role, normalise_domain};
use agency_engine::pipeline::allocation::{counter_name, effective_cap, warmup_day};
use agency_engine::pipeline::enrich::client_timezone;
use agency_store::audit;
use agency_store::pipeline::{self as store, SendingResource};
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Tenant};
use crate::pagination::{Page, Pagination};
use crate::server::AppState;

/// Longest accepted resource value, in characters.
pub const MAX_VALUE_CHARS: usize = 200;

/// The unique index that gives each live domain/number/seat to one tenant.
const UNIQUE_VALUE_INDEX: &str = "sending_resources_kind_value_idx";

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
}

impl ResourceDto {
    fn new(r: SendingResource, kind: ResourceKind, day: NaiveDate, used: Option<u32>) -> Self {
        Self {
            daily_cap: effective_cap(&r, kind, day),
            warmup_day: warmup_day(&r, kind, day),
            used_today: used,
            id: r.id,
            client_id: r.client_id,
            kind: r.kind,
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
}

/// The normalised value of a `kind` resource, or the reason it is refused (on `value`).
pub fn normalise_value(kind: ResourceKind, value: &str) -> Result<String, String> {
    let normalised = match kind {
        ResourceKind::EmailDomain => normalise_domain(value).map_err(|e| e.to_string())?,
        ResourceKind::SmsNumber | ResourceKind::VoiceNumber => Phone::parse(value)
            .map_err(|e| e.to_string())?
            .as_str()
            .to_owned(),
        ResourceKind::LinkedinSeat => linkedin_seat(value)?,
    };
    if normalised.chars().count() > MAX_VALUE_CHARS {
        return Err(format!("must be at most {MAX_VALUE_CHARS} characters"));
    }
    Ok(normalised)
}

/// A LinkedIn seat: a profile URL (`linkedin.com/in/<slug>`, any scheme/`www.`/query) becomes
/// `https://www.linkedin.com/in/<slug>`; anything else is a seat name, trimmed with inner
/// whitespace collapsed.
fn linkedin_seat(value: &str) -> Result<String, String> {
    let text = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return Err("must not be empty".into());
    }
    if text.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    let lower = text.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let looks_like_url = lower.starts_with("http://")
        || lower.starts_with("https://")
        || host == "linkedin.com"
        || host.ends_with(".linkedin.com");
    if !looks_like_url {
        return Ok(text);
    }
    if host != "linkedin.com" && !host.ends_with(".linkedin.com") {
        return Err("must be a seat name or a linkedin.com/in/... profile URL".into());
    }
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let slug = path
        .strip_prefix("in/")
        .map(|s| s.trim_end_matches('/'))
        .filter(|s| !s.is_empty() && !s.contains('/') && !s.contains(' '));
    match slug {
        Some(slug) => Ok(format!("https://www.linkedin.com/in/{slug}")),
        None => Err("a LinkedIn URL must be a profile: linkedin.com/in/<name>".into()),
    }
}

/// The client's timezone.
async fn timezone(state: &AppState, client_id: Uuid) -> ApiResult<Tz> {
    let client = store::client(&state.services.pool, client_id).await?;
    client_timezone(&client.timezone).map_err(ApiError::internal)
}

/// Today's count of a resource; `None` (logged) when the cache cannot answer.
async fn used_today(
    state: &AppState,
    r: &SendingResource,
    kind: ResourceKind,
    tz: Tz,
    now: DateTime<Utc>,
) -> Option<u32> {
    match state
        .services
        .cache
        .read_daily(&counter_name(kind, r.id), tz, now)
        .await
    {
        Ok(n) => Some(u32::try_from(n.max(0)).unwrap_or(u32::MAX)),
        Err(e) => {
            tracing::warn!(resource = %r.id, error = %e, "resource usage unreadable");
            None
        }
    }
}

fn parse_kind(text: &str) -> ApiResult<ResourceKind> {
    text.parse().map_err(ApiError::internal)
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
    let client_id = tenant.client_id.into_uuid();
    let tz = timezone(&state, client_id).await?;
    let mut conn = state.services.pool.acquire().await?;
    let (rows, total) =
        store::resources_page(&mut conn, client_id, page.limit(), page.offset()).await?;
    drop(conn);
    let now = Utc::now();
    let day = now.with_timezone(&tz).date_naive();
    let kinds = rows
        .iter()
        .map(|r| parse_kind(&r.kind))
        .collect::<ApiResult<Vec<_>>>()?;
    let used = futures::future::join_all(
        rows.iter()
            .zip(&kinds)
            .map(|(r, kind)| used_today(&state, r, *kind, tz, now)),
    )
    .await;
    let items = rows
        .into_iter()
        .zip(kinds)
        .zip(used)
        .map(|((r, kind), used)| ResourceDto::new(r, kind, day, used))
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
    tenant.require(Role::Admin)?;
    let value = normalise_value(body.kind, &body.value).map_err(|m| ApiError::field("value", m))?;
    let client_id = tenant.client_id.into_uuid();
    let tz = timezone(&state, client_id).await?;
    let now = Utc::now();
    let today = now.with_timezone(&tz).date_naive();
    let warmup = (body.kind == ResourceKind::EmailDomain).then_some(today);
    let mut tx = state.services.pool.begin().await?;
    let row = store::insert_resource(
        &mut *tx,
        client_id,
        body.kind.as_str(),
        &value,
        warmup,
        None,
    )
    .await
    .map_err(|e| match e {
        e if e.is_conflict_on(UNIQUE_VALUE_INDEX) => ApiError::conflict(
            "duplicate_resource",
            format!(
                "The {} `{value}` is already registered.",
                body.kind.as_str().replace('_', " ")
            ),
        ),
        e => e.into(),
    })?;
    audit::record(
        &mut tx,
        &tenant
            .audit("resource.created", "sending_resource")
            .entity(row.id)
            .after(json!({"kind": row.kind, "value": row.value, "warmup_started_on": row.warmup_started_on})),
    )
    .await?;
    tx.commit().await?;
    // A new resource has sent nothing yet.
    Ok((
        StatusCode::CREATED,
        ApiJson(ResourceDto::new(row, body.kind, today, Some(0))),
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
    tenant.require(Role::Admin)?;
    let mut tx = state.services.pool.begin().await?;
    let row = store::delete_resource(&mut *tx, tenant.client_id.into_uuid(), path.id)
        .await
        .map_err(|e| match e {
            agency_store::StoreError::NotFound => ApiError::not_found("resource"),
            e => e.into(),
        })?;
    audit::record(
        &mut tx,
        &tenant
            .audit("resource.deleted", "sending_resource")
            .entity(row.id)
            .before(json!({"kind": row.kind, "value": row.value})),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_normalised_per_kind() {
        let ok = |k, v: &str| normalise_value(k, v).expect(v);
        assert_eq!(
            ok(
                ResourceKind::EmailDomain,
                " https://WWW.Send.Example.com.au/x "
            ),
            "send.example.com.au"
        );
        assert_eq!(ok(ResourceKind::SmsNumber, "0412 345 678"), "+61412345678");
        assert_eq!(
            ok(ResourceKind::VoiceNumber, "(02) 9374 4000"),
            "+61293744000"
        );
        assert_eq!(
            ok(ResourceKind::LinkedinSeat, "  Jane   Smith "),
            "Jane Smith"
        );
        assert_eq!(
            ok(
                ResourceKind::LinkedinSeat,
                "linkedin.com/in/Jane-Smith/?trk=x"
            ),
            "https://www.linkedin.com/in/jane-smith"
        );
        assert_eq!(
            ok(
                ResourceKind::LinkedinSeat,
                "HTTPS://au.linkedin.com/in/jane-smith"
            ),
            "https://www.linkedin.com/in/jane-smith"
        );
    }

    #[test]
    fn bad_values_are_refused() {
        for (kind, value) in [
            (ResourceKind::EmailDomain, "localhost"),
            (ResourceKind::EmailDomain, "  "),
            (ResourceKind::SmsNumber, "not a number"),
            (ResourceKind::VoiceNumber, "123"),
            (ResourceKind::LinkedinSeat, " \t "),
            (ResourceKind::LinkedinSeat, "https://example.com/in/jane"),
            (
                ResourceKind::LinkedinSeat,
                "https://www.linkedin.com/company/acme",
            ),
            (ResourceKind::LinkedinSeat, "Jane\u{7}"),
        ] {
            assert!(
                normalise_value(kind, value).is_err(),
                "{kind:?} {value:?} accepted"
            );
        }
        let long = "x".repeat(MAX_VALUE_CHARS + 1);
        assert!(normalise_value(ResourceKind::LinkedinSeat, &long).is_err());
        assert!(normalise_value(ResourceKind::LinkedinSeat, &"x".repeat(MAX_VALUE_CHARS)).is_ok());
    }
}
