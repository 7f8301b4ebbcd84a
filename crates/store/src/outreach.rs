//! Outreach SQL: the `outreach_sends` rows (planned sends and their state machine), what a send
//! reads to render and address its message, and the `sandbox_messages` outbox. Rows are decoded
//! into typed ids and enums here; an unknown stored value is an error.

use agency_domain::{
    CampaignId, Channel, ClientId, LeadId, OutreachSendId, SendOrigin, SendStatus,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

use crate::StoreError;

fn decode<T: std::str::FromStr>(what: &str, value: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|e: T::Err| {
        StoreError::Database(sqlx::Error::Decode(format!("{what}: {e}").into()))
    })
}

#[derive(FromRow)]
struct SendRowRaw {
    id: OutreachSendId,
    client_id: ClientId,
    campaign_id: CampaignId,
    lead_id: LeadId,
    step_number: i32,
    channel: String,
    origin: String,
    status: String,
    due_at: DateTime<Utc>,
    resource_id: Option<Uuid>,
    subject: Option<String>,
    body: Option<String>,
    blocked_reason: Option<String>,
    last_error: Option<String>,
    provider_message_id: Option<String>,
    attempts: i32,
    claimed_at: Option<DateTime<Utc>>,
    decided_at: Option<DateTime<Utc>>,
    sent_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

/// One planned send.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SendRow {
    /// Row id (the idempotency key's root).
    pub id: OutreachSendId,
    /// Tenant.
    pub client_id: ClientId,
    /// Campaign.
    pub campaign_id: CampaignId,
    /// Lead.
    pub lead_id: LeadId,
    /// Campaign step (0: manual).
    pub step_number: i32,
    /// Channel.
    pub channel: Channel,
    /// Sequence step or manual.
    pub origin: SendOrigin,
    /// State.
    pub status: SendStatus,
    /// When it is due.
    pub due_at: DateTime<Utc>,
    /// The sending resource reserved for it.
    pub resource_id: Option<Uuid>,
    /// Rendered subject (email).
    pub subject: Option<String>,
    /// Rendered body (a draft until sent).
    pub body: Option<String>,
    /// Why the check refused it.
    pub blocked_reason: Option<String>,
    /// The last provider error.
    pub last_error: Option<String>,
    /// The provider's id once sent.
    pub provider_message_id: Option<String>,
    /// Claims so far.
    pub attempts: i32,
    /// When the last run claimed it for sending.
    pub claimed_at: Option<DateTime<Utc>>,
    /// When a member approved or rejected it.
    pub decided_at: Option<DateTime<Utc>>,
    /// When the provider accepted it.
    pub sent_at: Option<DateTime<Utc>>,
    /// Planned at.
    pub created_at: DateTime<Utc>,
}

impl TryFrom<SendRowRaw> for SendRow {
    type Error = StoreError;

    fn try_from(r: SendRowRaw) -> Result<Self, StoreError> {
        Ok(SendRow {
            id: r.id,
            client_id: r.client_id,
            campaign_id: r.campaign_id,
            lead_id: r.lead_id,
            step_number: r.step_number,
            channel: decode("outreach_sends.channel", &r.channel)?,
            origin: decode("outreach_sends.origin", &r.origin)?,
            status: decode("outreach_sends.status", &r.status)?,
            due_at: r.due_at,
            resource_id: r.resource_id,
            subject: r.subject,
            body: r.body,
            blocked_reason: r.blocked_reason,
            last_error: r.last_error,
            provider_message_id: r.provider_message_id,
            attempts: r.attempts,
            claimed_at: r.claimed_at,
            decided_at: r.decided_at,
            sent_at: r.sent_at,
            created_at: r.created_at,
        })
    }
}

const SEND_COLUMNS: &str = "id, client_id, campaign_id, lead_id, step_number, channel, origin, status, due_at,
    resource_id, subject, body, blocked_reason, last_error, provider_message_id, attempts, claimed_at, decided_at,
    sent_at, created_at";

