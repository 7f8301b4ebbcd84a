//! Members of a client: list (any member), invite by email, change a role and remove (admin
//! or owner), and the invitee's acceptance (`POST /memberships/{id}/accept`). Rules: only an
//! owner grants the owner role or changes/removes an owner; the last owner can be neither
//! demoted nor removed (409), checked under a lock on the owner rows.

use agency_domain::{Email, MembershipId, Role};
use agency_engine::members::{self, MemberRow};
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, AuthUser, Tenant};
use crate::pagination::{Page, Pagination};
use crate::request_id;
use crate::routes::me::MeMembership;
use crate::server::AppState;

/// A member or pending invite.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDto {
    /// Membership id.
    pub id: Uuid,
    /// Client id.
    pub client_id: Uuid,
    /// The user, once accepted.
    pub user_id: Option<Uuid>,
    /// The user's email (or the invited email while pending).
    pub email: Option<String>,
    /// owner, admin, member or viewer.
    pub role: String,
    /// `pending` or `active`.
    pub status: String,
    /// The invited email.
    pub invited_email: Option<String>,
    /// When it was accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<MemberRow> for MemberDto {
    fn from(m: MemberRow) -> Self {
        Self {
            id: m.id,
            client_id: m.client_id,
            user_id: m.user_id,
            email: m.email,
            role: m.role,
            status: if m.accepted_at.is_some() {
                "active"
            } else {
                "pending"
            }
            .to_owned(),
            invited_email: m.invited_email,
            accepted_at: m.accepted_at,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// `POST /members` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberInvite {
    /// The invitee's email.
    #[schema(value_type = String)]
    pub email: Email,
    /// owner, admin, member or viewer.
    #[schema(value_type = String)]
    pub role: Role,
}

/// `PUT /members/{id}` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberRoleUpdate {
    /// The new role.
    #[schema(value_type = String)]
    pub role: Role,
}

/// Path of a membership within a client.
#[derive(Debug, Deserialize)]
pub struct MemberPath {
    /// Client id (checked by `Tenant`).
    pub client_id: Uuid,
    /// Membership id.
    pub id: Uuid,
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_members, invite_member))
        .routes(routes!(update_member, remove_member))
        .routes(routes!(accept_invite))
}

/// The client's members and pending invites (any member).
#[utoipa::path(get, path = "/api/v1/clients/{client_id}/members", tag = "members",
    params(("client_id" = Uuid, Path, description = "Client id"), Pagination),
    responses((status = 200, body = Page<MemberDto>), (status = 404, body = ErrorBody)))]
pub async fn list_members(
    State(state): State<AppState>,
    tenant: Tenant,
    page: Pagination,
) -> ApiResult<ApiJson<Page<MemberDto>>> {
    let (rows, total) = members::list(
        &state.services,
        &tenant.context(),
        page.limit(),
        page.offset(),
    )
    .await?;
    Ok(ApiJson(Page::new(rows, total, page).map(MemberDto::from)))
}

/// Invites someone by email (admin or owner; only an owner invites an owner).
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/members", tag = "members", request_body = MemberInvite,
    params(("client_id" = Uuid, Path, description = "Client id")),
    responses((status = 201, body = MemberDto), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn invite_member(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<MemberInvite>,
) -> ApiResult<(StatusCode, ApiJson<MemberDto>)> {
    let row = members::invite(&state.services, &tenant.context(), &body.email, body.role).await?;
    Ok((StatusCode::CREATED, ApiJson(row.into())))
}

/// Changes a member's role (admin or owner; owner-related changes need an owner).
#[utoipa::path(put, path = "/api/v1/clients/{client_id}/members/{id}", tag = "members", request_body = MemberRoleUpdate,
    params(("client_id" = Uuid, Path, description = "Client id"), ("id" = Uuid, Path, description = "Membership id")),
    responses((status = 200, body = MemberDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn update_member(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath(path): ApiPath<MemberPath>,
    ApiJson(body): ApiJson<MemberRoleUpdate>,
) -> ApiResult<ApiJson<MemberDto>> {
    let id = MembershipId::from_uuid(path.id);
    let row = members::set_role(&state.services, &tenant.context(), id, body.role).await?;
    Ok(ApiJson(row.into()))
}

/// Removes a member or cancels an invite (admin or owner; removing an owner needs an owner).
#[utoipa::path(delete, path = "/api/v1/clients/{client_id}/members/{id}", tag = "members",
    params(("client_id" = Uuid, Path, description = "Client id"), ("id" = Uuid, Path, description = "Membership id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath(path): ApiPath<MemberPath>,
) -> ApiResult<StatusCode> {
    members::remove(
        &state.services,
        &tenant.context(),
        MembershipId::from_uuid(path.id),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Accepts an invite addressed to the caller's email (the token's `email`).
#[utoipa::path(post, path = "/api/v1/memberships/{id}/accept", tag = "members",
    params(("id" = Uuid, Path, description = "Membership (invite) id")),
    responses((status = 200, body = MeMembership), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn accept_invite(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<ApiJson<MeMembership>> {
    let accepted = members::accept(
        &state.services,
        user.id,
        user.token_email.as_deref(),
        MembershipId::from_uuid(id),
        request_id::current(),
    )
    .await?;
    Ok(ApiJson(accepted.into()))
}
