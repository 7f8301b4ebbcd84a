//! The client overview (`GET /reports/clients/{cid}`) and one campaign's summary
//! (`GET /reports/campaigns/{id}`): lead-level counts (distinct leads contacted, replying,
//! converting in the range; rates against leads contacted) and channel performance.

use std::collections::BTreeMap;

use agency_domain::{CampaignId, ClientId, percent};
use agency_store::PgPool;
use agency_store::reports::{self as store, CampaignCounts};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::funnel::{ChannelPerformance, RangeQuery, channel_performance};
use super::{Scope, check_campaign};
use crate::usecase::UseCaseError;

/// One campaign of the client overview.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CampaignRow {
    /// Campaign id.
    pub campaign_id: Uuid,
    /// Name.
    pub campaign_name: String,
    /// `draft`, `active`, `paused` or `completed`.
    pub status: String,
    /// Live leads in the campaign now.
    pub leads: i64,
    /// Distinct leads that replied in the range.
    pub replies: i64,
    /// Distinct leads that converted (meeting booked or converted) in the range.
    pub conversions: i64,
    /// replies / leads contacted in the range, 0-100.
    pub reply_rate: f64,
    /// conversions / leads contacted in the range, 0-100.
    pub conversion_rate: f64,
}

impl From<&CampaignCounts> for CampaignRow {
    fn from(c: &CampaignCounts) -> Self {
        Self {
            campaign_id: c.campaign_id,
            campaign_name: c.campaign_name.clone(),
            status: c.status.clone(),
            leads: c.leads,
            replies: c.replied,
            conversions: c.converted,
            reply_rate: percent(c.replied, c.contacted),
            conversion_rate: percent(c.converted, c.contacted),
        }
    }
}

/// The client overview.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ClientReport {
    /// Client id.
    pub client_id: Uuid,
    /// Client name.
    pub client_name: String,
    /// Live campaigns.
    pub total_campaigns: i64,
    /// Live campaigns with status `active`.
    pub active_campaigns: i64,
    /// Live leads.
    pub total_leads: i64,
    /// Distinct leads that replied in the range.
    pub total_replies: i64,
    /// Distinct leads that converted in the range.
    pub total_conversions: i64,
    /// total_replies / distinct leads contacted in the range, 0-100.
    pub overall_reply_rate: f64,
    /// total_conversions / distinct leads contacted in the range, 0-100.
    pub overall_conversion_rate: f64,
    /// Every live campaign, newest first.
    pub campaigns: Vec<CampaignRow>,
    /// Per channel (all five always present).
    pub channel_performance: BTreeMap<String, ChannelPerformance>,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day (inclusive).
    pub end_date: NaiveDate,
}

/// Builds the client overview for the range (default: the last 30 days in the client's
/// timezone).
pub async fn client_report(
    pool: &PgPool,
    client: ClientId,
    q: &RangeQuery,
    now: DateTime<Utc>,
) -> Result<ClientReport, UseCaseError> {
    let scope = Scope::load(pool, client, q, now).await?;
    let days = scope.days();
    let id = client.into_uuid();
    let (totals, campaigns, channels) = tokio::try_join!(
        store::client_totals(pool, client, days),
        store::campaign_counts(pool, client, None, days),
        store::channel_action_counts(pool, client, None, days),
    )?;
    Ok(ClientReport {
        client_id: id,
        client_name: scope.client.name,
        total_campaigns: totals.total_campaigns,
        active_campaigns: totals.active_campaigns,
        total_leads: totals.total_leads,
        total_replies: totals.replied,
        total_conversions: totals.converted,
        overall_reply_rate: percent(totals.replied, totals.contacted),
        overall_conversion_rate: percent(totals.converted, totals.contacted),
        campaigns: campaigns.iter().map(CampaignRow::from).collect(),
        channel_performance: channel_performance(&channels),
        start_date: scope.range.start,
        end_date: scope.range.end,
    })
}

/// One campaign's summary over a range.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CampaignReport {
    /// Client id.
    pub client_id: Uuid,
    /// Campaign id.
    pub campaign_id: Uuid,
    /// Name.
    pub campaign_name: String,
    /// Status.
    pub status: String,
    /// Live leads in the campaign now.
    pub leads: i64,
    /// Distinct leads contacted in the range.
    pub leads_contacted: i64,
    /// Distinct leads that replied in the range.
    pub replies: i64,
    /// Distinct leads that converted in the range.
    pub conversions: i64,
    /// replies / leads contacted, 0-100.
    pub reply_rate: f64,
    /// conversions / leads contacted, 0-100.
    pub conversion_rate: f64,
    /// Per channel (all five always present).
    pub channel_performance: BTreeMap<String, ChannelPerformance>,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day (inclusive).
    pub end_date: NaiveDate,
}

/// Builds one campaign's summary (404 when it is not a live campaign of the client).
pub async fn campaign_report(
    pool: &PgPool,
    client: ClientId,
    campaign: CampaignId,
    q: &RangeQuery,
    now: DateTime<Utc>,
) -> Result<CampaignReport, UseCaseError> {
    check_campaign(pool, client, Some(campaign)).await?;
    let scope = Scope::load(pool, client, q, now).await?;
    let days = scope.days();
    let (rows, channels) = tokio::try_join!(
        store::campaign_counts(pool, client, Some(campaign), days),
        store::channel_action_counts(pool, client, Some(campaign), days),
    )?;
    let c = rows.first().ok_or(UseCaseError::NotFound("campaign"))?;
    let row = CampaignRow::from(c);
    Ok(CampaignReport {
        client_id: client.into_uuid(),
        campaign_id: campaign.into_uuid(),
        campaign_name: row.campaign_name,
        status: row.status,
        leads: row.leads,
        leads_contacted: c.contacted,
        replies: row.replies,
        conversions: row.conversions,
        reply_rate: row.reply_rate,
        conversion_rate: row.conversion_rate,
        channel_performance: channel_performance(&channels),
        start_date: scope.range.start,
        end_date: scope.range.end,
    })
}
