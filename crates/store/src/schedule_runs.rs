//! Schedule runs (`schedule_runs`, one row per schedule tick that fired): their retention.

use sqlx::PgExecutor;

use crate::StoreError;

/// Retention: deletes at most `limit` runs of ticks more than `days` days ago; returns how
/// many went.
pub async fn delete_older_than(
    db: impl PgExecutor<'_>,
    days: i32,
    limit: i64,
) -> Result<u64, StoreError> {
    crate::rows::delete_batch(
        db,
        "DELETE FROM schedule_runs WHERE (schedule, tick) IN (
             SELECT schedule, tick FROM schedule_runs
              WHERE tick < now() - make_interval(days => $1) LIMIT $2)",
        days,
        limit,
    )
    .await
}
