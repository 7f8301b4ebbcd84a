//! Replies: the dashboard's list (filters intent, channel, handled, campaign), one reply, the
//! handled mark; and what an inbound reply does once stored and classified (by
//! [`crate::ai::classify::classify_reply`], before the transaction): [`apply_reply`] (SPEC 3.3: a reply stops the lead's sequence; unsubscribe suppresses the
//! address and unsubscribes the lead; not interested pauses; out of office pauses until the
//! return date, else 7 days; auto replies change nothing; the client's endpoints get
//! `lead.replied`, and `lead.unsubscribed` when the reply unsubscribes).

use std::str::FromStr;

use agency_domain::{
    ActivityAction, CampaignId, Channel, ClientId, EventType, Intent, LeadStatus, ReplyId,
    intent::OUT_OF_OFFICE_DEFAULT_PAUSE_DAYS,
};
use agency_store::activities::{self, NewActivity};
use agency_store::replies::{self as store, Reply, ReplyFilter};
use agency_store::{PgPool, StoreError, leads, suppression};
use chrono::{DateTime, Days, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::ai::classify::ReplyClassification;
use crate::outbound::emit_event;
use crate::usecase::{Actor, FieldError, UseCaseError, audit};

/// Filters of `GET /replies`, as the query string gives them.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReplyQuery {
    /// `meeting_request`, `interested`, `question`, `not_interested`, `unsubscribe`,
    /// `out_of_office` or `auto_reply`.
    pub intent: Option<String>,
    /// `email`, `sms`, `linkedin`, `voice` or `mail`.
    pub channel: Option<String>,
    /// `true` or `false`.
    pub handled: Option<String>,
    /// Only replies to this campaign.
    pub campaign_id: Option<String>,
}

fn present(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn parse_filter(q: &ReplyQuery) -> Result<ReplyFilter, UseCaseError> {
    let mut errors = Vec::new();
    let mut bad = |path: &str, e: String| errors.push(FieldError::new(path, e));
    let intent = present(&q.intent).and_then(|t| {
        Intent::from_str(t)
            .map_err(|e| bad("intent", e.to_string()))
            .ok()
    });
    let channel = present(&q.channel).and_then(|t| {
        Channel::from_str(t)
            .map_err(|e| bad("channel", e.to_string()))
            .ok()
    });
    let handled = present(&q.handled).and_then(|t| match t {
        "true" => Some(true),
        "false" => Some(false),
        _ => {
            bad("handled", "must be true or false".into());
            None
        }
    });
    let campaign_id = present(&q.campaign_id).and_then(|t| {
        Uuid::parse_str(t)
            .map(CampaignId::from_uuid)
            .map_err(|_| bad("campaign_id", "must be a UUID".into()))
            .ok()
    });
    if !errors.is_empty() {
        return Err(UseCaseError::invalid(errors));
    }
    Ok(ReplyFilter {
        intent,
        channel,
        handled,
        campaign_id,
    })
}

/// One page of the client's replies, newest first.
pub async fn list(
    pool: &PgPool,
    client_id: ClientId,
    query: &ReplyQuery,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Reply>, i64), UseCaseError> {
    let filter = parse_filter(query)?;
    let mut conn = pool.acquire().await?;
    Ok(store::page(&mut conn, client_id, &filter, limit, offset).await?)
}

/// The reply `id` of the client.
pub async fn get(pool: &PgPool, client_id: ClientId, id: ReplyId) -> Result<Reply, UseCaseError> {
    store::get(pool, client_id, id)
        .await
        .map_err(UseCaseError::not_found_as("reply"))
}

/// Marks the reply handled (or not), audited (member or above; the caller checked the role).
pub async fn set_handled(
    pool: &PgPool,
    actor: &Actor,
    client_id: ClientId,
    id: ReplyId,
    handled: bool,
) -> Result<Reply, UseCaseError> {
    let mut tx = pool.begin().await?;
    let before = store::get(&mut *tx, client_id, id)
        .await
        .map_err(UseCaseError::not_found_as("reply"))?;
    store::set_handled(&mut *tx, client_id, id, handled).await?;
    audit(
        &mut tx,
        actor,
        client_id,
        "reply.handled",
        ("reply", Some(id.into_uuid())),
        Some(json!({"handled": before.handled_at.is_some()})),
        Some(json!({"handled": handled})),
    )
    .await?;
    let reply = store::get(&mut *tx, client_id, id).await?;
    tx.commit().await?;
    Ok(reply)
}

/// The sender of a reply, as the suppression list keys it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// An email address (lowercased).
    Email(String),
    /// An E.164 number.
    Phone(String),
}

