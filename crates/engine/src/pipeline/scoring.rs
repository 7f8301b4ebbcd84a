//! ALS scoring of stored leads in batches: the client's weights (learned ones only when
//! `choose_weights` accepts them: confidence > 0.7 and at least 50 conversions), one scoring
//! context per campaign, the domain's `score_batch`, and one multi-row UPDATE storing score,
//! tier, components, the weights used and the lead's channels (tier ∩ campaign allocation).
//! [`score_and_allocate`] then plans each scored lead's first touch.

use agency_domain::{CampaignId, ClientId, LeadId, LeadStatus};
use std::collections::HashMap;

use agency_cache::Cache;
use agency_domain::{
    ChannelAllocation, LearnedWeights, ScoringContext, ScoringInput, SeoFacts, Tier, Weights,
    choose_weights, lead_channels, score_batch,
};
use agency_store::campaigns::{self, CampaignPipeline};
use agency_store::clients::{self, ClientPipeline};
use agency_store::leads::scoring::{self as store, ScoreUpdate, ScoringRow};
use agency_store::{PgPool, leads};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use super::allocation::{self, AllocationSummary};
use super::enrich::client_timezone;
use crate::error::UseCaseError;

/// Leads per scoring batch (one job, one read, one UPDATE).
pub const SCORE_BATCH: usize = 1_000;

/// What a scoring run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ScoreSummary {
    /// Leads scored and stored.
    pub scored: u64,
    /// Leads per tier.
    pub tiers: HashMap<String, u64>,
    /// Whether the client's learned weights were used.
    pub learned_weights: bool,
    /// The allocation that followed (when asked).
    pub allocation: AllocationSummary,
}

/// The weights to score a client's leads with: its learned weights when usable, else the
/// defaults. `clients.als_weights` holds either the five weights or `{weights, confidence,
/// conversions}`; confidence and conversions come from their own columns when present.
pub fn weights_for(client: &ClientPipeline) -> Weights {
    let Some(json) = client.als_weights.as_ref() else {
        return Weights::default();
    };
    let conversions = u32::try_from(client.als_weights_conversions.max(0)).unwrap_or(0);
    let learned = match serde_json::from_value::<Weights>(json.clone()) {
        Ok(weights) => Some(LearnedWeights {
            weights,
            confidence: client.als_weights_confidence.unwrap_or(Decimal::ZERO),
            conversions,
        }),
        Err(_) => serde_json::from_value::<LearnedWeights>(json.clone())
            .ok()
            .map(|mut l| {
                if let Some(c) = client.als_weights_confidence {
                    l.confidence = c;
                }
                l.conversions = l.conversions.max(conversions);
                l
            }),
    };
    choose_weights(learned.as_ref())
}

fn non_empty(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|s| !s.trim().is_empty())
}

/// The scoring input of a stored lead.
pub fn scoring_input(row: &ScoringRow) -> ScoringInput {
    let seo = row.seo_looked_up.then(|| SeoFacts {
        domain_rank: row.seo_domain_rank.and_then(|v| u32::try_from(v).ok()),
        organic_traffic: row.seo_organic_traffic.and_then(|v| u64::try_from(v).ok()),
        top10_keywords: row.seo_top10_keywords.and_then(|v| u32::try_from(v).ok()),
        spam_score: row
            .seo_spam_score
            .map(|v| u8::try_from(v.clamp(0, 100)).unwrap_or(100)),
    });
    ScoringInput {
        email_present: !row.email.is_empty(),
        email_verified: row.email_verified,
        phone_present: non_empty(&row.phone),
        linkedin_present: non_empty(&row.linkedin_url),
        personal_email_known: non_empty(&row.personal_email),
        title: row.title.clone(),
        industry: row.organization_industry.clone(),
        employee_count: row
            .organization_employee_count
            .and_then(|v| u32::try_from(v).ok()),
        country: row.organization_country.clone(),
        domain: row.domain.clone(),
        seo,
        employment_start_date: row.employment_start_date,
        is_hiring: row.organization_is_hiring.unwrap_or(false),
        latest_funding_date: row.organization_latest_funding_date,
        bounced_before: row.bounced_before,
        is_competitor_domain: false,
        unsubscribed: row.status == LeadStatus::Unsubscribed,
        suppressed: row.suppressed,
    }
}

/// A campaign's channel allocation (the stored CHECK guarantees validity; default otherwise).
pub fn campaign_allocation(c: &CampaignPipeline) -> ChannelAllocation {
    ChannelAllocation::new(
        i64::from(c.allocation_email),
        i64::from(c.allocation_linkedin),
        i64::from(c.allocation_voice),
        i64::from(c.allocation_sms),
        i64::from(c.allocation_mail),
    )
    .unwrap_or_default()
}

/// One scored lead, as allocation reads it.
#[derive(Debug, Clone)]
pub struct Scored {
    /// The stored row (before this score).
    pub row: ScoringRow,
    /// Its new tier.
    pub tier: Tier,
}

/// The batch's facts: client, its campaigns, rows.
struct Batch {
    client: ClientPipeline,
    campaigns: HashMap<CampaignId, CampaignPipeline>,
    rows: Vec<ScoringRow>,
}

