//! Lead repository: the `leads` table (single and batched inserts, updates, soft deletes,
//! filtered offset pages and keyset pages, live lead ids) and global-suppression look-ups for
//! new addresses. The pipeline's columns have their own submodules: [`enrichment`], [`scoring`],
//! [`allocation`] and the just-in-time [`send_snapshot`].

pub mod allocation;
pub mod enrichment;
pub mod scoring;
pub mod send_snapshot;

use agency_domain::{CampaignId, ClientId, LeadId, UserId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, PgExecutor, PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

use crate::StoreError;
use crate::memberships;
use crate::rows::{self, RowLock};
use crate::text_search::search_pattern;

/// The unique index that makes an email unique per client (case-insensitively).
pub const EMAIL_UNIQUE_INDEX: &str = "leads_client_email_idx";

/// A lead as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Lead {
    /// Lead id.
    pub id: Uuid,
    /// Owning client.
    pub client_id: Uuid,
    /// Campaign the lead belongs to.
    pub campaign_id: Option<Uuid>,
    /// Lowercased email.
    pub email: String,
    /// E.164 phone.
    pub phone: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Job title.
    pub title: Option<String>,
    /// Company name.
    pub company: Option<String>,
    /// LinkedIn profile URL.
    pub linkedin_url: Option<String>,
    /// Company domain.
    pub domain: Option<String>,
    /// ALS score 0-100, null until scored.
    pub als_score: Option<i16>,
    /// ALS tier, null until scored.
    pub als_tier: Option<String>,
    /// Data quality points.
    pub als_data_quality: Option<i16>,
    /// Authority points.
    pub als_authority: Option<i16>,
    /// Company fit points.
    pub als_company_fit: Option<i16>,
    /// Timing points.
    pub als_timing: Option<i16>,
    /// Risk points.
    pub als_risk: Option<i16>,
    /// Weights used for the score.
    #[schema(value_type = Option<Object>)]
    pub als_weights: Option<serde_json::Value>,
    /// Channels the tier allows (`[]` until scored, never null).
    pub als_channels: Vec<String>,
    /// When scored.
    #[serde(serialize_with = "agency_domain::rfc3339::option::serialize")]
    pub scored_at: Option<DateTime<Utc>>,
    /// Industry.
    pub organization_industry: Option<String>,
    /// Employee count.
    pub organization_employee_count: Option<i32>,
    /// Country.
    pub organization_country: Option<String>,
    /// Lifecycle status text.
    pub status: String,
    /// Enrichment provider.
    pub enrichment_source: Option<String>,
    /// Enrichment confidence 0-1.
    pub enrichment_confidence: Option<f64>,
    /// Checked against the Do Not Call Register.
    pub dncr_checked: bool,
    /// Next planned action.
    #[serde(serialize_with = "agency_domain::rfc3339::option::serialize")]
    pub next_action_at: Option<DateTime<Utc>>,
    /// Creation time.
    #[serde(serialize_with = "agency_domain::rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    /// Last change.
    #[serde(serialize_with = "agency_domain::rfc3339::serialize")]
    pub updated_at: DateTime<Utc>,
}

/// The columns of [`Lead`], over table alias `leads`.
pub const LEAD_COLUMNS: &str = "id, client_id, campaign_id, email, phone, first_name, last_name, title, company,
    linkedin_url, domain, als_score, als_tier, als_data_quality, als_authority, als_company_fit,
    als_timing, als_risk, als_weights, COALESCE(als_channels, '{}'::text[]) AS als_channels,
    scored_at, organization_industry, organization_employee_count, organization_country, status, enrichment_source,
    enrichment_confidence::float8 AS enrichment_confidence, dncr_checked, next_action_at, created_at, updated_at";

