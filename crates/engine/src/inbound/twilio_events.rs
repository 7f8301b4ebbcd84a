//! Applying Twilio events: an inbound SMS becomes a reply of the tenant owning the receiving
//! number (matched to the lead by the sender's number); a status callback becomes an activity
//! on the message's lead (`delivered`, or `failed` with the error code), and a permanent
//! failure (unreachable handset, landline, invalid or non-mobile number) marks the lead's
//! number unusable.

use agency_domain::{ActivityAction, Channel, ClientId, LeadId, Phone, ResourceKind};
use agency_store::activities::{self, NewActivity};
use agency_store::webhook_events::WebhookEvent;
use agency_store::{StoreError, leads, sending_resources};
use serde_json::json;
use sqlx::PgConnection;

use super::process::Outcome;
use super::replies::{InboundReply, Sender};

/// Twilio error codes that mean the number can never receive SMS.
pub const PERMANENT_ERROR_CODES: &[&str] = &[
    "21211", // invalid 'To' number
    "21214", // 'To' number cannot be reached
    "21612", // cannot route to this number
    "21614", // not a mobile number
    "30003", // unreachable destination handset
    "30005", // unknown destination handset
    "30006", // landline or unreachable carrier
];

fn params(event: &WebhookEvent) -> Vec<(String, String)> {
    agency_providers::webhooks::twilio::form_params(&event.raw_body).unwrap_or_default()
}

fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

/// True for an inbound SMS (a reply), false for a status callback.
pub fn is_inbound(event: &WebhookEvent) -> bool {
    event.provider_event_id.starts_with("sms:")
}

/// Applies one Twilio status callback (inbound SMS go through [`inbound_reply`]).
pub async fn apply(conn: &mut PgConnection, event: &WebhookEvent) -> Result<Outcome, StoreError> {
    status(conn, event, &params(event)).await
}

/// Reads an inbound SMS: the reply of the tenant owning the receiving number, or why there is
/// none.
pub async fn inbound_reply(
    conn: &mut PgConnection,
    event: &WebhookEvent,
) -> Result<Result<InboundReply, Outcome>, StoreError> {
    let p = params(event);
    let (Some(from), Some(to)) = (get(&p, "From"), get(&p, "To")) else {
        return Ok(Err(Outcome::ignored("From or To is missing")));
    };
    let (Ok(from), Ok(to)) = (Phone::parse(from), Phone::parse(to)) else {
        return Ok(Err(Outcome::ignored(format!(
            "unreadable number in From {from} / To {to}"
        ))));
    };
    let mut owner = None;
    for kind in [ResourceKind::SmsNumber, ResourceKind::VoiceNumber] {
        owner = sending_resources::resource_owner(
            &mut *conn,
            kind.as_str(),
            to.as_str(),
            event.client_id,
        )
        .await?;
        if owner.is_some() {
            break;
        }
    }
    let Some((client, _resource)) = owner else {
        return Ok(Err(Outcome::ignored(format!(
            "no client owns {}",
            to.as_str()
        ))));
    };
    Ok(Ok(InboundReply {
        event_id: event.id,
        client_id: ClientId::from_uuid(client),
        channel: Channel::Sms,
        sender: Sender::Phone(from.as_str().to_owned()),
        to: to.as_str().to_owned(),
        subject: None,
        content: get(&p, "Body").unwrap_or_default().to_owned(),
        provider_message_id: get(&p, "MessageSid").map(str::to_owned),
        received_at: event.received_at,
    }))
}

async fn status(
    conn: &mut PgConnection,
    event: &WebhookEvent,
    p: &[(String, String)],
) -> Result<Outcome, StoreError> {
    let sid = get(p, "MessageSid")
        .or_else(|| get(p, "SmsSid"))
        .unwrap_or_default();
    let status = get(p, "MessageStatus")
        .or_else(|| get(p, "SmsStatus"))
        .unwrap_or_default();
    let action = match status {
        "delivered" => ActivityAction::Delivered,
        "failed" | "undelivered" => ActivityAction::Failed,
        other => return Ok(Outcome::ignored(format!("status {other} is not recorded"))),
    };
    let Some(sent) = activities::by_provider_message(&mut *conn, sid).await? else {
        return Ok(Outcome::ignored(format!("no message {sid} was sent")));
    };
    let client = ClientId::from_uuid(sent.client_id);
    let code = get(p, "ErrorCode");
    let permanent = action == ActivityAction::Failed
        && code.is_some_and(|c| PERMANENT_ERROR_CODES.contains(&c));
    activities::insert_for_event(
        &mut *conn,
        ClientId::from_uuid(sent.client_id),
        event.id,
        &NewActivity {
            campaign_id: sent.campaign_id,
            lead_id: sent.lead_id,
            channel: Channel::Sms.as_str().to_owned(),
            action: action.as_str().to_owned(),
            provider_message_id: Some(sid.to_owned()),
            sequence_step: sent.sequence_step,
            metadata: json!({"status": status, "error_code": code, "permanent": permanent}),
            ..NewActivity::default()
        },
    )
    .await?;
    if permanent && let Some(lead) = sent.lead_id {
        leads::mark_phone_unusable(
            &mut *conn,
            ClientId::from_uuid(sent.client_id),
            LeadId::from_uuid(lead),
            code.unwrap_or_default(),
        )
        .await?;
    }
    Ok(Outcome::Applied(Some(client)))
}