async fn load_batch(
    pool: &PgPool,
    client_id: ClientId,
    lead_ids: &[LeadId],
) -> Result<Batch, UseCaseError> {
    let client = clients::pipeline_settings(pool, client_id).await?;
    let rows = store::scoring_rows(pool, client_id, lead_ids).await?;
    let mut campaign_ids: Vec<CampaignId> = rows.iter().filter_map(|r| r.campaign_id).collect();
    campaign_ids.sort_unstable();
    campaign_ids.dedup();
    let campaigns = campaigns::pipeline_settings(pool, client_id, &campaign_ids)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    Ok(Batch {
        client,
        campaigns,
        rows,
    })
}

/// Scores the client's leads `lead_ids` (any number; read and written [`SCORE_BATCH`] at a
/// time) and stores the scores. Missing or deleted leads are skipped.
pub async fn score_leads(
    pool: &PgPool,
    client_id: ClientId,
    lead_ids: &[LeadId],
    now: DateTime<Utc>,
) -> Result<ScoreSummary, UseCaseError> {
    let mut summary = ScoreSummary::default();
    for chunk in lead_ids.chunks(SCORE_BATCH) {
        let batch = load_batch(pool, client_id, chunk).await?;
        score_batch_and_store(pool, &batch, now, &mut summary).await?;
    }
    Ok(summary)
}

/// Scores and stores one loaded batch; returns the scored leads for allocation.
async fn score_batch_and_store(
    pool: &PgPool,
    batch: &Batch,
    now: DateTime<Utc>,
    summary: &mut ScoreSummary,
) -> Result<Vec<Scored>, UseCaseError> {
    let tz = client_timezone(&batch.client.timezone)?;
    let today = now.with_timezone(&tz).date_naive();
    let weights = weights_for(&batch.client);
    summary.learned_weights = weights != Weights::default();
    let weights_json =
        serde_json::to_value(weights).map_err(|e| UseCaseError::Corrupt(e.to_string()))?;

    // One context per campaign (its industries, else the ICP's).
    let mut groups: HashMap<Option<CampaignId>, Vec<usize>> = HashMap::new();
    for (i, row) in batch.rows.iter().enumerate() {
        let campaign = row
            .campaign_id
            .filter(|id| batch.campaigns.contains_key(id));
        groups.entry(campaign).or_default().push(i);
    }
    let mut updates = Vec::with_capacity(batch.rows.len());
    let mut scored = Vec::with_capacity(batch.rows.len());
    for (campaign_id, indices) in groups {
        let campaign = campaign_id.and_then(|id| batch.campaigns.get(&id));
        let ctx = ScoringContext {
            campaign_industries: campaign
                .map(|c| c.target_industries.clone())
                .unwrap_or_default(),
            icp_industries: batch.client.icp_industries.clone(),
            competitor_domains: batch.client.competitor_domains.clone(),
            today,
        };
        let allocation = campaign.map(campaign_allocation);
        let inputs: Vec<ScoringInput> = indices
            .iter()
            .map(|&i| scoring_input(&batch.rows[i]))
            .collect();
        for (&i, als) in indices.iter().zip(score_batch(&inputs, &ctx, &weights)) {
            let row = &batch.rows[i];
            let channels = match &allocation {
                Some(a) => lead_channels(als.tier, a),
                None => als.channels.clone(),
            };
            *summary
                .tiers
                .entry(als.tier.as_str().to_owned())
                .or_default() += 1;
            updates.push(ScoreUpdate {
                lead_id: row.id,
                score: i16::from(als.score),
                tier: als.tier.as_str().to_owned(),
                data_quality: i16::from(als.components.data_quality),
                authority: i16::from(als.components.authority),
                company_fit: i16::from(als.components.company_fit),
                timing: i16::from(als.components.timing),
                risk: i16::from(als.components.risk),
                weights: weights_json.clone(),
                channels: channels.iter().map(|c| c.as_str().to_owned()).collect(),
            });
            scored.push(Scored {
                row: row.clone(),
                tier: als.tier,
            });
        }
    }
    let mut conn = pool.acquire().await?;
    summary.scored += store::save_scores(&mut conn, batch.client.id, &updates, now).await?;
    Ok(scored)
}

/// Scores `lead_ids` and plans the first touch of each allocatable one (see
/// [`allocation::allocate_scored`]), batch by batch.
pub async fn score_and_allocate(
    pool: &PgPool,
    cache: &dyn Cache,
    client_id: ClientId,
    lead_ids: &[LeadId],
    now: DateTime<Utc>,
) -> Result<ScoreSummary, UseCaseError> {
    let mut summary = ScoreSummary::default();
    for chunk in lead_ids.chunks(SCORE_BATCH) {
        let batch = load_batch(pool, client_id, chunk).await?;
        let scored = score_batch_and_store(pool, &batch, now, &mut summary).await?;
        let allocated =
            allocation::allocate_scored(pool, cache, &batch.client, &batch.campaigns, &scored, now)
                .await?;
        summary.allocation.add(&allocated);
    }
    Ok(summary)
}

/// Rescores and reallocates one lead now and returns it as the API shows it.
pub async fn rescore_lead(
    pool: &PgPool,
    cache: &dyn Cache,
    client_id: ClientId,
    lead_id: LeadId,
    now: DateTime<Utc>,
) -> Result<leads::Lead, UseCaseError> {
    score_and_allocate(pool, cache, client_id, &[lead_id], now).await?;
    Ok(leads::get(pool, client_id, lead_id).await?)
}
