//! Campaign repository: the `campaigns` and `campaign_sequence_steps` tables, and the campaign
//! read model with its lead and activity counters (computed in one query per page), and the
//! campaign facts scoring and allocation read.

use agency_domain::CampaignId;
use agency_domain::CampaignStatus;
use agency_domain::ClientId;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::StoreError;
use crate::rows::{self, RowLock, touched};
use crate::text_search::search_pattern;

/// A campaign as the API shows it, counters included.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Campaign {
    /// Campaign id.
    pub id: Uuid,
    /// Owning client (tenant).
    pub client_id: Uuid,
    /// Display name.
    pub name: String,
    /// Free text description.
    pub description: Option<String>,
    /// `draft`, `active`, `paused` or `completed`.
    pub status: String,
    /// `autopilot`, `co_pilot` or `manual`.
    pub permission_mode: String,
    /// Email share of first touches (0-100).
    pub allocation_email: i16,
    /// SMS share (0-100).
    pub allocation_sms: i16,
    /// LinkedIn share (0-100).
    pub allocation_linkedin: i16,
    /// Voice share (0-100).
    pub allocation_voice: i16,
    /// Direct mail share (0-100).
    pub allocation_mail: i16,
    /// New leads contacted per day.
    pub daily_limit: i32,
    /// Optional cap on leads in the campaign.
    pub total_lead_limit: Option<i32>,
    /// First day of sending.
    pub start_date: Option<NaiveDate>,
    /// Last day of sending.
    pub end_date: Option<NaiveDate>,
    /// Target industries.
    pub target_industries: Vec<String>,
    /// Target job titles.
    pub target_titles: Vec<String>,
    /// Target company sizes.
    pub target_company_sizes: Vec<String>,
    /// Target locations.
    pub target_locations: Vec<String>,
    /// Live leads in the campaign.
    pub total_leads: i64,
    /// Leads with at least one activity in the campaign.
    pub leads_contacted: i64,
    /// Contacted leads that replied.
    pub leads_replied: i64,
    /// Leads converted.
    pub leads_converted: i64,
    /// Replied / contacted, 0-100.
    pub reply_rate: f64,
    /// Converted / contacted, 0-100.
    pub conversion_rate: f64,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// The writable columns of a campaign, already validated by the caller.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CampaignFields {
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Permission mode text.
    pub permission_mode: String,
    /// Email percentage.
    pub allocation_email: i16,
    /// LinkedIn percentage.
    pub allocation_linkedin: i16,
    /// Voice percentage.
    pub allocation_voice: i16,
    /// SMS percentage.
    pub allocation_sms: i16,
    /// Mail percentage.
    pub allocation_mail: i16,
    /// Daily lead limit.
    pub daily_lead_limit: i32,
    /// Total lead limit.
    pub total_lead_limit: Option<i32>,
    /// Start date.
    pub start_date: Option<NaiveDate>,
    /// End date.
    pub end_date: Option<NaiveDate>,
    /// Target industries.
    pub target_industries: Vec<String>,
    /// Target titles.
    pub target_titles: Vec<String>,
    /// Target company sizes.
    pub target_company_sizes: Vec<String>,
    /// Target locations.
    pub target_locations: Vec<String>,
}

/// A campaign's stored state, locked for an update.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CampaignRecord {
    /// Campaign id.
    pub id: CampaignId,
    /// Current status text.
    pub status: String,
    /// The writable columns.
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub fields: CampaignFields,
}

/// Filters of the campaign list.
#[derive(Debug, Clone, Default)]
pub struct CampaignFilter {
    /// Exact status.
    pub status: Option<String>,
    /// Case-insensitive substring of name or description.
    pub search: Option<String>,
}

