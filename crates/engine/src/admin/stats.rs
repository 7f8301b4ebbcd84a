//! Platform stats and revenue: counts across clients, MRR from each client's plan and
//! subscription status (the price table of [`AdminSettings`]), MRR growth and churn against
//! the daily snapshot (`client_daily_metrics`) of the start of the period.

use std::collections::HashMap;

use agency_domain::platform::{change_percent, is_paying};
use agency_domain::report::{local_midnight, today_in};
use agency_domain::{Aud, ClientTier, DateRange, SubscriptionStatus, percent};
use agency_store::PgPool;
use agency_store::admin::{self as store, BillingRow};
use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{AdminSettings, PLATFORM_TZ};
use crate::reports::RangeQuery;
use crate::reports::corrupt;
use crate::usecase::UseCaseError;

/// A client's tier and status, decoded.
fn decode(row: &BillingRow) -> Result<(Uuid, ClientTier, SubscriptionStatus), UseCaseError> {
    Ok((
        row.client_id,
        row.tier.parse().map_err(corrupt)?,
        row.subscription_status.parse().map_err(corrupt)?,
    ))
}

/// Total MRR of the rows.
fn mrr_of(rows: &[BillingRow], settings: &AdminSettings) -> Result<Aud, UseCaseError> {
    let mut total = Aud::ZERO;
    for row in rows {
        let (_, tier, status) = decode(row)?;
        total += settings.prices.mrr(tier, status);
    }
    Ok(total)
}

/// The dashboard's headline numbers (AI spend comes from the AI ledger once it exists).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PlatformStats {
    /// Monthly recurring revenue now, AUD.
    #[schema(value_type = f64)]
    pub mrr: Aud,
    /// MRR change since the snapshot of the first day of this month, percent (0 without one).
    pub mrr_change: f64,
    /// Live clients that are `active` or `trialing`.
    pub active_clients: i64,
    /// Live clients created this month.
    pub new_clients_this_month: i64,
    /// Leads created today.
    pub leads_today: i64,
    /// Change of leads created today against yesterday, percent (0 when yesterday had none).
    pub leads_change: f64,
    /// AI spend today, AUD.
    #[schema(value_type = f64)]
    pub ai_spend_today: Aud,
    /// The platform's daily AI cap, AUD.
    #[schema(value_type = f64)]
    pub ai_spend_limit: Aud,
    /// Live clients.
    pub total_clients: i64,
    /// Live campaigns.
    pub total_campaigns: i64,
    /// Live campaigns that are active.
    pub active_campaigns: i64,
    /// Live leads.
    pub total_leads: i64,
    /// Leads created this month.
    pub leads_this_month: i64,
    /// AI spend this month, AUD.
    #[schema(value_type = f64)]
    pub ai_spend_month_aud: Aud,
}