impl Lead {
    /// Decodes a lead by position, its columns starting at `first` in [`LEAD_COLUMNS`] order:
    /// no name look-up per column (by name, the look-ups were about a tenth of the API's
    /// CPU on a 50-lead page). `decoding_by_position_matches_decoding_by_name` pins the order.
    pub fn from_columns(row: &PgRow, first: usize) -> Result<Self, sqlx::Error> {
        Ok(Self {
            id: row.try_get(first)?,
            client_id: row.try_get(first + 1)?,
            campaign_id: row.try_get(first + 2)?,
            email: row.try_get(first + 3)?,
            phone: row.try_get(first + 4)?,
            first_name: row.try_get(first + 5)?,
            last_name: row.try_get(first + 6)?,
            title: row.try_get(first + 7)?,
            company: row.try_get(first + 8)?,
            linkedin_url: row.try_get(first + 9)?,
            domain: row.try_get(first + 10)?,
            als_score: row.try_get(first + 11)?,
            als_tier: row.try_get(first + 12)?,
            als_data_quality: row.try_get(first + 13)?,
            als_authority: row.try_get(first + 14)?,
            als_company_fit: row.try_get(first + 15)?,
            als_timing: row.try_get(first + 16)?,
            als_risk: row.try_get(first + 17)?,
            als_weights: row.try_get(first + 18)?,
            als_channels: row.try_get(first + 19)?,
            scored_at: row.try_get(first + 20)?,
            organization_industry: row.try_get(first + 21)?,
            organization_employee_count: row.try_get(first + 22)?,
            organization_country: row.try_get(first + 23)?,
            status: row.try_get(first + 24)?,
            enrichment_source: row.try_get(first + 25)?,
            enrichment_confidence: row.try_get(first + 26)?,
            dncr_checked: row.try_get(first + 27)?,
            next_action_at: row.try_get(first + 28)?,
            created_at: row.try_get(first + 29)?,
            updated_at: row.try_get(first + 30)?,
        })
    }
}

/// The user-editable columns of a lead, validated and normalised by the caller.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct LeadFields {
    /// Campaign.
    pub campaign_id: Option<CampaignId>,
    /// Lowercased, validated email.
    pub email: String,
    /// E.164 phone.
    pub phone: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Company.
    pub company: Option<String>,
    /// LinkedIn URL.
    pub linkedin_url: Option<String>,
    /// Company domain.
    pub domain: Option<String>,
    /// Industry.
    pub organization_industry: Option<String>,
    /// Employee count.
    pub organization_employee_count: Option<i32>,
    /// Country.
    pub organization_country: Option<String>,
    /// Status text.
    pub status: String,
}

/// Lead list ordering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LeadSort {
    /// Newest first (the default).
    #[default]
    CreatedDesc,
    /// Oldest first.
    CreatedAsc,
    /// Highest score first, unscored last.
    ScoreDesc,
    /// Lowest score first, unscored last.
    ScoreAsc,
}

impl LeadSort {
    fn order_by(self) -> &'static str {
        match self {
            LeadSort::CreatedDesc => " ORDER BY created_at DESC, id DESC",
            LeadSort::CreatedAsc => " ORDER BY created_at ASC, id ASC",
            LeadSort::ScoreDesc => " ORDER BY als_score DESC NULLS LAST, created_at DESC, id DESC",
            LeadSort::ScoreAsc => " ORDER BY als_score ASC NULLS LAST, created_at DESC, id DESC",
        }
    }
}

/// Filters of the lead list.
#[derive(Debug, Clone, Default, Hash)]
pub struct LeadFilter {
    /// Only this campaign.
    pub campaign_id: Option<CampaignId>,
    /// Exact status.
    pub status: Option<String>,
    /// Exact ALS tier.
    pub tier: Option<String>,
    /// Case-insensitive substring of email, first/last/full name or company.
    pub search: Option<String>,
}

