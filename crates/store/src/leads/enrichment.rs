//! The `leads` columns of enrichment: what the waterfall reads about a lead, the accepted
//! enrichment's write, the per-lead claim that keeps two runs from enriching (and charging for)
//! the same lead, and the wait reason of leads that ran out of credits.

use agency_domain::ClientId;
use agency_domain::LeadId;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::StoreError;

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
    client_id: ClientId,
    lead_id: LeadId,
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
    client_id: ClientId,
    lead_id: LeadId,
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
    client_id: ClientId,
    lead_id: LeadId,
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
    client_id: ClientId,
    lead_id: LeadId,
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
    client_id: ClientId,
    lead_id: LeadId,
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

/// Ids of the client's live leads waiting for enrichment because credits ran out.
pub async fn leads_waiting_for_credits(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    reason: &str,
) -> Result<Vec<LeadId>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM leads WHERE client_id = $1 AND enrichment_wait_reason = $2
            AND deleted_at IS NULL ORDER BY id",
    )
    .bind(client_id)
    .bind(reason)
    .fetch_all(db)
    .await?)
}