/// A send to plan.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSend {
    /// Campaign.
    pub campaign_id: CampaignId,
    /// Lead.
    pub lead_id: LeadId,
    /// Step (0: manual).
    pub step_number: i32,
    /// Channel.
    pub channel: Channel,
    /// Sequence or manual.
    pub origin: SendOrigin,
    /// Due time.
    pub due_at: DateTime<Utc>,
    /// Reserved resource.
    pub resource_id: Option<Uuid>,
}

/// Plans a send. A sequence step already planned for the lead (same campaign, step and
/// channel) is left alone: `None`.
pub async fn plan(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    new: &NewSend,
) -> Result<Option<OutreachSendId>, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO outreach_sends (id, client_id, campaign_id, lead_id, step_number, channel, origin,
                                     due_at, resource_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (lead_id, campaign_id, step_number, channel) WHERE origin = 'sequence' DO NOTHING
         RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(client_id)
    .bind(new.campaign_id)
    .bind(new.lead_id)
    .bind(new.step_number)
    .bind(new.channel.as_str())
    .bind(new.origin.as_str())
    .bind(new.due_at)
    .bind(new.resource_id)
    .fetch_optional(db)
    .await?)
}

/// The send, locked for this transaction (`FOR UPDATE`): the claim every send path takes.
pub async fn lock(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: OutreachSendId,
) -> Result<SendRow, StoreError> {
    let raw = sqlx::query_as::<_, SendRowRaw>(sqlx::AssertSqlSafe(format!(
        "SELECT {SEND_COLUMNS} FROM outreach_sends WHERE client_id = $1 AND id = $2 FOR UPDATE"
    )))
    .bind(client_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    raw.try_into()
}

/// The fields a state change writes (`None` keeps the column).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SendUpdate {
    /// New state.
    pub status: Option<SendStatus>,
    /// New due time.
    pub due_at: Option<DateTime<Utc>>,
    /// Rendered subject.
    pub subject: Option<String>,
    /// Rendered body.
    pub body: Option<String>,
    /// Why the check refused it.
    pub blocked_reason: Option<String>,
    /// Last provider error.
    pub last_error: Option<String>,
    /// Provider name.
    pub provider: Option<String>,
    /// Provider message id.
    pub provider_message_id: Option<String>,
    /// Count a claim made at this time.
    pub claim: Option<DateTime<Utc>>,
    /// Mark sent now.
    pub sent: bool,
    /// The member who decided (approved or rejected).
    pub decided_by: Option<Uuid>,
    /// Record the decision time (approval or rejection).
    pub decided: bool,
}

/// Writes a state change to a send and answers the row as it is now.
pub async fn update(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: OutreachSendId,
    u: &SendUpdate,
) -> Result<SendRow, StoreError> {
    write(conn, client_id, id, None, u)
        .await?
        .ok_or(StoreError::NotFound)
}

/// Writes a state change to a send that is still `expected` (one statement, no prior lock):
/// `None` when the send is in another state (or missing).
pub async fn update_if(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: OutreachSendId,
    expected: SendStatus,
    u: &SendUpdate,
) -> Result<Option<SendRow>, StoreError> {
    write(conn, client_id, id, Some(expected), u).await
}

async fn write(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: OutreachSendId,
    expected: Option<SendStatus>,
    u: &SendUpdate,
) -> Result<Option<SendRow>, StoreError> {
    let raw = sqlx::query_as::<_, SendRowRaw>(sqlx::AssertSqlSafe(format!(
        "UPDATE outreach_sends SET
             status = coalesce($3, status),
             due_at = coalesce($4, due_at),
             subject = coalesce($5, subject),
             body = coalesce($6, body),
             blocked_reason = coalesce($7, blocked_reason),
             last_error = coalesce($8, last_error),
             provider = coalesce($9, provider),
             provider_message_id = coalesce($10, provider_message_id),
             attempts = attempts + CASE WHEN $11::timestamptz IS NOT NULL THEN 1 ELSE 0 END,
             claimed_at = coalesce($11, claimed_at),
             sent_at = CASE WHEN $12 THEN now() ELSE sent_at END,
             decided_by = coalesce($13, decided_by),
             decided_at = CASE WHEN $14 THEN now() ELSE decided_at END,
             updated_at = now()
          WHERE client_id = $1 AND id = $2 AND ($15::text IS NULL OR status = $15)
          RETURNING {SEND_COLUMNS}"
    )))
    .bind(client_id)
    .bind(id)
    .bind(u.status.map(SendStatus::as_str))
    .bind(u.due_at)
    .bind(&u.subject)
    .bind(&u.body)
    .bind(&u.blocked_reason)
    .bind(&u.last_error)
    .bind(&u.provider)
    .bind(&u.provider_message_id)
    .bind(u.claim)
    .bind(u.sent)
    .bind(u.decided_by)
    .bind(u.decided)
    .bind(expected.map(SendStatus::as_str))
    .fetch_optional(conn)
    .await?;
    raw.map(SendRow::try_from).transpose()
}