impl Sender {
    /// The address or number.
    pub fn as_str(&self) -> &str {
        match self {
            Sender::Email(a) | Sender::Phone(a) => a,
        }
    }

    /// `(email, phone)`, one of them set.
    fn split(&self) -> (Option<&str>, Option<&str>) {
        match self {
            Sender::Email(e) => (Some(e), None),
            Sender::Phone(p) => (None, Some(p)),
        }
    }
}

/// Applies a classified reply of a matched lead, in the caller's transaction: the reply's
/// intent stored, a `replied` activity, and the lead's status and next action per SPEC 3.3.
#[allow(clippy::too_many_arguments)]
pub async fn apply_reply(
    conn: &mut PgConnection,
    client_id: ClientId,
    reply_id: ReplyId,
    lead: Option<&leads::LeadMatch>,
    channel: Channel,
    sender: &Sender,
    class: &ReplyClassification,
    preview: &str,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let client = client_id;
    let extracted = json!({
        "return_date": class.return_date,
        "proposed_times": class.proposed_times,
        "question": class.question,
        "classifier": class.classifier.as_str(),
    });
    store::set_intent(
        &mut *conn,
        client_id,
        reply_id,
        class.intent,
        class.confidence,
        &extracted,
    )
    .await?;
    if class.intent == Intent::Unsubscribe {
        let (email, phone) = sender.split();
        suppression::add_if_absent(conn, email, phone, "unsubscribe", "reply").await?;
    }
    let Some(lead) = lead else {
        return Ok(());
    };
    activities::insert(
        &mut *conn,
        client,
        &NewActivity {
            campaign_id: lead.campaign_id.map(CampaignId::into_uuid),
            lead_id: Some(lead.id.into_uuid()),
            channel: channel.as_str().to_owned(),
            action: ActivityAction::Replied.as_str().to_owned(),
            content_preview: Some(preview.chars().take(200).collect()),
            intent: Some(class.intent.as_str().to_owned()),
            metadata: json!({"reply_id": reply_id, "confidence": class.confidence}),
            ..NewActivity::default()
        },
    )
    .await?;
    let status = LeadStatus::from_str(&lead.status).map_err(|e| StoreError::decode("status", e))?;
    let next = match class.intent {
        Intent::AutoReply => None,
        Intent::Unsubscribe => Some((LeadStatus::Unsubscribed, None)),
        // Finished leads keep their status; the reply still stops any pending step.
        _ if matches!(
            status,
            LeadStatus::Converted | LeadStatus::Unsubscribed | LeadStatus::Bounced
        ) =>
        {
            Some((status, None))
        }
        Intent::NotInterested => Some((LeadStatus::Paused, None)),
        Intent::OutOfOffice => {
            let back = class.return_date.unwrap_or_else(|| {
                now.with_timezone(&tz).date_naive()
                    + Days::new(OUT_OF_OFFICE_DEFAULT_PAUSE_DAYS.into())
            });
            let at = tz
                .from_local_datetime(
                    &back.and_time(NaiveTime::from_hms_opt(9, 0, 0).unwrap_or_default()),
                )
                .earliest()
                .map(|t| t.with_timezone(&Utc));
            Some((LeadStatus::Paused, at))
        }
        // A human reply stops the automatic sequence; a person takes it from here.
        Intent::MeetingRequest | Intent::Question | Intent::Interested => Some((status, None)),
    };
    if let Some((status, at)) = next {
        leads::set_status(&mut *conn, client, lead.id, status.as_str(), at).await?;
    }
    // The reply stops what was planned for the lead (out-of-office and automatic replies
    // leave the sequence to resume).
    let stop = match class.intent {
        Intent::Unsubscribe => Some("unsubscribed"),
        Intent::NotInterested => Some("not_interested"),
        Intent::MeetingRequest | Intent::Question | Intent::Interested => Some("replied"),
        Intent::OutOfOffice | Intent::AutoReply => None,
    };
    if let Some(reason) = stop {
        agency_store::outreach::cancel_pending_for_lead(&mut *conn, client_id, lead.id, reason)
            .await?;
    }
    if class.intent == Intent::Unsubscribe {
        activities::insert(
            &mut *conn,
            client,
            &NewActivity {
                campaign_id: lead.campaign_id.map(CampaignId::into_uuid),
                lead_id: Some(lead.id.into_uuid()),
                channel: channel.as_str().to_owned(),
                action: ActivityAction::Unsubscribed.as_str().to_owned(),
                metadata: json!({"reply_id": reply_id}),
                ..NewActivity::default()
            },
        )
        .await?;
    }
    // The client's own systems hear of it in this transaction (SPEC 6).
    let lead_data = json!({
        "lead_id": lead.id, "campaign_id": lead.campaign_id, "email": lead.email,
        "phone": lead.phone,
    });
    emit_event(
        conn,
        client_id,
        EventType::LeadReplied,
        json!({
            "reply_id": reply_id, "lead": lead_data, "channel": channel.as_str(),
            "intent": class.intent.as_str(), "intent_confidence": class.confidence,
            "content_preview": preview.chars().take(200).collect::<String>(),
        }),
    )
    .await?;
    if class.intent == Intent::Unsubscribe && status != LeadStatus::Unsubscribed {
        emit_event(
            conn,
            client_id,
            EventType::LeadUnsubscribed,
            json!({"lead": lead_data, "source": "reply", "channel": channel.as_str(), "reply_id": reply_id}),
        )
        .await?;
    }
    Ok(())
}

