//! The tier report (`GET /api/v1/clients/{cid}/reports/tiers`): live leads per ALS tier for
//! each campaign and in total, with percentages of the campaign's leads.

use std::collections::BTreeMap;

use agency_domain::Tier;
use agency_store::PgPool;
use agency_store::pipeline as store;
use serde::Serialize;
use uuid::Uuid;

use crate::error::UseCaseError;

/// Leads in one tier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TierBucket {
    /// Leads.
    pub count: i64,
    /// Share of the group's leads, 0-100, two decimals.
    pub percentage: f64,
}

/// The tier distribution of one group of leads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TierDistribution {
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
    /// Not scored yet.
    pub unscored: TierBucket,
    /// All live leads of the group.
    pub total: i64,
}

impl TierDistribution {
    fn add(&mut self, tier: Option<&str>, count: i64) {
        let bucket = match tier.and_then(|t| t.parse::<Tier>().ok()) {
            Some(Tier::Hot) => &mut self.hot,
            Some(Tier::Warm) => &mut self.warm,
            Some(Tier::Cool) => &mut self.cool,
            Some(Tier::Cold) => &mut self.cold,
            Some(Tier::Dead) => &mut self.dead,
            None => &mut self.unscored,
        };
        bucket.count += count;
        self.total += count;
    }

    fn finish(mut self) -> Self {
        let total = self.total;
        for b in [
            &mut self.hot,
            &mut self.warm,
            &mut self.cool,
            &mut self.cold,
            &mut self.dead,
            &mut self.unscored,
        ] {
            b.percentage = if total == 0 {
                0.0
            } else {
                ((b.count as f64) * 10_000.0 / (total as f64)).round() / 100.0
            };
        }
        self
    }
}

/// One campaign's distribution (`campaign_id` null: leads without a campaign).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CampaignTiers {
    /// Campaign.
    pub campaign_id: Option<Uuid>,
    /// Its name.
    pub campaign_name: Option<String>,
    /// Distribution.
    #[serde(flatten)]
    pub tiers: TierDistribution,
}

/// The client's tier report.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TierReport {
    /// Client.
    pub client_id: Uuid,
    /// Per campaign, by name.
    pub campaigns: Vec<CampaignTiers>,
    /// Over all live leads.
    pub totals: TierDistribution,
}

/// Builds the client's tier report.
pub async fn tier_report(pool: &PgPool, client_id: Uuid) -> Result<TierReport, UseCaseError> {
    let rows = store::tier_counts(pool, client_id).await?;
    let mut totals = TierDistribution::default();
    let mut order: Vec<Option<Uuid>> = Vec::new();
    let mut groups: BTreeMap<Option<Uuid>, (Option<String>, TierDistribution)> = BTreeMap::new();
    for row in rows {
        totals.add(row.tier.as_deref(), row.count);
        let entry = groups.entry(row.campaign_id).or_insert_with(|| {
            order.push(row.campaign_id);
            (row.campaign_name.clone(), TierDistribution::default())
        });
        entry.1.add(row.tier.as_deref(), row.count);
    }
    let campaigns = order
        .into_iter()
        .filter_map(|id| {
            groups.remove(&id).map(|(name, tiers)| CampaignTiers {
                campaign_id: id,
                campaign_name: name,
                tiers: tiers.finish(),
            })
        })
        .collect();
    Ok(TierReport {
        client_id,
        campaigns,
        totals: totals.finish(),
    })
}
