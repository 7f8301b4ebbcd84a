//! The database health ping the admin console's system status runs.

use sqlx::PgExecutor;

use crate::StoreError;

/// Asks PostgreSQL for `SELECT 1`: `Ok` when the database answers.
pub async fn ping(db: impl PgExecutor<'_>) -> Result<(), StoreError> {
    sqlx::query_scalar::<_, i32>("SELECT 1")
        .fetch_one(db)
        .await?;
    Ok(())
}
