//! Queries of the lead pipeline (enrichment, ALS scoring, allocation): the client, campaign and
//! lead facts each step reads, batched writes of scores and allocations (one multi-row UPDATE
//! per batch), lead credits, sending resources and the just-in-time send
//! snapshot. No rules here: the engine decides, this module reads and writes.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::StoreError;

/// The client settings the pipeline reads.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ClientPipeline {
    /// Client id.
    pub id: Uuid,
    /// IANA timezone name (days roll over at its midnight).
    pub timezone: String,
    /// Lead credits left this period.
    pub credits_remaining: i32,
    /// Subscription status text.
    pub subscription_status: String,
    /// ICP industries (used when a campaign has none).
    pub icp_industries: Vec<String>,
    /// Competitor domains.
    pub competitor_domains: Vec<String>,
    /// Learned ALS weights (jsonb), if any.
    pub als_weights: Option<serde_json::Value>,
    /// Confidence of the learned weights.
    pub als_weights_confidence: Option<Decimal>,
    /// Conversions the learned weights came from.
    pub als_weights_conversions: i32,
}

/// Reads a live client's pipeline settings.
pub async fn client(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
) -> Result<ClientPipeline, StoreError> {
    Ok(sqlx::query_as::<_, ClientPipeline>(
        "SELECT id, timezone, credits_remaining, subscription_status, icp_industries,
                competitor_domains, als_weights, als_weights_confidence, als_weights_conversions
           FROM clients WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(client_id)
    .fetch_one(db)
    .await?)
}

/// The campaign facts scoring and allocation read.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CampaignPipeline {
    /// Campaign id.
    pub id: Uuid,
    /// Status text.
    pub status: String,
    /// Target industries.
    pub target_industries: Vec<String>,
    /// Email allocation percentage.
    pub allocation_email: i16,
    /// LinkedIn allocation percentage.
    pub allocation_linkedin: i16,
    /// Voice allocation percentage.
    pub allocation_voice: i16,
    /// SMS allocation percentage.
    pub allocation_sms: i16,
    /// Direct mail allocation percentage.
    pub allocation_mail: i16,
}

/// Reads the client's live campaigns among `ids`.
pub async fn campaigns(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<CampaignPipeline>, StoreError> {
    Ok(sqlx::query_as::<_, CampaignPipeline>(
        "SELECT id, status, target_industries, allocation_email, allocation_linkedin,
                allocation_voice, allocation_sms, allocation_mail
           FROM campaigns WHERE client_id = $1 AND id = ANY($2) AND deleted_at IS NULL",
    )
    .bind(client_id)
    .bind(ids)
    .fetch_all(db)
    .await?)
}

/// Everything stored about a lead that scoring and allocation read.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ScoringRow {
    /// Lead id.
    pub id: Uuid,
    /// Campaign.
    pub campaign_id: Option<Uuid>,
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
    /// Status text.
    pub status: String,
    /// Stored tier text (`None` until scored).
    pub als_tier: Option<String>,
    /// Email or phone in global suppression.
    pub suppressed: bool,
    /// Planned first-touch channel.
    pub first_touch_channel: Option<String>,
    /// Resource reserved for the first touch.
    pub allocated_resource_id: Option<Uuid>,
}

/// Reads the client's live leads among `ids` (missing or deleted ones are left out).
pub async fn scoring_rows(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
    ids: &[Uuid],
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
    pub lead_id: Uuid,
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
    client_id: Uuid,
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

/// One lead's planned first touch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AllocationUpdate {
    /// Lead id.
    pub lead_id: Uuid,
    /// First-touch channel text (`None`: nothing to send, e.g. a dead lead).
    pub first_touch_channel: Option<String>,
    /// The resource reserved (`None` for mail, or while waiting for capacity).
    pub resource_id: Option<Uuid>,
    /// When the first touch is due (`None` when nothing is planned).
    pub next_action_at: Option<DateTime<Utc>>,
    /// Why the lead waits (no resource free, no resource of the kind), if it does.
    pub wait_reason: Option<String>,
}

