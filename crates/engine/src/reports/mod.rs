//! Reports for the dashboard (`/api/v1/reports/...`): the client overview with campaigns and
//! channel performance, a campaign's summary, daily activity series, the ALS tier distribution
//! and one lead's engagement. Activity counts and distinct leads per stage come from the
//! aggregates maintained with every activity insert (migration 20261204100000, keyed by the
//! client's local day); lead and campaign counts and one lead's engagement are read at
//! request time. The funnel vocabulary is `agency_domain::FunnelStage`. Semantics are documented in
//! `docs/reports.md`.

mod client;
mod daily;
mod distribution;
mod engagement;
mod funnel;

pub use client::{CampaignReport, CampaignRow, ClientReport, campaign_report, client_report};
pub use daily::{DailyReport, DayCounts, DayTotals, daily_activity};
pub use distribution::{LeadDistribution, TierBucket, lead_distribution};
pub use engagement::{ChannelEngagement, LastActivity, LeadEngagement, lead_engagement};
pub use funnel::{ChannelPerformance, RangeQuery};

use agency_domain::{CampaignId, ClientId, DateRange, LeadId};
use agency_store::reports as store;
use agency_store::{PgPool, StoreError};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::usecase::UseCaseError;

/// The client that owns a live campaign (`None`: no such campaign).
pub async fn campaign_owner(
    pool: &PgPool,
    campaign: CampaignId,
) -> Result<Option<ClientId>, UseCaseError> {
    Ok(store::campaign_owner(pool, campaign).await?)
}

/// The client that owns a live lead (`None`: no such lead).
pub async fn lead_owner(pool: &PgPool, lead: LeadId) -> Result<Option<ClientId>, UseCaseError> {
    Ok(store::lead_owner(pool, lead).await?)
}

/// The client's name, timezone and the asked range resolved in that timezone.
pub(crate) struct Scope {
    pub client: store::ReportClient,
    pub range: DateRange,
}

impl Scope {
    pub(crate) async fn load(
        pool: &PgPool,
        client: ClientId,
        q: &RangeQuery,
        now: DateTime<Utc>,
    ) -> Result<Scope, UseCaseError> {
        let row = store::client(pool, client)
            .await
            .map_err(UseCaseError::not_found_as("client"))?;
        let tz: Tz = row
            .timezone
            .parse()
            .map_err(|e| corrupt(format!("client timezone {}: {e}", row.timezone)))?;
        let today = agency_domain::report::today_in(tz, now);
        let range = DateRange::resolve(q.start_date, q.end_date, today)
            .map_err(|e| UseCaseError::field("start_date", e.to_string()))?;
        Ok(Scope { client: row, range })
    }

    /// The range's first and last local day, as the aggregates are keyed.
    pub(crate) fn days(&self) -> store::DayRange {
        (self.range.start, self.range.end)
    }
}

/// A stored value the reports cannot read (500; logged, never shown).
pub fn corrupt(what: impl std::fmt::Display) -> UseCaseError {
    UseCaseError::Store(StoreError::Database(sqlx::Error::Decode(
        what.to_string().into(),
    )))
}

/// 404 unless `campaign` is a live campaign of `client`.
pub(crate) async fn check_campaign(
    pool: &PgPool,
    client: ClientId,
    campaign: Option<CampaignId>,
) -> Result<(), UseCaseError> {
    let Some(campaign) = campaign else {
        return Ok(());
    };
    match campaign_owner(pool, campaign).await? {
        Some(owner) if owner == client => Ok(()),
        _ => Err(UseCaseError::NotFound("campaign")),
    }
}
