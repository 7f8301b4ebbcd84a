//! Outbound webhook endpoints (`webhook_endpoints`): a client's URLs, the events each is
//! subscribed to, its signing secret (and the previous one during a rotation's overlap), and
//! its health (active or disabled, failing since). Every query takes the client id first;
//! deleted endpoints are soft-deleted and never returned.

use agency_domain::{ClientId, EndpointStatus, EventType};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgConnection, PgExecutor, Row};
use uuid::Uuid;

use crate::StoreError;
use crate::rows::touched;

/// A stored endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// Endpoint id.
    pub id: Uuid,
    /// Owning client.
    pub client_id: Uuid,
    /// Where events are POSTed.
    pub url: String,
    /// Subscribed events.
    pub events: Vec<EventType>,
    /// The current signing secret (`whsec_...`).
    pub secret: String,
    /// The previous secret, still signing until [`Endpoint::previous_secret_expires_at`].
    pub previous_secret: Option<String>,
    /// End of the rotation's overlap.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Active or disabled.
    pub status: EndpointStatus,
    /// Why it was disabled.
    pub disabled_reason: Option<String>,
    /// When it was disabled.
    pub disabled_at: Option<DateTime<Utc>>,
    /// First failed attempt since the last success.
    pub failing_since: Option<DateTime<Utc>>,
    /// Last successful delivery.
    pub last_success_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl Endpoint {
    /// The secrets that sign at `now`: the current one, and the previous one while its
    /// overlap lasts.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Vec<&str> {
        let mut secrets = vec![self.secret.as_str()];
        if let (Some(previous), Some(until)) =
            (&self.previous_secret, self.previous_secret_expires_at)
            && until > now
        {
            secrets.push(previous.as_str());
        }
        secrets
    }

    /// True when subscribed to `event`.
    pub fn wants(&self, event: EventType) -> bool {
        self.events.contains(&event)
    }
}

impl<'r> FromRow<'r, PgRow> for Endpoint {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        let decode = |col: &str, e: agency_domain::ParseEnumError| sqlx::Error::ColumnDecode {
            index: col.to_owned(),
            source: Box::new(e),
        };
        let events: Vec<String> = row.try_get("events")?;
        let events = events
            .iter()
            .map(|e| e.parse::<EventType>().map_err(|err| decode("events", err)))
            .collect::<Result<Vec<_>, _>>()?;
        let status: String = row.try_get("status")?;
        Ok(Self {
            id: row.try_get("id")?,
            client_id: row.try_get("client_id")?,
            url: row.try_get("url")?,
            events,
            secret: row.try_get("secret")?,
            previous_secret: row.try_get("previous_secret")?,
            previous_secret_expires_at: row.try_get("previous_secret_expires_at")?,
            status: status.parse().map_err(|e| decode("status", e))?,
            disabled_reason: row.try_get("disabled_reason")?,
            disabled_at: row.try_get("disabled_at")?,
            failing_since: row.try_get("failing_since")?,
            last_success_at: row.try_get("last_success_at")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

const COLUMNS: &str = "id, client_id, url, events, secret, previous_secret,
    previous_secret_expires_at, status, disabled_reason, disabled_at, failing_since,
    last_success_at, created_at, updated_at";

fn names(events: &[EventType]) -> Vec<String> {
    events.iter().map(|e| e.as_str().to_owned()).collect()
}

/// A new endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEndpoint<'a> {
    /// The URL (validated by the caller).
    pub url: &'a str,
    /// Subscribed events (subscribable ones only).
    pub events: &'a [EventType],
    /// The signing secret.
    pub secret: &'a str,
    /// Who created it.
    pub created_by: Option<Uuid>,
}

/// Inserts an endpoint of the client.
pub async fn insert(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    new: &NewEndpoint<'_>,
) -> Result<Endpoint, StoreError> {
    Ok(sqlx::query_as::<_, Endpoint>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO webhook_endpoints (id, client_id, url, events, secret, created_by)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(client_id)
    .bind(new.url)
    .bind(names(new.events))
    .bind(new.secret)
    .bind(new.created_by)
    .fetch_one(db)
    .await?)
}

/// The live endpoint `id` of the client; `NotFound` otherwise.
pub async fn get(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    id: Uuid,
) -> Result<Endpoint, StoreError> {
    sqlx::query_as::<_, Endpoint>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_endpoints
          WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL"
    )))
    .bind(client_id)
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or(StoreError::NotFound)
}

/// The endpoint `id` of the client, deleted or not (the delivery job decides what a deleted
/// one means); `NotFound` when there is none.
pub async fn get_any(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    id: Uuid,
) -> Result<(Endpoint, bool), StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS}, deleted_at IS NOT NULL AS deleted FROM webhook_endpoints
          WHERE client_id = $1 AND id = $2"
    )))
    .bind(client_id)
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or(StoreError::NotFound)?;
    let deleted: bool = row.try_get("deleted")?;
    Ok((Endpoint::from_row(&row)?, deleted))
}