/// Stores many allocations in one UPDATE. Returns the rows updated.
pub async fn save_allocations(
    conn: &mut PgConnection,
    client_id: Uuid,
    rows: &[AllocationUpdate],
    allocated_at: DateTime<Utc>,
) -> Result<u64, StoreError> {
    if rows.is_empty() {
        return Ok(0);
    }
    let ids: Vec<Uuid> = rows.iter().map(|r| r.lead_id).collect();
    let channels: Vec<Option<String>> =
        rows.iter().map(|r| r.first_touch_channel.clone()).collect();
    let resources: Vec<Option<Uuid>> = rows.iter().map(|r| r.resource_id).collect();
    let next: Vec<Option<DateTime<Utc>>> = rows.iter().map(|r| r.next_action_at).collect();
    let reasons: Vec<Option<String>> = rows.iter().map(|r| r.wait_reason.clone()).collect();
    let done = sqlx::query(
        "UPDATE leads l
            SET first_touch_channel = u.channel, allocated_resource_id = u.resource,
                next_action_at = u.next_at, allocation_wait_reason = u.reason,
                allocated_at = $7, updated_at = now()
           FROM UNNEST($2::uuid[], $3::text[], $4::uuid[], $5::timestamptz[], $6::text[])
                AS u(id, channel, resource, next_at, reason)
          WHERE l.client_id = $1 AND l.id = u.id AND l.deleted_at IS NULL",
    )
    .bind(client_id)
    .bind(&ids)
    .bind(&channels)
    .bind(&resources)
    .bind(&next)
    .bind(&reasons)
    .bind(allocated_at)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// What the enrichment waterfall reads about one lead.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EnrichmentRow {
    /// Lead id.
    pub id: Uuid,
    /// Work email.
    pub email: String,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Company.
    pub company: Option<String>,
    /// Company domain.
    pub domain: Option<String>,
    /// LinkedIn URL.
    pub linkedin_url: Option<String>,
    /// When last enriched.
    pub enriched_at: Option<DateTime<Utc>>,
    /// Status text.
    pub status: String,
}

/// Reads a live lead for enrichment.
pub async fn enrichment_row(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
    lead_id: Uuid,
) -> Result<EnrichmentRow, StoreError> {
    Ok(sqlx::query_as::<_, EnrichmentRow>(
        "SELECT id, email, first_name, last_name, company, domain, linkedin_url, enriched_at, status
           FROM leads WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(client_id)
    .bind(lead_id)
    .fetch_one(db)
    .await?)
}

/// SEO facts to store on a lead (`seo_looked_up` becomes true).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SeoUpdate {
    /// Domain rank.
    pub domain_rank: Option<i32>,
    /// Organic traffic.
    pub organic_traffic: Option<i32>,
    /// Top-10 keywords.
    pub top10_keywords: Option<i32>,
    /// Spam score.
    pub spam_score: Option<i32>,
}

/// The facts an accepted enrichment adds to a lead.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EnrichmentUpdate {
    /// `apollo`, `sandbox:apollo`, ... (`cache:` prefixed when served from the cache).
    pub source: String,
    /// 0..=1, three decimals.
    pub confidence: Decimal,
    /// First name (fills a blank only).
    pub first_name: Option<String>,
    /// Last name (fills a blank only).
    pub last_name: Option<String>,
    /// Title (fills a blank only).
    pub title: Option<String>,
    /// E.164 phone (fills a blank only).
    pub phone: Option<String>,
    /// LinkedIn URL (fills a blank only).
    pub linkedin_url: Option<String>,
    /// Personal email (fills a blank only).
    pub personal_email: Option<String>,
    /// The work email was verified.
    pub email_verified: bool,
    /// Company name (fills a blank only).
    pub company: Option<String>,
    /// Company domain (fills a blank only).
    pub domain: Option<String>,
    /// Industry (fills a blank only).
    pub industry: Option<String>,
    /// Head count (fills a blank only).
    pub employee_count: Option<i32>,
    /// Country (fills a blank only).
    pub country: Option<String>,
    /// Year founded.
    pub founded_year: Option<i32>,
    /// Company hiring.
    pub is_hiring: Option<bool>,
    /// Latest funding.
    pub latest_funding_date: Option<NaiveDate>,
    /// Started in role.
    pub employment_start_date: Option<NaiveDate>,
    /// SEO facts, when looked up.
    pub seo: Option<SeoUpdate>,
}

