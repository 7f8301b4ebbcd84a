//! `credit_reset` (hourly): every live client whose `credits_reset_at` has passed gets its
//! tier's monthly credits (`ClientTier::monthly_credits`, not added to what is left), its
//! reset date moved on by a month in its own timezone (to the first monthly anniversary after
//! now, should several have passed while nothing ran), an audit row, and its leads waiting
//! for credits re-enqueued for enrichment, all in one transaction per client.
//!
//! Idempotent per client and period: the update is a compare-and-set on the due
//! `credits_reset_at`, so a redelivered or concurrent job finds the date moved and does
//! nothing. Clients without a reset date are never reset. A client still `trialing` keeps
//! its trial allowance (what is left of it): only its date moves on, so a trial never turns
//! into a paid tier's credits by waiting a month.

use agency_domain::SubscriptionStatus;
use agency_store::audit::{self, ActorKind, AuditEntry};
use agency_store::credits::{self as store, DueReset};
use agency_store::leads::enrichment as enrichment_store;
use chrono::{DateTime, Months, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::json;
use sqlx::PgPool;

use crate::jobs::payload::CreditReset;
use crate::jobs::{JobContext, JobError};
use crate::pipeline::enqueue_new_leads;
use crate::pipeline::enrich::{WAIT_NO_CREDITS, client_timezone};

/// Clients reset per run at most (the rest are due on the next hourly run).
pub const CREDIT_RESET_BATCH: i64 = 500;

/// What one run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CreditResetSummary {
    /// Clients reset by this run.
    pub reset: usize,
    /// Due clients another run had reset first.
    pub skipped: usize,
    /// Leads re-enqueued for enrichment.
    pub leads_enqueued: usize,
}

/// The next reset date after `due`: the same local wall-clock time whole months later in
/// `tz`, the first such date after `now` (one month in the normal case). A local time that
/// does not exist (daylight-saving gap) moves an hour later; a repeated one takes the earlier
/// instant.
pub fn next_reset_at(due: DateTime<Utc>, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let local = due.with_timezone(&tz).naive_local();
    // Bounded: a reset date 100 years in the past is not a real case.
    (1..=1_200).find_map(|months| {
        let naive = local.checked_add_months(Months::new(months))?;
        let at = tz
            .from_local_datetime(&naive)
            .earliest()
            .or_else(|| {
                tz.from_local_datetime(&(naive + chrono::Duration::hours(1)))
                    .earliest()
            })?
            .with_timezone(&Utc);
        (at > now).then_some(at)
    })
}

async fn reset_one(
    pool: &PgPool,
    client: &DueReset,
    now: DateTime<Utc>,
) -> Result<Option<usize>, JobError> {
    let tier = client.tier;
    let tz = client_timezone(&client.timezone)?;
    let next = next_reset_at(client.credits_reset_at, tz, now)
        .ok_or_else(|| JobError::permanent(format!("client {}: no next reset date", client.id)))?;
    let credits = if client.subscription_status == SubscriptionStatus::Trialing {
        client.credits_remaining
    } else {
        i32::try_from(tier.monthly_credits()).unwrap_or(i32::MAX)
    };

    let mut tx = pool.begin().await?;
    if !store::reset_credits(&mut tx, client.id, client.credits_reset_at, credits, next)
        .await
        .map_err(JobError::retryable)?
    {
        tx.rollback().await?;
        return Ok(None);
    }
    let entry = AuditEntry {
        client_id: Some(client.id),
        actor_id: None,
        actor_kind: ActorKind::System,
        action: "client.credits_reset".into(),
        entity_type: "client".into(),
        entity_id: Some(client.id.into_uuid()),
        before: Some(json!({
            "credits_remaining": client.credits_remaining,
            "credits_reset_at": client.credits_reset_at,
        })),
        after: Some(json!({
            "credits_remaining": credits,
            "credits_reset_at": next,
            "tier": tier.as_str(),
        })),
        request_id: None,
    };
    audit::record(&mut tx, &entry)
        .await
        .map_err(JobError::retryable)?;
    let waiting = enrichment_store::leads_waiting_for_credits(&mut *tx, client.id, WAIT_NO_CREDITS)
        .await
        .map_err(JobError::retryable)?;
    let enqueued = enqueue_new_leads(&mut tx, client.id, &waiting)
        .await
        .map_err(JobError::retryable)?;
    tx.commit().await?;
    tracing::info!(client_id = %client.id, credits, next_reset_at = %next, leads_enqueued = enqueued, "lead credits reset");
    Ok(Some(enqueued))
}

/// Resets every client due at `now` (at most [`CREDIT_RESET_BATCH`]).
pub async fn reset_due_credits(
    pool: &PgPool,
    now: DateTime<Utc>,
) -> Result<CreditResetSummary, JobError> {
    let due = store::due_resets(pool, now, CREDIT_RESET_BATCH)
        .await
        .map_err(JobError::retryable)?;
    let mut summary = CreditResetSummary::default();
    for client in &due {
        match reset_one(pool, client, now).await? {
            Some(leads) => {
                summary.reset += 1;
                summary.leads_enqueued += leads;
            }
            None => summary.skipped += 1,
        }
    }
    Ok(summary)
}

/// `credit_reset`: resets the clients whose reset date has passed.
pub async fn credit_reset_job(ctx: JobContext, job: CreditReset) -> Result<(), JobError> {
    let summary = reset_due_credits(&ctx.services.pool, ctx.services.now()).await?;
    tracing::info!(tick = %job.0.tick, reset = summary.reset, skipped = summary.skipped, leads_enqueued = summary.leads_enqueued, "credit reset done");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYD: Tz = chrono_tz::Australia::Sydney;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn advances_one_month_in_local_time_across_daylight_saving() {
        // 2026-09-15 00:00 AEST (UTC+10) -> 2026-10-15 00:00 AEDT (UTC+11).
        let due = utc("2026-09-14T14:00:00Z");
        let next = next_reset_at(due, SYD, due).unwrap();
        assert_eq!(next, utc("2026-10-14T13:00:00Z"));
    }

    #[test]
    fn month_end_clamps_and_a_long_overdue_date_skips_to_after_now() {
        // 31 January local -> 28 February local.
        let due = SYD
            .with_ymd_and_hms(2027, 1, 31, 9, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let next = next_reset_at(due, SYD, due).unwrap();
        assert_eq!(
            next,
            SYD.with_ymd_and_hms(2027, 2, 28, 9, 0, 0)
                .unwrap()
                .with_timezone(&Utc)
        );
        // Three months overdue: the first anniversary after now.
        let now = SYD
            .with_ymd_and_hms(2027, 4, 30, 12, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            next_reset_at(due, SYD, now).unwrap(),
            SYD.with_ymd_and_hms(2027, 5, 31, 9, 0, 0)
                .unwrap()
                .with_timezone(&Utc)
        );
    }
}
