//! Applying Resend events (`{type, created_at, data}`): delivery, delay, open and click become
//! activities on the emailed lead (found by the message id the sender recorded); a permanent
//! bounce marks the lead bounced and suppresses the address; a complaint unsubscribes the lead
//! and suppresses the address (and tells the client's endpoints: `lead.unsubscribed`);
//! `email.received` becomes a reply of the tenant owning the
//! receiving domain, matched to the lead by the sender's address. `email.sent` is recorded by
//! the sender itself and ignored here.

use agency_domain::{
    ActivityAction, Channel, ClientId, Email, EventType, LeadId, LeadStatus, ResourceKind,
};
use agency_store::activities::{self, NewActivity};
use agency_store::webhook_events::WebhookEvent;
use agency_store::{StoreError, leads, sending_resources, suppression};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::PgConnection;

use super::process::Outcome;
use super::replies::{InboundReply, Sender};
use crate::outbound::emit_event;

/// What is inside the angle brackets of `Name <addr>`, else the whole text.
pub fn bare_address(text: &str) -> &str {
    match (text.rfind('<'), text.rfind('>')) {
        (Some(a), Some(b)) if a < b => &text[a + 1..b],
        _ => text,
    }
}

/// The bare address of `Name <addr@x>` or `addr@x`, validated and lowercased.
pub fn address(text: &str) -> Option<Email> {
    Email::parse(bare_address(text).trim()).ok()
}