/// Cancels the lead's pending sends (unsubscribe, reply, bounce, conversion); answers how many.
pub async fn cancel_pending_for_lead(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    lead_id: LeadId,
    reason: &str,
) -> Result<u64, StoreError> {
    Ok(sqlx::query(
        "UPDATE outreach_sends SET status = 'cancelled', blocked_reason = $3, updated_at = now()
          WHERE client_id = $1 AND lead_id = $2
            AND status IN ('scheduled', 'awaiting_approval', 'approved')",
    )
    .bind(client_id)
    .bind(lead_id)
    .bind(reason)
    .execute(db)
    .await?
    .rows_affected())
}

/// The client's sends in one state, newest first, a page of them and how many in all.
pub async fn by_status(
    conn: &mut PgConnection,
    client_id: ClientId,
    status: SendStatus,
    limit: i64,
    offset: i64,
) -> Result<(Vec<SendRow>, i64), StoreError> {
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outreach_sends WHERE client_id = $1 AND status = $2",
    )
    .bind(client_id)
    .bind(status.as_str())
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query_as::<_, SendRowRaw>(sqlx::AssertSqlSafe(format!(
        "SELECT {SEND_COLUMNS} FROM outreach_sends WHERE client_id = $1 AND status = $2
          ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    )))
    .bind(client_id)
    .bind(status.as_str())
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    let rows = rows
        .into_iter()
        .map(SendRow::try_from)
        .collect::<Result<_, _>>()?;
    Ok((rows, total))
}

