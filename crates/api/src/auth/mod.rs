//! Authentication and the per-user rate limit, as one middleware on the `/api/v1` routes:
//! a missing or refused bearer token answers 401; a verified one is counted against the
//! user's window (keyed by `sub`, [`RATE_WINDOW`]) and answers 429 with `Retry-After` once
//! over the limit; otherwise its [`Claims`] are put in the request extensions for the
//! [`crate::extract::AuthUser`] extractor. Unauthenticated requests are not rate limited:
//! they are refused before any database or cache work (a signature check only; JWKS
//! refetches are throttled), so they cost little.

pub mod jwt;
pub mod known_users;

use std::time::Duration;

use agency_cache::Cache;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub use jwt::{Claims, JwtVerifier, TokenError};
pub use known_users::{KnownUser, KnownUsers};

use crate::error::ApiError;
use crate::server::AppState;

/// The rate-limit window.
pub const RATE_WINDOW: Duration = Duration::from_secs(60);

/// The bearer token of a request, if it has one.
fn bearer(req: &Request) -> Result<Option<&str>, ApiError> {
    let Some(value) = req.headers().get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| malformed())?;
    let (scheme, token) = text.trim().split_once(' ').ok_or_else(malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(malformed());
    }
    Ok(Some(token.trim()))
}

fn malformed() -> ApiError {
    ApiError::unauthorized(
        "invalid_token",
        "The Authorization header must be `Bearer <token>`.",
    )
}

/// The middleware: authenticate, rate limit, pass on.
pub async fn authenticate(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let claims = match bearer(&req) {
        Err(e) => return e.into_response(),
        Ok(None) => {
            return ApiError::unauthorized(
                "missing_token",
                "Sign in to continue: the request has no access token.",
            )
            .into_response();
        }
        Ok(Some(token)) => match state.auth.verify(token).await {
            Ok(claims) => claims,
            Err(e) => {
                return ApiError::unauthorized(
                    e.code(),
                    format!("{}.", capitalise(&e.to_string())),
                )
                .into_response();
            }
        },
    };
    if let Err(e) = rate_limit(&state, &claims).await {
        return e.into_response();
    }
    req.extensions_mut().insert(claims);
    next.run(req).await
}

async fn rate_limit(state: &AppState, claims: &Claims) -> Result<(), ApiError> {
    let limit = state.settings.rate_limit_per_minute;
    if limit == 0 {
        return Ok(());
    }
    let key = format!("ratelimit:api:user:{}", claims.sub);
    match state.services.cache.hit_window(&key, RATE_WINDOW).await {
        Ok(hit) if hit.count > limit => {
            let secs = hit.resets_in.as_secs() + u64::from(hit.resets_in.subsec_nanos() > 0);
            Err(ApiError::rate_limited(secs))
        }
        Ok(_) => Ok(()),
        Err(e) => {
            // Fail open: an unavailable counter must not take the API down.
            tracing::warn!(error = %e, "rate-limit counter unavailable; request allowed");
            Ok(())
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
