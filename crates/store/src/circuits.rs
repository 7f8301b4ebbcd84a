//! Provider circuit states (`provider_circuits`): the worker publishes each breaker's change
//! of state here; the admin console's system status and alert checks read them.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use crate::StoreError;

/// One provider's circuit as last published.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CircuitRow {
    /// Provider name (`apollo`, `resend`, ...).
    pub provider: String,
    /// `closed`, `open` or `half_open`.
    pub state: String,
    /// When it entered that state.
    pub since: DateTime<Utc>,
    /// When open: the earliest trial call.
    pub retry_at: Option<DateTime<Utc>>,
    /// Kind of the last failure recorded, if any.
    pub last_error: Option<String>,
}

/// Stores a change unless a later one of the same provider is stored already. Answers whether
/// it was stored.
pub async fn publish(db: impl PgExecutor<'_>, c: &CircuitRow) -> Result<bool, StoreError> {
    Ok(sqlx::query(
        "INSERT INTO provider_circuits (provider, state, since, retry_at, last_error)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (provider) DO UPDATE
            SET state = excluded.state, since = excluded.since, retry_at = excluded.retry_at,
                last_error = excluded.last_error, updated_at = now()
          WHERE provider_circuits.since <= excluded.since",
    )
    .bind(&c.provider)
    .bind(&c.state)
    .bind(c.since)
    .bind(c.retry_at)
    .bind(&c.last_error)
    .execute(db)
    .await?
    .rows_affected()
        == 1)
}

/// Every published circuit, by provider.
pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<CircuitRow>, StoreError> {
    Ok(sqlx::query_as::<_, CircuitRow>(
        "SELECT provider, state, since, retry_at, last_error FROM provider_circuits
          ORDER BY provider",
    )
    .fetch_all(db)
    .await?)
}
