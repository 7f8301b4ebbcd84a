//! The admin client list (paged, search by name, filter by subscription status) with each
//! client's MRR and health score (`agency_domain::health_score`), and one client's detail
//! (its campaigns, team members and recent activity).

use agency_domain::{ClientId, FunnelStage, HealthInputs, health_score};
use agency_store::PgPool;
use agency_store::admin::{self as store, AdminClientFilter, AdminClientRow};
use agency_store::{clients, memberships};
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::AdminSettings;
use super::feed::{FeedItem, activity_feed};
use crate::reports::corrupt;
use crate::usecase::UseCaseError;

/// Filters and page of the admin client list.
#[derive(Debug, Clone, Default)]
pub struct AdminClientQuery {
    /// Substring of the name.
    pub search: Option<String>,
    /// Subscription status.
    pub status: Option<agency_domain::SubscriptionStatus>,
    /// SQL limit.
    pub limit: i64,
    /// SQL offset.
    pub offset: i64,
}

/// A client in the admin list.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AdminClient {
    /// Client id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Plan.
    pub tier: String,
    /// Billing state.
    pub subscription_status: String,
    /// Health score 0-100 (see `docs/admin.md`).
    pub health_score: u8,
    /// What it pays per month now, AUD.
    #[schema(value_type = f64)]
    pub mrr: agency_domain::Aud,
    /// Live campaigns.
    pub campaigns_count: i64,
    /// Live leads.
    pub leads_count: i64,
    /// Latest activity.
    pub last_activity: Option<DateTime<Utc>>,
}

/// Days of activity the health score's reply rate looks at.
pub const HEALTH_WINDOW_DAYS: i64 = 30;

fn to_client(
    r: &AdminClientRow,
    settings: &AdminSettings,
    now: DateTime<Utc>,
) -> Result<AdminClient, UseCaseError> {
    let status = r.subscription_status.parse().map_err(corrupt)?;
    let tier = r.tier.parse().map_err(corrupt)?;
    let health = health_score(&HealthInputs {
        status,
        days_since_activity: r.last_activity.map(|t| (now - t).num_days()),
        active_campaigns: r.active_campaigns,
        contacted_30d: r.contacted_recent,
        replied_30d: r.replied_recent,
        credits_remaining: i64::from(r.credits_remaining),
    });
    Ok(AdminClient {
        id: r.id,
        name: r.name.clone(),
        tier: r.tier.clone(),
        subscription_status: r.subscription_status.clone(),
        health_score: health,
        mrr: settings.prices.mrr(tier, status),
        campaigns_count: r.campaigns_count,
        leads_count: r.leads_count,
        last_activity: r.last_activity,
    })
}

async fn rows(
    pool: &PgPool,
    filter: &AdminClientFilter,
    page: (i64, i64),
    now: DateTime<Utc>,
) -> Result<(Vec<AdminClientRow>, i64), UseCaseError> {
    let contacted = FunnelStage::Sent.actions();
    let replied = FunnelStage::Replied.actions();
    Ok(store::clients_page(
        pool,
        filter,
        page,
        now - TimeDelta::days(HEALTH_WINDOW_DAYS),
        (contacted.as_slice(), replied.as_slice()),
    )
    .await?)
}

/// One page of clients by name, and the total matching.
pub async fn clients_page(
    pool: &PgPool,
    settings: &AdminSettings,
    q: &AdminClientQuery,
    now: DateTime<Utc>,
) -> Result<(Vec<AdminClient>, i64), UseCaseError> {
    let filter = AdminClientFilter {
        search: q.search.clone(),
        status: q.status.map(|s| s.as_str().to_owned()),
        id: None,
    };
    let (items, total) = rows(pool, &filter, (q.limit, q.offset), now).await?;
    let items = items
        .iter()
        .map(|r| to_client(r, settings, now))
        .collect::<Result<_, _>>()?;
    Ok((items, total))
}

/// A campaign in the client detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AdminCampaign {
    /// Campaign id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Status.
    pub status: String,
    /// Live leads.
    pub leads: i64,
    /// Created.
    pub created_at: DateTime<Utc>,
}

/// A member (or pending invite) in the client detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TeamMember {
    /// Membership id.
    pub id: Uuid,
    /// The user (null for a pending invite).
    pub user_id: Option<Uuid>,
    /// Email.
    pub email: Option<String>,
    /// Role.
    pub role: String,
    /// When accepted (null: pending).
    pub accepted_at: Option<DateTime<Utc>>,
}

