//! The sandbox outbox a tenant sees (`GET .../sandbox/messages`): every message the sandbox
//! providers took for it, newest first.

use agency_domain::ClientId;
use agency_store::PgPool;
use agency_store::outreach::{self as store, SandboxMessage};

use crate::usecase::UseCaseError;

/// A page of the client's sandboxed messages and how many there are.
pub async fn sandbox_messages(
    pool: &PgPool,
    client_id: ClientId,
    limit: i64,
    offset: i64,
) -> Result<(Vec<SandboxMessage>, i64), UseCaseError> {
    let mut conn = pool.acquire().await?;
    Ok(store::sandbox_messages(&mut conn, client_id, limit, offset).await?)
}
