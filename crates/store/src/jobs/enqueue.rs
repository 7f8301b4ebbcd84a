//! Inserting jobs (apalis-postgres's own insert) and the idempotency keys of live jobs.

use apalis_postgres::PgTask;
use sqlx::PgConnection;

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
