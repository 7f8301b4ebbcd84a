//! The activity feed across clients (`GET /admin/activity`) and for one client (the admin
//! client detail): the latest activities with the client's name and a readable line.

use agency_domain::ClientId;
use agency_store::PgPool;
use agency_store::admin::{self as store, FeedRow};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::usecase::UseCaseError;

/// One activity of the feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FeedItem {
    /// Activity id.
    pub id: Uuid,
    /// The client's name.
    pub client_name: String,
    /// What happened (`sent`, `replied`, ...).
    pub action: String,
    /// A readable line: the lead, the campaign and the subject when known.
    pub details: String,
    /// When.
    pub timestamp: DateTime<Utc>,
    /// Channel.
    pub channel: String,
}

fn details(r: &FeedRow) -> String {
    let mut line = format!("{} {}", r.channel, r.action.replace('_', " "));
    if let Some(lead) = &r.lead_label {
        line.push_str(&format!(" - {lead}"));
    }
    if let Some(campaign) = &r.campaign_name {
        line.push_str(&format!(" ({campaign})"));
    }
    if let Some(subject) = r.subject.as_deref().filter(|s| !s.is_empty()) {
        line.push_str(&format!(": {subject}"));
    }
    line
}

/// Most feed items at once.
pub const FEED_MAX: i64 = 100;
/// Feed items by default.
pub const FEED_DEFAULT: i64 = 20;

/// The latest `limit` activities (clamped to 1-100) of every live client, or of one.
pub async fn activity_feed(
    pool: &PgPool,
    client: Option<ClientId>,
    limit: i64,
) -> Result<Vec<FeedItem>, UseCaseError> {
    let rows = store::activity_feed(pool, client, limit.clamp(1, FEED_MAX)).await?;
    Ok(rows
        .iter()
        .map(|r| FeedItem {
            id: r.id,
            client_name: r.client_name.clone(),
            action: r.action.clone(),
            details: details(r),
            timestamp: r.created_at,
            channel: r.channel.clone(),
        })
        .collect())
}
