//! The provider webhooks (`/webhooks/...`, outside `/api/v1`: no bearer token; each is
//! authenticated by its provider's signature, see `agency_engine::inbound::receive`):
//! Twilio SMS and status callbacks (answered with empty TwiML), Resend events and Vapi server
//! messages (tool calls answered with their results). A bad signature is 401 and nothing is
//! stored; a verified body that cannot be read is 400 and kept as `rejected`; a verified
//! event is stored with its processing job queued before the 2xx, and a redelivery is
//! answered 2xx without being processed again.

use agency_engine::inbound::receive::{
    self, Receipt, ReceiveError, RequestHeaders, TwilioHook, VapiAnswer,
};
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ErrorBody};
use crate::server::AppState;

/// The empty TwiML document Twilio expects.
pub const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";

/// The acknowledgement of a stored (or already stored) event.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookAck {
    /// `stored` or `duplicate`.
    pub status: &'static str,
}

impl From<Receipt> for WebhookAck {
    fn from(r: Receipt) -> Self {
        WebhookAck {
            status: match r {
                Receipt::Stored(_) => "stored",
                Receipt::Duplicate => "duplicate",
            },
        }
    }
}

/// The routes of this module (no bearer authentication).
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(twilio_sms))
        .routes(routes!(twilio_status))
        .routes(routes!(resend))
        .routes(routes!(vapi))
}

fn request_headers(headers: &HeaderMap) -> RequestHeaders {
    RequestHeaders(
        headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect(),
    )
}

fn error(e: ReceiveError) -> ApiError {
    match e {
        ReceiveError::Unauthorized(v) => {
            tracing::warn!(reason = %v, "webhook refused");
            ApiError::unauthorized("invalid_signature", "The webhook signature did not verify.")
        }
        ReceiveError::Rejected(reason) => ApiError::bad_request(
            "unreadable_webhook",
            format!("The webhook body could not be read: {reason}."),
        ),
        ReceiveError::Store(e) => ApiError::internal(e),
        ReceiveError::Queue(e) => ApiError::internal(e),
    }
}

fn twiml() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml")],
        EMPTY_TWIML,
    )
        .into_response()
}

async fn twilio(
    state: &AppState,
    hook: TwilioHook,
    uri: &OriginalUri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let path = uri.0.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let url = receive::signed_url(&state.settings.webhooks, host, path);
    receive::receive_twilio(
        &state.services.pool,
        &state.settings.webhooks,
        &state.services.settings.credentials,
        hook,
        &url,
        &request_headers(headers),
        body,
    )
    .await
    .map_err(error)?;
    Ok(twiml())
}

/// An SMS to one of our numbers (Twilio, form-encoded, `X-Twilio-Signature`).
#[utoipa::path(post, path = "/webhooks/twilio/sms", tag = "webhooks",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Empty TwiML", content_type = "text/xml", body = String),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(()))]
async fn twilio_sms(
    State(state): State<AppState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    twilio(&state, TwilioHook::InboundSms, &uri, &headers, &body).await
}

/// A message status callback (Twilio, form-encoded, `X-Twilio-Signature`).
#[utoipa::path(post, path = "/webhooks/twilio/status", tag = "webhooks",
    request_body(content = String, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200, description = "Empty TwiML", content_type = "text/xml", body = String),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(()))]
async fn twilio_status(
    State(state): State<AppState>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    twilio(&state, TwilioHook::Status, &uri, &headers, &body).await
}

/// A Resend event (Svix-signed JSON).
#[utoipa::path(post, path = "/webhooks/resend", tag = "webhooks",
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, body = WebhookAck), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(()))]
async fn resend(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<WebhookAck>, ApiError> {
    let receipt = receive::receive_resend(
        &state.services.pool,
        &state.settings.webhooks,
        &request_headers(&headers),
        &body,
        chrono::Utc::now().timestamp(),
    )
    .await
    .map_err(error)?;
    Ok(axum::Json(receipt.into()))
}

/// A Vapi server message; `tool-calls` are answered with `{"results": [{"toolCallId", "result"}]}`.
#[utoipa::path(post, path = "/webhooks/vapi", tag = "webhooks",
    request_body(content = Object, content_type = "application/json"),
    responses((status = 200, body = Object), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(()))]
async fn vapi(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<axum::Json<Value>, ApiError> {
    let answer = receive::receive_vapi(
        &state.services.pool,
        &state.settings.webhooks,
        &request_headers(&headers),
        &body,
    )
    .await
    .map_err(error)?;
    Ok(axum::Json(match answer {
        VapiAnswer::ToolResults(v) => v,
        VapiAnswer::Ack(r) => serde_json::to_value(WebhookAck::from(r)).unwrap_or(Value::Null),
    }))
}
