//! Clients (tenants): creation with their first owner, settings and the ICP profile, the
//! settings the lead pipeline reads, its plan (tier and billing state), and spending and
//! refunding lead credits.

use agency_domain::{ClientId, ClientTier, SubscriptionStatus, UserId};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

use crate::StoreError;

const COLUMNS: &str = "id, name, tier, subscription_status, credits_remaining, default_permission_mode,
    website_url, company_description, value_proposition, default_offer, icp_industries,
    icp_company_sizes, icp_locations, icp_titles, icp_pain_points, icp_keywords, icp_exclusions,
    icp_revenue_min, icp_revenue_max, icp_value_propositions, icp_confirmed_at,
    icp_last_extraction_at, competitor_domains, timezone, daily_ai_budget_aud, created_at, updated_at";

/// A client's settings and ICP, as stored.
#[derive(Debug, Clone, FromRow)]
pub struct ClientRow {
    /// Id.
    pub id: Uuid,
    /// Display name.
    pub name: String,
    /// Plan tier.
    pub tier: String,
    /// Billing state.
    pub subscription_status: String,
    /// Lead credits left this month.
    pub credits_remaining: i32,
    /// Default campaign permission mode.
    pub default_permission_mode: String,
    /// Website.
    pub website_url: Option<String>,
    /// What the company does.
    pub company_description: Option<String>,
    /// Main value proposition.
    pub value_proposition: Option<String>,
    /// Default offer.
    pub default_offer: Option<String>,
    /// ICP industries.
    pub icp_industries: Vec<String>,
    /// ICP company sizes.
    pub icp_company_sizes: Vec<String>,
    /// ICP locations.
    pub icp_locations: Vec<String>,
    /// ICP job titles.
    pub icp_titles: Vec<String>,
    /// ICP pain points.
    pub icp_pain_points: Vec<String>,
    /// ICP keywords.
    pub icp_keywords: Vec<String>,
    /// ICP exclusions.
    pub icp_exclusions: Vec<String>,
    /// Lowest target revenue.
    pub icp_revenue_min: Option<Decimal>,
    /// Highest target revenue.
    pub icp_revenue_max: Option<Decimal>,
    /// ICP value propositions.
    pub icp_value_propositions: Vec<String>,
    /// When the ICP was confirmed.
    pub icp_confirmed_at: Option<DateTime<Utc>>,
    /// When the ICP was last extracted from the website.
    pub icp_last_extraction_at: Option<DateTime<Utc>>,
    /// Competitors' domains.
    pub competitor_domains: Vec<String>,
    /// IANA timezone.
    pub timezone: String,
    /// Daily AI budget, AUD.
    pub daily_ai_budget_aud: Decimal,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// A new client.
#[derive(Debug, Clone)]
pub struct NewClient {
    /// Display name.
    pub name: String,
    /// Plan tier text.
    pub tier: String,
    /// Monthly credits of the tier.
    pub credits: i32,
    /// IANA timezone.
    pub timezone: String,
}

/// A partial settings update; `None` keeps the stored value.
#[derive(Debug, Clone, Default)]
pub struct SettingsPatch {
    /// Display name.
    pub name: Option<String>,
    /// IANA timezone (validated by the caller).
    pub timezone: Option<String>,
    /// Default permission mode text.
    pub default_permission_mode: Option<String>,
    /// Daily AI budget, AUD.
    pub daily_ai_budget_aud: Option<Decimal>,
    /// Competitors' domains.
    pub competitor_domains: Option<Vec<String>>,
    /// Website.
    pub website_url: Option<String>,
    /// What the company does.
    pub company_description: Option<String>,
    /// Main value proposition.
    pub value_proposition: Option<String>,
    /// Default offer.
    pub default_offer: Option<String>,
    /// ICP industries.
    pub icp_industries: Option<Vec<String>>,
    /// ICP company sizes.
    pub icp_company_sizes: Option<Vec<String>>,
    /// ICP locations.
    pub icp_locations: Option<Vec<String>>,
    /// ICP job titles.
    pub icp_titles: Option<Vec<String>>,
    /// ICP pain points.
    pub icp_pain_points: Option<Vec<String>>,
}

/// A partial ICP update; `None` keeps the stored value.
#[derive(Debug, Clone, Default)]
pub struct IcpPatch {
    /// Industries.
    pub industries: Option<Vec<String>>,
    /// Company sizes.
    pub company_sizes: Option<Vec<String>>,
    /// Job titles.
    pub titles: Option<Vec<String>>,
    /// Locations.
    pub locations: Option<Vec<String>>,
    /// Lowest target revenue.
    pub revenue_min: Option<Decimal>,
    /// Highest target revenue.
    pub revenue_max: Option<Decimal>,
    /// Keywords.
    pub keywords: Option<Vec<String>>,
    /// Exclusions.
    pub exclusions: Option<Vec<String>>,
    /// Pain points.
    pub pain_points: Option<Vec<String>>,
    /// Value propositions.
    pub value_propositions: Option<Vec<String>>,
}

/// Creates a client and makes `owner` its accepted owner; returns the client.
pub async fn create_with_owner(
    conn: &mut PgConnection,
    new: &NewClient,
    owner: UserId,
) -> Result<ClientRow, StoreError> {
    let row = sqlx::query_as::<_, ClientRow>(sqlx::AssertSqlSafe(format!(
        "INSERT INTO clients (id, name, tier, subscription_status, credits_remaining, timezone,
                              credits_reset_at)
         VALUES ($1, $2, $3, 'trialing', $4, $5, now() + interval '1 month')
         RETURNING {COLUMNS}"
    )))
    .bind(Uuid::now_v7())
    .bind(&new.name)
    .bind(&new.tier)
    .bind(new.credits)
    .bind(&new.timezone)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO memberships (id, client_id, user_id, role, accepted_at) VALUES ($1, $2, $3, 'owner', now())",
    )
    .bind(Uuid::now_v7())
    .bind(row.id)
    .bind(owner)
    .execute(&mut *conn)
    .await?;
    Ok(row)
}

