//! Replies: the dashboard's list (filters intent, channel, handled, campaign), one reply, the
//! handled mark; and what an inbound reply does once stored: [`classify_reply`] (the one
//! door to classification: the keyword classifier today, the AI gate later) and
//! [`apply_reply`] (SPEC 3.3: a reply stops the lead's sequence; unsubscribe suppresses the
//! address and unsubscribes the lead; not interested pauses; out of office pauses until the
//! return date, else 7 days; auto replies change nothing; the client's endpoints get
//! `lead.replied`, and `lead.unsubscribed` when the reply unsubscribes).

use std::str::FromStr;

use agency_domain::{
    ActivityAction, CampaignId, Channel, ClientId, EventType, Intent, LeadStatus, ReplyId,
    classify_keywords, extract_return_date, intent::OUT_OF_OFFICE_DEFAULT_PAUSE_DAYS,
};
use agency_store::activities::{self, NewActivity};
use agency_store::replies::{self as store, Reply, ReplyFilter};
use agency_store::{PgPool, StoreError, leads, suppression};
use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

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
        client_id.into_uuid(),
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

/// What a reply means.
#[derive(Debug, Clone, PartialEq)]
pub struct Classification {
    /// The intent.
    pub intent: Intent,
    /// Confidence, 0-1.
    pub confidence: f64,
    /// For out-of-office replies, the return date found.
    pub return_date: Option<NaiveDate>,
    /// Which classifier decided (`keywords` today).
    pub classifier: &'static str,
}

/// Classifies a reply's text: the one door to classification. Today the deterministic keyword
/// classifier (which always reads STOP / unsubscribe / remove me as unsubscribe); the AI gate
/// replaces the body of this function, keeping that rule first.
pub async fn classify_reply(
    _client_id: ClientId,
    _channel: Channel,
    text: &str,
    today: NaiveDate,
) -> Classification {
    let (intent, confidence) = classify_keywords(text);
    let return_date = (intent == Intent::OutOfOffice)
        .then(|| extract_return_date(text, today))
        .flatten();
    Classification {
        intent,
        confidence,
        return_date,
        classifier: "keywords",
    }
}

/// The sender of a reply, as the suppression list keys it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender<'a> {
    /// An email address (lowercased).
    Email(&'a str),
    /// An E.164 number.
    Phone(&'a str),
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
    sender: Sender<'_>,
    class: &Classification,
    preview: &str,
    tz: Tz,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let client = client_id.into_uuid();
    let extracted = json!({
        "return_date": class.return_date,
        "classifier": class.classifier,
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
        let (email, phone) = match sender {
            Sender::Email(e) => (Some(e), None),
            Sender::Phone(p) => (None, Some(p)),
        };
        suppression::add_if_absent(conn, email, phone, "unsubscribe", "reply").await?;
    }
    let Some(lead) = lead else {
        return Ok(());
    };
    activities::insert(
        &mut *conn,
        client,
        &NewActivity {
            campaign_id: lead.campaign_id,
            lead_id: Some(lead.id),
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
    if class.intent == Intent::Unsubscribe {
        activities::insert(
            &mut *conn,
            client,
            &NewActivity {
                campaign_id: lead.campaign_id,
                lead_id: Some(lead.id),
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

/// An inbound message to record as a reply.
#[derive(Debug, Clone)]
pub struct InboundMessage<'a> {
    /// The inbox event it came from (a second run stores nothing).
    pub event_id: Uuid,
    /// Channel.
    pub channel: Channel,
    /// Sender (lowercased email or E.164 number).
    pub sender: Sender<'a>,
    /// The receiving address or number.
    pub to: &'a str,
    /// Email subject.
    pub subject: Option<&'a str>,
    /// Text.
    pub content: &'a str,
    /// Provider message id.
    pub provider_message_id: Option<&'a str>,
    /// Arrival time.
    pub received_at: DateTime<Utc>,
}

/// Records an inbound message of the tenant `client_id`, in the caller's transaction: the
/// reply matched to the lead by sender (unmatched when none), classified and applied. Answers
/// `None` when this event's reply was stored before.
pub async fn record_inbound(
    conn: &mut PgConnection,
    client_id: ClientId,
    msg: &InboundMessage<'_>,
    now: DateTime<Utc>,
) -> Result<Option<ReplyId>, StoreError> {
    let client = client_id.into_uuid();
    let (email, phone) = match msg.sender {
        Sender::Email(e) => (Some(e), None),
        Sender::Phone(p) => (None, Some(p)),
    };
    let lead = leads::match_sender(&mut *conn, client, email, phone).await?;
    let from = match msg.sender {
        Sender::Email(e) | Sender::Phone(e) => e,
    };
    let Some(reply_id) = store::insert(
        conn,
        client_id,
        &store::NewReply {
            lead_id: lead.as_ref().map(|l| l.id.into()),
            campaign_id: lead.as_ref().and_then(|l| l.campaign_id).map(Into::into),
            webhook_event_id: Some(msg.event_id),
            channel: msg.channel,
            from_address: from.to_owned(),
            to_address: Some(msg.to.to_owned()),
            subject: msg.subject.map(str::to_owned),
            content: msg.content.to_owned(),
            provider_message_id: msg.provider_message_id.map(str::to_owned),
            received_at: msg.received_at,
        },
    )
    .await?
    else {
        return Ok(None);
    };
    let tz = agency_store::pipeline::client(&mut *conn, client)
        .await
        .ok()
        .and_then(|c| agency_domain::hours::parse_timezone(&c.timezone))
        .unwrap_or(agency_domain::hours::DEFAULT_TIMEZONE);
    let today = now.with_timezone(&tz).date_naive();
    let class = classify_reply(client_id, msg.channel, msg.content, today).await;
    apply_reply(
        conn,
        client_id,
        reply_id,
        lead.as_ref(),
        msg.channel,
        msg.sender.clone(),
        &class,
        msg.content,
        tz,
        now,
    )
    .await?;
    Ok(Some(reply_id))
}
