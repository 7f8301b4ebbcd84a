//! The ALS tier distribution (`GET /reports/leads/distribution`): live leads per tier of the
//! client or of one campaign; percentages are of the scored leads (`total`), so they add up to
//! 100 (give or take rounding). Unscored leads are not counted.

use agency_domain::{CampaignId, ClientId, Tier, percent};
use agency_store::PgPool;
use agency_store::reports as store;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{check_campaign, corrupt};
use crate::usecase::UseCaseError;

/// Leads in one tier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, ToSchema)]
pub struct TierBucket {
    /// Leads.
    pub count: i64,
    /// Share of `total`, 0-100, two decimals.
    pub percentage: f64,
}

/// The tier distribution.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LeadDistribution {
    /// 85-100.
    pub hot: TierBucket,
    /// 60-84.
    pub warm: TierBucket,
    /// 35-59.
    pub cool: TierBucket,
    /// 20-34.
    pub cold: TierBucket,
    /// 0-19, unsubscribed or suppressed.
    pub dead: TierBucket,
    /// Scored live leads (the sum of the five tiers).
    pub total: i64,
    /// Client id.
    pub client_id: Uuid,
    /// The campaign asked for, if any.
    pub campaign_id: Option<Uuid>,
}

/// Live leads per tier of the client, or of one of its campaigns (404 for another client's).
pub async fn lead_distribution(
    pool: &PgPool,
    client: ClientId,
    campaign: Option<CampaignId>,
) -> Result<LeadDistribution, UseCaseError> {
    check_campaign(pool, client, campaign).await?;
    let rows = store::tier_counts(pool, client, campaign).await?;
    let mut counts = [0i64; 5];
    for row in &rows {
        let Some(text) = row.tier.as_deref() else {
            continue;
        };
        let tier: Tier = text.parse().map_err(corrupt)?;
        let slot = match tier {
            Tier::Hot => 0,
            Tier::Warm => 1,
            Tier::Cool => 2,
            Tier::Cold => 3,
            Tier::Dead => 4,
        };
        counts[slot] += row.count;
    }
    let total: i64 = counts.iter().sum();
    let bucket = |i: usize| TierBucket {
        count: counts[i],
        percentage: percent(counts[i], total),
    };
    Ok(LeadDistribution {
        hot: bucket(0),
        warm: bucket(1),
        cool: bucket(2),
        cold: bucket(3),
        dead: bucket(4),
        total,
        client_id: client.into_uuid(),
        campaign_id: campaign.map(CampaignId::into_uuid),
    })
}