/// One step of a campaign's sequence.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct SequenceStep {
    /// Step id.
    pub id: Uuid,
    /// Campaign id.
    pub campaign_id: Uuid,
    /// Position, from 1.
    pub step_number: i32,
    /// Channel text.
    pub channel: String,
    /// Days after the previous step.
    pub delay_days: i32,
    /// Subject template (email).
    pub subject_template: Option<String>,
    /// Body template.
    pub body_template: Option<String>,
    /// Skip once the lead replied.
    pub skip_if_replied: bool,
    /// Skip once the address bounced.
    pub skip_if_bounced: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A validated sequence step to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSequenceStep {
    /// Position, from 1, unique in the campaign.
    pub step_number: i32,
    /// Channel text.
    pub channel: String,
    /// Days after the previous step.
    pub delay_days: i32,
    /// Subject template.
    pub subject_template: Option<String>,
    /// Body template.
    pub body_template: Option<String>,
    /// Skip once replied.
    pub skip_if_replied: bool,
    /// Skip once bounced.
    pub skip_if_bounced: bool,
}

/// The campaign columns plus counters, over a relation aliased `c` (one row per campaign).
/// Counters come from two lateral aggregates using the leads and activities indexes.
const CAMPAIGN_VIEW: &str = "
    c.id, c.client_id, c.name, c.description, c.status, c.permission_mode,
    c.allocation_email, c.allocation_sms, c.allocation_linkedin, c.allocation_voice, c.allocation_mail,
    c.daily_lead_limit AS daily_limit, c.total_lead_limit, c.start_date, c.end_date,
    c.target_industries, c.target_titles, c.target_company_sizes, c.target_locations,
    l.total_leads, l.leads_converted, a.leads_contacted, a.leads_replied,
    CASE WHEN a.leads_contacted = 0 THEN 0::float8
         ELSE round(100.0 * a.leads_replied / a.leads_contacted, 2)::float8 END AS reply_rate,
    CASE WHEN a.leads_contacted = 0 THEN 0::float8
         ELSE least(100.0, round(100.0 * l.leads_converted / a.leads_contacted, 2))::float8 END AS conversion_rate,
    c.created_at, c.updated_at
  FROM page c
  CROSS JOIN LATERAL (
      SELECT count(*) AS total_leads,
             count(*) FILTER (WHERE ld.status = 'converted') AS leads_converted
        FROM leads ld
       WHERE ld.client_id = c.client_id AND ld.campaign_id = c.id AND ld.deleted_at IS NULL
  ) l
  CROSS JOIN LATERAL (
      SELECT count(DISTINCT ac.lead_id) AS leads_contacted,
             count(DISTINCT ac.lead_id) FILTER (WHERE ac.action = 'replied') AS leads_replied
        FROM activities ac
       WHERE ac.campaign_id = c.id AND ac.client_id = c.client_id
  ) a
";

fn push_filter(qb: &mut QueryBuilder<Postgres>, client_id: ClientId, filter: &CampaignFilter) {
    qb.push(" FROM campaigns WHERE client_id = ");
    qb.push_bind(client_id);
    qb.push(" AND deleted_at IS NULL");
    if let Some(status) = &filter.status {
        qb.push(" AND status = ").push_bind(status.clone());
    }
    if let Some(pattern) = search_pattern(filter.search.as_deref()) {
        qb.push(" AND (name ILIKE ").push_bind(pattern.clone());
        qb.push(" OR description ILIKE ")
            .push_bind(pattern)
            .push(")");
    }
}

/// One page of a client's live campaigns, newest first, and the total matching.
pub async fn list(
    pool: &PgPool,
    client_id: ClientId,
    filter: &CampaignFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Campaign>, i64), StoreError> {
    let mut count = QueryBuilder::<Postgres>::new("SELECT count(*)");
    push_filter(&mut count, client_id, filter);
    let mut page = QueryBuilder::<Postgres>::new("WITH page AS (SELECT *");
    push_filter(&mut page, client_id, filter);
    page.push(" ORDER BY created_at DESC, id DESC LIMIT ")
        .push_bind(limit);
    page.push(" OFFSET ").push_bind(offset);
    page.push(") SELECT ")
        .push(CAMPAIGN_VIEW)
        .push(" ORDER BY c.created_at DESC, c.id DESC");
    let (total, items) = tokio::try_join!(
        count.build_query_scalar::<i64>().fetch_one(pool),
        page.build_query_as::<Campaign>().fetch_all(pool),
    )?;
    Ok((items, total))
}

