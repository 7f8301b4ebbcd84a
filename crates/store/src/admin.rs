//! Platform-wide queries of the admin console: counts across clients, every client's plan and
//! billing state (now and from the daily snapshot), the admin client list with the facts its
//! health score reads, recent activity across clients, and the scheduler's last tick.

use agency_domain::ClientId;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgExecutor, Postgres, QueryBuilder};
use uuid::Uuid;

use crate::StoreError;
use crate::text_search::search_pattern;

/// Counts across all live clients.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PlatformCounts {
    /// Live clients.
    pub total_clients: i64,
    /// Live clients whose subscription is `active` or `trialing`.
    pub active_clients: i64,
    /// Live clients created since `month_start`.
    pub new_clients_this_month: i64,
    /// Live campaigns.
    pub total_campaigns: i64,
    /// Live campaigns with status `active`.
    pub active_campaigns: i64,
    /// Live leads.
    pub total_leads: i64,
    /// Live leads created since `today_start`.
    pub leads_today: i64,
    /// Live leads created between `yesterday_start` and `today_start`.
    pub leads_yesterday: i64,
    /// Live leads created since `month_start`.
    pub leads_this_month: i64,
}

/// Platform counts; the instants are local midnights of the platform's timezone.
pub async fn platform_counts(
    db: impl PgExecutor<'_>,
    today_start: DateTime<Utc>,
    yesterday_start: DateTime<Utc>,
    month_start: DateTime<Utc>,
) -> Result<PlatformCounts, StoreError> {
    Ok(sqlx::query_as::<_, PlatformCounts>(
        "SELECT c.total_clients, c.active_clients, c.new_clients_this_month,
                k.total_campaigns, k.active_campaigns,
                l.total_leads, l.leads_today, l.leads_yesterday, l.leads_this_month
           FROM (SELECT count(*) AS total_clients,
                        count(*) FILTER (WHERE subscription_status IN ('active', 'trialing')) AS active_clients,
                        count(*) FILTER (WHERE created_at >= $3) AS new_clients_this_month
                   FROM clients WHERE deleted_at IS NULL) c,
                (SELECT count(*) AS total_campaigns,
                        count(*) FILTER (WHERE k.status = 'active') AS active_campaigns
                   FROM campaigns k JOIN clients cl ON cl.id = k.client_id AND cl.deleted_at IS NULL
                  WHERE k.deleted_at IS NULL) k,
                (SELECT count(*) AS total_leads,
                        count(*) FILTER (WHERE l.created_at >= $1) AS leads_today,
                        count(*) FILTER (WHERE l.created_at >= $2 AND l.created_at < $1) AS leads_yesterday,
                        count(*) FILTER (WHERE l.created_at >= $3) AS leads_this_month
                   FROM leads l JOIN clients cl ON cl.id = l.client_id AND cl.deleted_at IS NULL
                  WHERE l.deleted_at IS NULL) l",
    )
    .bind(today_start)
    .bind(yesterday_start)
    .bind(month_start)
    .fetch_one(db)
    .await?)
}

/// A client's plan and billing state.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BillingRow {
    /// Client id.
    pub client_id: Uuid,
    /// Tier text.
    pub tier: String,
    /// Subscription status text.
    pub subscription_status: String,
}

/// Every live client's plan and billing state now.
pub async fn billing_now(db: impl PgExecutor<'_>) -> Result<Vec<BillingRow>, StoreError> {
    Ok(sqlx::query_as::<_, BillingRow>(
        "SELECT id AS client_id, tier, subscription_status FROM clients WHERE deleted_at IS NULL",
    )
    .fetch_all(db)
    .await?)
}

