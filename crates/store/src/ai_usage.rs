//! `ai_usage`: the AI spend ledger. A reservation row before each Claude call, its settlement
//! with the billed tokens and cost, its release when the call failed, the expiry of
//! reservations nobody settled (their process died), and the spend reports' sums. Amounts are
//! AUD with six decimals; the engine decides them.

use agency_domain::{AiPurpose, AiUsageStatus, ClientId};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::StoreError;

/// A new reservation.
#[derive(Debug, Clone)]
pub struct NewReservation<'a> {
    /// Ledger row id.
    pub id: Uuid,
    /// The paying client.
    pub client_id: ClientId,
    /// What the call is for.
    pub purpose: AiPurpose,
    /// The requested model.
    pub model: &'a str,
    /// The AUD held in the counters.
    pub estimate_aud: Decimal,
    /// The client's local day of `at`.
    pub usage_date: NaiveDate,
    /// The platform's day of `at`.
    pub platform_date: NaiveDate,
    /// The application clock's instant of the reservation.
    pub at: DateTime<Utc>,
}

/// Records a reservation (status `reserved`).
pub async fn insert_reservation(
    db: impl PgExecutor<'_>,
    r: &NewReservation<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO ai_usage (id, client_id, purpose, model, estimate_aud, usage_date, platform_date, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(r.id)
    .bind(r.client_id)
    .bind(r.purpose.as_str())
    .bind(r.model)
    .bind(r.estimate_aud)
    .bind(r.usage_date)
    .bind(r.platform_date)
    .bind(r.at)
    .execute(db)
    .await?;
    Ok(())
}

/// A reservation as it was when settled or released.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    /// True when the reservation was still held (`reserved`), false when it had expired
    /// (its estimate already given back).
    pub was_reserved: bool,
    /// The estimate it held.
    pub estimate_aud: Decimal,
    /// Its instant (the counters' day).
    pub at: DateTime<Utc>,
}

/// Settles the reservation `id` with the billed usage, if it is `reserved` or `expired`;
/// `None` when it is unknown or already settled or released (nothing to do).
pub async fn settle(
    db: impl PgExecutor<'_>,
    id: Uuid,
    model: &str,
    input_tokens: i64,
    output_tokens: i64,
    cost_aud: Decimal,
) -> Result<Option<Held>, StoreError> {
    let row: Option<(AiUsageStatus, Decimal, DateTime<Utc>)> = sqlx::query_as(
        "UPDATE ai_usage u
            SET status = 'settled', model = $2, input_tokens = $3, output_tokens = $4,
                cost_aud = $5, settled_at = now()
           FROM (SELECT id, status FROM ai_usage WHERE id = $1 FOR UPDATE) old
          WHERE u.id = old.id AND old.status IN ('reserved', 'expired')
      RETURNING old.status, u.estimate_aud, u.at",
    )
    .bind(id)
    .bind(model)
    .bind(input_tokens)
    .bind(output_tokens)
    .bind(cost_aud)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(status, estimate_aud, at)| Held {
        was_reserved: status == AiUsageStatus::Reserved,
        estimate_aud,
        at,
    }))
}

/// Releases the reservation `id` (the call failed without usage) if it is still `reserved`;
/// `None` otherwise (already expired: its estimate was given back then).
pub async fn release(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Held>, StoreError> {
    let row: Option<(Decimal, DateTime<Utc>)> = sqlx::query_as(
        "UPDATE ai_usage SET status = 'released', settled_at = now()
          WHERE id = $1 AND status = 'reserved'
      RETURNING estimate_aud, at",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|(estimate_aud, at)| Held {
        was_reserved: true,
        estimate_aud,
        at,
    }))
}

/// A reservation this call expired.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Expired {
    /// Ledger row id.
    pub id: Uuid,
    /// The client.
    pub client_id: ClientId,
    /// The client's IANA timezone.
    pub timezone: String,
    /// The estimate to give back.
    pub estimate_aud: Decimal,
    /// The reservation's instant (the counters' day).
    pub at: DateTime<Utc>,
}

