//! The job tables (`apalis.jobs`, `apalis.workers`): every statement on them, the states a job
//! row can be in ([`JobState`], apalis's own vocabulary) and the "waiting", "live" and "dead"
//! predicates, each written once. Jobs are inserted with apalis-postgres's own insert
//! ([`push`]); claiming, leases, acknowledgements, retries, the dead letter and retention are
//! ours. Every statement stands alone (no session state), so it works behind a transaction
//! pooler. No rules here: the engine decides backoff, batch sizes and what a failure means.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use apalis_postgres::PgTask;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{PgConnection, PgPool};

use crate::StoreError;

/// The stored text of a state (`apalis.jobs.status`), usable inside `concat!` so the
/// predicates and statements below are built from the same spellings as [`JobState`].
macro_rules! state {
    (Pending) => {
        "Pending"
    };
    (Queued) => {
        "Queued"
    };
    (Running) => {
        "Running"
    };
    (Done) => {
        "Done"
    };
    (Failed) => {
        "Failed"
    };
    (Killed) => {
        "Killed"
    };
}

/// SQL: the row waits to be claimed (once `run_at` is due). The same predicate as apalis's
/// partial index `(job_type, priority DESC, run_at)`, so a claim written with it uses the index.
macro_rules! waiting {
    () => {
        concat!(
            "(status = '",
            state!(Pending),
            "' OR (status = '",
            state!(Failed),
            "' AND attempts < max_attempts))"
        )
    };
}

/// SQL: the row may still run (waiting, queued or running). Written with paths because
/// [`live_job_holds_key`] expands it in other modules of the store.
macro_rules! live {
    () => {
        concat!(
            "(status IN ('",
            $crate::jobs::state!(Pending),
            "', '",
            $crate::jobs::state!(Queued),
            "', '",
            $crate::jobs::state!(Running),
            "') OR (status = '",
            $crate::jobs::state!(Failed),
            "' AND attempts < max_attempts))"
        )
    };
}
pub(crate) use {live, state};

/// SQL: the row is in the dead-letter state (killed, or failed with its attempts used up).
macro_rules! dead {
    () => {
        concat!(
            "(status = '",
            state!(Killed),
            "' OR (status = '",
            state!(Failed),
            "' AND attempts >= max_attempts))"
        )
    };
}

/// SQL: a live job of kind `$kind` holds the idempotency key `$key` (both SQL expressions of
/// the enclosing statement). One lookup in the key's index; no payload is read.
macro_rules! live_job_holds_key {
    ($kind:literal, $key:literal) => {
        concat!(
            "EXISTS (SELECT 1 FROM apalis.jobs WHERE job_type = ",
            $kind,
            " AND idempotency_key = ",
            $key,
            " AND ",
            $crate::jobs::live!(),
            ")"
        )
    };
}
pub(crate) use live_job_holds_key;

/// The state of a job row (apalis's vocabulary, stored as text in `apalis.jobs.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting to run (`run_at` may be in the future: a retry's backoff).
    Pending,
    /// Taken by apalis's own fetcher (our worker never writes it; recovery treats it as held).
    Queued,
    /// Claimed by a worker, under its lease.
    Running,
    /// Finished successfully.
    Done,
    /// Failed; dead when `attempts >= max_attempts`, otherwise waiting for another attempt.
    Failed,
    /// Failed permanently: dead.
    Killed,
}

impl JobState {
    /// Every state.
    pub const ALL: [JobState; 6] = [
        JobState::Pending,
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Failed,
        JobState::Killed,
    ];

    /// The stored text.
    pub const fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => state!(Pending),
            JobState::Queued => state!(Queued),
            JobState::Running => state!(Running),
            JobState::Done => state!(Done),
            JobState::Failed => state!(Failed),
            JobState::Killed => state!(Killed),
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for JobState {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A stored `status` that is not one of apalis's states.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown job state '{0}'")]
pub struct UnknownJobState(pub String);

impl FromStr for JobState {
    type Err = UnknownJobState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownJobState(s.to_owned()))
    }
}

