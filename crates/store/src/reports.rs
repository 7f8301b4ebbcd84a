//! Report queries: activity counts (by campaign, channel, action and local day) and distinct
//! leads per lead-level stage from the maintained aggregates of migration 20261204100000
//! (`report_activity_days`, `report_stage_firsts`, kept by a trigger on `activities`), counts
//! of `leads` (by tier, by campaign) and `campaigns`, and one lead's activities, for one client
//! and an optional campaign over a range of the client's local days. Which actions count
//! towards which funnel stage is the domain's (`agency_domain::FunnelStage`); the database's
//! `report_lead_stage` mirrors its lead-level part.

use agency_domain::CampaignId;
use agency_domain::ClientId;
use agency_domain::LeadId;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::StoreError;

/// The client facts every report reads.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReportClient {
    /// Client id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// IANA timezone name.
    pub timezone: String,
}

/// A live client's name and timezone.
pub async fn client(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
) -> Result<ReportClient, StoreError> {
    Ok(sqlx::query_as::<_, ReportClient>(
        "SELECT id, name, timezone FROM clients WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(client_id)
    .fetch_one(db)
    .await?)
}

/// The owning client of a live campaign.
pub async fn campaign_owner(
    db: impl PgExecutor<'_>,
    campaign_id: CampaignId,
) -> Result<Option<ClientId>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT client_id FROM campaigns WHERE id = $1 AND deleted_at IS NULL")
            .bind(campaign_id)
            .fetch_optional(db)
            .await?,
    )
}

/// The owning client of a live lead.
pub async fn lead_owner(
    db: impl PgExecutor<'_>,
    lead_id: LeadId,
) -> Result<Option<ClientId>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT client_id FROM leads WHERE id = $1 AND deleted_at IS NULL")
            .bind(lead_id)
            .fetch_optional(db)
            .await?,
    )
}

/// The scope key of the aggregates for the whole client (a campaign's scope is its id).
const CLIENT_SCOPE: Uuid = Uuid::nil();

/// The scope key of one campaign, or of the whole client.
fn scope(campaign: Option<CampaignId>) -> Uuid {
    campaign.map_or(CLIENT_SCOPE, CampaignId::into_uuid)
}

/// A range of local days of the client (both inclusive), as the aggregates are keyed.
pub type DayRange = (NaiveDate, NaiveDate);

/// One campaign's row of the client report.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CampaignCounts {
    /// Campaign id.
    pub campaign_id: Uuid,
    /// Name.
    pub campaign_name: String,
    /// Status text.
    pub status: String,
    /// Live leads in the campaign now.
    pub leads: i64,
    /// Distinct leads contacted in the range.
    pub contacted: i64,
    /// Distinct leads that replied in the range.
    pub replied: i64,
    /// Distinct leads that converted in the range.
    pub converted: i64,
}

/// The distinct leads of the three lead-level stages per scope in the local days `[from, to]`,
/// from `report_stage_firsts` (migration 20261204100000): a lead counts once, on its first day
/// of the stage in the range, which is the day whose previous day of the stage is before
/// `from`. `$1` client, `$2` from, `$3` to.
const STAGE_LEADS: &str = "SELECT scope,
            coalesce(sum(leads) FILTER (WHERE stage = 'contacted'), 0)::bigint AS contacted,
            coalesce(sum(leads) FILTER (WHERE stage = 'replied'), 0)::bigint AS replied,
            coalesce(sum(leads) FILTER (WHERE stage = 'converted'), 0)::bigint AS converted
       FROM report_stage_firsts
      WHERE client_id = $1 AND day >= $2 AND day <= $3 AND prev_day < $2
      GROUP BY scope";

/// Per live campaign of the client (or just `campaign`), newest first: its live leads and the
/// distinct leads contacted, replying and converting in the local days `days`.
pub async fn campaign_counts(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    campaign: Option<CampaignId>,
    (from, to): DayRange,
) -> Result<Vec<CampaignCounts>, StoreError> {
    Ok(
        sqlx::query_as::<_, CampaignCounts>(sqlx::AssertSqlSafe(format!(
            "WITH s AS ({STAGE_LEADS})
         SELECT c.id AS campaign_id, c.name AS campaign_name, c.status,
                (SELECT count(*) FROM leads l
                  WHERE l.client_id = c.client_id AND l.campaign_id = c.id
                    AND l.deleted_at IS NULL) AS leads,
                coalesce(s.contacted, 0) AS contacted, coalesce(s.replied, 0) AS replied,
                coalesce(s.converted, 0) AS converted
           FROM campaigns c
           LEFT JOIN s ON s.scope = c.id
          WHERE c.client_id = $1 AND c.deleted_at IS NULL
            AND ($4::uuid IS NULL OR c.id = $4)
          ORDER BY c.created_at DESC, c.id DESC"
        )))
        .bind(client_id)
        .bind(from)
        .bind(to)
        .bind(campaign)
        .fetch_all(db)
        .await?,
    )
}

/// The client-wide totals of the client report.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClientTotals {
    /// Live campaigns.
    pub total_campaigns: i64,
    /// Live campaigns with status `active`.
    pub active_campaigns: i64,
    /// Live leads.
    pub total_leads: i64,
    /// Distinct leads contacted in the range.
    pub contacted: i64,
    /// Distinct leads that replied in the range.
    pub replied: i64,
    /// Distinct leads that converted in the range.
    pub converted: i64,
}