fn push_filter(qb: &mut QueryBuilder<Postgres>, client_id: ClientId, filter: &LeadFilter) {
    qb.push(" FROM leads WHERE client_id = ")
        .push_bind(client_id);
    qb.push(" AND deleted_at IS NULL");
    if let Some(campaign_id) = filter.campaign_id {
        qb.push(" AND campaign_id = ").push_bind(campaign_id);
    }
    if let Some(status) = &filter.status {
        qb.push(" AND status = ").push_bind(status.clone());
    }
    if let Some(tier) = &filter.tier {
        qb.push(" AND als_tier = ").push_bind(tier.clone());
    }
    if let Some(pattern) = search_pattern(filter.search.as_deref()) {
        // The same expression as the trigram index `leads_search_trgm_idx`.
        qb.push(
            " AND (email || ' ' || coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || coalesce(company, '')) ILIKE ",
        );
        qb.push_bind(pattern);
    }
}

/// One offset page of the client's live leads and the total matching (both queries run
/// concurrently on the pool).
pub async fn list(
    pool: &PgPool,
    client_id: ClientId,
    filter: &LeadFilter,
    sort: LeadSort,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Lead>, i64), StoreError> {
    let (total, items) = tokio::try_join!(
        count(pool, client_id, filter),
        page(pool, client_id, filter, sort, limit, offset),
    )?;
    Ok((items, total))
}

/// The number of the client's live leads matching `filter`.
pub async fn count(
    pool: &PgPool,
    client_id: ClientId,
    filter: &LeadFilter,
) -> Result<i64, StoreError> {
    let mut count = QueryBuilder::<Postgres>::new("SELECT count(*)");
    push_filter(&mut count, client_id, filter);
    Ok(count.build_query_scalar::<i64>().fetch_one(pool).await?)
}

/// ` LIMIT n OFFSET m` as literals, not parameters: with parameters PostgreSQL's generic plan
/// of a page assumes a tenth of the table, never beats a custom plan, and so every execution
/// of the prepared statement is planned again (0.15-0.45 ms of its CPU per page). With
/// literals the generic plan is as good and is kept after five runs. Both are integers we
/// computed, never text from the request.
fn push_limit_offset(qb: &mut QueryBuilder<Postgres>, limit: i64, offset: i64) {
    qb.push(format_args!(" LIMIT {limit} OFFSET {offset}"));
}

/// One offset page of the client's live leads matching `filter`.
pub async fn page(
    pool: &PgPool,
    client_id: ClientId,
    filter: &LeadFilter,
    sort: LeadSort,
    limit: i64,
    offset: i64,
) -> Result<Vec<Lead>, StoreError> {
    let mut page = QueryBuilder::<Postgres>::new("SELECT ");
    page.push(LEAD_COLUMNS);
    push_filter(&mut page, client_id, filter);
    page.push(sort.order_by());
    push_limit_offset(&mut page, limit, offset);
    let rows = page.build().fetch_all(pool).await?;
    Ok(rows
        .iter()
        .map(|row| Lead::from_columns(row, 0))
        .collect::<Result<_, _>>()?)
}

/// One offset page of the client's live leads matching `filter`, read only when `user_id`
/// holds an accepted membership of the live client, checked in the same statement (one round
/// trip for the access check and the page): `None` when it does not.
pub async fn page_for_member(
    pool: &PgPool,
    client_id: ClientId,
    user_id: UserId,
    filter: &LeadFilter,
    sort: LeadSort,
    limit: i64,
    offset: i64,
) -> Result<Option<Vec<Lead>>, StoreError> {
    let mut qb = QueryBuilder::<Postgres>::new("SELECT a.member, page.* FROM (SELECT ");
    memberships::push_is_member(&mut qb, client_id, user_id);
    // The page's gate on `a.member` is a one-time filter: for a non-member the leads are
    // never read.
    qb.push(" AS member) a LEFT JOIN LATERAL (SELECT ")
        .push(LEAD_COLUMNS);
    push_filter(&mut qb, client_id, filter);
    qb.push(" AND a.member").push(sort.order_by());
    push_limit_offset(&mut qb, limit, offset);
    qb.push(") page ON true");
    let rows = qb.build().fetch_all(pool).await?;
    let mut leads = Vec::with_capacity(rows.len());
    for row in &rows {
        if !row.try_get::<bool, _>(0)? {
            return Ok(None);
        }
        // A member with an empty page gets one row of NULL lead columns.
        if row.try_get::<Option<Uuid>, _>(1)?.is_some() {
            leads.push(Lead::from_columns(row, 1)?);
        }
    }
    Ok(Some(leads))
}

