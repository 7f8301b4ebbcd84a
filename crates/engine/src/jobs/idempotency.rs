//! Idempotency for at-least-once delivery: a handler records an effect key in the same
//! transaction as the effect; a second delivery of the same job finds the key and skips.

use sqlx::PgConnection;

use super::context::JobContext;

/// Records `effect_key` for this job inside the caller's transaction. Returns `true` the first
/// time (do the effect, then commit) and `false` when it was recorded before (skip). A
/// concurrent duplicate blocks on the key until the first transaction ends.
pub async fn first_time(
    conn: &mut PgConnection,
    ctx: &JobContext,
    effect_key: &str,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO job_effects (effect_key, job_id, kind) VALUES ($1, $2, $3)
         ON CONFLICT (effect_key) DO NOTHING",
    )
    .bind(effect_key)
    .bind(&ctx.job_id)
    .bind(ctx.kind.name())
    .execute(&mut *conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}