/// Decodes a stored `status`; an unknown value is a [`StoreError::Decode`], never a default.
pub fn decode_state(status: &str) -> Result<JobState, StoreError> {
    status
        .parse()
        .map_err(|e| StoreError::decode("apalis.jobs.status", e))
}

/// SQL condition: the row is in the dead-letter state (served by the partial index
/// `idx_jobs_dead`, migration 20261205100000).
pub const DEAD_CONDITION: &str = dead!();

/// SQL condition: the row may still run (waiting, queued or running).
pub const LIVE_CONDITION: &str = live!();

/// The name of the unique index on `(job_type, idempotency_key)`: a violation of it is a
/// duplicate enqueue.
pub const IDEMPOTENCY_INDEX: &str = "idx_jobs_idempotency_key";

/// The channel apalis's insert trigger notifies (once per job type per statement, ADR-009).
pub const INSERT_CHANNEL: &str = "apalis::job::insert";

/// Inserts `tasks` of kind `job_type` on `conn` with apalis-postgres's own insert (one
/// multi-row statement), so apalis tooling reads our rows and its migrations stay authoritative.
pub async fn push(
    conn: &mut PgConnection,
    job_type: &str,
    tasks: Vec<PgTask>,
) -> Result<(), apalis_postgres::Error> {
    apalis_postgres::queries::push_tasks(conn, job_type, tasks).await
}

/// Serialises the enqueuers of `job_type` in `scope` for the rest of the caller's transaction
/// (an advisory lock), releases `keys` left on finished (done or dead) jobs so the work can
/// be queued again, and answers the keys still held by live jobs.
pub async fn lock_live_keys(
    conn: &mut PgConnection,
    job_type: &str,
    scope: &str,
    keys: &[&str],
) -> Result<Vec<String>, StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("enqueue_unique:{job_type}:{scope}"))
        .execute(&mut *conn)
        .await?;
    sqlx::query(concat!(
        "UPDATE apalis.jobs SET idempotency_key = NULL
          WHERE job_type = $1 AND idempotency_key = ANY($2) AND NOT ",
        live!()
    ))
    .bind(job_type)
    .bind(keys)
    .execute(&mut *conn)
    .await?;
    Ok(sqlx::query_scalar(
        "SELECT idempotency_key FROM apalis.jobs WHERE job_type = $1 AND idempotency_key = ANY($2)",
    )
    .bind(job_type)
    .bind(keys)
    .fetch_all(&mut *conn)
    .await?)
}

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

/// Deletes up to `limit` jobs done more than `days` ago (retention). Returns how many.
pub async fn delete_done(pool: &PgPool, days: i32, limit: i64) -> Result<u64, StoreError> {
    let deleted = sqlx::query(concat!(
        "DELETE FROM apalis.jobs WHERE id IN (
             SELECT id FROM apalis.jobs
              WHERE status = '",
        state!(Done),
        "' AND done_at < now() - make_interval(days => $1) LIMIT $2)"
    ))
    .bind(days)
    .bind(limit)
    .execute(pool)
    .await?;
    Ok(deleted.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_through_their_stored_text() {
        for state in JobState::ALL {
            assert_eq!(state.as_str().parse::<JobState>(), Ok(state));
            assert_eq!(decode_state(&state.to_string()).unwrap(), state);
        }
    }

    #[test]
    fn an_unknown_stored_state_is_an_error_not_a_default() {
        assert_eq!(
            "Scheduled".parse::<JobState>(),
            Err(UnknownJobState("Scheduled".into()))
        );
        assert!("pending".parse::<JobState>().is_err(), "case matters");
        assert!(matches!(
            decode_state("Archived"),
            Err(StoreError::Decode(message)) if message.contains("Archived")
        ));
    }

    #[test]
    fn the_predicates_use_the_stored_spellings() {
        assert_eq!(
            DEAD_CONDITION,
            "(status = 'Killed' OR (status = 'Failed' AND attempts >= max_attempts))"
        );
        assert_eq!(
            LIVE_CONDITION,
            "(status IN ('Pending', 'Queued', 'Running') \
             OR (status = 'Failed' AND attempts < max_attempts))"
        );
        assert_eq!(
            waiting!(),
            "(status = 'Pending' OR (status = 'Failed' AND attempts < max_attempts))"
        );
    }
}