/// A keyset page ordered by `(created_at, id)` (descending when `desc`), strictly after the
/// key `after`; answers at most `limit` leads.
pub async fn list_after(
    pool: &PgPool,
    client_id: ClientId,
    filter: &LeadFilter,
    desc: bool,
    after: Option<(DateTime<Utc>, LeadId)>,
    limit: i64,
) -> Result<Vec<Lead>, StoreError> {
    let mut page = QueryBuilder::<Postgres>::new("SELECT ");
    page.push(LEAD_COLUMNS);
    push_filter(&mut page, client_id, filter);
    if let Some((at, id)) = after {
        page.push(if desc {
            " AND (created_at, id) < ("
        } else {
            " AND (created_at, id) > ("
        });
        page.push_bind(at).push(", ").push_bind(id).push(")");
    }
    let sort = if desc {
        LeadSort::CreatedDesc
    } else {
        LeadSort::CreatedAsc
    };
    page.push(sort.order_by());
    push_limit_offset(&mut page, limit, 0);
    Ok(page.build_query_as::<Lead>().fetch_all(pool).await?)
}

/// The live lead `id` of the client.
pub async fn get(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    id: LeadId,
) -> Result<Lead, StoreError> {
    let mut qb = QueryBuilder::<Postgres>::new("SELECT ");
    qb.push(LEAD_COLUMNS)
        .push(" FROM leads WHERE client_id = ")
        .push_bind(client_id);
    qb.push(" AND id = ")
        .push_bind(id)
        .push(" AND deleted_at IS NULL");
    qb.build_query_as::<Lead>()
        .fetch_optional(db)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Locks the live lead `id` of the client and answers its editable columns.
pub async fn lock(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: LeadId,
) -> Result<LeadFields, StoreError> {
    rows::lock_live(
        conn,
        "leads",
        "campaign_id, email, phone, first_name, last_name, title, company, linkedin_url, domain,
         organization_industry, organization_employee_count, organization_country, status",
        client_id,
        id,
        RowLock::Update,
    )
    .await
}

/// Inserts one lead; a live lead with the same email answers
/// `Conflict { constraint: EMAIL_UNIQUE_INDEX }`.
pub async fn insert(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: LeadId,
    f: &LeadFields,
) -> Result<Lead, StoreError> {
    let mut qb = QueryBuilder::<Postgres>::new(
        "INSERT INTO leads (id, client_id, campaign_id, email, phone, first_name, last_name, title, company,
                linkedin_url, domain, organization_industry, organization_employee_count, organization_country, status)
         VALUES (",
    );
    {
        let mut v = qb.separated(", ");
        v.push_bind(id)
            .push_bind(client_id)
            .push_bind(f.campaign_id)
            .push_bind(f.email.clone())
            .push_bind(f.phone.clone())
            .push_bind(f.first_name.clone())
            .push_bind(f.last_name.clone())
            .push_bind(f.title.clone())
            .push_bind(f.company.clone())
            .push_bind(f.linkedin_url.clone())
            .push_bind(f.domain.clone())
            .push_bind(f.organization_industry.clone())
            .push_bind(f.organization_employee_count)
            .push_bind(f.organization_country.clone())
            .push_bind(f.status.clone());
    }
    qb.push(") RETURNING ").push(LEAD_COLUMNS);
    Ok(qb.build_query_as::<Lead>().fetch_one(conn).await?)
}

/// Inserts many new leads (status `new`) in one statement; rows whose email is already a live
/// lead of the client are skipped. Answers `(id, email)` of the rows inserted.
pub async fn insert_many(
    conn: &mut PgConnection,
    client_id: ClientId,
    rows: &[(LeadId, LeadFields)],
) -> Result<Vec<(LeadId, String)>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    macro_rules! col {
        ($field:ident) => {
            rows.iter()
                .map(|(_, f)| f.$field.clone())
                .collect::<Vec<_>>()
        };
    }
    let ids: Vec<LeadId> = rows.iter().map(|(id, _)| *id).collect();
    let inserted = sqlx::query_as::<_, (LeadId, String)>(
        "INSERT INTO leads (id, client_id, campaign_id, email, phone, first_name, last_name, title, company,
                linkedin_url, domain, organization_industry, organization_employee_count, organization_country, status)
         SELECT u.id, $1, u.campaign_id, u.email, u.phone, u.first_name, u.last_name, u.title, u.company,
                u.linkedin_url, u.domain, u.industry, u.employees, u.country, u.status
           FROM UNNEST($2::uuid[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                       $9::text[], $10::text[], $11::text[], $12::text[], $13::int4[], $14::text[], $15::text[])
                AS u(id, campaign_id, email, phone, first_name, last_name, title, company, linkedin_url,
                     domain, industry, employees, country, status)
         ON CONFLICT DO NOTHING
         RETURNING id, email",
    )
    .bind(client_id)
    .bind(&ids)
    .bind(col!(campaign_id))
    .bind(col!(email))
    .bind(col!(phone))
    .bind(col!(first_name))
    .bind(col!(last_name))
    .bind(col!(title))
    .bind(col!(company))
    .bind(col!(linkedin_url))
    .bind(col!(domain))
    .bind(col!(organization_industry))
    .bind(col!(organization_employee_count))
    .bind(col!(organization_country))
    .bind(col!(status))
    .fetch_all(conn)
    .await?;
    Ok(inserted)
}