fn recipients(data: &Value) -> Vec<Email> {
    match data.get("to") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .filter_map(address)
            .collect(),
        Some(Value::String(one)) => address(one).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// Applies one Resend delivery event (received emails go through [`inbound_reply`]).
pub async fn apply(conn: &mut PgConnection, event: &WebhookEvent) -> Result<Outcome, StoreError> {
    let body: Value = serde_json::from_slice(&event.raw_body).unwrap_or(Value::Null);
    let kind = body.get("type").and_then(Value::as_str).unwrap_or_default();
    let data = body.get("data").cloned().unwrap_or(Value::Null);
    let action = match kind {
        "email.delivered" => ActivityAction::Delivered,
        "email.delivery_delayed" => ActivityAction::DeliveryDelayed,
        "email.opened" => ActivityAction::Opened,
        "email.clicked" => ActivityAction::Clicked,
        "email.bounced" => ActivityAction::Bounced,
        "email.complained" => ActivityAction::Complained,
        // Replies are read by `inbound_reply` and recorded by the processing job.
        "email.received" => return Ok(Outcome::ignored("a received email is a reply")),
        "email.sent" => return Ok(Outcome::ignored("sends are recorded by the sender")),
        other => {
            return Ok(Outcome::ignored(format!(
                "event type {other} is not acted on"
            )));
        }
    };
    delivery_event(conn, event, kind, action, &data).await
}

async fn delivery_event(
    conn: &mut PgConnection,
    event: &WebhookEvent,
    kind: &str,
    action: ActivityAction,
    data: &Value,
) -> Result<Outcome, StoreError> {
    let email_id = data
        .get("email_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let bounce_type = data.pointer("/bounce/type").and_then(Value::as_str);
    // A transient bounce (mailbox full, greylisting) is recorded but suppresses nothing.
    let permanent_bounce =
        action == ActivityAction::Bounced && !matches!(bounce_type, Some("Transient"));
    let suppress_reason = match action {
        ActivityAction::Bounced if permanent_bounce => Some("bounce"),
        ActivityAction::Complained => Some("complaint"),
        _ => None,
    };
    if let Some(reason) = suppress_reason {
        // The address is suppressed for every client even when the message is unknown here.
        for to in recipients(data) {
            suppression::add_if_absent(conn, Some(to.as_str()), None, reason, "resend").await?;
        }
    }
    let sent = if email_id.is_empty() {
        None
    } else {
        activities::by_provider_message(&mut *conn, email_id).await?
    };
    let Some(sent) = sent else {
        return Ok(match suppress_reason {
            Some(_) => Outcome::Applied(None),
            None => Outcome::ignored(format!("no message {email_id} was sent")),
        });
    };
    let mut metadata = json!({"event": kind});
    if let Some(link) = data.pointer("/click/link") {
        metadata["link"] = link.clone();
    }
    if let Some(bounce) = data.get("bounce") {
        metadata["bounce"] = bounce.clone();
    }
    activities::insert_for_event(
        &mut *conn,
        ClientId::from_uuid(sent.client_id),
        event.id,
        &NewActivity {
            campaign_id: sent.campaign_id,
            lead_id: sent.lead_id,
            channel: Channel::Email.as_str().to_owned(),
            action: action.as_str().to_owned(),
            provider_message_id: Some(email_id.to_owned()),
            sequence_step: sent.sequence_step,
            subject: data
                .get("subject")
                .and_then(Value::as_str)
                .map(str::to_owned),
            metadata,
            ..NewActivity::default()
        },
    )
    .await?;
    let new_status = match action {
        ActivityAction::Bounced if permanent_bounce => Some(LeadStatus::Bounced),
        ActivityAction::Complained => Some(LeadStatus::Unsubscribed),
        _ => None,
    };
    if let (Some(status), Some(lead)) = (new_status, sent.lead_id.map(LeadId::from_uuid)) {
        leads::set_status(
            &mut *conn,
            ClientId::from_uuid(sent.client_id),
            lead,
            status.as_str(),
            None,
        )
        .await?;
        // A bounced or complaining address stops every planned send to the lead.
        agency_store::outreach::cancel_pending_for_lead(
            &mut *conn,
            ClientId::from_uuid(sent.client_id),
            lead,
            status.as_str(),
        )
        .await?;
        if status == LeadStatus::Unsubscribed {
            emit_event(
                conn,
                ClientId::from_uuid(sent.client_id),
                EventType::LeadUnsubscribed,
                json!({
                    "lead": {"lead_id": lead, "campaign_id": sent.campaign_id,
                             "email": recipients(data).first().map(Email::as_str)},
                    "source": "complaint", "channel": Channel::Email.as_str(),
                }),
            )
            .await?;
        }
    }
    Ok(Outcome::Applied(Some(ClientId::from_uuid(sent.client_id))))
}

/// True for `email.received` (a reply), false for delivery events.
pub fn is_inbound(event: &WebhookEvent) -> bool {
    serde_json::from_slice::<Value>(&event.raw_body)
        .ok()
        .and_then(|b| {
            b.get("type")
                .and_then(Value::as_str)
                .map(|t| t == "email.received")
        })
        .unwrap_or(false)
}

/// Reads an `email.received` event: the reply of the tenant owning a receiving domain (the
/// text as the webhook gives it, often none: the processing job fetches the body), or why
/// there is none.
pub async fn inbound_reply(
    conn: &mut PgConnection,
    event: &WebhookEvent,
) -> Result<Result<InboundReply, Outcome>, StoreError> {
    let body: Value = serde_json::from_slice(&event.raw_body).unwrap_or(Value::Null);
    let data = body.get("data").cloned().unwrap_or(Value::Null);
    let Some(from) = data.get("from").and_then(Value::as_str).and_then(address) else {
        return Ok(Err(Outcome::ignored(
            "the sender's address is missing or invalid",
        )));
    };
    let mut owner = None;
    let mut receiving = None;
    for to in recipients(&data) {
        if let Some(found) = sending_resources::resource_owner(
            &mut *conn,
            ResourceKind::EmailDomain.as_str(),
            to.domain(),
            None,
        )
        .await?
        {
            owner = Some(found.0);
            receiving = Some(to);
            break;
        }
    }
    let (Some(client), Some(to)) = (owner, receiving) else {
        return Ok(Err(Outcome::ignored("no client owns a receiving domain")));
    };
    let received_at = data
        .get("created_at")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(event.received_at);
    let text = |key: &str| data.get(key).and_then(Value::as_str).map(str::to_owned);
    Ok(Ok(InboundReply {
        event_id: event.id,
        client_id: ClientId::from_uuid(client),
        channel: Channel::Email,
        sender: Sender::Email(from.as_str().to_owned()),
        to: to.as_str().to_owned(),
        subject: text("subject"),
        content: text("text").unwrap_or_default(),
        provider_message_id: text("email_id"),
        received_at,
    }))
}