/// How many clients `user` created in the last 24 hours (from the audit log), after taking a
/// transaction-scoped lock on the user so concurrent creations are counted one after another.
pub async fn created_by_in_last_day(
    conn: &mut PgConnection,
    user: UserId,
) -> Result<i64, StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('client_create:' || $1::text, 0))")
        .bind(user)
        .execute(&mut *conn)
        .await?;
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM audit_log
          WHERE actor_id = $1 AND action = 'client.created' AND entity_type = 'client'
            AND created_at > now() - interval '1 day'",
    )
    .bind(user)
    .fetch_one(&mut *conn)
    .await?)
}

/// The live client `client_id`.
pub async fn get(conn: &mut PgConnection, client_id: ClientId) -> Result<ClientRow, StoreError> {
    sqlx::query_as::<_, ClientRow>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM clients WHERE id = $1 AND deleted_at IS NULL"
    )))
    .bind(client_id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Applies a settings patch and returns the updated client.
pub async fn update_settings(
    conn: &mut PgConnection,
    client_id: ClientId,
    p: &SettingsPatch,
) -> Result<ClientRow, StoreError> {
    sqlx::query_as::<_, ClientRow>(sqlx::AssertSqlSafe(format!(
        "UPDATE clients SET
            name = COALESCE($2, name),
            timezone = COALESCE($3, timezone),
            default_permission_mode = COALESCE($4, default_permission_mode),
            daily_ai_budget_aud = COALESCE($5, daily_ai_budget_aud),
            competitor_domains = COALESCE($6, competitor_domains),
            website_url = COALESCE($7, website_url),
            company_description = COALESCE($8, company_description),
            value_proposition = COALESCE($9, value_proposition),
            default_offer = COALESCE($10, default_offer),
            icp_industries = COALESCE($11, icp_industries),
            icp_company_sizes = COALESCE($12, icp_company_sizes),
            icp_locations = COALESCE($13, icp_locations),
            icp_titles = COALESCE($14, icp_titles),
            icp_pain_points = COALESCE($15, icp_pain_points),
            updated_at = now()
         WHERE id = $1 AND deleted_at IS NULL
         RETURNING {COLUMNS}"
    )))
    .bind(client_id)
    .bind(&p.name)
    .bind(&p.timezone)
    .bind(&p.default_permission_mode)
    .bind(p.daily_ai_budget_aud)
    .bind(&p.competitor_domains)
    .bind(&p.website_url)
    .bind(&p.company_description)
    .bind(&p.value_proposition)
    .bind(&p.default_offer)
    .bind(&p.icp_industries)
    .bind(&p.icp_company_sizes)
    .bind(&p.icp_locations)
    .bind(&p.icp_titles)
    .bind(&p.icp_pain_points)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Applies an ICP patch and returns the updated client.
pub async fn update_icp(
    conn: &mut PgConnection,
    client_id: ClientId,
    p: &IcpPatch,
) -> Result<ClientRow, StoreError> {
    sqlx::query_as::<_, ClientRow>(sqlx::AssertSqlSafe(format!(
        "UPDATE clients SET
            icp_industries = COALESCE($2, icp_industries),
            icp_company_sizes = COALESCE($3, icp_company_sizes),
            icp_titles = COALESCE($4, icp_titles),
            icp_locations = COALESCE($5, icp_locations),
            icp_revenue_min = COALESCE($6, icp_revenue_min),
            icp_revenue_max = COALESCE($7, icp_revenue_max),
            icp_keywords = COALESCE($8, icp_keywords),
            icp_exclusions = COALESCE($9, icp_exclusions),
            icp_pain_points = COALESCE($10, icp_pain_points),
            icp_value_propositions = COALESCE($11, icp_value_propositions),
            updated_at = now()
         WHERE id = $1 AND deleted_at IS NULL
         RETURNING {COLUMNS}"
    )))
    .bind(client_id)
    .bind(&p.industries)
    .bind(&p.company_sizes)
    .bind(&p.titles)
    .bind(&p.locations)
    .bind(p.revenue_min)
    .bind(p.revenue_max)
    .bind(&p.keywords)
    .bind(&p.exclusions)
    .bind(&p.pain_points)
    .bind(&p.value_propositions)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// A client's AI budget and the timezone its budget days follow.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct AiBudget {
    /// IANA timezone name.
    pub timezone: String,
    /// Daily AI budget in AUD.
    pub daily_ai_budget_aud: Decimal,
}

/// The AI budget of the live client `client_id`.
pub async fn ai_budget(
    db: impl sqlx::PgExecutor<'_>,
    client_id: ClientId,
) -> Result<AiBudget, StoreError> {
    sqlx::query_as::<_, AiBudget>(
        "SELECT timezone, daily_ai_budget_aud FROM clients WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(client_id)
    .fetch_optional(db)
    .await?
    .ok_or(StoreError::NotFound)
}
/// A profile extracted from the website, as written to the client's columns.
#[derive(Debug, Clone, Default)]
pub struct ExtractedIcp {
    /// The site analysed.
    pub website_url: String,
    /// What the company does (kept when `None`).
    pub company_description: Option<String>,
    /// Main value proposition (kept when `None`).
    pub value_proposition: Option<String>,
    /// Industries.
    pub industries: Vec<String>,
    /// Company sizes.
    pub company_sizes: Vec<String>,
    /// Locations.
    pub locations: Vec<String>,
    /// Job titles.
    pub titles: Vec<String>,
    /// Pain points.
    pub pain_points: Vec<String>,
    /// Keywords (services, signals).
    pub keywords: Vec<String>,
    /// Value propositions.
    pub value_propositions: Vec<String>,
    /// Lowest target revenue (AUD).
    pub revenue_min: Option<Decimal>,
    /// Highest target revenue (AUD).
    pub revenue_max: Option<Decimal>,
    /// When it was extracted.
    pub extracted_at: DateTime<Utc>,
    /// The suggested ALS weights (`icp_als_weights`: kept, not used by scoring).
    pub als_weights: serde_json::Value,
}

/// Writes an extracted profile to the client's ICP columns (the suggested ALS weights to
/// `icp_als_weights`) and `icp_last_extraction_at`;
/// with `confirm`, also sets `icp_confirmed_at` to now.
pub async fn write_extracted_icp(
    conn: &mut PgConnection,
    client_id: ClientId,
    icp: &ExtractedIcp,
    confirm: bool,
) -> Result<ClientRow, StoreError> {
    sqlx::query_as::<_, ClientRow>(sqlx::AssertSqlSafe(format!(
        "UPDATE clients SET
            website_url = $2,
            company_description = COALESCE($3, company_description),
            value_proposition = COALESCE($4, value_proposition),
            icp_industries = $5, icp_company_sizes = $6, icp_locations = $7, icp_titles = $8,
            icp_pain_points = $9, icp_keywords = $10, icp_value_propositions = $11,
            icp_revenue_min = $12, icp_revenue_max = $13, icp_last_extraction_at = $14,
            icp_confirmed_at = CASE WHEN $15 THEN now() ELSE icp_confirmed_at END,
            icp_als_weights = $16,
            updated_at = now()
         WHERE id = $1 AND deleted_at IS NULL
         RETURNING {COLUMNS}"
    )))
    .bind(client_id)
    .bind(&icp.website_url)
    .bind(&icp.company_description)
    .bind(&icp.value_proposition)
    .bind(&icp.industries)
    .bind(&icp.company_sizes)
    .bind(&icp.locations)
    .bind(&icp.titles)
    .bind(&icp.pain_points)
    .bind(&icp.keywords)
    .bind(&icp.value_propositions)
    .bind(icp.revenue_min)
    .bind(icp.revenue_max)
    .bind(icp.extracted_at)
    .bind(confirm)
    .bind(&icp.als_weights)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Sets the client's website address.
pub async fn set_website_url(
    conn: &mut PgConnection,
    client_id: ClientId,
    website_url: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE clients SET website_url = $2, updated_at = now() WHERE id = $1 AND deleted_at IS NULL")
        .bind(client_id)
        .bind(website_url)
        .execute(conn)
        .await?;
    Ok(())
}

/// The client settings the pipeline reads.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ClientPipeline {
    /// Client id.
    pub id: ClientId,
    /// IANA timezone name (days roll over at its midnight).
    pub timezone: String,
    /// Lead credits left this period.
    pub credits_remaining: i32,
    /// Subscription status (an unknown stored value fails to decode).
    pub subscription_status: SubscriptionStatus,
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
pub async fn pipeline_settings(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
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

/// Spends one lead credit; `false` when none is left (nothing changes).
pub async fn spend_credit(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
) -> Result<bool, StoreError> {
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
pub async fn refund_credit(db: impl PgExecutor<'_>, client_id: ClientId) -> Result<(), StoreError> {
    sqlx::query("UPDATE clients SET credits_remaining = credits_remaining + 1, updated_at = now() WHERE id = $1")
        .bind(client_id)
        .execute(db)
        .await?;
    Ok(())
}

/// A client's plan: its tier and billing state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromRow)]
pub struct ClientPlan {
    /// Plan tier.
    pub tier: ClientTier,
    /// Billing state.
    pub subscription_status: SubscriptionStatus,
}

/// Reads a live client's plan and locks its row for a plan change in the caller's
/// transaction; `None` when there is no such live client.
pub async fn lock_plan(
    conn: &mut PgConnection,
    client_id: ClientId,
) -> Result<Option<ClientPlan>, StoreError> {
    Ok(sqlx::query_as::<_, ClientPlan>(
        "SELECT tier, subscription_status FROM clients
          WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
    )
    .bind(client_id)
    .fetch_optional(conn)
    .await?)
}

/// Lead credits granted with a plan change: the new balance and the next monthly reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditGrant {
    /// The balance the client starts with.
    pub credits: i32,
    /// When the credits reset next.
    pub reset_at: DateTime<Utc>,
}

/// Sets a client's plan; with a `grant`, its credits and next reset too (otherwise they stay).
pub async fn set_plan(
    conn: &mut PgConnection,
    client_id: ClientId,
    plan: ClientPlan,
    grant: Option<CreditGrant>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE clients
            SET tier = $2, subscription_status = $3,
                credits_remaining = CASE WHEN $4 THEN $5 ELSE credits_remaining END,
                credits_reset_at = CASE WHEN $4 THEN $6 ELSE credits_reset_at END,
                updated_at = now()
          WHERE id = $1",
    )
    .bind(client_id)
    .bind(plan.tier)
    .bind(plan.subscription_status)
    .bind(grant.is_some())
    .bind(grant.map(|g| g.credits))
    .bind(grant.map(|g| g.reset_at))
    .execute(conn)
    .await?;
    Ok(())
}