/// Stores an accepted enrichment: fills blanks of user-entered fields, replaces provider facts,
/// clears the wait reason and moves a `new` lead to `enriched`.
pub async fn save_enrichment(
    conn: &mut PgConnection,
    client_id: Uuid,
    lead_id: Uuid,
    e: &EnrichmentUpdate,
) -> Result<(), StoreError> {
    let seo = e.seo.clone();
    let done = sqlx::query(
        "UPDATE leads SET
            enrichment_source = $3, enrichment_confidence = $4,
            first_name = coalesce(first_name, $5), last_name = coalesce(last_name, $6),
            title = coalesce(title, $7), phone = coalesce(phone, $8),
            linkedin_url = coalesce(linkedin_url, $9), personal_email = coalesce(personal_email, $10),
            email_verified = email_verified OR $11,
            company = coalesce(company, $12), domain = coalesce(domain, $13),
            organization_industry = coalesce(organization_industry, $14),
            organization_employee_count = coalesce(organization_employee_count, $15),
            organization_country = coalesce(organization_country, $16),
            organization_founded_year = coalesce($17, organization_founded_year),
            organization_is_hiring = coalesce($18, organization_is_hiring),
            organization_latest_funding_date = coalesce($19, organization_latest_funding_date),
            employment_start_date = coalesce($20, employment_start_date),
            seo_looked_up = seo_looked_up OR $21,
            seo_domain_rank = CASE WHEN $21 THEN $22 ELSE seo_domain_rank END,
            seo_organic_traffic = CASE WHEN $21 THEN $23 ELSE seo_organic_traffic END,
            seo_top10_keywords = CASE WHEN $21 THEN $24 ELSE seo_top10_keywords END,
            seo_spam_score = CASE WHEN $21 THEN $25 ELSE seo_spam_score END,
            enriched_at = now(), enrichment_wait_reason = NULL,
            enrichment_claimed_by = NULL, enrichment_claimed_at = NULL,
            status = CASE WHEN status = 'new' THEN 'enriched' ELSE status END,
            updated_at = now()
          WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(client_id)
    .bind(lead_id)
    .bind(&e.source)
    .bind(e.confidence)
    .bind(&e.first_name)
    .bind(&e.last_name)
    .bind(&e.title)
    .bind(&e.phone)
    .bind(&e.linkedin_url)
    .bind(&e.personal_email)
    .bind(e.email_verified)
    .bind(&e.company)
    .bind(&e.domain)
    .bind(&e.industry)
    .bind(e.employee_count)
    .bind(&e.country)
    .bind(e.founded_year)
    .bind(e.is_hiring)
    .bind(e.latest_funding_date)
    .bind(e.employment_start_date)
    .bind(seo.is_some())
    .bind(seo.as_ref().and_then(|s| s.domain_rank))
    .bind(seo.as_ref().and_then(|s| s.organic_traffic))
    .bind(seo.as_ref().and_then(|s| s.top10_keywords))
    .bind(seo.as_ref().and_then(|s| s.spam_score))
    .execute(&mut *conn)
    .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Claims the lead's enrichment for `token` (a job id): succeeds when the lead is live, not
/// enriched yet (unless `force`) and unclaimed, claimed by `token` itself (a redelivered job)
/// or claimed longer than `stale_after_secs` ago. `false`: another run holds it, or there is
/// nothing to do.
pub async fn claim_enrichment(
    conn: &mut PgConnection,
    client_id: Uuid,
    lead_id: Uuid,
    token: &str,
    force: bool,
    stale_after_secs: i64,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE leads SET enrichment_claimed_by = $3, enrichment_claimed_at = now()
          WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL
            AND (enriched_at IS NULL OR $4)
            AND (enrichment_claimed_by IS NULL OR enrichment_claimed_by = $3
                 OR enrichment_claimed_at < now() - make_interval(secs => $5))",
    )
    .bind(client_id)
    .bind(lead_id)
    .bind(token)
    .bind(force)
    .bind(stale_after_secs as f64)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Releases `token`'s claim on the lead (a no-op when another run holds it).
pub async fn release_enrichment_claim(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
    lead_id: Uuid,
    token: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE leads SET enrichment_claimed_by = NULL, enrichment_claimed_at = NULL
          WHERE client_id = $1 AND id = $2 AND enrichment_claimed_by = $3",
    )
    .bind(client_id)
    .bind(lead_id)
    .bind(token)
    .execute(db)
    .await?;
    Ok(())
}

/// Records (or clears, with `None`) why a lead waits for enrichment.
pub async fn set_enrichment_wait_reason(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
    lead_id: Uuid,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE leads SET enrichment_wait_reason = $3, updated_at = now()
          WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(client_id)
    .bind(lead_id)
    .bind(reason)
    .execute(db)
    .await?;
    Ok(())
}

/// Spends one lead credit; `false` when none is left (nothing changes).
pub async fn spend_credit(db: impl PgExecutor<'_>, client_id: Uuid) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE clients SET credits_remaining = credits_remaining - 1, updated_at = now()
          WHERE id = $1 AND credits_remaining > 0",
    )
    .bind(client_id)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Gives one lead credit back (an enrichment that failed and will be retried).
pub async fn refund_credit(db: impl PgExecutor<'_>, client_id: Uuid) -> Result<(), StoreError> {
    sqlx::query("UPDATE clients SET credits_remaining = credits_remaining + 1, updated_at = now() WHERE id = $1")
        .bind(client_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Forgets a job's effect record (`job_effects`), so a retry of the job repeats the effect
/// (used when a spent credit is refunded).
pub async fn forget_job_effect(
    db: impl PgExecutor<'_>,
    effect_key: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM job_effects WHERE effect_key = $1")
        .bind(effect_key)
        .execute(db)
        .await?;
    Ok(())
}

/// Ids of the client's live leads waiting for enrichment because credits ran out.
pub async fn leads_waiting_for_credits(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
    reason: &str,
) -> Result<Vec<Uuid>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM leads WHERE client_id = $1 AND enrichment_wait_reason = $2
            AND deleted_at IS NULL ORDER BY id",
    )
    .bind(client_id)
    .bind(reason)
    .fetch_all(db)
    .await?)
}

