//! Retention deletes: each table's module names its statement as a [`RetentionDelete`]
//! constant, and the clean-up job runs it a batch at a time.

use sqlx::PgExecutor;

use crate::StoreError;

/// A table's retention `DELETE`, taking the age in days (`$1`) and the batch size (`$2`).
/// Only the store's table modules write one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionDelete(&'static str);

impl RetentionDelete {
    /// The statement `sql`.
    pub(crate) const fn new(sql: &'static str) -> Self {
        Self(sql)
    }

    /// Deletes at most `limit` of the rows older than `days` days; returns how many went.
    pub async fn delete_batch(
        self,
        db: impl PgExecutor<'_>,
        days: i32,
        limit: i64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(self.0)
            .bind(days)
            .bind(limit)
            .execute(db)
            .await?;
        Ok(done.rows_affected())
    }
}