/// The snapshot of the latest day on or before `day` (`None` when there is none).
pub async fn billing_snapshot(
    db: impl PgExecutor<'_>,
    day: NaiveDate,
) -> Result<Option<(NaiveDate, Vec<BillingRow>)>, StoreError> {
    let rows: Vec<(NaiveDate, Uuid, String, String)> = sqlx::query_as(
        "SELECT day, client_id, tier, subscription_status FROM client_daily_metrics
          WHERE day = (SELECT max(day) FROM client_daily_metrics WHERE day <= $1)",
    )
    .bind(day)
    .fetch_all(db)
    .await?;
    let Some(first) = rows.first().map(|r| r.0) else {
        return Ok(None);
    };
    Ok(Some((
        first,
        rows.into_iter()
            .map(|(_, client_id, tier, subscription_status)| BillingRow {
                client_id,
                tier,
                subscription_status,
            })
            .collect(),
    )))
}

/// Writes (or rewrites) `day`'s snapshot of every live client; answers the rows written.
pub async fn write_snapshot(db: impl PgExecutor<'_>, day: NaiveDate) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "INSERT INTO client_daily_metrics (client_id, day, tier, subscription_status, leads, active_campaigns)
         SELECT c.id, $1, c.tier, c.subscription_status,
                (SELECT count(*) FROM leads l WHERE l.client_id = c.id AND l.deleted_at IS NULL),
                (SELECT count(*) FROM campaigns k
                  WHERE k.client_id = c.id AND k.deleted_at IS NULL AND k.status = 'active')
           FROM clients c WHERE c.deleted_at IS NULL
         ON CONFLICT (client_id, day) DO UPDATE
            SET tier = EXCLUDED.tier, subscription_status = EXCLUDED.subscription_status,
                leads = EXCLUDED.leads, active_campaigns = EXCLUDED.active_campaigns,
                updated_at = now()",
    )
    .bind(day)
    .execute(db)
    .await?
    .rows_affected())
}

/// A client of the admin list, with the facts of its health score.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AdminClientRow {
    /// Client id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Tier text.
    pub tier: String,
    /// Subscription status text.
    pub subscription_status: String,
    /// Lead credits left.
    pub credits_remaining: i32,
    /// Default permission mode text.
    pub default_permission_mode: String,
    /// Live campaigns.
    pub campaigns_count: i64,
    /// Live campaigns with status `active`.
    pub active_campaigns: i64,
    /// Live leads.
    pub leads_count: i64,
    /// Latest activity.
    pub last_activity: Option<DateTime<Utc>>,
    /// Distinct leads contacted since `since`.
    pub contacted_recent: i64,
    /// Distinct leads that replied since `since`.
    pub replied_recent: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// Filters of the admin client list.
#[derive(Debug, Clone, Default)]
pub struct AdminClientFilter {
    /// Substring of the name, case-insensitive.
    pub search: Option<String>,
    /// Subscription status text.
    pub status: Option<String>,
    /// One client.
    pub id: Option<Uuid>,
}

fn push_client_filter(qb: &mut QueryBuilder<Postgres>, f: &AdminClientFilter) {
    qb.push(" FROM clients c WHERE c.deleted_at IS NULL");
    if let Some(pattern) = search_pattern(f.search.as_deref()) {
        qb.push(" AND c.name ILIKE ").push_bind(pattern);
    }
    if let Some(status) = &f.status {
        qb.push(" AND c.subscription_status = ")
            .push_bind(status.clone());
    }
    if let Some(id) = f.id {
        qb.push(" AND c.id = ").push_bind(id);
    }
}

