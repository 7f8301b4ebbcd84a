//! Daily activity series (`GET /reports/activity/daily`, `GET /reports/campaigns/{id}/daily`):
//! activities per local day of the client (every day of the range present, zeros included)
//! and their totals.

use std::collections::BTreeMap;

use agency_domain::{CampaignId, ClientId};
use agency_store::PgPool;
use agency_store::reports as store;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::funnel::{RangeQuery, StageCounts};
use super::{Scope, check_campaign};
use crate::usecase::UseCaseError;

/// One day's activities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct DayCounts {
    /// The local date.
    pub date: NaiveDate,
    /// Touches sent.
    pub sent: i64,
    /// Delivered.
    pub delivered: i64,
    /// Opened.
    pub opened: i64,
    /// Clicked.
    pub clicked: i64,
    /// Replies.
    pub replied: i64,
    /// Bounced or failed.
    pub bounced: i64,
    /// Meetings booked and conversions.
    pub conversions: i64,
}

impl DayCounts {
    fn new(date: NaiveDate, c: StageCounts) -> Self {
        Self {
            date,
            sent: c.sent,
            delivered: c.delivered,
            opened: c.opened,
            clicked: c.clicked,
            replied: c.replied,
            bounced: c.bounced,
            conversions: c.converted,
        }
    }
}

/// Totals over the range.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct DayTotals {
    /// Touches sent.
    pub sent: i64,
    /// Delivered.
    pub delivered: i64,
    /// Opened.
    pub opened: i64,
    /// Clicked.
    pub clicked: i64,
    /// Replies.
    pub replied: i64,
    /// Bounced or failed.
    pub bounced: i64,
}

/// The daily series.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DailyReport {
    /// Client id.
    pub client_id: Uuid,
    /// The campaign, when the series is one campaign's.
    pub campaign_id: Option<Uuid>,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day (inclusive).
    pub end_date: NaiveDate,
    /// Every day of the range, oldest first.
    pub days: Vec<DayCounts>,
    /// Sums over the days.
    pub totals: DayTotals,
}

/// The client's (or one campaign's) activities per local day.
pub async fn daily_activity(
    pool: &PgPool,
    client: ClientId,
    campaign: Option<CampaignId>,
    q: &RangeQuery,
    now: DateTime<Utc>,
) -> Result<DailyReport, UseCaseError> {
    check_campaign(pool, client, campaign).await?;
    let scope = Scope::load(pool, client, q, now).await?;
    let rows = store::daily_action_counts(pool, client, campaign, scope.days()).await?;
    let mut by_day: BTreeMap<NaiveDate, StageCounts> = BTreeMap::new();
    for row in &rows {
        by_day
            .entry(row.day)
            .or_default()
            .add(&row.action, row.count);
    }
    let days: Vec<DayCounts> = scope
        .range
        .days()
        .map(|d| DayCounts::new(d, by_day.get(&d).copied().unwrap_or_default()))
        .collect();
    let mut totals = DayTotals::default();
    for d in &days {
        totals.sent += d.sent;
        totals.delivered += d.delivered;
        totals.opened += d.opened;
        totals.clicked += d.clicked;
        totals.replied += d.replied;
        totals.bounced += d.bounced;
    }
    Ok(DailyReport {
        client_id: client.into_uuid(),
        campaign_id: campaign.map(CampaignId::into_uuid),
        start_date: scope.range.start,
        end_date: scope.range.end,
        days,
        totals,
    })
}
