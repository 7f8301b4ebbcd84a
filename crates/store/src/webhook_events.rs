//! The webhook inbox (`webhook_events`): every verified event stored before it is answered,
//! unique per (provider, provider event id) so a redelivery stores nothing new; its
//! processing state; and the admin listing and replay.

use std::str::FromStr;

use agency_domain::{ClientId, WebhookProvider, WebhookStatus};
use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

use crate::StoreError;
use crate::jobs::TaskColumns;
use crate::retention::RetentionDelete;

/// A stored event.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    /// Inbox id.
    pub id: Uuid,
    /// Sender.
    pub provider: WebhookProvider,
    /// The provider's id of the event (our dedup key).
    pub provider_event_id: String,
    /// Event type, when known.
    pub event_type: Option<String>,
    /// The tenant it was applied to, once known.
    pub client_id: Option<ClientId>,
    /// The request headers we keep (signature headers and content type).
    pub headers: serde_json::Value,
    /// The body exactly as received.
    pub raw_body: Vec<u8>,
    /// State.
    pub status: WebhookStatus,
    /// Received at.
    pub received_at: DateTime<Utc>,
    /// Finished at.
    pub processed_at: Option<DateTime<Utc>>,
    /// Processing attempts.
    pub attempts: i32,
    /// Why the last attempt failed or what was ignored.
    pub last_error: Option<String>,
}

#[derive(FromRow)]
struct Row {
    id: Uuid,
    provider: String,
    provider_event_id: String,
    event_type: Option<String>,
    client_id: Option<ClientId>,
    headers: serde_json::Value,
    raw_body: Vec<u8>,
    status: String,
    received_at: DateTime<Utc>,
    processed_at: Option<DateTime<Utc>>,
    attempts: i32,
    last_error: Option<String>,
}

impl TryFrom<Row> for WebhookEvent {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(WebhookEvent {
            id: r.id,
            provider: WebhookProvider::from_str(&r.provider)
                .map_err(|e| StoreError::decode("provider", e))?,
            provider_event_id: r.provider_event_id,
            event_type: r.event_type,
            client_id: r.client_id,
            headers: r.headers,
            raw_body: r.raw_body,
            status: WebhookStatus::from_str(&r.status)
                .map_err(|e| StoreError::decode("status", e))?,
            received_at: r.received_at,
            processed_at: r.processed_at,
            attempts: r.attempts,
            last_error: r.last_error,
        })
    }
}

const COLUMNS: &str = "id, provider, provider_event_id, event_type, client_id, headers, raw_body,
    status, received_at, processed_at, attempts, last_error";

/// An event to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhookEvent<'a> {
    /// Sender.
    pub provider: WebhookProvider,
    /// Dedup key.
    pub provider_event_id: &'a str,
    /// Event type.
    pub event_type: Option<&'a str>,
    /// Kept headers.
    pub headers: &'a serde_json::Value,
    /// Raw body.
    pub raw_body: &'a [u8],
    /// `pending` (to process) or `rejected` (unreadable) or `ignored`.
    pub status: WebhookStatus,
    /// Why it was rejected or ignored.
    pub last_error: Option<&'a str>,
    /// The tenant, when the signature already names it (a client's own Twilio account).
    pub client_id: Option<ClientId>,
}

/// Stores the event; `None` when the provider delivered this event id before.
pub async fn insert(
    conn: &mut PgConnection,
    e: &NewWebhookEvent<'_>,
) -> Result<Option<Uuid>, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO webhook_events (id, provider, provider_event_id, event_type, headers, raw_body,
                status, last_error, client_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (provider, provider_event_id) DO NOTHING RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(e.provider.as_str())
    .bind(e.provider_event_id)
    .bind(e.event_type)
    .bind(e.headers)
    .bind(e.raw_body)
    .bind(e.status.as_str())
    .bind(e.last_error)
    .bind(e.client_id)
    .fetch_optional(conn)
    .await?)
}

