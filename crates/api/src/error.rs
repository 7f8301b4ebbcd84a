//! The one API error type and the JSON error envelope every failure answers with:
//! `{"detail", "code", "request_id", "fields"?: [{"path", "message"}]}`.
//!
//! Handlers return [`ApiError`]; layers and axum rejections are turned into the same envelope
//! by [`crate::layers`]. Unexpected errors log their cause chain and answer an opaque 500.

use std::borrow::Cow;
use std::error::Error as StdError;

use agency_engine::UseCaseError;
use agency_engine::records::StoreError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::request_id;

/// One field that failed validation: the engine's type, serialised into `fields`.
pub use agency_engine::FieldError;

/// The JSON body of every error response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    /// A sentence a user can read.
    pub detail: String,
    /// A stable snake_case code.
    pub code: String,
    /// The request id (also in the `x-request-id` header).
    pub request_id: String,
    /// The failing fields (validation errors only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<FieldError>>,
}

/// Marks a response whose body is already the envelope, so the envelope layer leaves its body
/// alone (it only fills in a missing request id).
#[derive(Debug, Clone)]
pub(crate) struct Enveloped(pub ErrorBody);

/// An API failure: status, code, a readable detail and (for validation) the failing fields.
#[derive(Debug, thiserror::Error)]
#[error("{status} {code}: {detail}")]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable snake_case code.
    pub code: Cow<'static, str>,
    /// A sentence a user can read.
    pub detail: String,
    /// Failing fields (422 only).
    pub fields: Vec<FieldError>,
    /// Seconds to wait (429 only).
    pub retry_after_secs: Option<u64>,
    /// The hidden cause (logged, never sent).
    #[source]
    pub source: Option<Box<dyn StdError + Send + Sync>>,
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with `status`, `code` and `detail`.
    pub fn new(
        status: StatusCode,
        code: impl Into<Cow<'static, str>>,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code: code.into(),
            detail: detail.into(),
            fields: Vec::new(),
            retry_after_secs: None,
            source: None,
        }
    }

    /// 400: the request cannot be read (malformed JSON, bad encoding).
    pub fn bad_request(code: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// 401: missing or unusable credentials.
    pub fn unauthorized(code: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, detail)
    }

    /// 403: authenticated, but the role does not allow this.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 404 for a missing (or other tenant's) `what`, e.g. `not_found("campaign")`.
    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("The {what} was not found."),
        )
    }

    /// 409: the request conflicts with the current state.
    pub fn conflict(code: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    /// 413: the body is larger than allowed.
    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "The request body is too large.",
        )
    }

    /// 422 with the failing fields; the detail is a sentence made from the first one.
    pub fn validation(fields: Vec<FieldError>) -> Self {
        let detail = match fields.as_slice() {
            [] => "Some fields are invalid.".to_owned(),
            [only] => field_sentence(only),
            [first, rest @ ..] => format!(
                "{} {} other field{} {} invalid too.",
                field_sentence(first),
                rest.len(),
                if rest.len() == 1 { "" } else { "s" },
                if rest.len() == 1 { "is" } else { "are" },
            ),
        };
        Self {
            fields,
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                detail,
            )
        }
    }

    /// 422 for one field.
    pub fn field(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError {
            path: path.into(),
            message: message.into(),
        }])
    }

    /// 422 for a rule that is not about one field (e.g. "allocations must sum to 100").
    pub fn unprocessable(code: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, detail)
    }

    /// 429 with `Retry-After`.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        Self {
            retry_after_secs: Some(retry_after_secs.max(1)),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests; try again shortly.",
            )
        }
    }

    /// 500 hiding `cause` (which is logged with its chain).
    pub fn internal(cause: impl StdError + Send + Sync + 'static) -> Self {
        Self {
            source: Some(Box::new(cause)),
            ..Self::internal_opaque()
        }
    }

    /// 500 without a cause.
    pub fn internal_opaque() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "Something went wrong on our side.",
        )
    }

    /// Replaces the detail.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }

    /// The envelope for this error with `request_id`.
    pub fn body(&self, request_id: String) -> ErrorBody {
        ErrorBody {
            detail: self.detail.clone(),
            code: self.code.to_string(),
            request_id,
            fields: if self.fields.is_empty() {
                None
            } else {
                Some(self.fields.clone())
            },
        }
    }

    fn log(&self) {
        if self.status.is_server_error() {
            let mut chain = String::new();
            let mut cause: Option<&(dyn StdError + 'static)> =
                self.source.as_deref().map(|e| e as _);
            while let Some(e) = cause {
                if !chain.is_empty() {
                    chain.push_str(": ");
                }
                chain.push_str(&e.to_string());
                cause = e.source();
            }
            tracing::error!(status = self.status.as_u16(), code = %self.code, cause = %chain, "request failed");
        } else {
            tracing::debug!(status = self.status.as_u16(), code = %self.code, detail = %self.detail, "request refused");
        }
    }
}

/// Words a field message may start with that make "<field> <message>" a sentence.
const PREDICATE_WORDS: &[&str] = &[
    "must", "is", "are", "has", "have", "cannot", "can", "should", "needs", "was", "may",
];

