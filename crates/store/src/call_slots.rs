//! Voice call slots (table `voice_call_slots`): the calls a client has in flight. Grants are
//! serialised per client with a transaction-scoped advisory lock (`pg_advisory_xact_lock`,
//! safe behind a transaction pooler), then counted and inserted under it, so concurrent
//! senders in any number of processes never hold more slots than the limit the caller passes.
//! The limit and the maximum call duration are the caller's (the engine's) rules, not ours.

use agency_domain::ClientId;
use agency_domain::LeadId;
use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, Postgres, Transaction};
use uuid::Uuid;

use crate::StoreError;

/// First key of the two-key advisory lock taken per client (`'VC'`, voice calls); the second
/// is a hash of the client id. Distinct from the single-bigint key space the migrator uses.
pub const CALL_SLOT_LOCK_CLASS: i32 = 0x5643;

/// One voice call holding a slot.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CallSlot {
    /// Slot id.
    pub id: Uuid,
    /// The tenant.
    pub client_id: Uuid,
    /// The lead called.
    pub lead_id: Uuid,
    /// The voice provider's call id, once the call is placed.
    pub provider_call_id: Option<String>,
    /// When the slot was taken.
    pub started_at: DateTime<Utc>,
    /// When the slot stops counting if the call's end is never heard of.
    pub expires_at: DateTime<Utc>,
}

/// Takes a slot for a call to `lead_id` when fewer than `limit` unexpired slots of the client
/// are in flight at `now`; `None` when all are taken. The slot expires at `expires_at`.
///
/// Runs inside the caller's transaction, which must be READ COMMITTED (the default): the lock
/// is held until it commits or rolls back, and each statement after the lock sees the slots
/// other transactions committed before it. Expired slots of the client are purged on the way.
/// `NotFound` when the lead is not the client's.
pub async fn acquire(
    tx: &mut Transaction<'_, Postgres>,
    client_id: ClientId,
    lead_id: LeadId,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    limit: u32,
) -> Result<Option<CallSlot>, StoreError> {
    let isolation: String = sqlx::query_scalar("SELECT current_setting('transaction_isolation')")
        .fetch_one(&mut **tx)
        .await?;
    if isolation != "read committed" {
        return Err(StoreError::Database(sqlx::Error::InvalidArgument(format!(
            "voice call slots need a READ COMMITTED transaction, not {isolation}"
        ))));
    }
    sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2::text))")
        .bind(CALL_SLOT_LOCK_CLASS)
        .bind(client_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM voice_call_slots WHERE client_id = $1 AND expires_at <= $2")
        .bind(client_id)
        .bind(now)
        .execute(&mut **tx)
        .await?;
    let slot = sqlx::query_as::<_, CallSlot>(
        "INSERT INTO voice_call_slots (client_id, lead_id, started_at, expires_at)
         SELECT l.client_id, l.id, $3, $4
           FROM leads l
          WHERE l.client_id = $1 AND l.id = $2
            AND (SELECT count(*) FROM voice_call_slots s
                  WHERE s.client_id = $1 AND s.expires_at > $3) < $5
         RETURNING id, client_id, lead_id, provider_call_id, started_at, expires_at",
    )
    .bind(client_id)
    .bind(lead_id)
    .bind(now)
    .bind(expires_at)
    .bind(i64::from(limit))
    .fetch_optional(&mut **tx)
    .await?;
    if slot.is_none() {
        let lead_exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM leads WHERE client_id = $1 AND id = $2)",
        )
        .bind(client_id)
        .bind(lead_id)
        .fetch_one(&mut **tx)
        .await?;
        if !lead_exists {
            return Err(StoreError::NotFound);
        }
    }
    Ok(slot)
}

/// Unexpired slots of the client at `now`.
pub async fn in_flight(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    now: DateTime<Utc>,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM voice_call_slots WHERE client_id = $1 AND expires_at > $2",
    )
    .bind(client_id)
    .bind(now)
    .fetch_one(db)
    .await?)
}

/// The soonest expiry among the client's unexpired slots at `now`.
pub async fn soonest_expiry(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT min(expires_at) FROM voice_call_slots WHERE client_id = $1 AND expires_at > $2",
    )
    .bind(client_id)
    .bind(now)
    .fetch_one(db)
    .await?)
}

/// Records the provider's call id on a slot; `false` when the slot is gone (released or
/// purged). `Conflict` on `voice_call_slots_provider_call_idx` when another slot has that id.
pub async fn attach_call_id(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    slot_id: Uuid,
    provider_call_id: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE voice_call_slots SET provider_call_id = $3 WHERE client_id = $1 AND id = $2",
    )
    .bind(client_id)
    .bind(slot_id)
    .bind(provider_call_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Frees a slot by its id; `false` when it was already free (idempotent).
pub async fn release_slot(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    slot_id: Uuid,
) -> Result<bool, StoreError> {
    let done = sqlx::query("DELETE FROM voice_call_slots WHERE client_id = $1 AND id = $2")
        .bind(client_id)
        .bind(slot_id)
        .execute(db)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Frees the slot of a provider call; `false` when it was already free (idempotent).
pub async fn release_call(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    provider_call_id: &str,
) -> Result<bool, StoreError> {
    let done =
        sqlx::query("DELETE FROM voice_call_slots WHERE client_id = $1 AND provider_call_id = $2")
            .bind(client_id)
            .bind(provider_call_id)
            .execute(db)
            .await?;
    Ok(done.rows_affected() > 0)
}

/// The slot of a provider call, if it is still held (for the webhook to find its tenant).
pub async fn by_call_id(
    db: impl PgExecutor<'_>,
    provider_call_id: &str,
) -> Result<Option<CallSlot>, StoreError> {
    Ok(sqlx::query_as::<_, CallSlot>(
        "SELECT id, client_id, lead_id, provider_call_id, started_at, expires_at
           FROM voice_call_slots WHERE provider_call_id = $1",
    )
    .bind(provider_call_id)
    .fetch_optional(db)
    .await?)
}