/// Overwrites the editable columns of lead `id`; a clash with another live lead's email
/// answers `Conflict { constraint: EMAIL_UNIQUE_INDEX }`.
pub async fn update(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: LeadId,
    f: &LeadFields,
) -> Result<Lead, StoreError> {
    let mut qb = QueryBuilder::<Postgres>::new("UPDATE leads SET campaign_id = ");
    qb.push_bind(f.campaign_id);
    qb.push(", email = ").push_bind(f.email.clone());
    qb.push(", phone = ").push_bind(f.phone.clone());
    qb.push(", first_name = ").push_bind(f.first_name.clone());
    qb.push(", last_name = ").push_bind(f.last_name.clone());
    qb.push(", title = ").push_bind(f.title.clone());
    qb.push(", company = ").push_bind(f.company.clone());
    qb.push(", linkedin_url = ")
        .push_bind(f.linkedin_url.clone());
    qb.push(", domain = ").push_bind(f.domain.clone());
    qb.push(", organization_industry = ")
        .push_bind(f.organization_industry.clone());
    qb.push(", organization_employee_count = ")
        .push_bind(f.organization_employee_count);
    qb.push(", organization_country = ")
        .push_bind(f.organization_country.clone());
    qb.push(", status = ").push_bind(f.status.clone());
    qb.push(", updated_at = now() WHERE client_id = ")
        .push_bind(client_id);
    qb.push(" AND id = ")
        .push_bind(id)
        .push(" AND deleted_at IS NULL RETURNING ")
        .push(LEAD_COLUMNS);
    qb.build_query_as::<Lead>()
        .fetch_optional(conn)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Soft-deletes lead `id`; `NotFound` when it is not a live lead of the client.
pub async fn soft_delete(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: LeadId,
) -> Result<(), StoreError> {
    rows::soft_delete(conn, "leads", client_id, id).await
}

/// Which of `emails` are already live leads of the client (answers them lowercased).
pub async fn existing_emails(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    emails: &[String],
) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar::<_, String>(
        "SELECT lower(email) FROM leads
          WHERE client_id = $1 AND deleted_at IS NULL AND lower(email) = ANY($2::text[])",
    )
    .bind(client_id)
    .bind(emails)
    .fetch_all(db)
    .await?)
}

