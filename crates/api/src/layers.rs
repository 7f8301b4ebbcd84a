//! The middleware stack around every route, outermost first: request id (kept from the
//! caller or a new UUID v7) and its echo on the response, a tracing span per request
//! (request id, method, path, status, latency; user and client ids recorded when known),
//! CORS, the error envelope (turns any non-JSON error from a layer, a rejection or the router
//! into the JSON envelope and stamps the request id), panic catching (500), the request
//! timeout (503; `REQUEST_TIMEOUT_SECS`, except the CSV import route which gets
//! `IMPORT_TIMEOUT_SECS`, see [`Timeouts`]) and a hard body cap (`IMPORT_MAX_BYTES`; JSON
//! routes are limited further to `MAX_BODY_BYTES` by `DefaultBodyLimit`).

use std::any::Any;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use tracing::field::Empty;

use crate::config::{ApiSettings, CorsOrigins};
use crate::error::{self, ApiError, Enveloped, envelope_response};
use crate::request_id::{self, MakeRequestUuidV7};
use crate::routes::import;

/// Wraps `router` in the full stack.
pub fn apply(router: Router, settings: &ApiSettings) -> Router {
    let trace = TraceLayer::new_for_http()
        .make_span_with(|req: &Request| {
            tracing::info_span!(
                "request",
                request_id = %request_id::from_headers(req.headers()),
                method = %req.method(),
                path = %req.uri().path(),
                user_id = Empty,
                client_id = Empty,
                status = Empty,
                latency_ms = Empty,
            )
        })
        .on_request(())
        .on_response(|res: &Response, latency: Duration, span: &tracing::Span| {
            span.record("status", res.status().as_u16());
            span.record(
                "latency_ms",
                u64::try_from(latency.as_millis()).unwrap_or(u64::MAX),
            );
            tracing::info!("request finished");
        })
        .on_failure(());
    // Router::layer wraps what is already there: innermost first.
    router
        .layer(RequestBodyLimitLayer::new(settings.import_max_bytes))
        .layer(middleware::from_fn_with_state(
            Timeouts::from_settings(settings),
            timeout,
        ))
        .layer(CatchPanicLayer::custom(on_panic))
        .layer(middleware::from_fn(envelope))
        .layer(cors(&settings.cors))
        .layer(trace)
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuidV7))
        .layer(middleware::map_request(request_id::drop_unsafe))
}

/// The request timeouts: the CSV import route (`POST` on [`import::PATH`]) gets `import`,
/// every other request `default`. The choice is made on the method and path before routing,
/// so the import is never cut at the global timeout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// `REQUEST_TIMEOUT_SECS`.
    pub default: Duration,
    /// `IMPORT_TIMEOUT_SECS`.
    pub import: Duration,
}

impl Timeouts {
    /// The timeouts of `settings`.
    pub fn from_settings(settings: &ApiSettings) -> Self {
        Self {
            default: settings.request_timeout,
            import: settings.import_timeout,
        }
    }

    /// The timeout of a request.
    pub fn for_request(&self, method: &Method, path: &str) -> Duration {
        if method == Method::POST && matches_template(import::PATH, path) {
            self.import
        } else {
            self.default
        }
    }
}

/// Whether `path` fits `template`, whose `{param}` segments match any one non-empty segment.
fn matches_template(template: &str, path: &str) -> bool {
    let mut want = template.split('/');
    let mut got = path.split('/');
    loop {
        match (want.next(), got.next()) {
            (None, None) => return true,
            (Some(w), Some(g)) if w.starts_with('{') && w.ends_with('}') => {
                if g.is_empty() {
                    return false;
                }
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return false,
        }
    }
}

/// Answers 503 (the envelope middleware turns it into `timeout`) when the request takes
/// longer than its timeout.
async fn timeout(State(timeouts): State<Timeouts>, req: Request, next: Next) -> Response {
    let limit = timeouts.for_request(req.method(), req.uri().path());
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => StatusCode::SERVICE_UNAVAILABLE.into_response(),
    }
}