/// Campaign and lead counts of the client now, and its distinct leads contacted, replying and
/// converting in the local days `days` (any campaign or none).
pub async fn client_totals(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    (from, to): DayRange,
) -> Result<ClientTotals, StoreError> {
    Ok(
        sqlx::query_as::<_, ClientTotals>(sqlx::AssertSqlSafe(format!(
            "WITH s AS ({STAGE_LEADS})
         SELECT c.total_campaigns, c.active_campaigns, l.total_leads,
                coalesce(a.contacted, 0) AS contacted, coalesce(a.replied, 0) AS replied,
                coalesce(a.converted, 0) AS converted
           FROM (SELECT count(*) AS total_campaigns,
                        count(*) FILTER (WHERE status = 'active') AS active_campaigns
                   FROM campaigns WHERE client_id = $1 AND deleted_at IS NULL) c
          CROSS JOIN (SELECT count(*) AS total_leads
                        FROM leads WHERE client_id = $1 AND deleted_at IS NULL) l
           LEFT JOIN s a ON a.scope = $4"
        )))
        .bind(client_id)
        .bind(from)
        .bind(to)
        .bind(CLIENT_SCOPE)
        .fetch_one(db)
        .await?,
    )
}

/// Activities of one channel and action.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChannelActionCount {
    /// Channel text.
    pub channel: String,
    /// Action text.
    pub action: String,
    /// Activities.
    pub count: i64,
}

/// Activities per channel and action of the client (or one campaign) in the local days `days`.
pub async fn channel_action_counts(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    campaign: Option<CampaignId>,
    (from, to): DayRange,
) -> Result<Vec<ChannelActionCount>, StoreError> {
    Ok(sqlx::query_as::<_, ChannelActionCount>(
        "SELECT channel, action, sum(activities)::bigint AS count
           FROM report_activity_days
          WHERE client_id = $1 AND scope = $2 AND day >= $3 AND day <= $4
          GROUP BY channel, action",
    )
    .bind(client_id)
    .bind(scope(campaign))
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await?)
}

/// Activities of one local day and action.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DayActionCount {
    /// The local date (in the client's timezone).
    pub day: NaiveDate,
    /// Action text.
    pub action: String,
    /// Activities.
    pub count: i64,
}

/// Activities per local day (in the client's timezone) and action of the client (or one
/// campaign) in the local days `days`.
pub async fn daily_action_counts(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    campaign: Option<CampaignId>,
    (from, to): DayRange,
) -> Result<Vec<DayActionCount>, StoreError> {
    Ok(sqlx::query_as::<_, DayActionCount>(
        "SELECT day, action, sum(activities)::bigint AS count
           FROM report_activity_days
          WHERE client_id = $1 AND scope = $2 AND day >= $3 AND day <= $4
          GROUP BY day, action",
    )
    .bind(client_id)
    .bind(scope(campaign))
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await?)
}

/// The lead-level stage the aggregates give an action (`contacted`, `replied`, `converted`;
/// `None`: none), as the database's `report_lead_stage` maps it (for tests comparing it with
/// the domain's funnel vocabulary).
pub async fn lead_stage_of(
    db: impl PgExecutor<'_>,
    action: &str,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar("SELECT report_lead_stage($1)")
        .bind(action)
        .fetch_one(db)
        .await?)
}

/// Live leads with one tier (`None`: not scored yet).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TierCount {
    /// Tier text.
    pub tier: Option<String>,
    /// Leads.
    pub count: i64,
}

/// Live leads per ALS tier of the client, or of one of its campaigns.
pub async fn tier_counts(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    campaign: Option<CampaignId>,
) -> Result<Vec<TierCount>, StoreError> {
    Ok(sqlx::query_as::<_, TierCount>(
        "SELECT als_tier AS tier, count(*) AS count
           FROM leads
          WHERE client_id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR campaign_id = $2)
          GROUP BY als_tier",
    )
    .bind(client_id)
    .bind(campaign)
    .fetch_all(db)
    .await?)
}

/// The lead facts the engagement report shows.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EngagementLead {
    /// Lead id.
    pub id: Uuid,
    /// Campaign.
    pub campaign_id: Option<Uuid>,
    /// Status text.
    pub status: String,
    /// ALS score.
    pub als_score: Option<i16>,
    /// ALS tier text.
    pub als_tier: Option<String>,
}

/// A live lead of the client.
pub async fn engagement_lead(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    lead_id: LeadId,
) -> Result<EngagementLead, StoreError> {
    Ok(sqlx::query_as::<_, EngagementLead>(
        "SELECT id, campaign_id, status, als_score, als_tier
           FROM leads WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(client_id)
    .bind(lead_id)
    .fetch_one(db)
    .await?)
}

/// A lead's activities of one channel and action.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LeadActionCount {
    /// Channel text.
    pub channel: String,
    /// Action text.
    pub action: String,
    /// Activities.
    pub count: i64,
    /// The first one.
    pub first_at: DateTime<Utc>,
    /// The latest one.
    pub last_at: DateTime<Utc>,
}

/// All of a lead's activities per channel and action.
pub async fn lead_action_counts(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    lead_id: LeadId,
) -> Result<Vec<LeadActionCount>, StoreError> {
    Ok(sqlx::query_as::<_, LeadActionCount>(
        "SELECT channel, action, count(*) AS count, min(created_at) AS first_at,
                max(created_at) AS last_at
           FROM activities WHERE client_id = $1 AND lead_id = $2
          GROUP BY channel, action",
    )
    .bind(client_id)
    .bind(lead_id)
    .fetch_all(db)
    .await?)
}

/// Folds the striped report counters of local days before `before` into one row per key
/// (migration 20261204130000); answers the striped rows removed. The figures read are the same
/// before and after.
pub async fn fold_stripes(db: impl PgExecutor<'_>, before: NaiveDate) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar("SELECT report_aggregates_fold($1)")
        .bind(before)
        .fetch_one(db)
        .await?)
}
