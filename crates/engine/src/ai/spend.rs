//! The AI spend reports, read from the `ai_usage` ledger (settled calls only): a client's
//! spend per local day, purpose and model, and the platform's costs for admins (today, this
//! month, by purpose and by client, in the platform's days).

use std::collections::BTreeMap;

use agency_domain::ClientId;
use agency_store::PgPool;
use agency_store::ai_usage::{self, DailySpend};
use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use rust_decimal::Decimal;

use super::settings::PLATFORM_TIMEZONE;
use crate::usecase::UseCaseError;

/// Longest report range, in days.
pub const MAX_RANGE_DAYS: u64 = 366;

/// Days a report covers when no start is given (ending today).
pub const DEFAULT_RANGE_DAYS: u64 = 30;

/// A client's AI spend over a range of its local days.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientSpend {
    /// The client.
    pub client_id: ClientId,
    /// First day (inclusive).
    pub start_date: NaiveDate,
    /// Last day (inclusive).
    pub end_date: NaiveDate,
    /// Sum of the rows.
    pub total_aud: Decimal,
    /// The client's daily budget now.
    pub daily_budget_aud: Decimal,
    /// Per (day, purpose, model).
    pub rows: Vec<DailySpend>,
}

/// Checks a range: `start` defaults to `end` - 29 days, `end` to `today`; start after end or a
/// range over [`MAX_RANGE_DAYS`] is a 422.
pub fn resolve_range(
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    default_start: impl FnOnce(NaiveDate) -> NaiveDate,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), UseCaseError> {
    let end = end.unwrap_or(today);
    let start = start.unwrap_or_else(|| default_start(end));
    if start > end {
        return Err(UseCaseError::field(
            "start_date",
            "must not be after end_date",
        ));
    }
    if (end - start).num_days() >= MAX_RANGE_DAYS as i64 {
        return Err(UseCaseError::field(
            "end_date",
            format!("the range may span at most {MAX_RANGE_DAYS} days"),
        ));
    }
    Ok((start, end))
}

/// The client's settled AI spend from `start` to `end` (its local days; default the last 30
/// days up to today).
pub async fn client_spend(
    pool: &PgPool,
    client_id: ClientId,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<ClientSpend, UseCaseError> {
    let budget = agency_store::clients::ai_budget(pool, client_id)
        .await
        .map_err(UseCaseError::not_found_as("client"))?;
    let tz: chrono_tz::Tz = budget.timezone.parse().unwrap_or(PLATFORM_TIMEZONE);
    let today = now.with_timezone(&tz).date_naive();
    let (start, end) = resolve_range(
        start,
        end,
        |end| end - Days::new(DEFAULT_RANGE_DAYS - 1),
        today,
    )?;
    let rows = ai_usage::daily_spend(pool, client_id, start, end).await?;
    Ok(ClientSpend {
        client_id,
        start_date: start,
        end_date: end,
        total_aud: rows.iter().map(|r| r.cost_aud).sum(),
        daily_budget_aud: budget.daily_ai_budget_aud,
        rows,
    })
}

/// The platform's AI costs.
#[derive(Debug, Clone, PartialEq)]
pub struct PlatformCosts {
    /// Spent today (platform day, Australia/Sydney).
    pub today_aud: Decimal,
    /// Spent this calendar month up to today.
    pub month_aud: Decimal,
    /// First day of the breakdowns.
    pub start_date: NaiveDate,
    /// Last day of the breakdowns.
    pub end_date: NaiveDate,
    /// Spend per purpose over the range.
    pub by_purpose: BTreeMap<String, Decimal>,
    /// Spend per client name over the range.
    pub by_client: BTreeMap<String, Decimal>,
}

/// Platform costs: today and this month, and breakdowns from `start` to `end` (platform
/// days; default this month up to today).
pub async fn platform_costs(
    pool: &PgPool,
    start: Option<NaiveDate>,
    end: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<PlatformCosts, UseCaseError> {
    let today = now.with_timezone(&PLATFORM_TIMEZONE).date_naive();
    let month_start = today.with_day(1).unwrap_or(today);
    let (start, end) = resolve_range(start, end, |end| end.with_day(1).unwrap_or(end), today)?;
    Ok(PlatformCosts {
        today_aud: ai_usage::platform_total(pool, today, today).await?,
        month_aud: ai_usage::platform_total(pool, month_start, today).await?,
        start_date: start,
        end_date: end,
        by_purpose: ai_usage::platform_by_purpose(pool, start, end)
            .await?
            .into_iter()
            .map(|(p, aud)| (p.as_str().to_owned(), aud))
            .collect(),
        by_client: ai_usage::platform_by_client(pool, start, end)
            .await?
            .into_iter()
            .collect(),
    })
}