fn owned(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// One page of live clients by name, and the total matching; `contacted`/`replied` are the
/// action lists of the reply-rate counts since `since`.
pub async fn clients_page(
    db: &crate::PgPool,
    f: &AdminClientFilter,
    (limit, offset): (i64, i64),
    since: DateTime<Utc>,
    (contacted, replied): (&[&str], &[&str]),
) -> Result<(Vec<AdminClientRow>, i64), StoreError> {
    let mut count = QueryBuilder::<Postgres>::new("SELECT count(*)");
    push_client_filter(&mut count, f);
    let mut page = QueryBuilder::<Postgres>::new(
        "SELECT c.id, c.name, c.tier, c.subscription_status, c.credits_remaining,
                c.default_permission_mode, k.campaigns_count, k.active_campaigns,
                (SELECT count(*) FROM leads l WHERE l.client_id = c.id AND l.deleted_at IS NULL) AS leads_count,
                (SELECT max(a.created_at) FROM activities a WHERE a.client_id = c.id) AS last_activity,
                r.contacted_recent, r.replied_recent, c.created_at
           FROM (SELECT c.*",
    );
    push_client_filter(&mut page, f);
    page.push(" ORDER BY c.name, c.id LIMIT ").push_bind(limit);
    page.push(" OFFSET ").push_bind(offset);
    page.push(
        ") c
         CROSS JOIN LATERAL (SELECT count(*) AS campaigns_count,
                                    count(*) FILTER (WHERE status = 'active') AS active_campaigns
                               FROM campaigns WHERE client_id = c.id AND deleted_at IS NULL) k
         CROSS JOIN LATERAL (SELECT count(DISTINCT lead_id) FILTER (WHERE action = ANY(",
    );
    page.push_bind(owned(contacted));
    page.push(")) AS contacted_recent, count(DISTINCT lead_id) FILTER (WHERE action = ANY(");
    page.push_bind(owned(replied));
    page.push(")) AS replied_recent FROM activities WHERE client_id = c.id AND created_at >= ");
    page.push_bind(since);
    page.push(") r ORDER BY c.name, c.id");
    let (total, items) = tokio::try_join!(
        count.build_query_scalar::<i64>().fetch_one(db),
        page.build_query_as::<AdminClientRow>().fetch_all(db),
    )?;
    Ok((items, total))
}

/// A live campaign of a client, for the admin client detail.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AdminCampaignRow {
    /// Campaign id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Status text.
    pub status: String,
    /// Live leads.
    pub leads: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// The client's live campaigns, newest first.
pub async fn client_campaigns(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
) -> Result<Vec<AdminCampaignRow>, StoreError> {
    Ok(sqlx::query_as::<_, AdminCampaignRow>(
        "SELECT k.id, k.name, k.status,
                (SELECT count(*) FROM leads l
                  WHERE l.client_id = k.client_id AND l.campaign_id = k.id AND l.deleted_at IS NULL) AS leads,
                k.created_at
           FROM campaigns k WHERE k.client_id = $1 AND k.deleted_at IS NULL
          ORDER BY k.created_at DESC, k.id DESC",
    )
    .bind(client_id)
    .fetch_all(db)
    .await?)
}

/// An activity with its client's name and its lead's name, for the admin feed.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FeedRow {
    /// Activity id.
    pub id: Uuid,
    /// Client name.
    pub client_name: String,
    /// Action text.
    pub action: String,
    /// Channel text.
    pub channel: String,
    /// The lead's name or email.
    pub lead_label: Option<String>,
    /// The campaign's name.
    pub campaign_name: Option<String>,
    /// Subject line.
    pub subject: Option<String>,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// The latest `limit` activities of live clients (or of one client), newest first.
pub async fn activity_feed(
    db: impl PgExecutor<'_>,
    client_id: Option<ClientId>,
    limit: i64,
) -> Result<Vec<FeedRow>, StoreError> {
    Ok(sqlx::query_as::<_, FeedRow>(
        "SELECT a.id, c.name AS client_name, a.action, a.channel,
                COALESCE(NULLIF(btrim(concat_ws(' ', l.first_name, l.last_name)), ''), l.email) AS lead_label,
                k.name AS campaign_name, a.subject, a.created_at
           FROM activities a
           JOIN clients c ON c.id = a.client_id AND c.deleted_at IS NULL
           LEFT JOIN leads l ON l.id = a.lead_id
           LEFT JOIN campaigns k ON k.id = a.campaign_id
          WHERE ($1::uuid IS NULL OR a.client_id = $1)
          ORDER BY a.created_at DESC, a.id DESC LIMIT $2",
    )
    .bind(client_id)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// When the scheduler last fired any schedule.
pub async fn scheduler_last_tick(
    db: impl PgExecutor<'_>,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT max(fired_at) FROM schedule_runs")
            .fetch_one(db)
            .await?,
    )
}
