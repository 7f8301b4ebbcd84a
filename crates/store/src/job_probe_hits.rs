//! The test-only `probe` job kind's counters (`job_probe_hits`, feature `test-kinds`): the
//! table's creation in a test database and the hit a probe counts.

use sqlx::{PgConnection, PgPool};

use crate::StoreError;

/// Creates `job_probe_hits` if it is missing.
pub async fn create(pool: &PgPool) -> Result<(), StoreError> {
    sqlx::raw_sql(include_str!("job_probe_hits.sql"))
        .execute(pool)
        .await?;
    Ok(())
}

/// Adds one hit to the counter `name` in the caller's transaction.
pub async fn hit(conn: &mut PgConnection, name: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO job_probe_hits (name, hits) VALUES ($1, 1)
         ON CONFLICT (name) DO UPDATE SET hits = job_probe_hits.hits + 1, updated_at = now()",
    )
    .bind(name)
    .execute(conn)
    .await?;
    Ok(())
}