/// Due sends (scheduled or approved, `due_at` passed) across tenants, oldest first, locked
/// `FOR UPDATE SKIP LOCKED` so concurrent sweeps split them: (client, send, due) triples.
pub async fn due(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(ClientId, OutreachSendId, DateTime<Utc>)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT client_id, id, due_at FROM outreach_sends
          WHERE status IN ('scheduled', 'approved') AND due_at <= $1
          ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// Everything a send reads to render and address its message.
#[derive(Debug, Clone, PartialEq, FromRow)]
pub struct SendContext {
    /// Client name (the sender's identity).
    pub client_name: String,
    /// Client postal address (identifies the sender in every email).
    pub postal_address: Option<String>,
    /// Where replies go.
    pub reply_to_email: Option<String>,
    /// Client timezone name.
    pub client_timezone: String,
    /// The client's website (the one host an AI-written message may link to).
    pub client_website: Option<String>,
    /// The client's value proposition (from onboarding).
    pub client_value_proposition: Option<String>,
    /// The client's ideal-customer industries.
    pub client_industries: Vec<String>,
    /// The campaign's permission mode text.
    pub permission_mode: String,
    /// Campaign name.
    pub campaign_name: String,
    /// Lead email.
    pub email: String,
    /// Lead phone (E.164).
    pub phone: Option<String>,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Title.
    pub title: Option<String>,
    /// Company.
    pub company: Option<String>,
    /// Company domain.
    pub domain: Option<String>,
    /// Industry.
    pub industry: Option<String>,
    /// The step's subject template (sequence sends).
    pub subject_template: Option<String>,
    /// The step's body template (sequence sends).
    pub body_template: Option<String>,
    /// The reserved resource's value (email domain or number), if any.
    pub resource_value: Option<String>,
    /// For a send without a reservation (a follow-up): the client's usable resource of the
    /// channel's kind, the lead's allocated one first (the same domain or number as its first
    /// touch), else the oldest. Its daily counter is spent when it is used.
    pub spare_resource_id: Option<Uuid>,
    /// That resource's value.
    pub spare_resource_value: Option<String>,
    /// Earlier sent emails of the lead in the campaign (send ids, oldest first): threading.
    pub previous_email_sends: Vec<Uuid>,
    /// An SMS was sent to the lead before (the opt-out words go on the first one only).
    pub sms_sent_before: bool,
}

/// Reads the context of a send.
pub async fn context(conn: &mut PgConnection, send: &SendRow) -> Result<SendContext, StoreError> {
    sqlx::query_as::<_, SendContext>(
        "SELECT c.name AS client_name, c.postal_address, c.reply_to_email, c.timezone AS client_timezone,
                c.website_url AS client_website, c.value_proposition AS client_value_proposition,
                c.icp_industries AS client_industries,
                cp.permission_mode, cp.name AS campaign_name,
                l.email, l.phone, l.first_name, l.last_name, l.title, l.company, l.domain,
                l.organization_industry AS industry,
                st.subject_template, st.body_template,
                r.value AS resource_value,
                spare.id AS spare_resource_id, spare.value AS spare_resource_value,
                coalesce((SELECT array_agg(o.id ORDER BY o.sent_at, o.id) FROM outreach_sends o
                  WHERE o.lead_id = l.id AND o.campaign_id = cp.id AND o.channel = 'email'
                    AND o.status = 'sent' AND o.id <> $3), '{}') AS previous_email_sends,
                EXISTS (SELECT 1 FROM outreach_sends o WHERE o.lead_id = l.id AND o.channel = 'sms'
                          AND o.status = 'sent' AND o.id <> $3) AS sms_sent_before
           FROM outreach_sends s
           JOIN clients c ON c.id = s.client_id
           JOIN campaigns cp ON cp.id = s.campaign_id
           JOIN leads l ON l.id = s.lead_id
           LEFT JOIN campaign_sequence_steps st
                  ON st.campaign_id = s.campaign_id AND st.step_number = s.step_number
                 AND st.channel = s.channel
           LEFT JOIN sending_resources r ON r.id = s.resource_id
           LEFT JOIN LATERAL (
                SELECT sr.id, sr.value FROM sending_resources sr
                 WHERE sr.client_id = c.id AND sr.active AND sr.deleted_at IS NULL
                   AND sr.verified_at IS NOT NULL
                   AND sr.kind = CASE s.channel WHEN 'email' THEN 'email_domain'
                                                WHEN 'sms' THEN 'sms_number'
                                                WHEN 'voice' THEN 'voice_number' END
                 ORDER BY (sr.id = l.allocated_resource_id) DESC NULLS LAST, sr.created_at, sr.id
                 LIMIT 1) spare ON true
          WHERE s.client_id = $1 AND s.id = $2 AND s.id = $3",
    )
    .bind(send.client_id)
    .bind(send.id)
    .bind(send.id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// A message a sandbox provider took.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSandboxMessage {
    /// The send.
    pub send_id: OutreachSendId,
    /// Campaign.
    pub campaign_id: CampaignId,
    /// Lead.
    pub lead_id: LeadId,
    /// Channel.
    pub channel: Channel,
    /// The provider it stood in for.
    pub provider: String,
    /// The id it answered.
    pub provider_message_id: String,
    /// Sender.
    pub from_address: Option<String>,
    /// Recipient.
    pub to_address: String,
    /// Subject.
    pub subject: Option<String>,
    /// Body text.
    pub body: String,
    /// Extra headers (email) or call metadata.
    pub headers: serde_json::Value,
}

/// Records a sandboxed message (once per send).
pub async fn record_sandbox_message(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    m: &NewSandboxMessage,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sandbox_messages (id, client_id, send_id, campaign_id, lead_id, channel, provider,
                provider_message_id, from_address, to_address, subject, body, headers)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (send_id) DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(client_id)
    .bind(m.send_id)
    .bind(m.campaign_id)
    .bind(m.lead_id)
    .bind(m.channel.as_str())
    .bind(&m.provider)
    .bind(&m.provider_message_id)
    .bind(&m.from_address)
    .bind(&m.to_address)
    .bind(&m.subject)
    .bind(&m.body)
    .bind(&m.headers)
    .execute(db)
    .await?;
    Ok(())
}

/// A sandboxed message as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, FromRow, utoipa::ToSchema)]
pub struct SandboxMessage {
    /// Id.
    pub id: Uuid,
    /// The send it belongs to.
    pub send_id: Uuid,
    /// Campaign.
    pub campaign_id: Option<Uuid>,
    /// Lead.
    pub lead_id: Option<Uuid>,
    /// Channel.
    pub channel: String,
    /// The provider it stood in for (`resend`, `twilio`, `vapi`).
    pub provider: String,
    /// The id the sandbox answered.
    pub provider_message_id: String,
    /// Sender.
    pub from_address: Option<String>,
    /// Recipient.
    pub to_address: String,
    /// Subject (email).
    pub subject: Option<String>,
    /// Text.
    pub body: String,
    /// Headers (email) or call metadata (voice).
    #[schema(value_type = Object)]
    pub headers: serde_json::Value,
    /// When it was taken.
    pub created_at: DateTime<Utc>,
}

/// The sandboxed message of one send, if the sandbox took it.
pub async fn sandbox_message_of_send(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    send_id: OutreachSendId,
) -> Result<Option<SandboxMessage>, StoreError> {
    Ok(sqlx::query_as::<_, SandboxMessage>(
        "SELECT id, send_id, campaign_id, lead_id, channel, provider, provider_message_id, from_address,
                to_address, subject, body, headers, created_at
           FROM sandbox_messages WHERE client_id = $1 AND send_id = $2",
    )
    .bind(client_id)
    .bind(send_id)
    .fetch_optional(db)
    .await?)
}

/// A page of the client's sandboxed messages, newest first, and how many there are.
pub async fn sandbox_messages(
    conn: &mut PgConnection,
    client_id: ClientId,
    limit: i64,
    offset: i64,
) -> Result<(Vec<SandboxMessage>, i64), StoreError> {
    let total: i64 =
        sqlx::query_scalar("SELECT count(*) FROM sandbox_messages WHERE client_id = $1")
            .bind(client_id)
            .fetch_one(&mut *conn)
            .await?;
    let rows = sqlx::query_as::<_, SandboxMessage>(
        "SELECT id, send_id, campaign_id, lead_id, channel, provider, provider_message_id, from_address,
                to_address, subject, body, headers, created_at
           FROM sandbox_messages WHERE client_id = $1
          ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3",
    )
    .bind(client_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    Ok((rows, total))
}

/// Sets the lead's status to `in_sequence` (from new, enriched or scored) and its next action.
pub async fn advance_lead(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    lead_id: LeadId,
    next_action_at: Option<DateTime<Utc>>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE leads SET status = CASE WHEN status IN ('new', 'enriched', 'scored') THEN 'in_sequence'
                                        ELSE status END,
                          next_action_at = $3, updated_at = now()
          WHERE client_id = $1 AND id = $2",
    )
    .bind(client_id)
    .bind(lead_id)
    .bind(next_action_at)
    .execute(db)
    .await?;
    Ok(())
}

/// A lead as its unsubscribe link shows it.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct UnsubscribeTarget {
    /// The lead's tenant.
    pub client_id: ClientId,
    /// The lead's campaign.
    pub campaign_id: Option<Uuid>,
    /// The address.
    pub email: String,
    /// The sender's name.
    pub client_name: String,
    /// The lead already unsubscribed (or the address is suppressed for it).
    pub unsubscribed: bool,
}

/// The lead an unsubscribe token names (deleted leads included: the link must keep working).
pub async fn unsubscribe_target(
    db: impl PgExecutor<'_>,
    lead_id: LeadId,
) -> Result<UnsubscribeTarget, StoreError> {
    sqlx::query_as::<_, UnsubscribeTarget>(
        "SELECT l.client_id, l.campaign_id, l.email, c.name AS client_name,
                (l.status = 'unsubscribed'
                 OR EXISTS (SELECT 1 FROM global_suppression s WHERE s.email = l.email
                              AND s.reason = 'unsubscribe')) AS unsubscribed
           FROM leads l JOIN clients c ON c.id = l.client_id
          WHERE l.id = $1 FOR UPDATE OF l",
    )
    .bind(lead_id)
    .fetch_optional(db)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Suppresses an email platform-wide (kept as is when listed already).
pub async fn suppress_email(
    db: impl PgExecutor<'_>,
    email: &str,
    reason: &str,
    source: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO global_suppression (id, email, reason, source) VALUES ($1, $2, $3, $4)
         ON CONFLICT (email) WHERE email IS NOT NULL DO NOTHING",
    )
    .bind(Uuid::now_v7())
    .bind(email)
    .bind(reason)
    .bind(source)
    .execute(db)
    .await?;
    Ok(())
}

/// Marks the lead unsubscribed and clears its next action.
pub async fn set_lead_unsubscribed(
    db: impl PgExecutor<'_>,
    lead_id: LeadId,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE leads SET status = 'unsubscribed', next_action_at = NULL, updated_at = now() WHERE id = $1",
    )
    .bind(lead_id)
    .execute(db)
    .await?;
    Ok(())
}

