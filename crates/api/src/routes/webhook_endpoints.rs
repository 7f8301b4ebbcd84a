//! A client's outbound webhook endpoints (SPEC 6, API_CONTRACT "Outbound webhooks"): list
//! them and an endpoint's delivery log (any member); create one (`{url, events}` -> 201 with
//! its `whsec_` secret, shown this once), change or delete it, rotate its secret (the answer
//! carries the new one; both sign for 24 hours) and send it a test event (202), for admins
//! and owners. The rules are the engine's (`agency_engine::outbound::endpoints`).

use agency_engine::outbound::endpoints::{self, EndpointCreate, EndpointUpdate};
use agency_engine::records::{Delivery, Endpoint};
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, Tenant};
use crate::pagination::{Page, Pagination};
use crate::server::AppState;

/// An endpoint. `secret` is present only in the answers of create and rotate-secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointDto {
    /// Endpoint id.
    pub id: Uuid,
    /// Owning client.
    pub client_id: Uuid,
    /// Where events are POSTed.
    pub url: String,
    /// Subscribed events.
    pub events: Vec<String>,
    /// `active` or `disabled`.
    pub status: String,
    /// Why it is disabled.
    pub disabled_reason: Option<String>,
    /// When it was disabled.
    pub disabled_at: Option<DateTime<Utc>>,
    /// First failed attempt since the last success (null while healthy).
    pub failing_since: Option<DateTime<Utc>>,
    /// Last successful delivery.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Until when the previous secret also signs (after a rotation).
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// The signing secret (`whsec_...`): only when just created or rotated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl EndpointDto {
    fn new(e: Endpoint, show_secret: bool) -> Self {
        Self {
            id: e.id,
            client_id: e.client_id,
            url: e.url,
            events: e.events.iter().map(|e| e.as_str().to_owned()).collect(),
            status: e.status.as_str().to_owned(),
            disabled_reason: e.disabled_reason,
            disabled_at: e.disabled_at,
            failing_since: e.failing_since,
            last_success_at: e.last_success_at,
            previous_secret_expires_at: e
                .previous_secret_expires_at
                .filter(|until| *until > Utc::now()),
            secret: show_secret.then_some(e.secret),
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// One delivery of an event to an endpoint, with its attempts.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryDto {
    /// Delivery id.
    pub id: Uuid,
    /// The endpoint.
    pub endpoint_id: Uuid,
    /// The event (`webhook-id` is `msg_` and its hex digits).
    pub event_id: Uuid,
    /// The event type.
    pub event_type: String,
    /// The body sent: `{type, timestamp, data}`.
    pub payload: serde_json::Value,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last attempt's start.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The last answer's HTTP status.
    pub last_status_code: Option<i32>,
    /// The last attempt's duration, ms.
    pub last_latency_ms: Option<i32>,
    /// The start of the last answer's body (at most 1 KB).
    pub last_response_excerpt: Option<String>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Every attempt: `{attempt, at, status_code, latency_ms, response_excerpt, error}`.
    pub attempt_log: serde_json::Value,
    /// When the endpoint accepted it.
    pub delivered_at: Option<DateTime<Utc>>,
    /// Created (the event's time).
    pub created_at: DateTime<Utc>,
}

impl From<Delivery> for DeliveryDto {
    fn from(d: Delivery) -> Self {
        Self {
            id: d.id,
            endpoint_id: d.endpoint_id,
            event_id: d.event_id,
            event_type: d.event_type.as_str().to_owned(),
            payload: d.payload,
            status: d.status.as_str().to_owned(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            last_attempt_at: d.last_attempt_at,
            last_status_code: d.last_status_code,
            last_latency_ms: d.last_latency_ms,
            last_response_excerpt: d.last_response_excerpt,
            last_error: d.last_error,
            attempt_log: d.attempt_log,
            delivered_at: d.delivered_at,
            created_at: d.created_at,
        }
    }
}

/// Path of an endpoint within a client.
#[derive(Debug, Deserialize)]
pub struct EndpointPath {
    /// Client id (checked by `Tenant`).
    pub client_id: Uuid,
    /// Endpoint id.
    pub id: Uuid,
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_endpoints, create_endpoint))
        .routes(routes!(update_endpoint, delete_endpoint))
        .routes(routes!(list_deliveries))
        .routes(routes!(test_endpoint))
        .routes(routes!(rotate_secret))
}

/// The client's webhook endpoints, oldest first (any member; secrets are never listed).
#[utoipa::path(get, path = "/api/v1/clients/{client_id}/webhook-endpoints", tag = "webhooks",
    params(("client_id" = Uuid, Path, description = "Client id"), Pagination),
    responses((status = 200, body = Page<EndpointDto>), (status = 404, body = ErrorBody)))]
