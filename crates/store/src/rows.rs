//! Small helpers the repositories share for tenant rows: the locked read of a live row, the
//! soft delete of a live row and the "no row touched means `NotFound`" check.

use agency_domain::ClientId;
use sqlx::postgres::{PgQueryResult, PgRow};
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::StoreError;

/// `NotFound` when the write touched no row.
pub(crate) fn touched(done: PgQueryResult) -> Result<(), StoreError> {
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The row lock [`lock_live`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowLock {
    /// `FOR UPDATE`: the caller is about to change the row.
    Update,
    /// `FOR SHARE`: the row may not change or go away until the transaction ends.
    Share,
}

/// The `columns` of the live row `id` of the client in `table` (both written in the code, never
/// user input), read under `lock`; `NotFound` when it is not a live row of the client. `id` is
/// the row's typed id (or a plain UUID for tables without one).
pub(crate) async fn lock_live<T>(
    conn: &mut PgConnection,
    table: &'static str,
    columns: &'static str,
    client_id: ClientId,
    id: impl Into<Uuid>,
    lock: RowLock,
) -> Result<T, StoreError>
where
    T: for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    let id: Uuid = id.into();
    let lock = match lock {
        RowLock::Update => "UPDATE",
        RowLock::Share => "SHARE",
    };
    sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(format!(
        "SELECT {columns} FROM {table}
          WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL FOR {lock}"
    )))
    .bind(client_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Soft-deletes the live row `id` of the client in `table` (a table name written in the code,
/// never user input); `NotFound` when it is not a live row of the client.
pub(crate) async fn soft_delete(
    conn: &mut PgConnection,
    table: &'static str,
    client_id: ClientId,
    id: impl Into<Uuid>,
) -> Result<(), StoreError> {
    let id: Uuid = id.into();
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
