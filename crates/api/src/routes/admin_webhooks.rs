//! The webhook inbox for platform admins: list received events (provider and status filters,
//! newest first) and replay one (`202`: back to pending with a new processing job).

use agency_engine::inbound::process;
use agency_engine::records::WebhookEvent;
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
use crate::server::AppState;

/// A received webhook event.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEventDto {
    /// Inbox id.
    pub id: Uuid,
    /// `twilio`, `resend` or `vapi`.
    pub provider: String,
    /// The provider's event id (the dedup key).
    pub provider_event_id: String,
    /// Event type.
    pub event_type: Option<String>,
    /// The tenant it applied to.
    pub client_id: Option<Uuid>,
    /// `pending`, `processed`, `failed`, `rejected` or `ignored`.
    pub status: String,
    /// Received at.
    pub received_at: DateTime<Utc>,
    /// Finished at.
    pub processed_at: Option<DateTime<Utc>>,
    /// Processing attempts.
    pub attempts: i32,
    /// Last error or note.
    pub last_error: Option<String>,
    /// Kept request headers.
    #[schema(value_type = Object)]
    pub headers: serde_json::Value,
    /// The body as received (invalid UTF-8 replaced).
    pub body: String,
}

impl From<WebhookEvent> for WebhookEventDto {
    fn from(e: WebhookEvent) -> Self {
        Self {
            id: e.id,
            provider: e.provider.as_str().to_owned(),
            provider_event_id: e.provider_event_id,
            event_type: e.event_type,
            client_id: e.client_id.map(Into::into),
            status: e.status.as_str().to_owned(),
            received_at: e.received_at,
            processed_at: e.processed_at,
            attempts: e.attempts,
            last_error: e.last_error,
            headers: e.headers,
            body: String::from_utf8_lossy(&e.raw_body).into_owned(),
        }
    }
}

/// Filters of the inbox.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WebhookEventQuery {
    /// `twilio`, `resend` or `vapi`.
    pub provider: Option<String>,
    /// `pending`, `processed`, `failed`, `rejected` or `ignored`.
    pub status: Option<String>,
}

/// Path of an event.
#[derive(Debug, Deserialize)]
pub struct EventPath {
    /// Inbox id.
    pub id: Uuid,
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhook_events))
        .routes(routes!(replay_webhook_event))
}

/// Received webhook events, newest first.
#[utoipa::path(get, path = "/api/v1/admin/webhook-events", tag = "admin",
    params(Pagination, WebhookEventQuery),
    responses((status = 200, body = Page<WebhookEventDto>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_webhook_events(
    State(state): State<AppState>,
    _admin: PlatformAdmin,
    p: Pagination,
    ApiQuery(q): ApiQuery<WebhookEventQuery>,
) -> ApiResult<ApiJson<Page<WebhookEventDto>>> {
    let (items, total) = process::list(
        &state.services.pool,
        q.provider.as_deref(),
        q.status.as_deref(),
        p.limit(),
        p.offset(),
    )
    .await?;
    Ok(ApiJson(
        Page::new(items, total, p).map(WebhookEventDto::from),
    ))
}

/// Replays an event: back to pending with a new processing job (a rejected one: 409).
#[utoipa::path(post, path = "/api/v1/admin/webhook-events/{id}/replay", tag = "admin",
    params(("id" = Uuid, Path, description = "Inbox id")),
    responses((status = 202, body = WebhookEventDto), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn replay_webhook_event(
    State(state): State<AppState>,
    _admin: PlatformAdmin,
    ApiPath(path): ApiPath<EventPath>,
) -> ApiResult<(StatusCode, ApiJson<WebhookEventDto>)> {
    let event = process::replay(&state.services.pool, path.id).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(event.into())))
}
