//! `AuthUser` (the verified caller, their `users` row created on first sight; the row is
//! remembered in-process for `USER_CACHE_TTL_SECS`, see [`crate::auth::known_users`]) and
//! `PlatformAdmin` (an `AuthUser` with `is_platform_admin`).

use agency_domain::UserId;
use agency_engine::tenancy;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::auth::{Claims, KnownUser};
use crate::error::ApiError;
use crate::server::AppState;

/// The signed-in user.
#[derive(Debug, Clone)]
pub struct AuthUser {
    /// The user id (JWT `sub`).
    pub id: UserId,
    /// The email in the token (strictly parsed, not marked unverified), if any.
    pub token_email: Option<String>,
    /// The email stored for the user.
    pub email: Option<String>,
    /// Operator of the platform.
    pub is_platform_admin: bool,
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(user) = parts.extensions.get::<AuthUser>() {
            return Ok(user.clone());
        }
        let claims = parts
            .extensions
            .get::<Claims>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("missing_token", "Sign in to continue."))?;
        let id = UserId::from_uuid(claims.sub);
        // Parsed strictly (ASCII, lowercased) and verified by the JWT layer.
        let token_email = claims.email.map(String::from);
        // The upsert runs only for a user this process has not seen within the TTL.
        let known = match state.known_users.get(claims.sub) {
            Some(known) => known,
            None => {
                let row = tenancy::ensure_user(&state.services, id, token_email.as_deref()).await?;
                let known = KnownUser {
                    email: row.email,
                    is_platform_admin: row.is_platform_admin,
                };
                state.known_users.insert(claims.sub, known.clone());
                known
            }
        };
        tracing::Span::current().record("user_id", tracing::field::display(id));
        let user = AuthUser {
            id,
            token_email,
            email: known.email,
            is_platform_admin: known.is_platform_admin,
        };
        parts.extensions.insert(user.clone());
        Ok(user)
    }
}

/// A platform admin (for `/api/v1/admin`); anyone else gets 403.
#[derive(Debug, Clone)]
pub struct PlatformAdmin(pub AuthUser);

impl FromRequestParts<AppState> for PlatformAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        if !user.is_platform_admin {
            return Err(ApiError::forbidden("Only platform admins may do this."));
        }
        Ok(PlatformAdmin(user))
    }
}