/// One client in full.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AdminClientDetail {
    /// The list fields.
    #[serde(flatten)]
    pub client: AdminClient,
    /// Lead credits left.
    pub credits_remaining: i32,
    /// Default permission mode.
    pub default_permission_mode: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Live campaigns, newest first.
    pub campaigns: Vec<AdminCampaign>,
    /// Members and pending invites.
    pub team_members: Vec<TeamMember>,
    /// The latest activities.
    pub recent_activity: Vec<FeedItem>,
}

/// Members listed in the detail at most.
const MEMBERS_LIMIT: i64 = 200;
/// Activities listed in the detail.
const RECENT_ACTIVITY: i64 = 20;

/// One live client with its campaigns, team and recent activity (404 when there is none).
pub async fn client_detail(
    pool: &PgPool,
    settings: &AdminSettings,
    client: ClientId,
    now: DateTime<Utc>,
) -> Result<AdminClientDetail, UseCaseError> {
    let filter = AdminClientFilter {
        id: Some(client.into_uuid()),
        ..AdminClientFilter::default()
    };
    let (found, _) = rows(pool, &filter, (1, 0), now).await?;
    let row = found.first().ok_or(UseCaseError::NotFound("client"))?;
    let mut conn = pool.acquire().await?;
    let (members, _) = memberships::list(&mut conn, client, MEMBERS_LIMIT, 0).await?;
    drop(conn);
    let (campaigns, recent_activity) = tokio::try_join!(
        async { Ok::<_, UseCaseError>(store::client_campaigns(pool, client).await?) },
        activity_feed(pool, Some(client), RECENT_ACTIVITY),
    )?;
    Ok(AdminClientDetail {
        client: to_client(row, settings, now)?,
        credits_remaining: row.credits_remaining,
        default_permission_mode: row.default_permission_mode.clone(),
        created_at: row.created_at,
        campaigns: campaigns
            .into_iter()
            .map(|c| AdminCampaign {
                id: c.id,
                name: c.name,
                status: c.status,
                leads: c.leads,
                created_at: c.created_at,
            })
            .collect(),
        team_members: members
            .into_iter()
            .map(|m| TeamMember {
                id: m.id,
                user_id: m.user_id,
                email: m.email,
                role: m.role,
                accepted_at: m.accepted_at,
            })
            .collect(),
        recent_activity,
    })
}

/// `PATCH /admin/clients/{id}`: a platform admin changes a client's plan or billing state
/// (new clients start as trials; this is the operator's action that ends a trial).
#[derive(Debug, Clone, Default, serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanChange {
    /// `ignition`, `velocity` or `dominance`.
    #[schema(value_type = Option<String>)]
    pub tier: Option<agency_domain::ClientTier>,
    /// `trialing`, `active`, `past_due`, `cancelled` or `paused`.
    #[schema(value_type = Option<String>)]
    pub subscription_status: Option<agency_domain::SubscriptionStatus>,
}

/// Applies a plan change by `admin` (audited in its transaction). A client that leaves its
/// trial for `active` gets its tier's monthly credits now, with the next reset a month on.
pub async fn change_plan(
    pool: &PgPool,
    admin: agency_domain::UserId,
    client: ClientId,
    change: &PlanChange,
    now: DateTime<Utc>,
) -> Result<(), UseCaseError> {
    if change.tier.is_none() && change.subscription_status.is_none() {
        return Err(UseCaseError::field(
            "tier",
            "Give a tier or a subscription_status to change.",
        ));
    }
    let mut tx = pool.begin().await?;
    let before = clients::lock_plan(&mut tx, client)
        .await?
        .ok_or(UseCaseError::NotFound("client"))?;
    let (tier_before, status_before) = (before.tier, before.subscription_status);
    let tier = change.tier.unwrap_or(tier_before);
    let status = change.subscription_status.unwrap_or(status_before);
    let leaves_trial = status_before == agency_domain::SubscriptionStatus::Trialing
        && status == agency_domain::SubscriptionStatus::Active;
    let grant = leaves_trial.then(|| clients::CreditGrant {
        credits: i32::try_from(tier.monthly_credits()).unwrap_or(i32::MAX),
        reset_at: now + chrono::Months::new(1),
    });
    clients::set_plan(
        &mut tx,
        client,
        clients::ClientPlan {
            tier,
            subscription_status: status,
        },
        grant,
    )
    .await?;
    let entry =
        agency_store::audit::AuditEntry::user(Some(client), admin, "client.plan_changed", "client")
            .entity(client.into_uuid())
            .before(serde_json::json!({"tier": tier_before, "subscription_status": status_before}))
            .after(
                serde_json::json!({"tier": tier.as_str(), "subscription_status": status,
            "credits_granted": leaves_trial.then(|| tier.monthly_credits())}),
            );
    agency_store::audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}
