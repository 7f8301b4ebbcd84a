//! The outbox of outbound webhooks (`webhook_deliveries`): one row per event and endpoint,
//! written in the transaction of the change that caused the event; its attempts (claimed one
//! at a time, so two runs of the same job cannot both send), the per-attempt log and the final
//! state. Every query takes the client id first.

use agency_domain::{ClientId, DeliveryStatus, EventType};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgConnection, PgExecutor, Row};
use uuid::Uuid;

use crate::StoreError;
use crate::retention::RetentionDelete;

/// A stored delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// Delivery id.
    pub id: Uuid,
    /// Owning client.
    pub client_id: Uuid,
    /// The endpoint.
    pub endpoint_id: Uuid,
    /// The event (shared by its deliveries to several endpoints).
    pub event_id: Uuid,
    /// The event's type.
    pub event_type: EventType,
    /// The body: `{"type", "timestamp", "data"}`.
    pub payload: serde_json::Value,
    /// Pending, delivered or failed.
    pub status: DeliveryStatus,
    /// Attempts made (claimed).
    pub attempts: i32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The last attempt's start.
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// The last answer's HTTP status.
    pub last_status_code: Option<i32>,
    /// The last attempt's duration, ms.
    pub last_latency_ms: Option<i32>,
    /// The start of the last answer's body (at most 1 KB).
    pub last_response_excerpt: Option<String>,
    /// Why the last attempt failed (transport error, refused address, non-2xx).
    pub last_error: Option<String>,
    /// Every attempt: `{attempt, at, status_code, latency_ms, response_excerpt, error}`.
    pub attempt_log: serde_json::Value,
    /// When the endpoint accepted it.
    pub delivered_at: Option<DateTime<Utc>>,
    /// Created (the event's time).
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl<'r> FromRow<'r, PgRow> for Delivery {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        let decode = |col: &str, e: agency_domain::ParseEnumError| sqlx::Error::ColumnDecode {
            index: col.to_owned(),
            source: Box::new(e),
        };
        let event_type: String = row.try_get("event_type")?;
        let status: String = row.try_get("status")?;
        Ok(Self {
            id: row.try_get("id")?,
            client_id: row.try_get("client_id")?,
            endpoint_id: row.try_get("endpoint_id")?,
            event_id: row.try_get("event_id")?,
            event_type: event_type.parse().map_err(|e| decode("event_type", e))?,
            payload: row.try_get("payload")?,
            status: status.parse().map_err(|e| decode("status", e))?,
            attempts: row.try_get("attempts")?,
            next_attempt_at: row.try_get("next_attempt_at")?,
            last_attempt_at: row.try_get("last_attempt_at")?,
            last_status_code: row.try_get("last_status_code")?,
            last_latency_ms: row.try_get("last_latency_ms")?,
            last_response_excerpt: row.try_get("last_response_excerpt")?,
            last_error: row.try_get("last_error")?,
            attempt_log: row.try_get("attempt_log")?,
            delivered_at: row.try_get("delivered_at")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

const COLUMNS: &str = "id, client_id, endpoint_id, event_id, event_type, payload, status,
    attempts, next_attempt_at, last_attempt_at, last_status_code, last_latency_ms,
    last_response_excerpt, last_error, attempt_log, delivered_at, created_at, updated_at";

/// Inserts a pending delivery of `event_id` to `endpoint_id`, due at `due_at`; answers its id.
pub async fn insert(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    endpoint_id: Uuid,
    event_id: Uuid,
    event_type: EventType,
    payload: &serde_json::Value,
    due_at: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO webhook_deliveries
             (id, client_id, endpoint_id, event_id, event_type, payload, next_attempt_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(client_id)
    .bind(endpoint_id)
    .bind(event_id)
    .bind(event_type.as_str())
    .bind(payload)
    .bind(due_at)
    .fetch_one(db)
    .await?)
}

/// The delivery `id` of the client; `NotFound` otherwise.
pub async fn get(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    id: Uuid,
) -> Result<Delivery, StoreError> {
    sqlx::query_as::<_, Delivery>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_deliveries WHERE client_id = $1 AND id = $2"
    )))
    .bind(client_id)
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or(StoreError::NotFound)
}