/// A client's sending resource.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SendingResource {
    /// Resource id.
    pub id: Uuid,
    /// Owning client.
    pub client_id: Uuid,
    /// `email_domain`, `sms_number`, `voice_number` or `linkedin_seat`.
    pub kind: String,
    /// The domain, number or seat name.
    pub value: String,
    /// First warm-up day of an email domain (null: warmed up).
    pub warmup_started_on: Option<NaiveDate>,
    /// A lower daily cap than the kind's.
    pub daily_cap_override: Option<i32>,
    /// Used for new allocations.
    pub active: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When ownership was proved (null: not usable for sending or inbound routing yet).
    pub verified_at: Option<DateTime<Utc>>,
    /// The TXT value an email domain must publish to be verified.
    pub verification_token: Option<String>,
}

impl SendingResource {
    /// True when it may send and route inbound replies.
    pub fn is_verified(&self) -> bool {
        self.verified_at.is_some()
    }
}

/// The columns of [`SendingResource`].
const RESOURCE_COLUMNS: &str = "id, client_id, kind, value, warmup_started_on, daily_cap_override, active, created_at, verified_at, verification_token";

/// A resource to add.
#[derive(Debug, Clone, Default)]
pub struct NewSendingResource<'a> {
    /// `email_domain`, `sms_number`, `voice_number` or `linkedin_seat`.
    pub kind: &'a str,
    /// The normalised value.
    pub value: &'a str,
    /// First warm-up day (email domains).
    pub warmup_started_on: Option<NaiveDate>,
    /// A lower daily cap.
    pub daily_cap_override: Option<i32>,
    /// Verified at once (development, LinkedIn seats).
    pub verified: bool,
    /// The TXT value an email domain must publish.
    pub verification_token: Option<&'a str>,
}

