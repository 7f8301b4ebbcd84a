//! Alert repository: the `alerts` table of the platform-admin console. Raising an open alert
//! again (same `dedupe_key`) bumps its count instead of adding a row; acknowledging closes it,
//! so the next occurrence opens a new one.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::StoreError;

/// A stored alert.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AlertRow {
    /// Alert id.
    pub id: Uuid,
    /// The client concerned, if any.
    pub client_id: Option<Uuid>,
    /// Stable kind (e.g. `dead_letters`).
    pub kind: String,
    /// Severity text.
    pub severity: String,
    /// Short title.
    pub title: String,
    /// What happened, for an operator.
    pub description: String,
    /// Structured details.
    pub metadata: serde_json::Value,
    /// Times raised while open.
    pub occurrences: i32,
    /// Last raised.
    pub last_seen_at: DateTime<Utc>,
    /// When acknowledged.
    pub acknowledged_at: Option<DateTime<Utc>>,
    /// First raised.
    pub created_at: DateTime<Utc>,
}

/// An alert to raise.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    /// The client concerned, if any.
    pub client_id: Option<Uuid>,
    /// Stable kind.
    pub kind: String,
    /// Deduplication key: one open alert per key.
    pub dedupe_key: String,
    /// Severity text.
    pub severity: String,
    /// Short title.
    pub title: String,
    /// What happened.
    pub description: String,
    /// Structured details.
    pub metadata: serde_json::Value,
}

const COLUMNS: &str = "id, client_id, kind, severity, title, description, metadata, occurrences,
    last_seen_at, acknowledged_at, created_at";

/// Opens the alert, or bumps the open one with the same key (its description, severity and
/// metadata are replaced by the latest).
pub async fn raise(db: impl PgExecutor<'_>, a: &NewAlert) -> Result<AlertRow, StoreError> {
    Ok(sqlx::query_as::<_, AlertRow>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO alerts (id, client_id, kind, dedupe_key, severity, title, description, metadata)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (dedupe_key) WHERE acknowledged_at IS NULL DO UPDATE
            SET occurrences = alerts.occurrences + 1, last_seen_at = now(),
                severity = EXCLUDED.severity, title = EXCLUDED.title,
                description = EXCLUDED.description, metadata = EXCLUDED.metadata
         RETURNING {COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(a.client_id)
    .bind(&a.kind)
    .bind(&a.dedupe_key)
    .bind(&a.severity)
    .bind(&a.title)
    .bind(&a.description)
    .bind(&a.metadata)
    .fetch_one(db)
    .await?)
}

/// The latest `limit` alerts: open ones first, newest first.
pub async fn list(db: impl PgExecutor<'_>, limit: i64) -> Result<Vec<AlertRow>, StoreError> {
    Ok(sqlx::query_as::<_, AlertRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM alerts
          ORDER BY (acknowledged_at IS NOT NULL), last_seen_at DESC, id DESC LIMIT $1"
    )))
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// Acknowledges the alert (once: a second call keeps the first time and user).
pub async fn acknowledge(
    db: impl PgExecutor<'_>,
    id: Uuid,
    user_id: Uuid,
) -> Result<AlertRow, StoreError> {
    Ok(sqlx::query_as::<_, AlertRow>(sqlx::AssertSqlSafe(format!(
        "UPDATE alerts SET acknowledged_at = COALESCE(acknowledged_at, now()),
                acknowledged_by = COALESCE(acknowledged_by, $2)
          WHERE id = $1 RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(user_id)
    .fetch_one(db)
    .await?)
}
