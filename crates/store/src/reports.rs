//! Report queries: counts over `activities` (by campaign, channel, action and local day),
//! `leads` (by tier, by campaign) and `campaigns`, for one client and an optional campaign,
//! between two instants. Which actions count towards which funnel stage is the domain's
//! (`agency_domain::FunnelStage`): callers pass the action lists.

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
pub async fn client(db: impl PgExecutor<'_>, client_id: Uuid) -> Result<ReportClient, StoreError> {
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
    campaign_id: Uuid,
) -> Result<Option<Uuid>, StoreError> {
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
    lead_id: Uuid,
) -> Result<Option<Uuid>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT client_id FROM leads WHERE id = $1 AND deleted_at IS NULL")
            .bind(lead_id)
            .fetch_optional(db)
            .await?,
    )
}

/// The action lists of the three lead-level funnel counts.
#[derive(Debug, Clone, Copy)]
pub struct LeadFunnelActions<'a> {
    /// Actions that contact a lead.
    pub contacted: &'a [&'a str],
    /// Actions that are a reply.
    pub replied: &'a [&'a str],
    /// Actions that are a conversion.
    pub converted: &'a [&'a str],
}

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

/// Per live campaign of the client (or just `campaign`), newest first: its live leads and the
/// distinct leads contacted, replying and converting between `from` and `to`.
pub async fn campaign_counts(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
    campaign: Option<Uuid>,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    actions: LeadFunnelActions<'_>,
) -> Result<Vec<CampaignCounts>, StoreError> {
    Ok(sqlx::query_as::<_, CampaignCounts>(
        "SELECT c.id AS campaign_id, c.name AS campaign_name, c.status,
                (SELECT count(*) FROM leads l
                  WHERE l.client_id = c.client_id AND l.campaign_id = c.id
                    AND l.deleted_at IS NULL) AS leads,
                a.contacted, a.replied, a.converted
           FROM campaigns c
          CROSS JOIN LATERAL (
                SELECT count(DISTINCT ac.lead_id) FILTER (WHERE ac.action = ANY($5)) AS contacted,
                       count(DISTINCT ac.lead_id) FILTER (WHERE ac.action = ANY($6)) AS replied,
                       count(DISTINCT ac.lead_id) FILTER (WHERE ac.action = ANY($7)) AS converted
                  FROM activities ac
                 WHERE ac.client_id = c.client_id AND ac.campaign_id = c.id
                   AND ac.created_at >= $3 AND ac.created_at < $4
          ) a
          WHERE c.client_id = $1 AND c.deleted_at IS NULL
            AND ($2::uuid IS NULL OR c.id = $2)
          ORDER BY c.created_at DESC, c.id DESC",
    )
    .bind(client_id)
    .bind(campaign)
    .bind(from)
    .bind(to)
    .bind(actions.contacted)
    .bind(actions.replied)
    .bind(actions.converted)
    .fetch_all(db)
    .await?)
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
/// converting between `from` and `to` (any campaign or none).
pub async fn client_totals(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    actions: LeadFunnelActions<'_>,
) -> Result<ClientTotals, StoreError> {
    Ok(sqlx::query_as::<_, ClientTotals>(
        "SELECT c.total_campaigns, c.active_campaigns, l.total_leads,
                a.contacted, a.replied, a.converted
           FROM (SELECT count(*) AS total_campaigns,
                        count(*) FILTER (WHERE status = 'active') AS active_campaigns
                   FROM campaigns WHERE client_id = $1 AND deleted_at IS NULL) c,
                (SELECT count(*) AS total_leads
                   FROM leads WHERE client_id = $1 AND deleted_at IS NULL) l,
                (SELECT count(DISTINCT lead_id) FILTER (WHERE action = ANY($4)) AS contacted,
                        count(DISTINCT lead_id) FILTER (WHERE action = ANY($5)) AS replied,
                        count(DISTINCT lead_id) FILTER (WHERE action = ANY($6)) AS converted
                   FROM activities
                  WHERE client_id = $1 AND created_at >= $2 AND created_at < $3) a",
    )
    .bind(client_id)
    .bind(from)
    .bind(to)
    .bind(actions.contacted)
    .bind(actions.replied)
    .bind(actions.converted)
    .fetch_one(db)
    .await?)
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

/// Activities per channel and action of the client (or one campaign) between `from` and `to`.
pub async fn channel_action_counts(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
    campaign: Option<Uuid>,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> Result<Vec<ChannelActionCount>, StoreError> {
    Ok(sqlx::query_as::<_, ChannelActionCount>(
        "SELECT channel, action, count(*) AS count
           FROM activities
          WHERE client_id = $1 AND ($2::uuid IS NULL OR campaign_id = $2)
            AND created_at >= $3 AND created_at < $4
          GROUP BY channel, action",
    )
    .bind(client_id)
    .bind(campaign)
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await?)
}

/// Activities of one local day and action.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DayActionCount {
    /// The local date (in the timezone asked for).
    pub day: NaiveDate,
    /// Action text.
    pub action: String,
    /// Activities.
    pub count: i64,
}

/// Activities per local day (in `timezone`) and action of the client (or one campaign)
/// between `from` and `to`.
pub async fn daily_action_counts(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
    campaign: Option<Uuid>,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
    timezone: &str,
) -> Result<Vec<DayActionCount>, StoreError> {
    Ok(sqlx::query_as::<_, DayActionCount>(
        "SELECT (created_at AT TIME ZONE $5)::date AS day, action, count(*) AS count
           FROM activities
          WHERE client_id = $1 AND ($2::uuid IS NULL OR campaign_id = $2)
            AND created_at >= $3 AND created_at < $4
          GROUP BY 1, 2",
    )
    .bind(client_id)
    .bind(campaign)
    .bind(from)
    .bind(to)
    .bind(timezone)
    .fetch_all(db)
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
    client_id: Uuid,
    campaign: Option<Uuid>,
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
    client_id: Uuid,
    lead_id: Uuid,
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
    client_id: Uuid,
    lead_id: Uuid,
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