/// The live endpoint `id` of the client, locked for update.
pub async fn lock(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: Uuid,
) -> Result<Endpoint, StoreError> {
    sqlx::query_as::<_, Endpoint>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_endpoints
          WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL FOR UPDATE"
    )))
    .bind(client_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// The client's live endpoints, oldest first (one page), and their total.
pub async fn page(
    conn: &mut PgConnection,
    client_id: ClientId,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Endpoint>, i64), StoreError> {
    let rows = sqlx::query_as::<_, Endpoint>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_endpoints
          WHERE client_id = $1 AND deleted_at IS NULL
          ORDER BY created_at, id LIMIT $2 OFFSET $3"
    )))
    .bind(client_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM webhook_endpoints WHERE client_id = $1 AND deleted_at IS NULL",
    )
    .bind(client_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok((rows, total))
}

/// The client's live, active endpoints subscribed to `event`.
pub async fn subscribed(
    conn: &mut PgConnection,
    client_id: ClientId,
    event: EventType,
) -> Result<Vec<Endpoint>, StoreError> {
    Ok(sqlx::query_as::<_, Endpoint>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM webhook_endpoints
          WHERE client_id = $1 AND deleted_at IS NULL AND status = 'active' AND $2 = ANY(events)
          ORDER BY created_at, id"
    )))
    .bind(client_id)
    .bind(event.as_str())
    .fetch_all(conn)
    .await?)
}

/// Changes the URL, the events and (when given) the status. Re-activating clears the
/// disabled state and the failure streak.
pub async fn update(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: Uuid,
    url: &str,
    events: &[EventType],
    status: EndpointStatus,
    disabled_reason: Option<&str>,
) -> Result<Endpoint, StoreError> {
    sqlx::query_as::<_, Endpoint>(sqlx::AssertSqlSafe(format!(
        "UPDATE webhook_endpoints
            SET url = $3, events = $4,
                disabled_reason = CASE WHEN $5 = 'active' THEN NULL
                                       WHEN status = 'disabled' THEN disabled_reason ELSE $6 END,
                disabled_at = CASE WHEN $5 = 'active' THEN NULL
                                   WHEN status = 'disabled' THEN disabled_at ELSE now() END,
                failing_since = CASE WHEN $5 = 'active' AND status = 'disabled' THEN NULL
                                     ELSE failing_since END,
                status = $5, updated_at = now()
          WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL
          RETURNING {COLUMNS}"
    )))
    .bind(client_id)
    .bind(id)
    .bind(url)
    .bind(names(events))
    .bind(status.as_str())
    .bind(disabled_reason)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Replaces the secret; the old one keeps signing until `overlap_until`.
pub async fn rotate_secret(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: Uuid,
    new_secret: &str,
    overlap_until: DateTime<Utc>,
) -> Result<Endpoint, StoreError> {
    sqlx::query_as::<_, Endpoint>(sqlx::AssertSqlSafe(format!(
        "UPDATE webhook_endpoints
            SET previous_secret = secret, previous_secret_expires_at = $4, secret = $3,
                updated_at = now()
          WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL
          RETURNING {COLUMNS}"
    )))
    .bind(client_id)
    .bind(id)
    .bind(new_secret)
    .bind(overlap_until)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Soft-deletes the endpoint.
pub async fn soft_delete(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: Uuid,
) -> Result<(), StoreError> {
    crate::rows::soft_delete(conn, "webhook_endpoints", client_id, id).await
}

/// Records a successful delivery: the failure streak ends.
pub async fn record_success(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET failing_since = NULL, last_success_at = $3, updated_at = now()
          WHERE client_id = $1 AND id = $2",
    )
    .bind(client_id)
    .bind(id)
    .bind(at)
    .execute(db)
    .await?;
    touched(done)
}

/// Records a failed attempt: the failure streak starts at `at` unless it runs already.
/// Answers when the streak started.
pub async fn record_failure(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<DateTime<Utc>, StoreError> {
    sqlx::query_scalar(
        "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $3), updated_at = now()
          WHERE client_id = $1 AND id = $2 RETURNING failing_since",
    )
    .bind(client_id)
    .bind(id)
    .bind(at)
    .fetch_optional(db)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Disables an active endpoint with `reason`; answers false when it was not active.
pub async fn disable(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    id: Uuid,
    reason: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE webhook_endpoints
            SET status = 'disabled', disabled_reason = $3, disabled_at = now(), updated_at = now()
          WHERE client_id = $1 AND id = $2 AND status = 'active'",
    )
    .bind(client_id)
    .bind(id)
    .bind(reason)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}
