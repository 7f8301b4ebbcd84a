//! The queue operations a worker runs on `apalis.jobs`: claim (`FOR UPDATE SKIP LOCKED`, one
//! lane, registered kinds only), complete, retry with backoff (`run_at`), dead-letter,
//! heartbeat (extends the lease of running jobs) and recovery of jobs whose worker stopped
//! heartbeating. Every statement stands alone: nothing depends on session state, so it works
//! behind a transaction pooler.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgPool;

use super::context::JobError;
use super::kind::{JobKind, Lane};

/// A claimed job: running, locked by this worker, attempt already counted.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedJob {
    /// `apalis.jobs.id`.
    pub id: String,
    /// `apalis.jobs.job_type` (the kind's name).
    pub job_type: String,
    /// The JSON payload bytes.
    pub job: Vec<u8>,
    /// This attempt, 1-based.
    pub attempts: i32,
    /// Attempts allowed.
    pub max_attempts: i32,
    /// Stored priority (the lane).
    pub priority: i32,
}

/// Status values this module writes (apalis's own vocabulary).
pub mod status {
    /// Waiting to run (`run_at` may be in the future: a retry's backoff).
    pub const PENDING: &str = "Pending";
    /// Claimed by a worker.
    pub const RUNNING: &str = "Running";
    /// Finished successfully.
    pub const DONE: &str = "Done";
    /// Failed; dead when `attempts >= max_attempts`.
    pub const FAILED: &str = "Failed";
    /// Failed permanently: dead.
    pub const KILLED: &str = "Killed";
}

/// SQL condition for "this row is in the dead-letter state".
pub const DEAD_CONDITION: &str =
    "(status = 'Killed' OR (status = 'Failed' AND attempts >= max_attempts))";

/// Registers (or refreshes) this worker in `apalis.workers`; `lock_by` references it.
pub async fn register_worker(pool: &PgPool, worker: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO apalis.workers (id, worker_type, storage_name, layers, last_seen, started_at)
         VALUES ($1, 'agency-worker', 'PostgresStorage', '', now(), now())
         ON CONFLICT (id) DO UPDATE SET last_seen = now()",
    )
    .bind(worker)
    .execute(pool)
    .await?;
    Ok(())
}

/// Claims up to `limit` due jobs of `kinds` on `lane` for `worker`, oldest first.
pub async fn claim(
    pool: &PgPool,
    worker: &str,
    lane: Lane,
    kinds: &[String],
    limit: i64,
) -> Result<Vec<ClaimedJob>, sqlx::Error> {
    // One index range scan per kind (LATERAL), each already in run_at order, merged by the
    // outer ORDER BY: with `job_type = ANY(..)` PostgreSQL would read every due row of the lane
    // and sort them (measured: ~100 ms per claim with 70k queued). The inner WHERE repeats the
    // predicate of apalis's partial index (job_type, priority DESC, run_at) so it is used.
    sqlx::query_as(
        "WITH next AS (
             SELECT j.id FROM unnest($1::text[]) AS k(kind)
             CROSS JOIN LATERAL (
                 SELECT id, run_at FROM apalis.jobs
                  WHERE job_type = k.kind AND priority = $2
                    AND (status = 'Pending' OR (status = 'Failed' AND attempts < max_attempts))
                    AND run_at <= now()
                  ORDER BY priority DESC, run_at
                  LIMIT $3
                  FOR UPDATE SKIP LOCKED) j
             ORDER BY j.run_at
             LIMIT $3)
         UPDATE apalis.jobs j
            SET status = 'Running', lock_by = $4, lock_at = now(), attempts = j.attempts + 1
           FROM next WHERE j.id = next.id
         RETURNING j.id, j.job_type, j.job, j.attempts, j.max_attempts, j.priority",
    )
    .bind(kinds)
    .bind(lane.priority())
    .bind(limit)
    .bind(worker)
    .fetch_all(pool)
    .await
}

/// Marks jobs done, when still held by `worker` (a job recovered from this worker and
/// re-claimed elsewhere is left alone). Returns how many rows changed.
pub async fn complete(pool: &PgPool, worker: &str, ids: &[String]) -> Result<u64, sqlx::Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    let done = sqlx::query(
        "UPDATE apalis.jobs SET status = 'Done', done_at = now(), last_result = NULL
          WHERE id = ANY($1) AND lock_by = $2 AND status = 'Running'",
    )
    .bind(ids)
    .bind(worker)
    .execute(pool)
    .await?;
    Ok(done.rows_affected())
}

/// Puts a failed job back to `Pending`, due after `delay`, recording the error.
pub async fn retry_later(
    pool: &PgPool,
    worker: &str,
    id: &str,
    attempt: i32,
    error: &str,
    delay: Duration,
) -> Result<bool, sqlx::Error> {
    let result = json!({"error": error, "attempt": attempt, "at": Utc::now()});
    let changed = sqlx::query(
        "UPDATE apalis.jobs
            SET status = 'Pending', lock_by = NULL, lock_at = NULL, last_result = $3,
                run_at = now() + make_interval(secs => $4)
          WHERE id = $1 AND lock_by = $2 AND status = 'Running'",
    )
    .bind(id)
    .bind(worker)
    .bind(result)
    .bind(delay.as_secs_f64())
    .execute(pool)
    .await?;
    Ok(changed.rows_affected() == 1)
}