/// One page of an endpoint's deliveries, newest first, and their total.
pub async fn page(
    conn: &mut PgConnection,
    client_id: ClientId,
    endpoint_id: Uuid,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Delivery>, i64), StoreError> {
    let rows = sqlx::query_as::<_, Delivery>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_deliveries
          WHERE client_id = $1 AND endpoint_id = $2
          ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    )))
    .bind(client_id)
    .bind(endpoint_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM webhook_deliveries WHERE client_id = $1 AND endpoint_id = $2",
    )
    .bind(client_id)
    .bind(endpoint_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok((rows, total))
}

/// Claims the next attempt of a pending delivery whose attempts are still `seen_attempts`
/// (so of two runs that read the same state only one sends). Answers the attempt number, or
/// `None` when the delivery is no longer pending or another run claimed it.
pub async fn claim_attempt(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    id: Uuid,
    seen_attempts: i32,
    at: DateTime<Utc>,
) -> Result<Option<i32>, StoreError> {
    Ok(sqlx::query_scalar(
        "UPDATE webhook_deliveries
            SET attempts = attempts + 1, last_attempt_at = $4, updated_at = now()
          WHERE client_id = $1 AND id = $2 AND status = 'pending' AND attempts = $3
          RETURNING attempts",
    )
    .bind(client_id)
    .bind(id)
    .bind(seen_attempts)
    .bind(at)
    .fetch_optional(db)
    .await?)
}

/// The outcome of one attempt, for the log.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    /// The attempt number (1-based).
    pub attempt: i32,
    /// When it started.
    pub at: DateTime<Utc>,
    /// The HTTP status, when the endpoint answered.
    pub status_code: Option<i32>,
    /// Duration, ms.
    pub latency_ms: Option<i32>,
    /// The start of the answer's body (at most 1 KB).
    pub response_excerpt: Option<String>,
    /// Why it failed, if it did.
    pub error: Option<String>,
}

/// Records attempt `a` and the delivery's new state: `status`, and when pending the next
/// attempt's due time.
pub async fn record_attempt(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    id: Uuid,
    a: &AttemptRecord,
    status: DeliveryStatus,
    next_attempt_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    let entry = serde_json::json!({
        "attempt": a.attempt,
        "at": a.at,
        "status_code": a.status_code,
        "latency_ms": a.latency_ms,
        "response_excerpt": a.response_excerpt,
        "error": a.error,
    });
    let done = sqlx::query(
        "UPDATE webhook_deliveries
            SET status = $3, next_attempt_at = $4, last_status_code = $5, last_latency_ms = $6,
                last_response_excerpt = $7, last_error = $8,
                attempt_log = attempt_log || jsonb_build_array($9::jsonb),
                delivered_at = CASE WHEN $3 = 'delivered' THEN now() ELSE delivered_at END,
                updated_at = now()
          WHERE client_id = $1 AND id = $2",
    )
    .bind(client_id)
    .bind(id)
    .bind(status.as_str())
    .bind(next_attempt_at)
    .bind(a.status_code)
    .bind(a.latency_ms)
    .bind(&a.response_excerpt)
    .bind(&a.error)
    .bind(entry)
    .execute(db)
    .await?;
    crate::rows::touched(done)
}

/// Gives up a pending delivery without an attempt (its endpoint is disabled or deleted).
pub async fn abandon(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    id: Uuid,
    reason: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE webhook_deliveries
            SET status = 'failed', next_attempt_at = NULL, last_error = $3, updated_at = now()
          WHERE client_id = $1 AND id = $2 AND status = 'pending'",
    )
    .bind(client_id)
    .bind(id)
    .bind(reason)
    .execute(db)
    .await?;
    Ok(())
}

/// Retention: finished (not pending) deliveries created more than `$1` days ago, with their
/// attempt logs, `$2` at a time.
pub const RETENTION: RetentionDelete = RetentionDelete::new(
    "DELETE FROM webhook_deliveries WHERE id IN (
             SELECT id FROM webhook_deliveries
              WHERE status <> 'pending' AND created_at < now() - make_interval(days => $1) LIMIT $2)",
);
