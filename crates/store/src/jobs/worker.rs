//! The statements a worker runs: register, claim, acknowledge, retry, dead-letter, release,
//! heartbeat, recover expired leases, and the backlog it samples.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgPool;

use super::JobState;
use crate::StoreError;

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

/// Registers (or refreshes) this worker in `apalis.workers`.
pub async fn register_worker(pool: &PgPool, worker: &str) -> Result<(), StoreError> {
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

/// Claims up to `limit` due jobs of `kinds` with `priority` for `worker`, oldest first
/// (`FOR UPDATE SKIP LOCKED`), counting the attempt.
pub async fn claim(
    pool: &PgPool,
    worker: &str,
    priority: i32,
    kinds: &[String],
    limit: i64,
) -> Result<Vec<ClaimedJob>, StoreError> {
    // One index range scan per kind (LATERAL), each already in run_at order, merged by the
    // outer ORDER BY: with `job_type = ANY(..)` PostgreSQL would read every due row of the lane
    // and sort them (measured: ~100 ms per claim with 70k queued). The inner WHERE repeats the
    // predicate of apalis's partial index (job_type, priority DESC, run_at) so it is used.
    Ok(sqlx::query_as(concat!(
        "WITH next AS (
             SELECT j.id FROM unnest($1::text[]) AS k(kind)
             CROSS JOIN LATERAL (
                 SELECT id, run_at FROM apalis.jobs
                  WHERE job_type = k.kind AND priority = $2
                    AND ",
        waiting!(),
        "
                    AND run_at <= now()
                  ORDER BY priority DESC, run_at
                  LIMIT $3
                  FOR UPDATE SKIP LOCKED) j
             ORDER BY j.run_at
             LIMIT $3)
         UPDATE apalis.jobs j
            SET status = '",
        state!(Running),
        "', lock_by = $4, lock_at = now(), attempts = j.attempts + 1
           FROM next WHERE j.id = next.id
         RETURNING j.id, j.job_type, j.job, j.attempts, j.max_attempts, j.priority"
    ))
    .bind(kinds)
    .bind(priority)
    .bind(limit)
    .bind(worker)
    .fetch_all(pool)
    .await?)
}

/// The condition every write of a worker's own job carries: still held by `$2`, and running
/// (a job recovered from this worker and re-claimed elsewhere is left alone).
macro_rules! held_by_worker {
    () => {
        concat!("lock_by = $2 AND status = '", state!(Running), "'")
    };
}

/// Runs `update` (a statement on the jobs `$1` that `$2` still holds) for `worker`'s `ids`.
/// Returns how many rows changed.
async fn update_held(
    pool: &PgPool,
    update: &'static str,
    worker: &str,
    ids: &[String],
) -> Result<u64, StoreError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let changed = sqlx::query(update)
        .bind(ids)
        .bind(worker)
        .execute(pool)
        .await?;
    Ok(changed.rows_affected())
}

/// Marks jobs done, when still held by `worker`. Returns how many rows changed.
pub async fn complete(pool: &PgPool, worker: &str, ids: &[String]) -> Result<u64, StoreError> {
    let update = concat!(
        "UPDATE apalis.jobs SET status = '",
        state!(Done),
        "', done_at = now(), last_result = NULL
          WHERE id = ANY($1) AND ",
        held_by_worker!()
    );
    update_held(pool, update, worker, ids).await
}

