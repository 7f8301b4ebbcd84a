//! The dead letter (count, page, re-run), a job's state, and retention of done jobs.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::{JobState, decode_state};
use crate::StoreError;
use crate::retention::RetentionDelete;

/// Number of jobs in the dead-letter state.
pub async fn dead_count(pool: &PgPool) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar(concat!("SELECT count(*) FROM apalis.jobs WHERE ", dead!()))
            .fetch_one(pool)
            .await?,
    )
}

/// One dead job row.
#[derive(Debug, Clone, PartialEq)]
pub struct DeadRow {
    /// `apalis.jobs.id`.
    pub id: String,
    /// The kind's name.
    pub job_type: String,
    /// Stored priority (the lane).
    pub priority: i32,
    /// `Failed` (attempts used up) or `Killed` (permanent error).
    pub state: JobState,
    /// Attempts made.
    pub attempts: i32,
    /// Attempts allowed.
    pub max_attempts: i32,
    /// The stored last result (error, attempt, reason, at).
    pub last_result: Option<serde_json::Value>,
    /// The payload bytes.
    pub job: Vec<u8>,
    /// When it was last due.
    pub run_at: DateTime<Utc>,
    /// When it died.
    pub done_at: Option<DateTime<Utc>>,
}

/// A page of dead jobs, most recently failed first, with the count of all dead jobs (`None`
/// when the page is empty: the count comes with the rows).
pub async fn dead_page(
    pool: &PgPool,
    limit: i64,
    offset: i64,
) -> Result<(Vec<DeadRow>, Option<i64>), StoreError> {
    type Row = (
        String,
        String,
        i32,
        String,
        i32,
        i32,
        Option<serde_json::Value>,
        Vec<u8>,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
        i64,
    );
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "SELECT id, job_type, priority, status, attempts, max_attempts, last_result, job, run_at,
                done_at, count(*) OVER ()
           FROM apalis.jobs WHERE ",
        dead!(),
        "
          ORDER BY done_at DESC NULLS LAST, id DESC
          LIMIT $1 OFFSET $2"
    ))
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total = rows.first().map(|row| row.10);
    let rows = rows
        .into_iter()
        .map(|r| {
            Ok(DeadRow {
                state: decode_state(&r.3)?,
                id: r.0,
                job_type: r.1,
                priority: r.2,
                attempts: r.4,
                max_attempts: r.5,
                last_result: r.6,
                job: r.7,
                run_at: r.8,
                done_at: r.9,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok((rows, total))
}

/// Puts the dead job `id` back to `Pending`, due now, with a fresh attempt budget (the last
/// result stays until it runs again). Answers its kind, or `None` when `id` is not dead.
pub async fn retry_dead(pool: &PgPool, id: &str) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar(concat!(
        "UPDATE apalis.jobs
            SET status = '",
        state!(Pending),
        "', attempts = 0, run_at = now(), done_at = NULL,
                lock_by = NULL, lock_at = NULL
          WHERE id = $1 AND ",
        dead!(),
        "
         RETURNING job_type"
    ))
    .bind(id)
    .fetch_optional(pool)
    .await?)
}

/// The state of job `id`, `None` when there is no such job.
pub async fn state_of(pool: &PgPool, id: &str) -> Result<Option<JobState>, StoreError> {
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM apalis.jobs WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    status.as_deref().map(decode_state).transpose()
}

/// Retention: jobs done more than `$1` days ago, `$2` at a time.
pub const DONE_RETENTION: RetentionDelete = RetentionDelete::new(concat!(
    "DELETE FROM apalis.jobs WHERE id IN (
             SELECT id FROM apalis.jobs
              WHERE status = '",
    state!(Done),
    "' AND done_at < now() - make_interval(days => $1) LIMIT $2)"
));
