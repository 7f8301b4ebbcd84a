//! The `leads` columns of ALS scoring: what scoring and allocation read about a lead (its
//! facts, stored tier, global suppression and current first-touch plan) and the batched write
//! of new scores (one multi-row UPDATE per batch).

use agency_domain::{CampaignId, Channel, ClientId, LeadId, LeadStatus, Tier};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::StoreError;

/// Everything stored about a lead that scoring and allocation read.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ScoringRow {
    /// Lead id.
    pub id: LeadId,
    /// Campaign.
    pub campaign_id: Option<CampaignId>,
    /// Work email.
    pub email: String,
    /// Verified deliverable.
    pub email_verified: bool,
    /// E.164 phone.
    pub phone: Option<String>,
    /// LinkedIn URL.
    pub linkedin_url: Option<String>,
    /// Personal email.
    pub personal_email: Option<String>,
    /// Job title.
    pub title: Option<String>,
    /// Industry.
    pub organization_industry: Option<String>,
    /// Head count.
    pub organization_employee_count: Option<i32>,
    /// Country.
    pub organization_country: Option<String>,
    /// Company domain.
    pub domain: Option<String>,
    /// SEO was looked up.
    pub seo_looked_up: bool,
    /// SEO domain rank.
    pub seo_domain_rank: Option<i32>,
    /// SEO organic traffic.
    pub seo_organic_traffic: Option<i32>,
    /// SEO top-10 keywords.
    pub seo_top10_keywords: Option<i32>,
    /// SEO spam score.
    pub seo_spam_score: Option<i32>,
    /// Started in the current role.
    pub employment_start_date: Option<NaiveDate>,
    /// Company hiring.
    pub organization_is_hiring: Option<bool>,
    /// Latest funding date.
    pub organization_latest_funding_date: Option<NaiveDate>,
    /// Bounced before.
    pub bounced_before: bool,
    /// Status (an unknown stored value fails to decode).
    pub status: LeadStatus,
    /// Stored tier (`None` until scored).
    pub als_tier: Option<Tier>,
    /// Email or phone in global suppression.
    pub suppressed: bool,
    /// Planned first-touch channel.
    pub first_touch_channel: Option<Channel>,
    /// Resource reserved for the first touch.
    pub allocated_resource_id: Option<Uuid>,
}

/// Reads the client's live leads among `ids` (missing or deleted ones are left out).
pub async fn scoring_rows(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    ids: &[LeadId],
) -> Result<Vec<ScoringRow>, StoreError> {
    Ok(sqlx::query_as::<_, ScoringRow>(
        "SELECT l.id, l.campaign_id, l.email, l.email_verified, l.phone, l.linkedin_url,
                l.personal_email, l.title, l.organization_industry, l.organization_employee_count,
                l.organization_country, l.domain, l.seo_looked_up, l.seo_domain_rank,
                l.seo_organic_traffic, l.seo_top10_keywords, l.seo_spam_score,
                l.employment_start_date, l.organization_is_hiring,
                l.organization_latest_funding_date, l.bounced_before, l.status, l.als_tier,
                (EXISTS (SELECT 1 FROM global_suppression s WHERE s.email = l.email)
                 OR (l.phone IS NOT NULL
                     AND EXISTS (SELECT 1 FROM global_suppression s WHERE s.phone = l.phone)))
                    AS suppressed,
                l.first_touch_channel, l.allocated_resource_id
           FROM leads l
          WHERE l.client_id = $1 AND l.id = ANY($2) AND l.deleted_at IS NULL
          ORDER BY l.id",
    )
    .bind(client_id)
    .bind(ids)
    .fetch_all(db)
    .await?)
}

/// One lead's new score.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScoreUpdate {
    /// Lead id.
    pub lead_id: LeadId,
    /// 0-100.
    pub score: i16,
    /// Tier text.
    pub tier: String,
    /// Data quality points.
    pub data_quality: i16,
    /// Authority points.
    pub authority: i16,
    /// Company fit points.
    pub company_fit: i16,
    /// Timing points.
    pub timing: i16,
    /// Risk points.
    pub risk: i16,
    /// The weights used (JSON object of numbers).
    pub weights: serde_json::Value,
    /// The channels the lead may receive.
    pub channels: Vec<String>,
}

/// Stores many scores in one UPDATE; `new`/`enriched` leads become `scored`, other statuses stay.
/// Returns the rows updated.
pub async fn save_scores(
    conn: &mut PgConnection,
    client_id: ClientId,
    scores: &[ScoreUpdate],
    scored_at: DateTime<Utc>,
) -> Result<u64, StoreError> {
    if scores.is_empty() {
        return Ok(0);
    }
    let n = scores.len();
    let (mut ids, mut score, mut tier) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut dq, mut au, mut cf, mut ti, mut ri) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut weights, mut channels) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for s in scores {
        ids.push(s.lead_id);
        score.push(s.score);
        tier.push(s.tier.as_str());
        dq.push(s.data_quality);
        au.push(s.authority);
        cf.push(s.company_fit);
        ti.push(s.timing);
        ri.push(s.risk);
        weights.push(s.weights.to_string());
        channels.push(s.channels.join(","));
    }
    let done = sqlx::query(
        "UPDATE leads l
            SET als_score = u.score, als_tier = u.tier, als_data_quality = u.dq,
                als_authority = u.au, als_company_fit = u.cf, als_timing = u.ti, als_risk = u.ri,
                als_weights = u.weights::jsonb, als_channels = string_to_array(u.channels, ','),
                scored_at = $12,
                status = CASE WHEN l.status IN ('new', 'enriched') THEN 'scored' ELSE l.status END,
                updated_at = now()
           FROM UNNEST($2::uuid[], $3::int2[], $4::text[], $5::int2[], $6::int2[], $7::int2[],
                       $8::int2[], $9::int2[], $10::text[], $11::text[])
                AS u(id, score, tier, dq, au, cf, ti, ri, weights, channels)
          WHERE l.client_id = $1 AND l.id = u.id AND l.deleted_at IS NULL",
    )
    .bind(client_id)
    .bind(&ids)
    .bind(&score)
    .bind(&tier)
    .bind(&dq)
    .bind(&au)
    .bind(&cf)
    .bind(&ti)
    .bind(&ri)
    .bind(&weights)
    .bind(&channels)
    .bind(scored_at)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}
