//! Idempotency for at-least-once delivery: a handler records an effect key in the same
//! transaction as the effect; a second delivery of the same job finds the key and skips.

use agency_store::{StoreError, job_effects};
use sqlx::PgConnection;

use super::context::JobContext;

/// Records `effect_key` for this job inside the caller's transaction. Returns `true` the first
/// time (do the effect, then commit) and `false` when it was recorded before (skip). A
/// concurrent duplicate blocks on the key until the first transaction ends.
pub async fn first_time(
    conn: &mut PgConnection,
    ctx: &JobContext,
    effect_key: &str,
) -> Result<bool, StoreError> {
    job_effects::record(conn, effect_key, &ctx.job_id, ctx.kind.name()).await
}
