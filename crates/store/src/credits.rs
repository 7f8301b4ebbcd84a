//! Queries of the scheduled credit work: clients whose monthly lead-credit reset is due, the
//! compare-and-set reset itself, and the leads the enrichment sweep picks up (its test on the
//! job table comes from [`crate::jobs`]). No rules here: the engine decides amounts, dates
//! and batch sizes.

use agency_domain::{ClientId, ClientTier, LeadId, SubscriptionStatus};
use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};

use crate::StoreError;

/// A client whose credit reset date has passed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DueReset {
    /// Client id.
    pub id: ClientId,
    /// Plan tier (an unknown stored value fails to decode).
    pub tier: ClientTier,
    /// IANA timezone name.
    pub timezone: String,
    /// Billing state (an unknown stored value fails to decode).
    pub subscription_status: SubscriptionStatus,
    /// Credits left before the reset.
    pub credits_remaining: i32,
    /// The reset date that is due (at or before `now`).
    pub credits_reset_at: DateTime<Utc>,
}

/// Live clients whose `credits_reset_at` is at or before `now`, oldest first, at most `limit`.
/// Clients without a reset date are never due.
pub async fn due_resets(
    db: impl PgExecutor<'_>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<DueReset>, StoreError> {
    Ok(sqlx::query_as::<_, DueReset>(
        "SELECT id, tier, timezone, subscription_status, credits_remaining, credits_reset_at
           FROM clients
          WHERE deleted_at IS NULL AND credits_reset_at IS NOT NULL AND credits_reset_at <= $1
          ORDER BY credits_reset_at, id
          LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// Sets the client's credits and next reset date, only if its reset date is still `due_at`
/// (compare-and-set: a second run for the same period changes nothing). Returns `true` when
/// this call made the change.
pub async fn reset_credits(
    conn: &mut PgConnection,
    client_id: ClientId,
    due_at: DateTime<Utc>,
    credits: i32,
    next_reset_at: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE clients SET credits_remaining = $3, credits_reset_at = $4, updated_at = now()
          WHERE id = $1 AND credits_reset_at = $2 AND deleted_at IS NULL",
    )
    .bind(client_id)
    .bind(due_at)
    .bind(credits)
    .bind(next_reset_at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A lead the enrichment sweep enqueues.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct SweepLead {
    /// The tenant.
    pub client_id: ClientId,
    /// The lead.
    pub lead_id: LeadId,
}

/// Live leads of live clients still `new` and never enriched, that either wait for nothing or
/// wait with `credit_wait_reason` while their client has credits again, and that have no live
/// `enrich_job_kind` job ([`crate::jobs::LIVE_CONDITION`]). An enrichment job carries the
/// idempotency key `{enrich_key_prefix}{lead_id}`, so the live job of a lead is one lookup in
/// the key's index (no payload is read; the job-table SQL is `jobs::live_job_holds_key`).
/// Oldest first, at most `limit`; the rows are locked (`FOR UPDATE SKIP LOCKED`) until the
/// caller's transaction ends, so a concurrent sweep skips them.
pub async fn sweep_candidates(
    conn: &mut PgConnection,
    enrich_job_kind: &str,
    enrich_key_prefix: &str,
    credit_wait_reason: &str,
    limit: i64,
) -> Result<Vec<SweepLead>, StoreError> {
    Ok(sqlx::query_as::<_, SweepLead>(concat!(
        "SELECT l.client_id, l.id AS lead_id
           FROM leads l
           JOIN clients c ON c.id = l.client_id AND c.deleted_at IS NULL
          WHERE l.deleted_at IS NULL
            AND l.status = 'new'
            AND l.enriched_at IS NULL
            AND (l.enrichment_wait_reason IS NULL
                 OR (l.enrichment_wait_reason = $2 AND c.credits_remaining > 0))
            AND NOT ",
        crate::jobs::live_job_holds_key!("$1", "$4 || l.id::text"),
        "
          ORDER BY l.created_at, l.id
          LIMIT $3
          FOR UPDATE OF l SKIP LOCKED"
    ))
    .bind(enrich_job_kind)
    .bind(credit_wait_reason)
    .bind(limit)
    .bind(enrich_key_prefix)
    .fetch_all(conn)
    .await?)
}
