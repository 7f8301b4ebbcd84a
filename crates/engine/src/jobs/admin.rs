//! Dead-letter administration behind `agencyctl jobs dead-letter` and
//! `/api/v1/admin/jobs/...`: list dead jobs, and put one back to run again.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::kind::Lane;
use super::queue::DEAD_CONDITION;
use crate::error::UseCaseError;

/// One dead job.
#[derive(Debug, Clone, Serialize)]
pub struct DeadJob {
    /// `apalis.jobs.id`.
    pub id: String,
    /// The kind (`job_type`).
    pub kind: String,
    /// The lane: critical, default or bulk.
    pub queue: &'static str,
    /// `Failed` (attempts used up) or `Killed` (permanent error).
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// Attempts allowed.
    pub max_attempts: i32,
    /// The last error message.
    pub last_error: Option<String>,
    /// The stored last result (error, attempt, reason, at).
    pub last_result: Option<serde_json::Value>,
    /// The payload (null when it is not JSON).
    pub payload: serde_json::Value,
    /// When it was last due.
    pub run_at: DateTime<Utc>,
    /// When it died.
    pub failed_at: Option<DateTime<Utc>>,
}

/// A page of dead jobs, in the API's paged-list shape.
#[derive(Debug, Clone, Serialize)]
pub struct DeadJobPage {
    /// This page.
    pub items: Vec<DeadJob>,
    /// All dead jobs.
    pub total: i64,
    /// Page number, from 1.
    pub page: u32,
    /// Page size.
    pub page_size: u32,
    /// Pages in total.
    pub total_pages: u32,
}

/// The largest page size allowed.
pub const MAX_PAGE_SIZE: u32 = 100;

type DeadRow = (
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

/// Dead jobs, most recently failed first. `page` from 1; `page_size` clamped to 1..=100.
pub async fn list_dead(
    pool: &PgPool,
    page: u32,
    page_size: u32,
) -> Result<DeadJobPage, UseCaseError> {
    let page = page.max(1);
    let page_size = page_size.clamp(1, MAX_PAGE_SIZE);
    let offset = i64::from(page - 1) * i64::from(page_size);
    let rows: Vec<DeadRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, job_type, priority, status, attempts, max_attempts, last_result, job, run_at,
                done_at, count(*) OVER ()
           FROM apalis.jobs WHERE {DEAD_CONDITION}
          ORDER BY done_at DESC NULLS LAST, id DESC
          LIMIT $1 OFFSET $2"
    )))
    .bind(i64::from(page_size))
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let total = match rows.first() {
        Some(row) => row.10,
        None if page == 1 => 0,
        None => dead_total(pool).await?,
    };
    let items = rows
        .into_iter()
        .map(
            |(
                id,
                kind,
                priority,
                status,
                attempts,
                max_attempts,
                last_result,
                job,
                run_at,
                done_at,
                _,
            )| {
                DeadJob {
                    id,
                    kind,
                    queue: Lane::from_priority(priority).as_str(),
                    status,
                    attempts,
                    max_attempts,
                    last_error: last_result.as_ref().and_then(|r| match r {
                        serde_json::Value::String(s) => Some(s.clone()),
                        other => other
                            .get("error")
                            .and_then(|e| e.as_str())
                            .map(str::to_owned),
                    }),
                    last_result,
                    payload: serde_json::from_slice(&job).unwrap_or(serde_json::Value::Null),
                    run_at,
                    failed_at: done_at,
                }
            },
        )
        .collect();
    let total_pages = u32::try_from((total + i64::from(page_size) - 1) / i64::from(page_size))
        .unwrap_or(u32::MAX);
    Ok(DeadJobPage {
        items,
        total,
        page,
        page_size,
        total_pages,
    })
}

async fn dead_total(pool: &PgPool) -> Result<i64, UseCaseError> {
    Ok(super::queue::dead_count(pool).await?)
}

/// A job put back to run.
#[derive(Debug, Clone, Serialize)]
pub struct RetriedJob {
    /// The job.
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// Now `Pending`.
    pub status: String,
}

/// Puts a dead job back to `Pending`, due now, with a fresh attempt budget (the last error is
/// kept in `last_result` until it runs again).
pub async fn retry(pool: &PgPool, id: &str) -> Result<RetriedJob, UseCaseError> {
    let retried: Option<(String, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE apalis.jobs
            SET status = 'Pending', attempts = 0, run_at = now(), done_at = NULL,
                lock_by = NULL, lock_at = NULL
          WHERE id = $1 AND {DEAD_CONDITION}
         RETURNING id, job_type"
    )))
    .bind(id)
    .fetch_optional(pool)
    .await?;
    match retried {
        Some((id, kind)) => Ok(RetriedJob {
            id,
            kind,
            status: "Pending".into(),
        }),
        None => {
            let status: Option<String> =
                sqlx::query_scalar("SELECT status FROM apalis.jobs WHERE id = $1")
                    .bind(id)
                    .fetch_optional(pool)
                    .await?;
            Err(match status {
                Some(status) => UseCaseError::Conflict {
                    code: "job_not_dead",
                    message: format!("Only dead-letter jobs can be retried; job {id} is {status}."),
                },
                None => UseCaseError::NotFound("job"),
            })
        }
    }
}
