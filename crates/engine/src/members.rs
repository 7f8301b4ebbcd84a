//! Members of a client: list, invite by email, change a role, remove, and the invitee's
//! acceptance. Rules: admins and owners manage members; only an owner grants the owner role or
//! changes or removes an owner; the last accepted owner can be neither demoted nor removed
//! (checked under a lock on the owner rows, in the change's transaction).

use agency_domain::{Email, MembershipId, Role, UserId};
use agency_store::audit::{self, AuditEntry};
use agency_store::memberships::{self, UserMembership};

pub use agency_store::memberships::MemberRow;
use serde_json::json;

use crate::Services;
use crate::error::UseCaseError;
use crate::tenancy::TenantContext;

/// Members and pending invites, one page (`limit`, `offset`), and the total.
pub async fn list(
    services: &Services,
    tenant: &TenantContext,
    limit: i64,
    offset: i64,
) -> Result<(Vec<MemberRow>, i64), UseCaseError> {
    let mut conn = services.pool.acquire().await?;
    Ok(memberships::list(&mut conn, tenant.client_id, limit, offset).await?)
}

/// Invites `email` with `role` (admin or owner; only an owner invites an owner).
pub async fn invite(
    services: &Services,
    tenant: &TenantContext,
    email: &Email,
    role: Role,
) -> Result<MemberRow, UseCaseError> {
    tenant.require(Role::Admin)?;
    if role == Role::Owner {
        tenant.require(Role::Owner)?;
    }
    let mut tx = services.pool.begin().await?;
    if memberships::email_is_member(&mut tx, tenant.client_id, email.as_str()).await? {
        return Err(conflict(
            "already_member",
            "This person is already a member of the client.",
        ));
    }
    let row = memberships::invite(
        &mut tx,
        tenant.client_id,
        email.as_str(),
        role.as_str(),
        tenant.user_id,
    )
    .await
    .map_err(|e| {
        if e.is_conflict_on("memberships_invite_client_idx") {
            conflict(
                "already_invited",
                "This email already has a pending invite.",
            )
        } else {
            e.into()
        }
    })?;
    let entry = tenant
        .audit("member.invited", "membership")
        .entity(row.id)
        .after(summary(&row));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(row)
}

/// Changes a member's role (admin or owner; owner-related changes need an owner; the last
/// owner cannot be demoted).
pub async fn set_role(
    services: &Services,
    tenant: &TenantContext,
    id: MembershipId,
    role: Role,
) -> Result<MemberRow, UseCaseError> {
    tenant.require(Role::Admin)?;
    let mut tx = services.pool.begin().await?;
    let owners = memberships::lock_owners(&mut tx, tenant.client_id).await?;
    let current = memberships::get(&mut tx, tenant.client_id, id, true)
        .await
        .map_err(|e| UseCaseError::from(e).naming("member"))?;
    let current_role = role_of(&current)?;
    if role == Role::Owner || current_role == Role::Owner {
        tenant.require(Role::Owner)?;
    }
    if current_role == Role::Owner
        && role != Role::Owner
        && current.accepted_at.is_some()
        && owners <= 1
    {
        return Err(conflict(
            "last_owner",
            "The last owner cannot be demoted; make someone else owner first.",
        ));
    }
    let row = memberships::set_role(&mut tx, tenant.client_id, id, role.as_str()).await?;
    let entry = tenant
        .audit("member.role_changed", "membership")
        .entity(row.id)
        .before(summary(&current))
        .after(summary(&row));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(row)
}

/// Removes a member or cancels an invite (admin or owner; removing an owner needs an owner;
/// the last owner cannot be removed).
pub async fn remove(
    services: &Services,
    tenant: &TenantContext,
    id: MembershipId,
) -> Result<(), UseCaseError> {
    tenant.require(Role::Admin)?;
    let mut tx = services.pool.begin().await?;
    let owners = memberships::lock_owners(&mut tx, tenant.client_id).await?;
    let current = memberships::get(&mut tx, tenant.client_id, id, true)
        .await
        .map_err(|e| UseCaseError::from(e).naming("member"))?;
    if role_of(&current)? == Role::Owner {
        tenant.require(Role::Owner)?;
        if current.accepted_at.is_some() && owners <= 1 {
            return Err(conflict("last_owner", "The last owner cannot be removed."));
        }
    }
    memberships::remove(&mut tx, tenant.client_id, id).await?;
    let entry = tenant
        .audit("member.removed", "membership")
        .entity(current.id)
        .before(summary(&current));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Accepts the invite `id` for `user_id`, when it is addressed to `token_email` (anyone
/// else's invite answers as a missing one).
pub async fn accept(
    services: &Services,
    user_id: UserId,
    token_email: Option<&str>,
    id: MembershipId,
    request_id: Option<String>,
) -> Result<UserMembership, UseCaseError> {
    let mut tx = services.pool.begin().await?;
    let invite = memberships::pending_invite(&mut tx, id)
        .await
        .map_err(|e| UseCaseError::from(e).naming("invite"))?;
    // Both sides through the strict ASCII parser of lead emails: look-alike characters (the
    // Kelvin sign lowercases to `k` under Unicode rules) never match.
    let invited = invite
        .invited_email
        .as_deref()
        .and_then(|e| Email::parse(e).ok());
    let caller = token_email.and_then(|e| Email::parse(e).ok());
    if invited.is_none() || invited != caller {
        return Err(UseCaseError::NotFound("invite"));
    }
    let accepted = memberships::accept(&mut tx, id, user_id)
        .await
        .map_err(|e| {
            if e.is_conflict_on("memberships_user_client_idx") {
                conflict("already_member", "You are already a member of this client.")
            } else {
                e.into()
            }
        })?;
    let entry = AuditEntry::user(
        Some(accepted.client_id.into()),
        user_id,
        "member.accepted",
        "membership",
    )
    .entity(accepted.id)
    .after(json!({"role": accepted.role}))
    .request_id(request_id);
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(accepted)
}

fn conflict(code: &'static str, message: &str) -> UseCaseError {
    UseCaseError::Conflict {
        code,
        message: message.to_owned(),
    }
}

fn role_of(m: &MemberRow) -> Result<Role, UseCaseError> {
    m.role
        .parse()
        .map_err(|e| UseCaseError::Corrupt(format!("membership role: {e}")))
}

fn summary(m: &MemberRow) -> serde_json::Value {
    json!({"email": m.email, "role": m.role, "accepted": m.accepted_at.is_some()})
}
