//! The `replies` table: inbound emails and SMS of a tenant, with the lead and campaign they
//! belong to (when the sender matched a lead), the classified intent and the handled mark.
//! Rows are decoded into typed ids and enums here; an unknown stored value is an error.

use std::str::FromStr;

use agency_domain::{CampaignId, Channel, ClientId, Intent, LeadId, ReplyId};
use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

use crate::StoreError;

/// The lead a reply came from, as the dashboard shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyLead {
    /// Lead id.
    pub id: LeadId,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Email.
    pub email: String,
    /// Company.
    pub company: Option<String>,
}

/// A reply with its lead and campaign name.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// Reply id.
    pub id: ReplyId,
    /// Owning client.
    pub client_id: ClientId,
    /// The matched lead (None: the sender matched no lead of the tenant).
    pub lead: Option<ReplyLead>,
    /// The lead's campaign at the time of the reply.
    pub campaign_id: Option<CampaignId>,
    /// The campaign's name.
    pub campaign_name: Option<String>,
    /// Channel it arrived on.
    pub channel: Channel,
    /// The sender's address or number.
    pub from_address: String,
    /// Classified intent (None until classified).
    pub intent: Option<Intent>,
    /// Confidence of the intent, 0-1.
    pub intent_confidence: Option<f64>,
    /// The text.
    pub content: String,
    /// Email subject.
    pub subject: Option<String>,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// When a user marked it handled.
    pub handled_at: Option<DateTime<Utc>>,
}

#[derive(FromRow)]
struct Row {
    id: ReplyId,
    client_id: ClientId,
    lead_id: Option<LeadId>,
    first_name: Option<String>,
    last_name: Option<String>,
    lead_email: Option<String>,
    company: Option<String>,
    campaign_id: Option<CampaignId>,
    campaign_name: Option<String>,
    channel: String,
    from_address: String,
    intent: Option<String>,
    intent_confidence: Option<f64>,
    content: String,
    subject: Option<String>,
    received_at: DateTime<Utc>,
    handled_at: Option<DateTime<Utc>>,
}

impl TryFrom<Row> for Reply {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self, StoreError> {
        let lead = match (r.lead_id, r.lead_email) {
            (Some(id), Some(email)) => Some(ReplyLead {
                id,
                first_name: r.first_name,
                last_name: r.last_name,
                email,
                company: r.company,
            }),
            _ => None,
        };
        Ok(Reply {
            id: r.id,
            client_id: r.client_id,
            lead,
            campaign_id: r.campaign_id,
            campaign_name: r.campaign_name,
            channel: Channel::from_str(&r.channel).map_err(|e| StoreError::decode("channel", e))?,
            from_address: r.from_address,
            intent: r
                .intent
                .as_deref()
                .map(Intent::from_str)
                .transpose()
                .map_err(|e| StoreError::decode("intent", e))?,
            intent_confidence: r.intent_confidence,
            content: r.content,
            subject: r.subject,
            received_at: r.received_at,
            handled_at: r.handled_at,
        })
    }
}

const SELECT: &str =
    "SELECT r.id, r.client_id, r.lead_id, l.first_name, l.last_name, l.email AS lead_email,
        l.company, r.campaign_id, c.name AS campaign_name, r.channel, r.from_address, r.intent,
        r.intent_confidence, r.content, r.subject, r.received_at, r.handled_at
   FROM replies r
   LEFT JOIN leads l ON l.id = r.lead_id AND l.client_id = r.client_id
   LEFT JOIN campaigns c ON c.id = r.campaign_id AND c.client_id = r.client_id";

/// Filters of the reply list (all optional, combined with AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyFilter {
    /// Only this intent.
    pub intent: Option<Intent>,
    /// Only this channel.
    pub channel: Option<Channel>,
    /// Only handled (true) or unhandled (false) replies.
    pub handled: Option<bool>,
    /// Only replies to this campaign.
    pub campaign_id: Option<CampaignId>,
}