/// Adds a resource (`Conflict` on `sending_resources_client_kind_value_idx` when the client
/// already has it; on `sending_resources_verified_value_idx` when `verified` and another client
/// holds it verified).
pub async fn insert_resource(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
    new: &NewSendingResource<'_>,
) -> Result<SendingResource, StoreError> {
    Ok(sqlx::query_as::<_, SendingResource>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO sending_resources (client_id, kind, value, warmup_started_on, daily_cap_override,
                verified_at, verification_token)
         VALUES ($1, $2, $3, $4, $5, CASE WHEN $6 THEN now() END, $7)
         RETURNING {RESOURCE_COLUMNS}"
    )))
    .bind(client_id)
    .bind(new.kind)
    .bind(new.value)
    .bind(new.warmup_started_on)
    .bind(new.daily_cap_override)
    .bind(new.verified)
    .bind(new.verification_token)
    .fetch_one(db)
    .await?)
}

/// One live resource of the client.
pub async fn resource(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
    id: Uuid,
) -> Result<SendingResource, StoreError> {
    one_resource(
        db,
        format!(
            "SELECT {RESOURCE_COLUMNS} FROM sending_resources
              WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL"
        ),
        client_id,
        id,
    )
    .await
}

/// Runs `sql` (binding the client id and the resource id) for one resource row; `NotFound`
/// when it matches none.
async fn one_resource(
    db: impl PgExecutor<'_>,
    sql: String,
    client_id: Uuid,
    id: Uuid,
) -> Result<SendingResource, StoreError> {
    sqlx::query_as::<_, SendingResource>(sqlx::AssertSqlSafe(sql))
        .bind(client_id)
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Marks a live resource verified now (`Conflict` on `sending_resources_verified_value_idx`
/// when another client holds the same value verified).
pub async fn mark_resource_verified(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
    id: Uuid,
) -> Result<SendingResource, StoreError> {
    one_resource(
        db,
        format!(
            "UPDATE sending_resources SET verified_at = now(), updated_at = now()
              WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL
              RETURNING {RESOURCE_COLUMNS}"
        ),
        client_id,
        id,
    )
    .await
}

/// The client's live resources (active or not), oldest first.
pub async fn resources(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
) -> Result<Vec<SendingResource>, StoreError> {
    Ok(
        sqlx::query_as::<_, SendingResource>(sqlx::AssertSqlSafe(format!(
            "SELECT {RESOURCE_COLUMNS} FROM sending_resources
          WHERE client_id = $1 AND deleted_at IS NULL ORDER BY created_at, id"
        )))
        .bind(client_id)
        .fetch_all(db)
        .await?,
    )
}

/// One page of the client's live resources (oldest first) and how many there are in all.
pub async fn resources_page(
    db: &mut PgConnection,
    client_id: Uuid,
    limit: i64,
    offset: i64,
) -> Result<(Vec<SendingResource>, i64), StoreError> {
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sending_resources WHERE client_id = $1 AND deleted_at IS NULL",
    )
    .bind(client_id)
    .fetch_one(&mut *db)
    .await?;
    let rows = sqlx::query_as::<_, SendingResource>(sqlx::AssertSqlSafe(format!(
        "SELECT {RESOURCE_COLUMNS} FROM sending_resources
          WHERE client_id = $1 AND deleted_at IS NULL ORDER BY created_at, id LIMIT $2 OFFSET $3"
    )))
    .bind(client_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *db)
    .await?;
    Ok((rows, total))
}

/// Soft-deletes (and deactivates) a resource, keeping the row for allocation history; answers
/// it as it was. `NotFound` when it is not a live resource of the client.
pub async fn delete_resource(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
    id: Uuid,
) -> Result<SendingResource, StoreError> {
    one_resource(
        db,
        format!(
            "UPDATE sending_resources SET deleted_at = now(), active = false, updated_at = now()
              WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL
              RETURNING {RESOURCE_COLUMNS}"
        ),
        client_id,
        id,
    )
    .await
}

/// The distinct ids among `ids` that are live leads of the client, in id order.
pub async fn live_lead_ids(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_scalar(
        "SELECT id FROM leads
          WHERE client_id = $1 AND id = ANY($2) AND deleted_at IS NULL
          ORDER BY id",
    )
    .bind(client_id)
    .bind(ids)
    .fetch_all(db)
    .await?)
}

