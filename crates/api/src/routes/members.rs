//! Members of a client: list (any member), invite by email, change a role and remove (admin
//! or owner), and the invitee's acceptance (`POST /memberships/{id}/accept`). Rules: only an
//! owner grants the owner role or changes/removes an owner; the last owner can be neither
//! demoted nor removed (409), checked under a lock on the owner rows.

use agency_domain::{Email, MembershipId, Role};
use agency_store::StoreError;
use agency_store::audit::{self, AuditEntry};
use agency_store::memberships::{self, MemberRow};
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody};
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

fn parse_role(text: &str) -> Result<Role, ApiError> {
    text.parse().map_err(ApiError::internal)
}

fn summary(m: &MemberRow) -> serde_json::Value {
    json!({"email": m.email, "role": m.role, "accepted": m.accepted_at.is_some()})
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
    let mut conn = state.services.pool.acquire().await?;
    let (rows, total) =
        memberships::list(&mut conn, tenant.client_id, page.limit(), page.offset()).await?;
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
    tenant.require(Role::Admin)?;
    if body.role == Role::Owner {
        tenant.require(Role::Owner)?;
    }
    let mut tx = state.services.pool.begin().await?;
    if memberships::email_is_member(&mut tx, tenant.client_id, body.email.as_str()).await? {
        return Err(ApiError::conflict(
            "already_member",
            "This person is already a member of the client.",
        ));
    }
    let row = memberships::invite(
        &mut tx,
        tenant.client_id,
        body.email.as_str(),
        body.role.as_str(),
        tenant.user.id,
    )
    .await
    .map_err(|e| match e {
        e if e.is_conflict_on("memberships_invite_client_idx") => ApiError::conflict(
            "already_invited",
            "This email already has a pending invite.",
        ),
        e => e.into(),
    })?;
    audit::record(
        &mut tx,
        &tenant
            .audit("member.invited", "membership")
            .entity(row.id)
            .after(summary(&row)),
    )
    .await?;
    tx.commit().await?;
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
    tenant.require(Role::Admin)?;
    let id = MembershipId::from_uuid(path.id);
    let mut tx = state.services.pool.begin().await?;
    let owners = memberships::lock_owners(&mut tx, tenant.client_id).await?;
    let current = memberships::get(&mut tx, tenant.client_id, id, true).await?;
    let current_role = parse_role(&current.role)?;
    if body.role == Role::Owner || current_role == Role::Owner {
        tenant.require(Role::Owner)?;
    }
    if current_role == Role::Owner
        && body.role != Role::Owner
        && current.accepted_at.is_some()
        && owners <= 1
    {
        return Err(ApiError::conflict(
            "last_owner",
            "The last owner cannot be demoted; make someone else owner first.",
        ));
    }
    let row = memberships::set_role(&mut tx, tenant.client_id, id, body.role.as_str()).await?;
    let entry = tenant
        .audit("member.role_changed", "membership")
        .entity(row.id)
        .before(summary(&current))
        .after(summary(&row));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
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
    tenant.require(Role::Admin)?;
    let id = MembershipId::from_uuid(path.id);
    let mut tx = state.services.pool.begin().await?;
    let owners = memberships::lock_owners(&mut tx, tenant.client_id).await?;
    let current = memberships::get(&mut tx, tenant.client_id, id, true).await?;
    if parse_role(&current.role)? == Role::Owner {
        tenant.require(Role::Owner)?;
        if current.accepted_at.is_some() && owners <= 1 {
            return Err(ApiError::conflict(
                "last_owner",
                "The last owner cannot be removed.",
            ));
        }
    }
    memberships::remove(&mut tx, tenant.client_id, id).await?;
    audit::record(
        &mut tx,
        &tenant
            .audit("member.removed", "membership")
            .entity(current.id)
            .before(summary(&current)),
    )
    .await?;
    tx.commit().await?;
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
    let id = MembershipId::from_uuid(id);
    let mut tx = state.services.pool.begin().await?;
    let invite = memberships::pending_invite(&mut tx, id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ApiError::not_found("invite"),
            e => e.into(),
        })?;
    let invited = invite.invited_email.as_deref().map(str::to_lowercase);
    let caller = user.token_email.as_deref().map(str::to_lowercase);
    if invited.is_none() || invited != caller {
        // Someone else's invite: indistinguishable from a missing one.
        return Err(ApiError::not_found("invite"));
    }
    let accepted = memberships::accept(&mut tx, id, user.id)
        .await
        .map_err(|e| match e {
            e if e.is_conflict_on("memberships_user_client_idx") => {
                ApiError::conflict("already_member", "You are already a member of this client.")
            }
            e => e.into(),
        })?;
    let entry = AuditEntry::user(
        Some(accepted.client_id.into()),
        user.id,
        "member.accepted",
        "membership",
    )
    .entity(accepted.id)
    .after(json!({"role": accepted.role}))
    .request_id(request_id::current());
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(ApiJson(accepted.into()))
}
