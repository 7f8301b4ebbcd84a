//! Job effect records (`job_effects`): a job's once-only effects, keyed by effect. Recording
//! one claims the effect; forgetting one lets a retry of the job repeat the effect.

use sqlx::{PgConnection, PgExecutor};

use crate::StoreError;
use crate::retention::RetentionDelete;

/// Records `effect_key` for the job `job_id` of `kind` inside the caller's transaction:
/// `true` the first time, `false` when it was recorded before. A concurrent duplicate blocks
/// on the key until the first transaction ends.
pub async fn record(
    conn: &mut PgConnection,
    effect_key: &str,
    job_id: &str,
    kind: &str,
) -> Result<bool, StoreError> {
    let inserted = sqlx::query(
        "INSERT INTO job_effects (effect_key, job_id, kind) VALUES ($1, $2, $3)
         ON CONFLICT (effect_key) DO NOTHING",
    )
    .bind(effect_key)
    .bind(job_id)
    .bind(kind)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

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

/// Retention: effect records older than `$1` days, `$2` at a time.
pub const RETENTION: RetentionDelete = RetentionDelete::new(
    "DELETE FROM job_effects WHERE effect_key IN (
             SELECT effect_key FROM job_effects
              WHERE created_at < now() - make_interval(days => $1) LIMIT $2)",
);
