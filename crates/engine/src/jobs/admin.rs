//! Dead-letter administration behind `agencyctl jobs dead-letter` and
//! `/api/v1/admin/jobs/...`: list dead jobs, and put one back to run again.

use agency_store::jobs::{self, JobState};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::kind::Lane;
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
    pub status: JobState,
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

/// Dead jobs, most recently failed first. `page` from 1; `page_size` clamped to 1..=100.
pub async fn list_dead(
    pool: &PgPool,
    page: u32,
    page_size: u32,
) -> Result<DeadJobPage, UseCaseError> {
    let page = page.max(1);
    let page_size = page_size.clamp(1, MAX_PAGE_SIZE);
    let offset = i64::from(page - 1) * i64::from(page_size);
    let (rows, total) = jobs::dead_page(pool, i64::from(page_size), offset).await?;
    let total = match total {
        Some(total) => total,
        None if page == 1 => 0,
        None => jobs::dead_count(pool).await?,
    };
    let items = rows
        .into_iter()
        .map(|row| DeadJob {
            queue: Lane::from_priority(row.priority).as_str(),
            last_error: row.last_result.as_ref().and_then(|r| match r {
                serde_json::Value::String(s) => Some(s.clone()),
                other => other
                    .get("error")
                    .and_then(|e| e.as_str())
                    .map(str::to_owned),
            }),
            payload: serde_json::from_slice(&row.job).unwrap_or(serde_json::Value::Null),
            id: row.id,
            kind: row.job_type,
            status: row.state,
            attempts: row.attempts,
            max_attempts: row.max_attempts,
            last_result: row.last_result,
            run_at: row.run_at,
            failed_at: row.done_at,
        })
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

/// A job put back to run.
#[derive(Debug, Clone, Serialize)]
pub struct RetriedJob {
    /// The job.
    pub id: String,
    /// Its kind.
    pub kind: String,
    /// Now `Pending`.
    pub status: JobState,
}

/// Puts a dead job back to `Pending`, due now, with a fresh attempt budget (the last error is
/// kept in `last_result` until it runs again).
pub async fn retry(pool: &PgPool, id: &str) -> Result<RetriedJob, UseCaseError> {
    if let Some(kind) = jobs::retry_dead(pool, id).await? {
        return Ok(RetriedJob {
            id: id.to_owned(),
            kind,
            status: JobState::Pending,
        });
    }
    Err(match jobs::state_of(pool, id).await? {
        Some(state) => UseCaseError::Conflict {
            code: "job_not_dead",
            message: format!("Only dead-letter jobs can be retried; job {id} is {state}."),
        },
        None => UseCaseError::NotFound("job"),
    })
}
