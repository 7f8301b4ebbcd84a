//! `Tenant`: the caller's accepted membership of the client named by the path parameter
//! `client_id`. Not a member (or no such client) answers 404, never 403, so other tenants'
//! ids reveal nothing; within the tenant, [`Tenant::require`] answers 403 for a low role.

use agency_domain::{ClientId, MembershipId, Role};
use agency_engine::TenantContext;
use agency_engine::records::AuditEntry;
use agency_engine::tenancy;
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
    /// The engine's view of this caller: the context every tenant use-case takes.
    pub fn context(&self) -> TenantContext {
        TenantContext {
            client_id: self.client_id,
            user_id: self.user.id,
            role: self.role,
            request_id: request_id::current(),
        }
    }

    /// Ok when the caller's role is `min` or higher, else 403.
    pub fn require(&self, min: Role) -> Result<(), ApiError> {
        Ok(self.context().require(min)?)
    }

    /// An audit entry for this tenant, actor and request: add `.entity(id)`, `.before(..)`,
    /// `.after(..)` and record it through the engine in the change's transaction.
    pub fn audit(&self, action: &str, entity_type: &str) -> AuditEntry {
        self.context().audit(action, entity_type)
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
        let claim = TenantClaim::from_request_parts(parts, state).await?;
        let tenant = Tenant::of_client(state, claim.user, claim.client_id).await?;
        parts.extensions.insert(tenant.clone());
        Ok(tenant)
    }
}

/// The caller and the client named by the path, access **not checked yet**: for a use-case
/// that checks the membership in its own statement (one round trip for the check and the
/// read) and answers 404 as [`Tenant`] does. Every other route takes [`Tenant`].
#[derive(Debug, Clone)]
pub struct TenantClaim {
    /// The caller.
    pub user: AuthUser,
    /// The client the path names.
    pub client_id: ClientId,
}

impl FromRequestParts<AppState> for TenantClaim {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
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
        tracing::Span::current().record("client_id", tracing::field::display(client_id));
        Ok(TenantClaim { user, client_id })
    }
}

impl Tenant {
    /// The caller's accepted membership of `client_id`, for routes that name the client
    /// elsewhere than the path (a query parameter, or the owner of a campaign or lead):
    /// not a member (or no such client) is 404.
    pub async fn of_client(
        state: &AppState,
        user: AuthUser,
        client_id: ClientId,
    ) -> Result<Tenant, ApiError> {
        let access = tenancy::access(&state.services, client_id, user.id)
            .await?
            .ok_or_else(|| ApiError::not_found("client"))?;
        tracing::Span::current().record("client_id", tracing::field::display(client_id));
        Ok(Tenant {
            user,
            client_id,
            client_name: access.client_name,
            membership_id: access.membership_id,
            role: access.role,
        })
    }
}
