//! Sending resources (`sending_resources`): a client's email domains, SMS and voice numbers
//! and LinkedIn seats (insert, read, page, verify, soft delete), the owner look-up by which
//! an inbound message finds its tenant, and whether another client holds a value verified.
//! Caps and warm-up are the domain's rules, not ours.

use agency_domain::{ClientId, ResourceKind};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::StoreError;

/// A client's sending resource.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SendingResource {
    /// Resource id.
    pub id: Uuid,
    /// Owning client.
    pub client_id: Uuid,
    /// `email_domain`, `sms_number`, `voice_number` or `linkedin_seat` (an unknown stored
    /// value fails to decode).
    #[schema(value_type = String)]
    pub kind: ResourceKind,
    /// The domain, number or seat name.
    pub value: String,
    /// First warm-up day of an email domain (null: warmed up).
    pub warmup_started_on: Option<NaiveDate>,
    /// A lower daily cap than the kind's.
    pub daily_cap_override: Option<i32>,
    /// Used for new allocations.
    pub active: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When ownership was proved (null: not usable for sending or inbound routing yet).
    pub verified_at: Option<DateTime<Utc>>,
    /// The TXT value an email domain must publish to be verified.
    pub verification_token: Option<String>,
}

impl SendingResource {
    /// True when it may send and route inbound replies.
    pub fn is_verified(&self) -> bool {
        self.verified_at.is_some()
    }
}

/// The columns of [`SendingResource`].
const RESOURCE_COLUMNS: &str = "id, client_id, kind, value, warmup_started_on, daily_cap_override, active, created_at, verified_at, verification_token";

/// A resource to add.
#[derive(Debug, Clone, Default)]
pub struct NewSendingResource<'a> {
    /// `email_domain`, `sms_number`, `voice_number` or `linkedin_seat`.
    pub kind: &'a str,
    /// The normalised value.
    pub value: &'a str,
    /// First warm-up day (email domains).
    pub warmup_started_on: Option<NaiveDate>,
    /// A lower daily cap.
    pub daily_cap_override: Option<i32>,
    /// Verified at once (development, LinkedIn seats).
    pub verified: bool,
    /// The TXT value an email domain must publish.
    pub verification_token: Option<&'a str>,
}

/// Adds a resource (`Conflict` on `sending_resources_client_kind_value_idx` when the client
/// already has it; on `sending_resources_verified_value_idx` when `verified` and another client
/// holds it verified).
pub async fn insert_resource(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    new: &NewSendingResource<'_>,
) -> Result<SendingResource, StoreError> {
    Ok(sqlx::query_as::<_, SendingResource>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO sending_resources (client_id, kind, value, warmup_started_on, daily_cap_override,
                verified_at, verification_token)
         VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN now() END, $7)
         RETURNING {RESOURCE_COLUMNS}"
    )))
    .bind(client_id)
    .bind(new.kind)
    .bind(new.value)
    .bind(new.warmup_started_on)
    .bind(new.daily_cap_override)
    .bind(new.verified)
    .bind(new.verification_token)
    .fetch_one(db)
    .await?)
}

/// One live resource of the client.
pub async fn resource(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    id: Uuid,
) -> Result<SendingResource, StoreError> {
    one_resource(
        db,
        format!(
            "SELECT {RESOURCE_COLUMNS} FROM sending_resources
              WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL"
        ),
        client_id,
        id,
    )
    .await
}

/// Runs `sql` (binding the client id and the resource id) for one resource row; `NotFound`
/// when it matches none.
async fn one_resource(
    db: impl PgExecutor<'_>,
    sql: String,
    client_id: ClientId,
    id: Uuid,
) -> Result<SendingResource, StoreError> {
    sqlx::query_as::<_, SendingResource>(sqlx::AssertSqlSafe(sql))
        .bind(client_id)
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Marks a live resource verified now (`Conflict` on `sending_resources_verified_value_idx`
/// when another client holds the same value verified).
pub async fn mark_resource_verified(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    id: Uuid,
) -> Result<SendingResource, StoreError> {
    one_resource(
        db,
        format!(
            "UPDATE sending_resources SET verified_at = now(), updated_at = now()
              WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL
              RETURNING {RESOURCE_COLUMNS}"
        ),
        client_id,
        id,
    )
    .await
}

/// The client's live resources (active or not), oldest first.
pub async fn resources(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
) -> Result<Vec<SendingResource>, StoreError> {
    Ok(
        sqlx::query_as::<_, SendingResource>(sqlx::AssertSqlSafe(format!(
            "SELECT {RESOURCE_COLUMNS} FROM sending_resources
          WHERE client_id = $1 AND deleted_at IS NULL ORDER BY created_at, id"
        )))
        .bind(client_id)
        .fetch_all(db)
        .await?,
    )
}

/// One page of the client's live resources (oldest first) and how many there are in all.
pub async fn resources_page(
    db: &mut PgConnection,
    client_id: ClientId,
    limit: i64,
    offset: i64,
) -> Result<(Vec<SendingResource>, i64), StoreError> {
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sending_resources WHERE client_id = $1 AND deleted_at IS NULL",
    )
    .bind(client_id)
    .fetch_one(&mut *db)
    .await?;
    let rows = sqlx::query_as::<_, SendingResource>(sqlx::AssertSqlSafe(format!(
        "SELECT {RESOURCE_COLUMNS} FROM sending_resources
          WHERE client_id = $1 AND deleted_at IS NULL ORDER BY created_at, id LIMIT $2 OFFSET $3"
    )))
    .bind(client_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *db)
    .await?;
    Ok((rows, total))
}

/// Soft-deletes (and deactivates) a resource, keeping the row for allocation history; answers
/// it as it was. `NotFound` when it is not a live resource of the client.
pub async fn delete_resource(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    id: Uuid,
) -> Result<SendingResource, StoreError> {
    one_resource(
        db,
        format!(
            "UPDATE sending_resources SET deleted_at = now(), active = false, updated_at = now()
              WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL
              RETURNING {RESOURCE_COLUMNS}"
        ),
        client_id,
        id,
    )
    .await
}

/// The client owning the live, verified resource of `kind` with `value` (compared
/// case-insensitively; one client at most holds a value verified), and the resource id: how an
/// inbound message finds its tenant. `within` restricts the
/// search to one client (the tenant a client-owned provider account already proved).
pub async fn resource_owner(
    db: impl PgExecutor<'_>,
    kind: &str,
    value: &str,
    within: Option<agency_domain::ClientId>,
) -> Result<Option<(Uuid, Uuid)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT client_id, id FROM sending_resources
          WHERE kind = $1 AND lower(value) = lower($2) AND deleted_at IS NULL
            AND verified_at IS NOT NULL AND ($3::uuid IS NULL OR client_id = $3)",
    )
    .bind(kind)
    .bind(value)
    .bind(within)
    .fetch_optional(db)
    .await?)
}

/// True when a client other than `client_id` holds `value` of `kind` verified (compared
/// case-insensitively).
pub async fn verified_elsewhere(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    kind: ResourceKind,
    value: &str,
) -> Result<bool, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM sending_resources
                         WHERE kind = $1 AND lower(value) = lower($2) AND deleted_at IS NULL
                           AND verified_at IS NOT NULL AND client_id <> $3)",
    )
    .bind(kind.as_str())
    .bind(value)
    .bind(client_id)
    .fetch_one(db)
    .await?)
}
