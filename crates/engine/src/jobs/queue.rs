//! The queue operations a worker (and the test [`super::drain`]) runs, over the job table
//! module [`agency_store::jobs`] (where every statement and the job states live): claim on one
//! lane (registered kinds only), complete, release, heartbeat, recovery of jobs whose worker
//! stopped heartbeating, and what a failed attempt becomes (retry after the kind's backoff, or
//! the dead letter).

use std::time::Duration;

use agency_store::StoreError;
use agency_store::jobs;
use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::context::JobError;
use super::kind::{JobKind, Lane};

pub use agency_store::jobs::{
    ClaimedJob, INSERT_CHANNEL, complete, dead_count, heartbeat, recover_expired, register_worker,
    release,
};

/// Claims up to `limit` due jobs of `kinds` on `lane` for `worker`, oldest first.
pub async fn claim(
    pool: &PgPool,
    worker: &str,
    lane: Lane,
    kinds: &[String],
    limit: i64,
) -> Result<Vec<ClaimedJob>, StoreError> {
    jobs::claim(pool, worker, lane.priority(), kinds, limit).await
}

/// Where a failed attempt went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureOutcome {
    /// Dead-lettered: a permanent error, or the last attempt.
    DeadLettered,
    /// Back to `Pending`, due after this backoff.
    RetryAfter(Duration),
}

/// Records a failed attempt of `job` (kind `kind`, unknown when its type did not parse): a
/// permanent error or the last attempt dead-letters it, anything else is retried after the
/// kind's backoff. The one place the runner and [`super::drain`] decide this.
pub async fn settle_failure(
    pool: &PgPool,
    worker: &str,
    job: &ClaimedJob,
    kind: Option<JobKind>,
    error: &JobError,
) -> Result<FailureOutcome, StoreError> {
    let message = error.to_string();
    if error.is_permanent() || job.attempts >= job.max_attempts {
        jobs::dead_letter(
            pool,
            worker,
            &job.id,
            job.attempts,
            &message,
            error.is_permanent(),
        )
        .await?;
        return Ok(FailureOutcome::DeadLettered);
    }
    let attempt = u32::try_from(job.attempts).unwrap_or(1);
    let delay = kind
        .map(|k| k.policy())
        .map_or(Duration::from_secs(60), |p| p.backoff(attempt));
    jobs::retry_later(pool, worker, &job.id, job.attempts, &message, delay).await?;
    Ok(FailureOutcome::RetryAfter(delay))
}

/// One lane's backlog.
#[derive(Debug, Clone, PartialEq)]
pub struct LaneDepth {
    /// The lane.
    pub lane: Lane,
    /// Jobs due now and not running.
    pub depth: i64,
    /// When the oldest of them became due.
    pub oldest_due: Option<DateTime<Utc>>,
}

/// Depth and oldest due job of every lane (all kinds).
pub async fn lane_depths(pool: &PgPool) -> Result<Vec<LaneDepth>, StoreError> {
    let backlogs = jobs::backlog_by_priority(pool).await?;
    Ok(Lane::ALL
        .iter()
        .map(|&lane| {
            let mut depth = 0;
            let mut oldest: Option<DateTime<Utc>> = None;
            for backlog in backlogs
                .iter()
                .filter(|b| Lane::from_priority(b.priority) == lane)
            {
                depth += backlog.depth;
                oldest = match (oldest, backlog.oldest_due) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            }
            LaneDepth {
                lane,
                depth,
                oldest_due: oldest,
            }
        })
        .collect())
}
