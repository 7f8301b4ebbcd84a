//! `Tenant`: the caller's accepted membership of the client named by the path parameter
//! `client_id`. Not a member (or no such client) answers 404, never 403, so other tenants'
//! ids reveal nothing; within the tenant, [`Tenant::require`] answers 403 for a low role.

use agency_domain::{ClientId, MembershipId, Role};
use agency_store::audit::AuditEntry;
use agency_store::memberships;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::extract::AuthUser;
use crate::request_id;
use crate::server::AppState;

/// The name of the path parameter holding the client id.
pub const CLIENT_ID_PARAM: &str = "client_id";

/// The caller acting within one client.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// The caller.
    pub user: AuthUser,
    /// The client (tenant).
    pub client_id: ClientId,
    /// The client's name.
    pub client_name: String,
    /// The caller's membership.
    pub membership_id: MembershipId,
    /// The caller's role in the client.
    pub role: Role,
}

impl Tenant {
    /// Ok when the caller's role is `min` or higher, else 403.
    pub fn require(&self, min: Role) -> Result<(), ApiError> {
        if self.role.at_least(min) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "This needs the {min} role or higher; you are {} in this client.",
                self.role
            )))
        }
    }

    /// An audit entry for this tenant, actor and request: add `.entity(id)`, `.before(..)`,
    /// `.after(..)` and write it with `agency_store::audit::record` in the change's transaction.
    pub fn audit(&self, action: &str, entity_type: &str) -> AuditEntry {
        AuditEntry::user(Some(self.client_id), self.user.id, action, entity_type)
            .request_id(request_id::current())
    }
}

impl FromRequestParts<AppState> for Tenant {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(t) = parts.extensions.get::<Tenant>() {
            return Ok(t.clone());
        }
        let user = AuthUser::from_request_parts(parts, state).await?;
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::internal_opaque().with_detail("The route has no client id."))?;
        let raw = params
            .iter()
            .find(|(k, _)| *k == CLIENT_ID_PARAM)
            .map(|(_, v)| v.to_owned())
            .ok_or_else(|| {
                ApiError::internal_opaque().with_detail("The route has no client id.")
            })?;
        let client_id: ClientId = raw.parse().map_err(|_| ApiError::not_found("client"))?;
        let access = memberships::access(&state.services.pool, client_id, user.id)
            .await?
            .ok_or_else(|| ApiError::not_found("client"))?;
        let role: Role = access.role.parse().map_err(ApiError::internal)?;
        tracing::Span::current().record("client_id", tracing::field::display(client_id));
        let tenant = Tenant {
            user,
            client_id,
            client_name: access.client_name,
            membership_id: MembershipId::from_uuid(access.membership_id),
            role,
        };
        parts.extensions.insert(tenant.clone());
        Ok(tenant)
    }
}