/// The live campaign `id` of the client, with counters.
pub async fn get(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    id: CampaignId,
) -> Result<Campaign, StoreError> {
    let mut qb =
        QueryBuilder::<Postgres>::new("WITH page AS (SELECT * FROM campaigns WHERE client_id = ");
    qb.push_bind(client_id).push(" AND id = ").push_bind(id);
    qb.push(" AND deleted_at IS NULL) SELECT ")
        .push(CAMPAIGN_VIEW);
    qb.build_query_as::<Campaign>()
        .fetch_optional(db)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Locks the live campaign `id` of the client for an update.
pub async fn lock(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: CampaignId,
) -> Result<CampaignRecord, StoreError> {
    rows::lock_live(
        conn,
        "campaigns",
        "id, status, name, description, permission_mode, allocation_email, allocation_linkedin,
         allocation_voice, allocation_sms, allocation_mail, daily_lead_limit, total_lead_limit,
         start_date, end_date, target_industries, target_titles, target_company_sizes, target_locations",
        client_id,
        id,
        RowLock::Update,
    )
    .await
}

/// The status of the live campaign `id` of the client, read under a share lock (so a lead
/// cannot be attached to a campaign being deleted concurrently).
pub async fn status_for_share(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: CampaignId,
) -> Result<String, StoreError> {
    let (status,): (String,) =
        rows::lock_live(conn, "campaigns", "status", client_id, id, RowLock::Share).await?;
    Ok(status)
}

/// A query with positional binds, as `sqlx::query` answers it.
type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

/// Binds the writable columns of `f` in the order `insert` and `update` list them.
fn bind_fields<'q>(q: PgQuery<'q>, f: &CampaignFields) -> PgQuery<'q> {
    q.bind(&f.name)
        .bind(&f.description)
        .bind(&f.permission_mode)
        .bind(f.allocation_email)
        .bind(f.allocation_linkedin)
        .bind(f.allocation_voice)
        .bind(f.allocation_sms)
        .bind(f.allocation_mail)
        .bind(f.daily_lead_limit)
        .bind(f.total_lead_limit)
        .bind(f.start_date)
        .bind(f.end_date)
        .bind(&f.target_industries)
        .bind(&f.target_titles)
        .bind(&f.target_company_sizes)
        .bind(&f.target_locations)
}

/// Inserts a draft campaign with id `id`.
pub async fn insert(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: CampaignId,
    created_by: Option<Uuid>,
    f: &CampaignFields,
) -> Result<(), StoreError> {
    let q = sqlx::query(
        "INSERT INTO campaigns (id, client_id, name, description, permission_mode, allocation_email,
                allocation_linkedin, allocation_voice, allocation_sms, allocation_mail, daily_lead_limit,
                total_lead_limit, start_date, end_date, target_industries, target_titles,
                target_company_sizes, target_locations, created_by, status)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
                 (SELECT id FROM users WHERE id = $19), 'draft')",
    );
    bind_fields(q.bind(id).bind(client_id), f)
        .bind(created_by)
        .execute(conn)
        .await?;
    Ok(())
}

/// Overwrites the writable columns of campaign `id`.
pub async fn update(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: CampaignId,
    f: &CampaignFields,
) -> Result<(), StoreError> {
    let q = sqlx::query(
        "UPDATE campaigns SET name = $3, description = $4, permission_mode = $5, allocation_email = $6,
                allocation_linkedin = $7, allocation_voice = $8, allocation_sms = $9, allocation_mail = $10,
                daily_lead_limit = $11, total_lead_limit = $12, start_date = $13, end_date = $14,
                target_industries = $15, target_titles = $16, target_company_sizes = $17,
                target_locations = $18, updated_at = now()
          WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL",
    );
    let done = bind_fields(q.bind(client_id).bind(id), f)
        .execute(conn)
        .await?;
    touched(done)
}

