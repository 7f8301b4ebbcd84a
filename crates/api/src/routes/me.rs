//! `GET /api/v1/me`: the caller and their memberships.

use agency_store::memberships;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, AuthUser};
use crate::server::AppState;

/// The caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeUser {
    /// User id (the JWT `sub`).
    pub id: Uuid,
    /// Email.
    pub email: Option<String>,
    /// Operator of the platform.
    pub is_platform_admin: bool,
}

/// One accepted membership of the caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeMembership {
    /// Membership id.
    pub id: Uuid,
    /// Client id.
    pub client_id: Uuid,
    /// Client name.
    pub client_name: String,
    /// Role: owner, admin, member or viewer.
    pub role: String,
    /// When it was accepted.
    pub accepted_at: Option<DateTime<Utc>>,
}

/// `GET /me` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The caller.
    pub user: MeUser,
    /// Their accepted memberships of live clients.
    pub memberships: Vec<MeMembership>,
}

impl From<memberships::UserMembership> for MeMembership {
    fn from(m: memberships::UserMembership) -> Self {
        Self {
            id: m.id,
            client_id: m.client_id,
            client_name: m.client_name,
            role: m.role,
            accepted_at: m.accepted_at,
        }
    }
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_me))
}

/// The caller and their memberships.
#[utoipa::path(get, path = "/api/v1/me", tag = "me",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody)))]
pub async fn get_me(State(state): State<AppState>, user: AuthUser) -> ApiResult<ApiJson<Me>> {
    let memberships = memberships::for_user(&state.services.pool, user.id).await?;
    Ok(ApiJson(Me {
        user: MeUser {
            id: user.id.into_uuid(),
            email: user.email,
            is_platform_admin: user.is_platform_admin,
        },
        memberships: memberships.into_iter().map(Into::into).collect(),
    }))
}
