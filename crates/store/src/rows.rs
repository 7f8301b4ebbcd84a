//! Small helpers the repositories share for writes to tenant rows: the soft delete of a live
//! row and the "no row touched means `NotFound`" check.

use sqlx::PgConnection;
use sqlx::postgres::PgQueryResult;
use uuid::Uuid;

use crate::StoreError;

/// `NotFound` when the write touched no row.
pub(crate) fn touched(done: PgQueryResult) -> Result<(), StoreError> {
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Soft-deletes the live row `id` of the client in `table` (a table name written in the code,
/// never user input); `NotFound` when it is not a live row of the client.
pub(crate) async fn soft_delete(
    conn: &mut PgConnection,
    table: &'static str,
    client_id: Uuid,
    id: Uuid,
) -> Result<(), StoreError> {
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET deleted_at = now(), updated_at = now()
          WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL"
    )))
    .bind(client_id)
    .bind(id)
    .execute(conn)
    .await?;
    touched(done)
}
