//! Job effect records (`job_effects`): a job's once-only effects, keyed by effect. Forgetting
//! one lets a retry of the job repeat the effect.

use sqlx::PgExecutor;

use crate::StoreError;

/// Forgets a job's effect record (`job_effects`), so a retry of the job repeats the effect
/// (used when a spent credit is refunded).
pub async fn forget_job_effect(
    db: impl PgExecutor<'_>,
    effect_key: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM job_effects WHERE effect_key = $1")
        .bind(effect_key)
        .execute(db)
        .await?;
    Ok(())
}

/// Retention: deletes at most `limit` effect records older than `days` days; returns how
/// many went.
pub async fn delete_older_than(
    db: impl PgExecutor<'_>,
    days: i32,
    limit: i64,
) -> Result<u64, StoreError> {
    crate::rows::delete_batch(
        db,
        "DELETE FROM job_effects WHERE effect_key IN (
             SELECT effect_key FROM job_effects
              WHERE created_at < now() - make_interval(days => $1) LIMIT $2)",
        days,
        limit,
    )
    .await
}
