//! One lead's engagement (`GET /reports/leads/{lead_id}/engagement`): all its activities
//! counted by funnel stage, per channel, with the first touch and the latest activity.

use std::collections::BTreeMap;

use agency_domain::{ClientId, LeadId};
use agency_store::PgPool;
use agency_store::reports as store;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::funnel::StageCounts;
use crate::usecase::UseCaseError;

/// One channel's part of a lead's engagement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChannelEngagement {
    /// Touches sent.
    pub touches: i64,
    /// Opens.
    pub opens: i64,
    /// Clicks.
    pub clicks: i64,
    /// Replies.
    pub replies: i64,
}

/// The latest activity of a lead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LastActivity {
    /// Channel.
    pub channel: String,
    /// Action.
    pub action: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// A lead's engagement over all time.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LeadEngagement {
    /// Lead id.
    pub lead_id: Uuid,
    /// Client id.
    pub client_id: Uuid,
    /// Campaign.
    pub campaign_id: Option<Uuid>,
    /// Lead status.
    pub status: String,
    /// ALS score (null until scored).
    pub als_score: Option<i16>,
    /// ALS tier (null until scored).
    pub als_tier: Option<String>,
    /// Touches sent (any channel).
    pub touches: i64,
    /// Delivered.
    pub delivered: i64,
    /// Opens.
    pub opens: i64,
    /// Clicks.
    pub clicks: i64,
    /// Replies.
    pub replies: i64,
    /// Bounces and failures.
    pub bounces: i64,
    /// Meetings booked and conversions.
    pub conversions: i64,
    /// Every activity, counted or not.
    pub total_activities: i64,
    /// The first touch sent.
    pub first_touch_at: Option<DateTime<Utc>>,
    /// The latest activity.
    pub last_activity_at: Option<DateTime<Utc>>,
    /// The latest activity's channel and action.
    pub last_activity: Option<LastActivity>,
    /// Per channel the lead was reached on.
    pub channels: BTreeMap<String, ChannelEngagement>,
}

/// The lead's engagement (404 when it is not a live lead of the client).
pub async fn lead_engagement(
    pool: &PgPool,
    client: ClientId,
    lead: LeadId,
) -> Result<LeadEngagement, UseCaseError> {
    let (id, lid) = (client.into_uuid(), lead.into_uuid());
    let row = store::engagement_lead(pool, client, lead)
        .await
        .map_err(UseCaseError::not_found_as("lead"))?;
    let counts = store::lead_action_counts(pool, client, lead).await?;
    let mut all = StageCounts::default();
    let mut channels: BTreeMap<String, StageCounts> = BTreeMap::new();
    let mut first_touch_at: Option<DateTime<Utc>> = None;
    let mut last: Option<LastActivity> = None;
    let mut total_activities = 0;
    for c in &counts {
        all.add(&c.action, c.count);
        channels
            .entry(c.channel.clone())
            .or_default()
            .add(&c.action, c.count);
        total_activities += c.count;
        if agency_domain::FunnelStage::of_action(&c.action)
            == Some(agency_domain::FunnelStage::Sent)
        {
            first_touch_at = Some(first_touch_at.map_or(c.first_at, |t| t.min(c.first_at)));
        }
        if last.as_ref().is_none_or(|l| c.last_at > l.created_at) {
            last = Some(LastActivity {
                channel: c.channel.clone(),
                action: c.action.clone(),
                created_at: c.last_at,
            });
        }
    }
    Ok(LeadEngagement {
        lead_id: lid,
        client_id: id,
        campaign_id: row.campaign_id,
        status: row.status,
        als_score: row.als_score,
        als_tier: row.als_tier,
        touches: all.sent,
        delivered: all.delivered,
        opens: all.opened,
        clicks: all.clicked,
        replies: all.replied,
        bounces: all.bounced,
        conversions: all.converted,
        total_activities,
        first_touch_at,
        last_activity_at: last.as_ref().map(|l| l.created_at),
        last_activity: last,
        channels: channels
            .into_iter()
            .map(|(k, c)| {
                (
                    k,
                    ChannelEngagement {
                        touches: c.sent,
                        opens: c.opened,
                        clicks: c.clicked,
                        replies: c.replied,
                    },
                )
            })
            .collect(),
    })
}