/// Marks `reserved` rows created more than `older_than_secs` ago (database clock) as
/// `expired` and returns them, at most `limit`; concurrent callers never both get a row.
pub async fn expire_stale(
    db: impl PgExecutor<'_>,
    older_than_secs: i64,
    limit: i64,
) -> Result<Vec<Expired>, StoreError> {
    Ok(sqlx::query_as::<_, Expired>(
        "UPDATE ai_usage u SET status = 'expired'
           FROM clients c
          WHERE u.client_id = c.id
            AND u.id IN (SELECT id FROM ai_usage
                          WHERE status = 'reserved'
                            AND created_at < now() - $1 * interval '1 second'
                          ORDER BY created_at LIMIT $2
                          FOR UPDATE SKIP LOCKED)
      RETURNING u.id, u.client_id, c.timezone, u.estimate_aud, u.at",
    )
    .bind(older_than_secs)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// Settled spend of one (day, purpose, model).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailySpend {
    /// The client's local day.
    pub date: NaiveDate,
    /// Purpose.
    pub purpose: AiPurpose,
    /// Model that answered.
    pub model: String,
    /// Settled calls.
    pub calls: i64,
    /// Billed input tokens.
    pub input_tokens: i64,
    /// Billed output tokens.
    pub output_tokens: i64,
    /// Cost in AUD.
    pub cost_aud: Decimal,
}

fn purpose(text: &str) -> Result<AiPurpose, StoreError> {
    text.parse::<AiPurpose>()
        .map_err(|e| StoreError::Database(sqlx::Error::Decode(Box::new(e))))
}

/// The client's settled spend per (local day, purpose, model) from `start` to `end`
/// inclusive, ordered by day, purpose and model.
pub async fn daily_spend(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<DailySpend>, StoreError> {
    let rows: Vec<(NaiveDate, String, String, i64, i64, i64, Decimal)> = sqlx::query_as(
        "SELECT usage_date, purpose, model, count(*), sum(input_tokens)::bigint,
                sum(output_tokens)::bigint, sum(cost_aud)
           FROM ai_usage
          WHERE client_id = $1 AND status = 'settled' AND usage_date BETWEEN $2 AND $3
          GROUP BY usage_date, purpose, model
          ORDER BY usage_date, purpose, model",
    )
    .bind(client_id)
    .bind(start)
    .bind(end)
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(
            |(date, p, model, calls, input_tokens, output_tokens, cost_aud)| {
                Ok(DailySpend {
                    date,
                    purpose: purpose(&p)?,
                    model,
                    calls,
                    input_tokens,
                    output_tokens,
                    cost_aud,
                })
            },
        )
        .collect()
}

/// Platform-wide settled spend (by platform day) from `start` to `end` inclusive.
pub async fn platform_total(
    db: impl PgExecutor<'_>,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Decimal, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT COALESCE(sum(cost_aud), 0) FROM ai_usage
          WHERE status = 'settled' AND platform_date BETWEEN $1 AND $2",
    )
    .bind(start)
    .bind(end)
    .fetch_one(db)
    .await?)
}

/// Platform-wide settled spend per purpose (by platform day) from `start` to `end`.
pub async fn platform_by_purpose(
    db: impl PgExecutor<'_>,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<(AiPurpose, Decimal)>, StoreError> {
    let rows: Vec<(String, Decimal)> = sqlx::query_as(
        "SELECT purpose, sum(cost_aud) FROM ai_usage
          WHERE status = 'settled' AND platform_date BETWEEN $1 AND $2
          GROUP BY purpose ORDER BY purpose",
    )
    .bind(start)
    .bind(end)
    .fetch_all(db)
    .await?;
    rows.into_iter()
        .map(|(p, aud)| Ok((purpose(&p)?, aud)))
        .collect()
}

/// Platform-wide settled spend per client name (by platform day) from `start` to `end`.
pub async fn platform_by_client(
    db: impl PgExecutor<'_>,
    start: NaiveDate,
    end: NaiveDate,
) -> Result<Vec<(String, Decimal)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT c.name, sum(u.cost_aud) FROM ai_usage u JOIN clients c ON c.id = u.client_id
          WHERE u.status = 'settled' AND u.platform_date BETWEEN $1 AND $2
          GROUP BY c.name ORDER BY c.name",
    )
    .bind(start)
    .bind(end)
    .fetch_all(db)
    .await?)
}
