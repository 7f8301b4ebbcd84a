//! Request ids: `x-request-id` from the caller when it is a short token of safe characters
//! (at most 128 of `A-Z a-z 0-9 - _ . :`), else a new UUID v7; kept in a task-local while the
//! request runs so errors, logs and audit rows can carry it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Request};
use tower_http::request_id::{MakeRequestId, RequestId as TowerRequestId};

/// The request id header.
pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static CURRENT: String;
}

/// Makes UUID v7 request ids (time-ordered, so logs sort by them).
#[derive(Debug, Clone, Copy, Default)]
pub struct MakeRequestUuidV7;

impl MakeRequestId for MakeRequestUuidV7 {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<TowerRequestId> {
        HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
            .ok()
            .map(TowerRequestId::new)
    }
}

/// Longest caller-chosen request id kept.
pub const MAX_LEN: usize = 128;

/// True for a caller's id worth keeping: short, and only characters safe in logs and headers.
pub fn is_safe(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Removes a caller's `x-request-id` that is not [`is_safe`] (a new one is generated).
pub async fn drop_unsafe<B>(mut request: Request<B>) -> Request<B> {
    let unsafe_id = request
        .headers()
        .get_all(HEADER)
        .iter()
        .any(|v| !v.to_str().is_ok_and(is_safe))
        || request.headers().get_all(HEADER).iter().count() > 1;
    if unsafe_id {
        request.headers_mut().remove(HEADER);
    }
    request
}

/// The id of the request being handled, when called inside one.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// Runs `fut` with `id` as the current request id.
pub(crate) async fn scope<F: Future>(id: String, fut: F) -> F::Output {
    CURRENT.scope(id, fut).await
}

/// The id from a request's headers ("" when absent).
pub(crate) fn from_headers(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Extractor: the current request's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestId(from_headers(&parts.headers)))
    }
}