pub async fn list_endpoints(
    State(state): State<AppState>,
    tenant: Tenant,
    page: Pagination,
) -> ApiResult<ApiJson<Page<EndpointDto>>> {
    let (rows, total) = endpoints::list(
        &state.services,
        &tenant.context(),
        page.limit(),
        page.offset(),
    )
    .await?;
    Ok(ApiJson(
        Page::new(rows, total, page).map(|e| EndpointDto::new(e, false)),
    ))
}

/// Adds an endpoint (admin or owner); the answer's `secret` is shown only this once.
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/webhook-endpoints", tag = "webhooks",
    request_body = EndpointCreate,
    params(("client_id" = Uuid, Path, description = "Client id")),
    responses((status = 201, body = EndpointDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn create_endpoint(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<EndpointCreate>,
) -> ApiResult<(StatusCode, ApiJson<EndpointDto>)> {
    let endpoint = endpoints::create(&state.services, &tenant.context(), &body).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(EndpointDto::new(endpoint, true)),
    ))
}

/// Changes an endpoint's `url`, `events` or `status` (admin or owner); `status: active`
/// re-enables a disabled endpoint.
#[utoipa::path(put, path = "/api/v1/clients/{client_id}/webhook-endpoints/{id}", tag = "webhooks",
    request_body = EndpointUpdate,
    params(("client_id" = Uuid, Path, description = "Client id"), ("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 200, body = EndpointDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_endpoint(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath(path): ApiPath<EndpointPath>,
    ApiJson(body): ApiJson<EndpointUpdate>,
) -> ApiResult<ApiJson<EndpointDto>> {
    let endpoint = endpoints::update(&state.services, &tenant.context(), path.id, &body).await?;
    Ok(ApiJson(EndpointDto::new(endpoint, false)))
}

/// Deletes an endpoint (admin or owner); nothing more is sent to it.
#[utoipa::path(delete, path = "/api/v1/clients/{client_id}/webhook-endpoints/{id}", tag = "webhooks",
    params(("client_id" = Uuid, Path, description = "Client id"), ("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_endpoint(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath(path): ApiPath<EndpointPath>,
) -> ApiResult<StatusCode> {
    endpoints::delete(&state.services, &tenant.context(), path.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The endpoint's deliveries, newest first, each with its attempt log (any member).
#[utoipa::path(get, path = "/api/v1/clients/{client_id}/webhook-endpoints/{id}/deliveries", tag = "webhooks",
    params(("client_id" = Uuid, Path, description = "Client id"), ("id" = Uuid, Path, description = "Endpoint id"), Pagination),
    responses((status = 200, body = Page<DeliveryDto>), (status = 404, body = ErrorBody)))]
pub async fn list_deliveries(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath(path): ApiPath<EndpointPath>,
    page: Pagination,
) -> ApiResult<ApiJson<Page<DeliveryDto>>> {
    let (rows, total) = endpoints::deliveries(
        &state.services,
        &tenant.context(),
        path.id,
        page.limit(),
        page.offset(),
    )
    .await?;
    Ok(ApiJson(Page::new(rows, total, page).map(DeliveryDto::from)))
}

/// Queues a `webhook.test` event to the endpoint (admin or owner): 202 with the delivery.
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/webhook-endpoints/{id}/test", tag = "webhooks",
    params(("client_id" = Uuid, Path, description = "Client id"), ("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 202, body = DeliveryDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn test_endpoint(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath(path): ApiPath<EndpointPath>,
) -> ApiResult<(StatusCode, ApiJson<DeliveryDto>)> {
    let delivery = endpoints::send_test(&state.services, &tenant.context(), path.id).await?;
    Ok((StatusCode::ACCEPTED, ApiJson(delivery.into())))
}

/// Replaces the endpoint's secret (admin or owner). The answer's `secret` is the new one,
/// shown only this once; the previous one keeps signing for 24 hours, so events carry both
/// signatures meanwhile.
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/webhook-endpoints/{id}/rotate-secret", tag = "webhooks",
    params(("client_id" = Uuid, Path, description = "Client id"), ("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 200, body = EndpointDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath(path): ApiPath<EndpointPath>,
) -> ApiResult<ApiJson<EndpointDto>> {
    let endpoint = endpoints::rotate_secret(&state.services, &tenant.context(), path.id).await?;
    Ok(ApiJson(EndpointDto::new(endpoint, true)))
}