/// An inbound message to record as a reply, read from its webhook event.
#[derive(Debug, Clone)]
pub struct InboundReply {
    /// The inbox event it came from (a second run stores nothing).
    pub event_id: Uuid,
    /// The tenant owning the receiving number or address.
    pub client_id: ClientId,
    /// Channel.
    pub channel: Channel,
    /// Sender (lowercased email or E.164 number).
    pub sender: Sender,
    /// The receiving address or number.
    pub to: String,
    /// Email subject.
    pub subject: Option<String>,
    /// Text (for email, fetched from the provider when the webhook carries none).
    pub content: String,
    /// Provider message id (Twilio `MessageSid`, Resend `email_id`).
    pub provider_message_id: Option<String>,
    /// Arrival time.
    pub received_at: DateTime<Utc>,
}

/// The timezone of `client_id` (the platform default when unset or unreadable).
pub async fn client_timezone(conn: &mut PgConnection, client_id: ClientId) -> Tz {
    agency_store::clients::pipeline_settings(conn, client_id)
        .await
        .ok()
        .and_then(|c| agency_domain::hours::parse_timezone(&c.timezone))
        .unwrap_or(agency_domain::hours::DEFAULT_TIMEZONE)
}

/// Records an inbound message, classified before the transaction as `class`, in the caller's
/// transaction: the reply matched to the lead by sender within its tenant (unmatched when
/// none) and applied. Answers `None` when this event's reply was stored before.
pub async fn record_inbound(
    conn: &mut PgConnection,
    msg: &InboundReply,
    class: &ReplyClassification,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<Option<ReplyId>, StoreError> {
    let client_id = msg.client_id;
    let (email, phone) = msg.sender.split();
    let lead = leads::match_sender(&mut *conn, client_id, email, phone).await?;
    let Some(reply_id) = store::insert(
        conn,
        client_id,
        &store::NewReply {
            lead_id: lead.as_ref().map(|l| l.id),
            campaign_id: lead.as_ref().and_then(|l| l.campaign_id),
            webhook_event_id: Some(msg.event_id),
            channel: msg.channel,
            from_address: msg.sender.as_str().to_owned(),
            to_address: Some(msg.to.clone()),
            subject: msg.subject.clone(),
            content: msg.content.clone(),
            provider_message_id: msg.provider_message_id.clone(),
            received_at: msg.received_at,
        },
    )
    .await?
    else {
        return Ok(None);
    };
    apply_reply(
        conn,
        client_id,
        reply_id,
        lead.as_ref(),
        msg.channel,
        &msg.sender,
        class,
        &msg.content,
        tz,
        now,
    )
    .await?;
    Ok(Some(reply_id))
}
