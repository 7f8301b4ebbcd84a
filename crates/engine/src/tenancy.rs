//! Who acts, and within which client: the caller's access to a client (resolved once per
//! request from an accepted, live membership), the [`TenantContext`] every tenant use-case
//! takes, the role check and the audit entry it writes, and the signed-in user's row.

use agency_domain::{ClientId, MembershipId, Role, UserId};
use agency_store::audit::AuditEntry;
use agency_store::memberships;
use agency_store::users;

pub use agency_store::memberships::UserMembership;
pub use agency_store::users::UserRow;

use crate::Services;
use crate::error::UseCaseError;
use crate::usecase::Actor;

/// A caller acting within one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TenantContext {
    /// The client (tenant).
    pub client_id: ClientId,
    /// The acting user.
    pub user_id: UserId,
    /// The user's role in the client.
    pub role: Role,
    /// The request id, for the audit log.
    pub request_id: Option<String>,
}

impl TenantContext {
    /// Ok when the caller's role is `min` or higher, else a 403 naming both roles.
    pub fn require(&self, min: Role) -> Result<(), UseCaseError> {
        if self.role.at_least(min) {
            Ok(())
        } else {
            Err(UseCaseError::Forbidden(format!(
                "This needs the {min} role or higher; you are {} in this client.",
                self.role
            )))
        }
    }

    /// An audit entry for this tenant, actor and request: add `.entity(id)`, `.before(..)`,
    /// `.after(..)` and record it in the change's transaction.
    pub fn audit(&self, action: &str, entity_type: &str) -> AuditEntry {
        AuditEntry::user(Some(self.client_id), self.user_id, action, entity_type)
            .request_id(self.request_id.clone())
    }

    /// The acting user, for use-cases that take an [`Actor`].
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.user_id.into_uuid()),
            request_id: self.request_id.clone(),
        }
    }
}

/// The caller's access to one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAccess {
    /// The client's name.
    pub client_name: String,
    /// The caller's membership.
    pub membership_id: MembershipId,
    /// The caller's role.
    pub role: Role,
}

/// The user's access to `client_id` through an accepted, live membership of a live client;
/// `None` for anyone else (answered 404 by the API, so other tenants' ids reveal nothing).
pub async fn access(
    services: &Services,
    client_id: ClientId,
    user_id: UserId,
) -> Result<Option<ClientAccess>, UseCaseError> {
    let Some(row) = memberships::access(&services.pool, client_id, user_id).await? else {
        return Ok(None);
    };
    let role: Role = row
        .role
        .parse()
        .map_err(|e| UseCaseError::Corrupt(format!("membership role: {e}")))?;
    Ok(Some(ClientAccess {
        client_name: row.client_name,
        membership_id: MembershipId::from_uuid(row.membership_id),
        role,
    }))
}

/// Creates or refreshes the signed-in user's row (id from the token's `sub`, its email).
pub async fn ensure_user(
    services: &Services,
    user_id: UserId,
    email: Option<&str>,
) -> Result<UserRow, UseCaseError> {
    Ok(users::ensure(&services.pool, user_id, email).await?)
}

/// The user's accepted memberships, with their clients' names.
pub async fn memberships_of(
    services: &Services,
    user_id: UserId,
) -> Result<Vec<UserMembership>, UseCaseError> {
    Ok(memberships::for_user(&services.pool, user_id).await?)
}
