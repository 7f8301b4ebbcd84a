//! Inserting jobs (apalis-postgres's own insert, or [`TaskColumns`] for a statement that
//! inserts jobs beside other rows) and the idempotency keys of live jobs.

use apalis_postgres::PgTask;
use sqlx::PgConnection;
use sqlx::postgres::types::PgHstore;

use crate::StoreError;

/// Inserts `tasks` of kind `job_type` on `conn` with apalis-postgres's own insert (one
/// multi-row statement), so apalis tooling reads our rows and its migrations stay authoritative.
pub async fn push(
    conn: &mut PgConnection,
    job_type: &str,
    tasks: Vec<PgTask>,
) -> Result<(), apalis_postgres::Error> {
    apalis_postgres::queries::push_tasks(conn, job_type, tasks).await
}

/// Tasks as the column arrays apalis-postgres's insert binds, in the same order and with the
/// same defaults (due now, 25 attempts; a new UUIDv7 id where
/// apalis would take a ULID: the engine always names its jobs), for a statement of our own that inserts
/// jobs with other rows in one round trip ([`crate::webhook_events::insert_many_queued`]).
#[derive(Debug, Default)]
pub struct TaskColumns {
    pub(crate) ids: Vec<String>,
    pub(crate) jobs: Vec<Vec<u8>>,
    pub(crate) max_attempts: Vec<i32>,
    pub(crate) run_ats: Vec<i64>,
    pub(crate) priorities: Vec<i32>,
    pub(crate) metadata: Vec<PgHstore>,
    pub(crate) idempotency_keys: Vec<Option<String>>,
}

impl TaskColumns {
    /// Columns of `tasks`, in order.
    pub fn from_tasks(tasks: Vec<PgTask>) -> Self {
        let now = chrono::Utc::now().timestamp();
        let mut columns = Self::default();
        for task in tasks {
            columns.ids.push(
                task.task_id()
                    .map_or_else(|| uuid::Uuid::now_v7().to_string(), |id| id.to_string()),
            );
            columns
                .run_ats
                .push(task.run_at().map_or(now, |at| at as i64));
            columns
                .priorities
                .push(task.priority().map_or(0, |p| p as i32));
            columns
                .max_attempts
                .push(task.max_attempts().map_or(25, |m| m as i32));
            columns.metadata.push(PgHstore(
                task.metadata()
                    .clone()
                    .into_inner()
                    .into_iter()
                    .map(|(k, v)| (k, Some(v)))
                    .collect(),
            ));
            columns
                .idempotency_keys
                .push(task.idempotency_key().map(str::to_owned));
            columns.jobs.push(task.args);
        }
        columns
    }

    /// How many tasks.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// No tasks.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
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