const FILTER: &str = "r.client_id = $1 AND ($2::text IS NULL OR r.intent = $2)
    AND ($3::text IS NULL OR r.channel = $3)
    AND ($4::boolean IS NULL OR (r.handled_at IS NOT NULL) = $4)
    AND ($5::uuid IS NULL OR r.campaign_id = $5)";

/// One page of the client's replies, newest first, and the number matching.
pub async fn page(
    conn: &mut PgConnection,
    client_id: ClientId,
    filter: &ReplyFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Reply>, i64), StoreError> {
    let intent = filter.intent.map(Intent::as_str);
    let channel = filter.channel.map(Channel::as_str);
    let campaign = filter.campaign_id.map(CampaignId::into_uuid);
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM replies r WHERE {FILTER}"
    )))
    .bind(client_id)
    .bind(intent)
    .bind(channel)
    .bind(filter.handled)
    .bind(campaign)
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE {FILTER} ORDER BY r.received_at DESC, r.id DESC LIMIT $6 OFFSET $7"
    )))
    .bind(client_id)
    .bind(intent)
    .bind(channel)
    .bind(filter.handled)
    .bind(campaign)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let items = rows
        .into_iter()
        .map(Reply::try_from)
        .collect::<Result<_, _>>()?;
    Ok((items, total))
}

/// The reply `id` of the client.
pub async fn get(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    id: ReplyId,
) -> Result<Reply, StoreError> {
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE r.client_id = $1 AND r.id = $2"
    )))
    .bind(client_id)
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or(StoreError::NotFound)?
    .try_into()
}

/// Marks the reply handled now (keeping an earlier mark) or not handled; `NotFound` when it
/// is not the client's.
pub async fn set_handled(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    id: ReplyId,
    handled: bool,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE replies SET handled_at = CASE WHEN $3 THEN coalesce(handled_at, now()) END,
                updated_at = now()
          WHERE client_id = $1 AND id = $2",
    )
    .bind(client_id)
    .bind(id)
    .bind(handled)
    .execute(db)
    .await?;
    crate::rows::touched(done)
}

/// A reply to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReply {
    /// The matched lead.
    pub lead_id: Option<LeadId>,
    /// The lead's campaign.
    pub campaign_id: Option<CampaignId>,
    /// The inbox row it came from (unique: a second insert for it stores nothing).
    pub webhook_event_id: Option<Uuid>,
    /// Channel.
    pub channel: Channel,
    /// Sender.
    pub from_address: String,
    /// Receiving number or address.
    pub to_address: Option<String>,
    /// Email subject.
    pub subject: Option<String>,
    /// Text.
    pub content: String,
    /// The provider's message id.
    pub provider_message_id: Option<String>,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
}

/// Stores a reply; `None` when one was stored for the same webhook event already.
pub async fn insert(
    conn: &mut PgConnection,
    client_id: ClientId,
    r: &NewReply,
) -> Result<Option<ReplyId>, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO replies (id, client_id, lead_id, campaign_id, webhook_event_id, channel,
                from_address, to_address, subject, content, provider_message_id, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (webhook_event_id) WHERE webhook_event_id IS NOT NULL DO NOTHING
         RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(client_id)
    .bind(r.lead_id)
    .bind(r.campaign_id)
    .bind(r.webhook_event_id)
    .bind(r.channel.as_str())
    .bind(&r.from_address)
    .bind(&r.to_address)
    .bind(&r.subject)
    .bind(&r.content)
    .bind(&r.provider_message_id)
    .bind(r.received_at)
    .fetch_optional(conn)
    .await?)
}

/// Records the classified intent, its confidence and the facts found.
pub async fn set_intent(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    id: ReplyId,
    intent: Intent,
    confidence: f64,
    extracted: &serde_json::Value,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE replies SET intent = $3, intent_confidence = $4, extracted = $5, updated_at = now()
          WHERE client_id = $1 AND id = $2",
    )
    .bind(client_id)
    .bind(id)
    .bind(intent.as_str())
    .bind(confidence.clamp(0.0, 1.0))
    .bind(extracted)
    .execute(db)
    .await?;
    crate::rows::touched(done)
}