/// A global suppression entry matching a candidate address.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SuppressionHit {
    /// Suppressed email, if the entry is for an email.
    pub email: Option<String>,
    /// Suppressed phone, if the entry is for a phone.
    pub phone: Option<String>,
    /// Why it is suppressed (`unsubscribe`, `bounce`, ...).
    pub reason: String,
}

/// Global suppression entries for any of `emails` (lowercased) or `phones` (E.164).
pub async fn suppressed(
    db: impl PgExecutor<'_>,
    emails: &[String],
    phones: &[String],
) -> Result<Vec<SuppressionHit>, StoreError> {
    Ok(sqlx::query_as::<_, SuppressionHit>(
        "SELECT email, phone, reason FROM global_suppression
          WHERE email = ANY($1::text[]) OR phone = ANY($2::text[])",
    )
    .bind(emails)
    .bind(phones)
    .fetch_all(db)
    .await?)
}

/// A live lead of the client found by an inbound sender, with its campaign and status.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LeadMatch {
    /// Lead id.
    pub id: LeadId,
    /// Campaign.
    pub campaign_id: Option<CampaignId>,
    /// Status text.
    pub status: String,
    /// Email.
    pub email: String,
    /// Phone.
    pub phone: Option<String>,
}

/// The client's live lead with this email (compared case-insensitively) or E.164 phone
/// (the most recently created when several share a phone).
pub async fn match_sender(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    email: Option<&str>,
    phone: Option<&str>,
) -> Result<Option<LeadMatch>, StoreError> {
    Ok(sqlx::query_as::<_, LeadMatch>(
        "SELECT id, campaign_id, status, email, phone FROM leads
          WHERE client_id = $1 AND deleted_at IS NULL
            AND ((lower(email) = lower($2)) OR (phone = $3))
          ORDER BY (lower(email) = lower($2)) DESC NULLS LAST, created_at DESC LIMIT 1",
    )
    .bind(client_id)
    .bind(email)
    .bind(phone)
    .fetch_optional(db)
    .await?)
}

/// The live lead `id` of the client as a [`LeadMatch`], locked for an update.
pub async fn lock_match(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: LeadId,
) -> Result<LeadMatch, StoreError> {
    rows::lock_live(
        conn,
        "leads",
        "id, campaign_id, status, email, phone",
        client_id,
        id,
        RowLock::Update,
    )
    .await
}

/// Sets the lead's status and its next planned action (`None` stops its sequence); marks
/// `bounced_before` when the status is `bounced`.
pub async fn set_status(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    id: LeadId,
    status: &str,
    next_action_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE leads SET status = $3, next_action_at = $4,
                paused_until = CASE WHEN $3 = 'paused' THEN $4 ELSE NULL END,
                bounced_before = bounced_before OR $3 = 'bounced', updated_at = now()
          WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(client_id)
    .bind(id)
    .bind(status)
    .bind(next_action_at)
    .execute(db)
    .await?;
    rows::touched(done)
}

/// Marks the lead's number as unable to receive SMS (a permanent carrier failure), keeping
/// the first mark.
pub async fn mark_phone_unusable(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    id: LeadId,
    reason: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE leads SET phone_unusable_at = coalesce(phone_unusable_at, now()),
                phone_unusable_reason = coalesce(phone_unusable_reason, $3), updated_at = now()
          WHERE client_id = $1 AND id = $2",
    )
    .bind(client_id)
    .bind(id)
    .bind(reason)
    .execute(db)
    .await?;
    Ok(())
}

/// The distinct ids among `ids` that are live leads of the client, in id order.
pub async fn live_lead_ids(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    ids: &[LeadId],
) -> Result<Vec<LeadId>, StoreError> {
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
    client_id: ClientId,
    campaign_id: Option<CampaignId>,
) -> Result<Vec<LeadId>, StoreError> {
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