/// Leads allocated a first touch on an active, non-manual campaign that is due by `until` and
/// has no planned send yet (found through the `next_action_at` index), oldest first, locked
/// `FOR UPDATE SKIP LOCKED`: (client, campaign, lead, due).
pub async fn leads_awaiting_first_touch(
    conn: &mut PgConnection,
    until: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(ClientId, CampaignId, LeadId, DateTime<Utc>)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT l.client_id, l.campaign_id, l.id, l.next_action_at
           FROM leads l JOIN campaigns c ON c.id = l.campaign_id
          WHERE l.deleted_at IS NULL AND l.next_action_at IS NOT NULL AND l.next_action_at <= $1
            AND l.status = 'scored' AND l.first_touch_channel IS NOT NULL
            AND l.allocation_wait_reason IS NULL
            AND c.deleted_at IS NULL AND c.status = 'active' AND c.permission_mode <> 'manual'
            AND NOT EXISTS (SELECT 1 FROM outreach_sends o
                             WHERE o.lead_id = l.id AND o.campaign_id = l.campaign_id)
          ORDER BY l.next_action_at LIMIT $2 FOR UPDATE OF l SKIP LOCKED",
    )
    .bind(until)
    .bind(limit)
    .fetch_all(conn)
    .await?)
}

/// What the planner reads about a lead.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct LeadPlanFacts {
    /// Lead status text.
    pub status: String,
    /// Tier text.
    pub als_tier: Option<String>,
    /// Channels the lead may receive (tier ∩ campaign), texts.
    pub als_channels: Option<Vec<String>>,
    /// First-touch channel from allocation.
    pub first_touch_channel: Option<String>,
    /// The resource allocation reserved for the first touch.
    pub allocated_resource_id: Option<Uuid>,
    /// Phone (SMS and voice need one).
    pub phone: Option<String>,
    /// The lead replied in this campaign.
    pub replied: bool,
    /// The lead bounced.
    pub bounced: bool,
}

/// The planner's facts about a lead in a campaign.
pub async fn lead_plan_facts(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    lead_id: LeadId,
    campaign_id: CampaignId,
) -> Result<LeadPlanFacts, StoreError> {
    sqlx::query_as::<_, LeadPlanFacts>(
        "SELECT l.status, l.als_tier, l.als_channels, l.first_touch_channel, l.allocated_resource_id, l.phone,
                EXISTS (SELECT 1 FROM activities a WHERE a.lead_id = l.id AND a.campaign_id = $3
                          AND a.action = 'replied') AS replied,
                (l.status = 'bounced' OR EXISTS (SELECT 1 FROM activities a WHERE a.lead_id = l.id
                          AND a.action = 'bounced')) AS bounced
           FROM leads l WHERE l.client_id = $1 AND l.id = $2",
    )
    .bind(client_id)
    .bind(lead_id)
    .bind(campaign_id)
    .fetch_optional(db)
    .await?
    .ok_or(StoreError::NotFound)
}