fn month_start(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

/// The headline numbers, "today" and "this month" in the platform's timezone.
/// `ai_daily_cap` is the AI gate's platform cap (`AI_PLATFORM_DAILY_CAP_AUD`); AI spend is the
/// settled cost in the `ai_usage` ledger by platform day.
pub async fn platform_stats(
    pool: &PgPool,
    settings: &AdminSettings,
    ai_daily_cap: Decimal,
    now: DateTime<Utc>,
) -> Result<PlatformStats, UseCaseError> {
    let today = today_in(PLATFORM_TZ, now);
    let yesterday = today.checked_sub_days(Days::new(1)).unwrap_or(today);
    let month = month_start(today);
    let (counts, billing, snapshot, ai_today, ai_month) = tokio::try_join!(
        store::platform_counts(
            pool,
            local_midnight(today, PLATFORM_TZ),
            local_midnight(yesterday, PLATFORM_TZ),
            local_midnight(month, PLATFORM_TZ),
        ),
        store::billing_now(pool),
        store::billing_snapshot(pool, month),
        agency_store::ai_usage::platform_total(pool, today, today),
        agency_store::ai_usage::platform_total(pool, month, today),
    )?;
    let mrr = mrr_of(&billing, settings)?;
    let mrr_before = match &snapshot {
        Some((_, rows)) => mrr_of(rows, settings)?,
        None => Aud::ZERO,
    };
    Ok(PlatformStats {
        mrr,
        mrr_change: change_percent(mrr.amount(), mrr_before.amount()),
        active_clients: counts.active_clients,
        new_clients_this_month: counts.new_clients_this_month,
        leads_today: counts.leads_today,
        leads_change: change_percent(
            Decimal::from(counts.leads_today),
            Decimal::from(counts.leads_yesterday),
        ),
        ai_spend_today: Aud::new(ai_today).round_cents(),
        ai_spend_limit: Aud::new(ai_daily_cap),
        total_clients: counts.total_clients,
        total_campaigns: counts.total_campaigns,
        active_campaigns: counts.active_campaigns,
        total_leads: counts.total_leads,
        leads_this_month: counts.leads_this_month,
        ai_spend_month_aud: Aud::new(ai_month).round_cents(),
    })
}

/// Revenue over a period.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Revenue {
    /// MRR now, AUD.
    #[schema(value_type = f64)]
    pub mrr_aud: Aud,
    /// 12 x MRR, AUD.
    #[schema(value_type = f64)]
    pub arr_aud: Aud,
    /// MRR change since the snapshot at the start of the period, percent.
    pub mrr_growth_percent: f64,
    /// Of the clients paying at the start of the period, the share not paying now, percent.
    pub churn_rate_percent: f64,
    /// Payment transactions: none are recorded (no billing provider is connected).
    #[schema(value_type = Vec<Object>)]
    pub transactions: Vec<serde_json::Value>,
    /// First day of the period.
    pub start_date: NaiveDate,
    /// Last day of the period.
    pub end_date: NaiveDate,
    /// The snapshot day compared against (`null`: none on or before the start yet).
    pub baseline_date: Option<NaiveDate>,
}

/// MRR, ARR, growth and churn for the period (default: the last 30 days).
pub async fn revenue(
    pool: &PgPool,
    settings: &AdminSettings,
    q: &RangeQuery,
    now: DateTime<Utc>,
) -> Result<Revenue, UseCaseError> {
    let range = DateRange::resolve(q.start_date, q.end_date, today_in(PLATFORM_TZ, now))
        .map_err(|e| UseCaseError::field("start_date", e.to_string()))?;
    let (billing, snapshot) = tokio::try_join!(
        store::billing_now(pool),
        store::billing_snapshot(pool, range.start),
    )?;
    let mrr = mrr_of(&billing, settings)?;
    let (baseline_date, growth, churn) = match &snapshot {
        None => (None, 0.0, 0.0),
        Some((day, rows)) => {
            let before = mrr_of(rows, settings)?;
            let paying_now: HashMap<Uuid, bool> = billing
                .iter()
                .map(decode)
                .map(|r| r.map(|(id, _, s)| (id, is_paying(s))))
                .collect::<Result<_, _>>()?;
            let mut paying_then = 0i64;
            let mut churned = 0i64;
            for row in rows {
                let (id, _, status) = decode(row)?;
                if is_paying(status) {
                    paying_then += 1;
                    if !paying_now.get(&id).copied().unwrap_or(false) {
                        churned += 1;
                    }
                }
            }
            (
                Some(*day),
                change_percent(mrr.amount(), before.amount()),
                percent(churned, paying_then),
            )
        }
    };
    Ok(Revenue {
        mrr_aud: mrr,
        arr_aud: Aud(mrr.amount() * Decimal::from(12)),
        mrr_growth_percent: growth,
        churn_rate_percent: churn,
        transactions: Vec::new(),
        start_date: range.start,
        end_date: range.end,
        baseline_date,
    })
}