/// The client's live lead ids, in id order (optionally of one campaign).
pub async fn lead_ids(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
    campaign_id: Option<Uuid>,
) -> Result<Vec<Uuid>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM leads
          WHERE client_id = $1 AND deleted_at IS NULL AND ($2::uuid IS NULL OR campaign_id = $2)
          ORDER BY id",
    )
    .bind(client_id)
    .bind(campaign_id)
    .fetch_all(db)
    .await?)
}

/// The campaign's live leads waiting for allocation, best score first.
pub async fn waiting_lead_ids(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
    campaign_id: Uuid,
) -> Result<Vec<Uuid>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM leads
          WHERE client_id = $1 AND campaign_id = $2 AND deleted_at IS NULL
            AND allocation_wait_reason IS NOT NULL
          ORDER BY als_score DESC NULLS LAST, id",
    )
    .bind(client_id)
    .bind(campaign_id)
    .fetch_all(db)
    .await?)
}

/// What just-in-time validation reads, as it is inside the send's transaction.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SendSnapshotRow {
    /// Client subscription status text.
    pub subscription_status: String,
    /// Client credits.
    pub credits_remaining: i32,
    /// Campaign status text (`None`: the lead has no campaign).
    pub campaign_status: Option<String>,
    /// Campaign soft-deleted.
    pub campaign_deleted: bool,
    /// Lead soft-deleted.
    pub lead_deleted: bool,
    /// Lead status text.
    pub lead_status: String,
    /// Lead tier text.
    pub lead_tier: Option<String>,
    /// The lead's email is globally suppressed.
    pub email_suppressed: bool,
    /// The lead's phone is globally suppressed.
    pub phone_suppressed: bool,
    /// DNCR checked.
    pub dncr_checked: bool,
    /// DNCR blocked.
    pub dncr_blocked: bool,
}

/// Reads the snapshot for a send to one lead, locking the lead row (`FOR SHARE`) so a
/// concurrent unsubscribe waits for the send's transaction. `NotFound` when the lead is not
/// the client's (deleted leads are returned, flagged).
pub async fn send_snapshot(
    conn: &mut PgConnection,
    client_id: Uuid,
    lead_id: Uuid,
) -> Result<SendSnapshotRow, StoreError> {
    Ok(sqlx::query_as::<_, SendSnapshotRow>(
        "SELECT c.subscription_status, c.credits_remaining,
                cp.status AS campaign_status, coalesce(cp.deleted_at IS NOT NULL, false) AS campaign_deleted,
                l.deleted_at IS NOT NULL AS lead_deleted, l.status AS lead_status, l.als_tier AS lead_tier,
                EXISTS (SELECT 1 FROM global_suppression s WHERE s.email = l.email) AS email_suppressed,
                (l.phone IS NOT NULL
                 AND EXISTS (SELECT 1 FROM global_suppression s WHERE s.phone = l.phone)) AS phone_suppressed,
                l.dncr_checked, l.dncr_blocked
           FROM leads l
           JOIN clients c ON c.id = l.client_id
           LEFT JOIN campaigns cp ON cp.id = l.campaign_id
          WHERE l.client_id = $1 AND l.id = $2
            FOR SHARE OF l",
    )
    .bind(client_id)
    .bind(lead_id)
    .fetch_one(&mut *conn)
    .await?)
}

/// The client owning the live, verified resource of `kind` with `value` (compared
/// case-insensitively; one client at most holds a value verified), and the resource id: how an
/// inbound message finds its tenant. `within` restricts the
/// search to one client (the tenant a client-owned provider account already proved).
pub async fn resource_owner(
    db: impl PgExecutor<'_>,
    kind: &str,
    value: &str,
    within: Option<agency_domain::ClientId>,
) -> Result<Option<(Uuid, Uuid)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT client_id, id FROM sending_resources
          WHERE kind = $1 AND lower(value) = lower($2) AND deleted_at IS NULL
            AND verified_at IS NOT NULL AND ($3::uuid IS NULL OR client_id = $3)",
    )
    .bind(kind)
    .bind(value)
    .bind(within.map(agency_domain::ClientId::into_uuid))
    .fetch_optional(db)
    .await?)
}