/// A field error as a sentence a user can read (the 422 `detail`, shown as it is): a message
/// that already is one is kept; a predicate ("must be 0 or more") gets the field's name in
/// front ("Daily limit must be 0 or more."); anything else is capitalised and ended.
pub fn field_sentence(f: &FieldError) -> String {
    let message = f.message.trim();
    let starts_upper = message.chars().next().is_some_and(char::is_uppercase);
    let ends = message.ends_with(['.', '!', '?']);
    if starts_upper && ends {
        return message.to_owned();
    }
    let first_word = message.split_whitespace().next().unwrap_or_default();
    let text = if PREDICATE_WORDS.contains(&first_word) {
        let label = f.path.replace('_', " ");
        format!("{label} {message}")
    } else {
        message.to_owned()
    };
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => "This field is invalid".to_owned(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// Renders `body` with `status` as a JSON response marked as an envelope.
pub(crate) fn envelope_response(
    status: StatusCode,
    body: ErrorBody,
    retry_after: Option<u64>,
) -> Response {
    let json = serde_json::to_vec(&body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        json,
    )
        .into_response();
    if let Some(secs) = retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response.extensions_mut().insert(Enveloped(body));
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let body = self.body(request_id::current().unwrap_or_default());
        envelope_response(self.status, body, self.retry_after_secs)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "The record was not found.",
            ),
            StoreError::Conflict { constraint } => {
                tracing::debug!(%constraint, "unique constraint refused a write");
                ApiError::conflict("conflict", "A record with these values already exists.")
            }
            StoreError::Constraint { constraint } => {
                tracing::debug!(%constraint, "constraint refused a write");
                ApiError::unprocessable("constraint_violated", "The request breaks a data rule.")
            }
            StoreError::InvalidValue { sqlstate, message } => {
                tracing::debug!(%sqlstate, %message, "the database refused a value");
                ApiError::unprocessable(
                    "invalid_value",
                    "A value in the request cannot be stored: text must not contain NUL \
                     characters, numbers must be within range and dates must be real dates.",
                )
            }
            other => ApiError::internal(other),
        }
    }
}

/// The one mapping of the engine's error to the HTTP envelope.
impl From<UseCaseError> for ApiError {
    fn from(err: UseCaseError) -> Self {
        match err {
            UseCaseError::Invalid { fields, .. } => ApiError::validation(fields),
            UseCaseError::Forbidden(detail) => ApiError::forbidden(detail),
            UseCaseError::NotFound(what) => ApiError::not_found(what),
            UseCaseError::Conflict { code, message } => ApiError::conflict(code, message),
            UseCaseError::LimitReached {
                code,
                message,
                retry_after_secs,
            } => ApiError {
                code: code.into(),
                ..ApiError::rate_limited(retry_after_secs).with_detail(message)
            },
            UseCaseError::TooLarge(detail) => ApiError::payload_too_large().with_detail(detail),
            UseCaseError::BadInput(detail) => ApiError::bad_request("unreadable_body", detail),
            UseCaseError::Store(e) => ApiError::from(e),
            UseCaseError::Unavailable(_) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "A provider is unavailable; try again shortly.",
            ),
            e @ (UseCaseError::Queue(_) | UseCaseError::Cache(_) | UseCaseError::Corrupt(_)) => {
                ApiError::internal(e)
            }
        }
    }
}

/// The envelope code and detail used for a bare status produced by a layer or the router.
pub(crate) fn for_status(status: StatusCode) -> ApiError {
    match status {
        StatusCode::BAD_REQUEST => {
            ApiError::bad_request("bad_request", "The request could not be read.")
        }
        StatusCode::UNAUTHORIZED => ApiError::unauthorized("unauthorized", "Sign in to continue."),
        StatusCode::FORBIDDEN => ApiError::forbidden("You do not have permission to do this."),
        StatusCode::NOT_FOUND => ApiError::new(status, "route_not_found", "No such route."),
        StatusCode::METHOD_NOT_ALLOWED => ApiError::new(
            status,
            "method_not_allowed",
            "This method is not allowed on this route.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::payload_too_large(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            status,
            "unsupported_media_type",
            "This content type is not accepted.",
        ),
        StatusCode::TOO_MANY_REQUESTS => ApiError::rate_limited(60),
        StatusCode::REQUEST_TIMEOUT
        | StatusCode::SERVICE_UNAVAILABLE
        | StatusCode::GATEWAY_TIMEOUT => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "The request took too long; try again.",
        ),
        s if s.is_server_error() => ApiError::internal_opaque(),
        s => ApiError::new(
            s,
            "error",
            s.canonical_reason().unwrap_or("The request failed."),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sentence(path: &str, message: &str) -> String {
        field_sentence(&FieldError::new(path, message))
    }

    #[test]
    fn validation_details_are_sentences() {
        assert_eq!(
            sentence("daily_limit", "must be 0 or more"),
            "Daily limit must be 0 or more."
        );
        assert_eq!(
            sentence(
                "website_url",
                "The client has no website address yet. Set it first."
            ),
            "The client has no website address yet. Set it first."
        );
        assert_eq!(sentence("steps", "at most 20 steps"), "At most 20 steps.");
        assert_eq!(
            sentence("body", "an SMS must fit one segment"),
            "An SMS must fit one segment."
        );
        let many = ApiError::validation(vec![
            FieldError::new("start_date", "must not be after end_date"),
            FieldError::new("tier", "must be one of hot, warm"),
        ]);
        assert_eq!(
            many.detail,
            "Start date must not be after end_date. 1 other field is invalid too."
        );
        assert_eq!(many.fields.len(), 2);
    }
}
