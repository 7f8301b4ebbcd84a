//! Request extractors: the signed-in user, the tenant of the path and JSON/query/path
//! parsing that answers in the error envelope (400 unreadable, 422 with the field path).

mod auth;
mod json;
mod path;
mod query;
mod tenant;

pub use auth::{AuthUser, PlatformAdmin};
pub use json::ApiJson;
pub use path::ApiPath;
pub use query::ApiQuery;
pub use tenant::{Tenant, TenantClaim};