/// Sets the status (the caller checked the transition), stamping activation/completion.
pub async fn set_status(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: CampaignId,
    status: &str,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE campaigns SET status = $3, updated_at = now(),
                activated_at = CASE WHEN $3 = 'active' THEN coalesce(activated_at, now()) ELSE activated_at END,
                completed_at = CASE WHEN $3 = 'completed' THEN now() ELSE completed_at END
          WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(client_id)
    .bind(id)
    .bind(status)
    .execute(conn)
    .await?;
    touched(done)
}

/// Soft-deletes campaign `id`; `NotFound` when it is not a live campaign of the client.
pub async fn soft_delete(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: CampaignId,
) -> Result<(), StoreError> {
    rows::soft_delete(conn, "campaigns", client_id, id).await
}

/// The campaign's sequence steps in order.
pub async fn sequence(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    campaign_id: CampaignId,
) -> Result<Vec<SequenceStep>, StoreError> {
    Ok(sqlx::query_as::<_, SequenceStep>(
        "SELECT id, campaign_id, step_number, channel, delay_days, subject_template, body_template,
                skip_if_replied, skip_if_bounced, created_at, updated_at
           FROM campaign_sequence_steps WHERE client_id = $1 AND campaign_id = $2
          ORDER BY step_number",
    )
    .bind(client_id)
    .bind(campaign_id)
    .fetch_all(db)
    .await?)
}

/// Replaces the campaign's whole sequence with `steps` (validated by the caller).
pub async fn replace_sequence(
    conn: &mut PgConnection,
    client_id: ClientId,
    campaign_id: CampaignId,
    steps: &[NewSequenceStep],
) -> Result<Vec<SequenceStep>, StoreError> {
    sqlx::query("DELETE FROM campaign_sequence_steps WHERE client_id = $1 AND campaign_id = $2")
        .bind(client_id)
        .bind(campaign_id)
        .execute(&mut *conn)
        .await?;
    let ids: Vec<Uuid> = steps.iter().map(|_| Uuid::now_v7()).collect();
    sqlx::query(
        "INSERT INTO campaign_sequence_steps (id, client_id, campaign_id, step_number, channel, delay_days,
                subject_template, body_template, skip_if_replied, skip_if_bounced)
         SELECT u.id, $1, $2, u.step_number, u.channel, u.delay_days, u.subject_template, u.body_template,
                u.skip_if_replied, u.skip_if_bounced
           FROM UNNEST($3::uuid[], $4::int4[], $5::text[], $6::int4[], $7::text[], $8::text[], $9::bool[], $10::bool[])
                AS u(id, step_number, channel, delay_days, subject_template, body_template, skip_if_replied, skip_if_bounced)",
    )
    .bind(client_id)
    .bind(campaign_id)
    .bind(&ids)
    .bind(steps.iter().map(|s| s.step_number).collect::<Vec<_>>())
    .bind(steps.iter().map(|s| s.channel.clone()).collect::<Vec<_>>())
    .bind(steps.iter().map(|s| s.delay_days).collect::<Vec<_>>())
    .bind(steps.iter().map(|s| s.subject_template.clone()).collect::<Vec<_>>())
    .bind(steps.iter().map(|s| s.body_template.clone()).collect::<Vec<_>>())
    .bind(steps.iter().map(|s| s.skip_if_replied).collect::<Vec<_>>())
    .bind(steps.iter().map(|s| s.skip_if_bounced).collect::<Vec<_>>())
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE campaigns SET updated_at = now() WHERE client_id = $1 AND id = $2")
        .bind(client_id)
        .bind(campaign_id)
        .execute(&mut *conn)
        .await?;
    sequence(&mut *conn, client_id, campaign_id).await
}

/// The client's default permission mode (`NotFound` for an unknown or deleted client).
pub async fn client_default_permission_mode(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
) -> Result<String, StoreError> {
    sqlx::query_scalar::<_, String>(
        "SELECT default_permission_mode FROM clients WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind(client_id)
    .fetch_optional(db)
    .await?
    .ok_or(StoreError::NotFound)
}

/// The campaign facts scoring and allocation read.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CampaignPipeline {
    /// Campaign id.
    pub id: CampaignId,
    /// Status (an unknown stored value fails to decode).
    pub status: CampaignStatus,
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
pub async fn pipeline_settings(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    ids: &[CampaignId],
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