/// Puts a failed job back to `Pending`, due after `delay`, recording the error.
pub async fn retry_later(
    pool: &PgPool,
    worker: &str,
    id: &str,
    attempt: i32,
    error: &str,
    delay: Duration,
) -> Result<bool, StoreError> {
    let result = json!({"error": error, "attempt": attempt, "at": Utc::now()});
    let changed = sqlx::query(concat!(
        "UPDATE apalis.jobs
            SET status = '",
        state!(Pending),
        "', lock_by = NULL, lock_at = NULL, last_result = $3,
                run_at = now() + make_interval(secs => $4)
          WHERE id = $1 AND ",
        held_by_worker!()
    ))
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
) -> Result<bool, StoreError> {
    let result = json!({
        "error": error,
        "attempt": attempt,
        "reason": if permanent { "permanent" } else { "exhausted" },
        "at": Utc::now(),
    });
    let state = if permanent {
        JobState::Killed
    } else {
        JobState::Failed
    };
    let changed = sqlx::query(concat!(
        "UPDATE apalis.jobs
            SET status = $3, done_at = now(), last_result = $4, lock_by = NULL, lock_at = NULL,
                attempts = GREATEST(attempts, CASE WHEN $3 = '",
        state!(Failed),
        "' THEN max_attempts ELSE attempts END)
          WHERE id = $1 AND ",
        held_by_worker!()
    ))
    .bind(id)
    .bind(worker)
    .bind(state.as_str())
    .bind(result)
    .execute(pool)
    .await?;
    Ok(changed.rows_affected() == 1)
}

/// Returns jobs claimed but never started (shutdown) to `Pending`, giving the attempt back.
pub async fn release(pool: &PgPool, worker: &str, ids: &[String]) -> Result<u64, StoreError> {
    let update = concat!(
        "UPDATE apalis.jobs
            SET status = '",
        state!(Pending),
        "', lock_by = NULL, lock_at = NULL, attempts = GREATEST(attempts - 1, 0)
          WHERE id = ANY($1) AND ",
        held_by_worker!()
    );
    update_held(pool, update, worker, ids).await
}

/// Marks the worker seen and extends the leases of `held`, the jobs it has claimed and not yet
/// settled (looked up by id: finished jobs never slow it down).
pub async fn heartbeat(pool: &PgPool, worker: &str, held: &[String]) -> Result<u64, StoreError> {
    sqlx::query("UPDATE apalis.workers SET last_seen = now() WHERE id = $1")
        .bind(worker)
        .execute(pool)
        .await?;
    if held.is_empty() {
        return Ok(0);
    }
    let extended = sqlx::query(concat!(
        "UPDATE apalis.jobs SET lock_at = now()
          WHERE id = ANY($2) AND lock_by = $1 AND status = '",
        state!(Running),
        "'"
    ))
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
pub async fn recover_expired(pool: &PgPool, lease: Duration) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar(concat!(
        "UPDATE apalis.jobs
            SET status = CASE WHEN attempts >= max_attempts THEN '",
        state!(Failed),
        "' ELSE '",
        state!(Pending),
        "' END,
                done_at = CASE WHEN attempts >= max_attempts THEN now() END,
                last_result = jsonb_build_object(
                    'error', 'lease expired: worker ' || coalesce(lock_by, '?') || ' stopped heartbeating',
                    'attempt', attempts, 'at', now()),
                lock_by = NULL, lock_at = NULL
          WHERE status IN ('",
        state!(Running),
        "', '",
        state!(Queued),
        "') AND lock_at < now() - make_interval(secs => $1)
         RETURNING id"
    ))
    .bind(lease.as_secs_f64())
    .fetch_all(pool)
    .await?)
}

/// The due, waiting jobs of one stored priority.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Backlog {
    /// `apalis.jobs.priority`.
    pub priority: i32,
    /// Jobs due now and not running.
    pub depth: i64,
    /// When the oldest of them became due.
    pub oldest_due: Option<DateTime<Utc>>,
}

/// The backlog of every stored priority that has one (all kinds).
pub async fn backlog_by_priority(pool: &PgPool) -> Result<Vec<Backlog>, StoreError> {
    Ok(sqlx::query_as(concat!(
        "SELECT priority, count(*) AS depth, min(run_at) AS oldest_due FROM apalis.jobs
          WHERE ",
        waiting!(),
        "
            AND run_at <= now()
          GROUP BY priority"
    ))
    .fetch_all(pool)
    .await?)
}