/// CORS for the configured origins: GET, POST, PUT, PATCH, DELETE with `authorization` and
/// `content-type`; no credentials; preflights cached for 10 minutes.
pub fn cors(origins: &CorsOrigins) -> CorsLayer {
    let base = CorsLayer::new()
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .expose_headers([request_id::HEADER, header::RETRY_AFTER])
        .max_age(Duration::from_secs(600));
    match origins {
        CorsOrigins::Any => base.allow_origin(AllowOrigin::any()),
        CorsOrigins::List(list) => base.allow_origin(AllowOrigin::list(
            list.iter().filter_map(|o| HeaderValue::from_str(o).ok()),
        )),
        CorsOrigins::None => base.allow_origin(AllowOrigin::list(Vec::<HeaderValue>::new())),
    }
}

fn on_panic(panic: Box<dyn Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned());
    tracing::error!(panic = %message, "handler panicked");
    ApiError::internal_opaque().into_response()
}

/// Runs the request with its id in scope, then makes sure an error response is the envelope.
async fn envelope(req: Request, next: Next) -> Response {
    let rid = request_id::from_headers(req.headers());
    let response = request_id::scope(rid.clone(), next.run(req)).await;
    let status = response.status();
    if let Some(Enveloped(body)) = response.extensions().get::<Enveloped>().cloned() {
        if body.request_id.is_empty() {
            let retry = retry_after(&response);
            let (mut parts, _) = response.into_parts();
            let body = error::ErrorBody {
                request_id: rid,
                ..body
            };
            let fresh = envelope_response(status, body, retry);
            let (fresh_parts, fresh_body) = fresh.into_parts();
            parts.headers.extend(fresh_parts.headers);
            parts.extensions.extend(fresh_parts.extensions);
            parts.headers.remove(header::CONTENT_LENGTH);
            return Response::from_parts(parts, fresh_body);
        }
        return response;
    }
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let err = error::for_status(status);
    let (parts, _) = response.into_parts();
    let fresh = envelope_response(
        err.status,
        err.body(rid),
        err.retry_after_secs
            .filter(|_| err.status == StatusCode::TOO_MANY_REQUESTS),
    );
    let (mut fresh_parts, fresh_body) = fresh.into_parts();
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE
            && name != header::CONTENT_LENGTH
            && !fresh_parts.headers.contains_key(name)
        {
            fresh_parts.headers.insert(name.clone(), value.clone());
        }
    }
    Response::from_parts(fresh_parts, fresh_body)
}

fn retry_after(response: &Response) -> Option<u64> {
    response
        .headers()
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeouts() -> Timeouts {
        Timeouts {
            default: Duration::from_secs(30),
            import: Duration::from_secs(300),
        }
    }

    #[test]
    fn only_the_csv_import_gets_the_import_timeout() {
        let t = timeouts();
        let client = uuid::Uuid::now_v7();
        let campaign = uuid::Uuid::now_v7();
        let import = format!("/api/v1/clients/{client}/campaigns/{campaign}/leads/import");
        assert_eq!(t.for_request(&Method::POST, &import), t.import);
        // Same path, another method; and near misses of the path.
        assert_eq!(t.for_request(&Method::GET, &import), t.default);
        for path in [
            format!("/api/v1/clients/{client}/campaigns/{campaign}/leads"),
            format!("/api/v1/clients/{client}/campaigns/{campaign}/leads/import/x"),
            format!("/api/v1/clients/{client}/campaigns//leads/import"),
            format!("/api/v1/clients/{client}/leads/{campaign}/import"),
            format!("/api/v2/clients/{client}/campaigns/{campaign}/leads/import"),
            "/api/v1/clients".to_owned(),
            "/".to_owned(),
        ] {
            assert_eq!(t.for_request(&Method::POST, &path), t.default, "{path}");
        }
    }

    #[test]
    fn templates_match_whole_segments() {
        assert!(matches_template("/a/{x}/b", "/a/1/b"));
        assert!(!matches_template("/a/{x}/b", "/a/1/b/"));
        assert!(!matches_template("/a/{x}/b", "/a/b"));
        assert!(!matches_template("/a/{x}/b", "/a/1/c"));
    }
}
