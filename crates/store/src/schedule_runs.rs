//! Schedule runs (`schedule_runs`, one row per schedule tick that fired): the record that
//! makes a tick fire once across schedulers, and its retention.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::StoreError;
use crate::retention::RetentionDelete;

/// Records that `schedule` fired its `tick` as job `job_id` (by scheduler `fired_by`), inside
/// the caller's transaction; `false` when that tick was already recorded (another scheduler
/// fired it first).
pub async fn record(
    conn: &mut PgConnection,
    schedule: &str,
    tick: DateTime<Utc>,
    job_id: &str,
    fired_by: &str,
) -> Result<bool, StoreError> {
    let recorded = sqlx::query(
        "INSERT INTO schedule_runs (schedule, tick, job_id, fired_by) VALUES ($1, $2, $3, $4)
             ON CONFLICT (schedule, tick) DO NOTHING",
    )
    .bind(schedule)
    .bind(tick)
    .bind(job_id)
    .bind(fired_by)
    .execute(conn)
    .await?;
    Ok(recorded.rows_affected() == 1)
}

/// Retention: runs of ticks more than `$1` days ago, `$2` at a time.
pub const RETENTION: RetentionDelete = RetentionDelete::new(
    "DELETE FROM schedule_runs WHERE (schedule, tick) IN (
             SELECT schedule, tick FROM schedule_runs
              WHERE tick < now() - make_interval(days => $1) LIMIT $2)",
);