/// Stores several events and the processing job of each one stored, in one statement: one
/// round trip, and one commit when run on the pool (the group commit of concurrent webhooks).
/// `ids[i]` becomes the id of `events[i]`, and the `i`th task of `jobs` (of type `job_type`) is
/// its processing job. Answers, per event in order, whether it was stored: `false` when that
/// provider event id was delivered before (earlier, or earlier in the same batch), and then
/// neither it nor its job is written.
pub async fn insert_many_queued(
    db: impl PgExecutor<'_>,
    events: &[NewWebhookEvent<'_>],
    ids: &[Uuid],
    job_type: &str,
    jobs: &TaskColumns,
) -> Result<Vec<bool>, StoreError> {
    assert!(
        ids.len() == events.len() && jobs.len() == events.len(),
        "one id and one processing job per webhook event"
    );
    let stored: Vec<Uuid> = sqlx::query_scalar(
        "WITH stored AS (
             INSERT INTO webhook_events (id, provider, provider_event_id, event_type, headers,
                    raw_body, status, last_error, client_id)
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::text[], $5::jsonb[],
                                  $6::bytea[], $7::text[], $8::text[], $9::uuid[])
             ON CONFLICT (provider, provider_event_id) DO NOTHING
             RETURNING id
         ), queued AS (
             INSERT INTO apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at,
                    priority, metadata, idempotency_key)
             SELECT j.id, $10::text, j.job, 'Pending', 0, j.max_attempts, to_timestamp(j.run_at),
                    j.priority, j.metadata, j.idempotency_key
               FROM UNNEST($1::uuid[], $11::text[], $12::bytea[], $13::integer[], $14::bigint[],
                           $15::integer[], $16::hstore[], $17::text[])
                    AS j(event_id, id, job, max_attempts, run_at, priority, metadata,
                         idempotency_key)
               JOIN stored ON stored.id = j.event_id
         )
         SELECT id FROM stored",
    )
    .bind(ids)
    .bind(
        events
            .iter()
            .map(|e| e.provider.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        events
            .iter()
            .map(|e| e.provider_event_id)
            .collect::<Vec<_>>(),
    )
    .bind(events.iter().map(|e| e.event_type).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.headers).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.raw_body).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.status.as_str()).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.last_error).collect::<Vec<_>>())
    .bind(
        events
            .iter()
            .map(|e| e.client_id.map(ClientId::into_uuid))
            .collect::<Vec<_>>(),
    )
    .bind(job_type)
    .bind(&jobs.ids)
    .bind(&jobs.jobs)
    .bind(&jobs.max_attempts)
    .bind(&jobs.run_ats)
    .bind(&jobs.priorities)
    .bind(&jobs.metadata)
    .bind(&jobs.idempotency_keys)
    .fetch_all(db)
    .await?;
    let stored: std::collections::HashSet<Uuid> = stored.into_iter().collect();
    Ok(ids.iter().map(|id| stored.contains(id)).collect())
}

/// The event `id`, read without a lock (what a processing job prepares from).
pub async fn get(db: impl PgExecutor<'_>, id: Uuid) -> Result<WebhookEvent, StoreError> {
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_events WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or(StoreError::NotFound)?
    .try_into()
}

/// The event `id`, locked for processing (a concurrent run of the same event waits).
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> Result<WebhookEvent, StoreError> {
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_events WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?
    .try_into()
}

/// Records the outcome of a processing attempt: the new status, the tenant it applied to
/// and the error or note; `processed_at` is stamped for final states.
pub async fn finish(
    db: impl PgExecutor<'_>,
    id: Uuid,
    status: WebhookStatus,
    client_id: Option<ClientId>,
    note: Option<&str>,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE webhook_events
            SET status = $2, client_id = coalesce($3, client_id), last_error = $4,
                attempts = attempts + 1,
                processed_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END
          WHERE id = $1",
    )
    .bind(id)
    .bind(status.as_str())
    .bind(client_id)
    .bind(note)
    .execute(db)
    .await?;
    crate::rows::touched(done)
}

/// One page of the inbox, newest first, optionally by provider and status.
pub async fn page(
    conn: &mut PgConnection,
    provider: Option<WebhookProvider>,
    status: Option<WebhookStatus>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<WebhookEvent>, i64), StoreError> {
    let filter = "($1::text IS NULL OR provider = $1) AND ($2::text IS NULL OR status = $2)";
    let provider = provider.map(WebhookProvider::as_str);
    let status = status.map(WebhookStatus::as_str);
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM webhook_events WHERE {filter}"
    )))
    .bind(provider)
    .bind(status)
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_events WHERE {filter}
          ORDER BY received_at DESC, id DESC LIMIT $3 OFFSET $4"
    )))
    .bind(provider)
    .bind(status)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let items = rows
        .into_iter()
        .map(WebhookEvent::try_from)
        .collect::<Result<_, _>>()?;
    Ok((items, total))
}

/// Puts the event back to `pending` for a replay; `NotFound` when there is no such event.
pub async fn reset_pending(conn: &mut PgConnection, id: Uuid) -> Result<WebhookEvent, StoreError> {
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "UPDATE webhook_events SET status = 'pending', processed_at = NULL, last_error = NULL
          WHERE id = $1 RETURNING {COLUMNS}"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?
    .try_into()
}

/// Retention: processed or ignored events finished more than `$1` days ago, `$2` at a time.
pub const RETENTION: RetentionDelete = RetentionDelete::new(
    "DELETE FROM webhook_events WHERE id IN (
             SELECT id FROM webhook_events
              WHERE status IN ('processed', 'ignored')
                AND coalesce(processed_at, received_at) < now() - make_interval(days => $1) LIMIT $2)",
);