/// Moves a job to the dead-letter state: `Killed` for a permanent error, `Failed` (with its
/// attempts used up) when retries are exhausted.
pub async fn dead_letter(
    pool: &PgPool,
    worker: &str,
    id: &str,
    attempt: i32,
    error: &str,
    permanent: bool,
) -> Result<bool, sqlx::Error> {
    let result = json!({
        "error": error,
        "attempt": attempt,
        "reason": if permanent { "permanent" } else { "exhausted" },
        "at": Utc::now(),
    });
    let changed = sqlx::query(
        "UPDATE apalis.jobs
            SET status = $3, done_at = now(), last_result = $4, lock_by = NULL, lock_at = NULL,
                attempts = GREATEST(attempts, CASE WHEN $3 = 'Failed' THEN max_attempts ELSE attempts END)
          WHERE id = $1 AND lock_by = $2 AND status = 'Running'",
    )
    .bind(id)
    .bind(worker)
    .bind(if permanent {
        status::KILLED
    } else {
        status::FAILED
    })
    .bind(result)
    .execute(pool)
    .await?;
    Ok(changed.rows_affected() == 1)
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
) -> Result<FailureOutcome, sqlx::Error> {
    let message = error.to_string();
    if error.is_permanent() || job.attempts >= job.max_attempts {
        dead_letter(
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
    retry_later(pool, worker, &job.id, job.attempts, &message, delay).await?;
    Ok(FailureOutcome::RetryAfter(delay))
}

/// Returns jobs claimed but never started (shutdown) to `Pending`, giving the attempt back.
pub async fn release(pool: &PgPool, worker: &str, ids: &[String]) -> Result<u64, sqlx::Error> {
    if ids.is_empty() {
        return Ok(0);
    }
    let released = sqlx::query(
        "UPDATE apalis.jobs
            SET status = 'Pending', lock_by = NULL, lock_at = NULL, attempts = GREATEST(attempts - 1, 0)
          WHERE id = ANY($1) AND lock_by = $2 AND status = 'Running'",
    )
    .bind(ids)
    .bind(worker)
    .execute(pool)
    .await?;
    Ok(released.rows_affected())
}

/// Marks the worker seen and extends the leases of `held`, the jobs it has claimed and not yet
/// settled (looked up by id: finished jobs never slow it down).
pub async fn heartbeat(pool: &PgPool, worker: &str, held: &[String]) -> Result<u64, sqlx::Error> {
    sqlx::query("UPDATE apalis.workers SET last_seen = now() WHERE id = $1")
        .bind(worker)
        .execute(pool)
        .await?;
    if held.is_empty() {
        return Ok(0);
    }
    let extended = sqlx::query(
        "UPDATE apalis.jobs SET lock_at = now()
          WHERE id = ANY($2) AND lock_by = $1 AND status = 'Running'",
    )
    .bind(worker)
    .bind(held)
    .execute(pool)
    .await?;
    Ok(extended.rows_affected())
}

/// Puts back running jobs whose lease (`lock_at`) is older than `lease`: their worker died or
/// hung. A job whose attempts are used up is dead-lettered instead. Returns the ids put back.
/// It reads the whole table (no index serves it without taxing every claim, ADR-010), so the
/// runner calls it a few times per lease, not on every heartbeat.
pub async fn recover_expired(pool: &PgPool, lease: Duration) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE apalis.jobs
            SET status = CASE WHEN attempts >= max_attempts THEN 'Failed' ELSE 'Pending' END,
                done_at = CASE WHEN attempts >= max_attempts THEN now() END,
                last_result = jsonb_build_object(
                    'error', 'lease expired: worker ' || coalesce(lock_by, '?') || ' stopped heartbeating',
                    'attempt', attempts, 'at', now()),
                lock_by = NULL, lock_at = NULL
          WHERE status IN ('Running', 'Queued') AND lock_at < now() - make_interval(secs => $1)
         RETURNING id",
    )
    .bind(lease.as_secs_f64())
    .fetch_all(pool)
    .await
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
pub async fn lane_depths(pool: &PgPool) -> Result<Vec<LaneDepth>, sqlx::Error> {
    let rows: Vec<(i32, i64, Option<DateTime<Utc>>)> = sqlx::query_as(
        "SELECT priority, count(*), min(run_at) FROM apalis.jobs
          WHERE (status = 'Pending' OR (status = 'Failed' AND attempts < max_attempts))
            AND run_at <= now()
          GROUP BY priority",
    )
    .fetch_all(pool)
    .await?;
    Ok(Lane::ALL
        .iter()
        .map(|&lane| {
            let mut depth = 0;
            let mut oldest: Option<DateTime<Utc>> = None;
            for (p, n, at) in &rows {
                if Lane::from_priority(*p) == lane {
                    depth += n;
                    oldest = match (oldest, *at) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
            }
            LaneDepth {
                lane,
                depth,
                oldest_due: oldest,
            }
        })
        .collect())
}

/// Number of jobs in the dead-letter state.
pub async fn dead_count(pool: &PgPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM apalis.jobs WHERE {DEAD_CONDITION}"
    )))
    .fetch_one(pool)
    .await
}
