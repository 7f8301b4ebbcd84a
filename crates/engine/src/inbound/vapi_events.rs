//! Applying Vapi call events: `status-update` (answered -> `call_answered`; ended -> the
//! call's concurrency slot freed) and `end-of-call-report` (a call activity with outcome,
//! summary and transcript; `call.completed` to the client's endpoints; the slot freed; the
//! outcome applied: not interested pauses the
//! lead, a callback request schedules its next action for the next day, voicemail and no
//! answer are retried up to 2 more times on later days). Other types are stored and ignored.

use agency_domain::CampaignId;
use agency_domain::intent::MAX_CALL_RETRIES;
use agency_domain::{ActivityAction, CallOutcome, Channel, EventType, LeadStatus};
use agency_store::activities::{self, NewActivity};
use agency_store::webhook_events::WebhookEvent;
use agency_store::{StoreError, call_slots, leads};
use chrono::{Duration, Utc};
use serde_json::{Value, json};
use sqlx::PgConnection;

use super::process::Outcome;
use super::vapi_call::{CallContext, context};
use crate::outbound::emit_event;

/// Hours before a voicemail / no-answer lead is called again (a later day).
pub const RETRY_AFTER_HOURS: i64 = 24;

/// The outcome an end-of-call report means.
pub fn call_outcome(message: &Value) -> CallOutcome {
    let structured = message
        .pointer("/analysis/structuredData/outcome")
        .and_then(Value::as_str)
        .and_then(|o| o.parse::<CallOutcome>().ok());
    if let Some(o) = structured {
        return o;
    }
    match message
        .get("endedReason")
        .and_then(Value::as_str)
        .unwrap_or_default()
    {
        "voicemail" => CallOutcome::Voicemail,
        "customer-did-not-answer" | "customer-busy" => CallOutcome::NoAnswer,
        _ => CallOutcome::Other,
    }
}

/// Applies one Vapi event.
pub async fn apply(conn: &mut PgConnection, event: &WebhookEvent) -> Result<Outcome, StoreError> {
    let body: Value = serde_json::from_slice(&event.raw_body).unwrap_or(Value::Null);
    let message = body.get("message").cloned().unwrap_or(Value::Null);
    let kind = message
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match kind {
        "status-update" | "end-of-call-report" => {}
        "tool-calls" => return Ok(Outcome::ignored("tool calls are answered when received")),
        other => {
            return Ok(Outcome::ignored(format!(
                "message type {other} is not acted on"
            )));
        }
    }
    let Some(call) = context(conn, &message).await? else {
        return Ok(Outcome::ignored(
            "the call's metadata names no lead of a client",
        ));
    };
    if kind == "status-update" {
        status_update(conn, event, &call, &message).await
    } else {
        end_of_call(conn, event, &call, &message).await
    }
}

fn activity(call: &CallContext, action: ActivityAction, metadata: Value) -> NewActivity {
    NewActivity {
        campaign_id: call.lead.campaign_id.map(CampaignId::into_uuid),
        lead_id: Some(call.lead.id.into_uuid()),
        channel: Channel::Voice.as_str().to_owned(),
        action: action.as_str().to_owned(),
        provider_message_id: Some(call.call_id.clone()),
        metadata,
        ..NewActivity::default()
    }
}

async fn status_update(
    conn: &mut PgConnection,
    event: &WebhookEvent,
    call: &CallContext,
    message: &Value,
) -> Result<Outcome, StoreError> {
    let client = call.client_id;
    match message
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or_default()
    {
        "in-progress" => {
            activities::insert_for_event(
                &mut *conn,
                client,
                event.id,
                &activity(
                    call,
                    ActivityAction::CallAnswered,
                    json!({"status": "in-progress"}),
                ),
            )
            .await?;
        }
        "ended" => {
            call_slots::release_call(&mut *conn, client, &call.call_id).await?;
        }
        other => {
            return Ok(Outcome::Ignored(
                Some(call.client_id),
                format!("status {other} is not recorded"),
            ));
        }
    }
    Ok(Outcome::Applied(Some(call.client_id)))
}

async fn end_of_call(
    conn: &mut PgConnection,
    event: &WebhookEvent,
    call: &CallContext,
    message: &Value,
) -> Result<Outcome, StoreError> {
    let client = call.client_id;
    let outcome = call_outcome(message);
    let text = |paths: &[&str]| {
        paths
            .iter()
            .find_map(|p| message.pointer(p).and_then(Value::as_str))
            .map(str::to_owned)
    };
    let summary = text(&["/analysis/summary", "/summary"]);
    let transcript = text(&["/artifact/transcript", "/transcript"]);
    let action = match outcome {
        CallOutcome::Voicemail => ActivityAction::VoicemailLeft,
        CallOutcome::NoAnswer => ActivityAction::NoAnswer,
        _ => ActivityAction::CallCompleted,
    };
    activities::insert_for_event(
        &mut *conn,
        client,
        event.id,
        &activity(
            call,
            action,
            json!({
                "outcome": outcome.as_str(),
                "ended_reason": message.get("endedReason"),
                "duration_seconds": message.get("durationSeconds"),
                "summary": summary,
                "transcript": transcript,
                "recording_url": message.pointer("/artifact/recordingUrl").or_else(|| message.get("recordingUrl")),
            }),
        ),
    )
    .await?;
    call_slots::release_call(&mut *conn, client, &call.call_id).await?;
    emit_event(
        conn,
        call.client_id,
        EventType::CallCompleted,
        json!({
            "call_id": call.call_id, "lead_id": call.lead.id, "campaign_id": call.lead.campaign_id,
            "outcome": outcome.as_str(), "ended_reason": message.get("endedReason"),
            "duration_seconds": message.get("durationSeconds"), "summary": summary,
        }),
    )
    .await?;
    let lead = &call.lead;
    let finished = matches!(
        lead.status.as_str(),
        "converted" | "unsubscribed" | "bounced"
    );
    if !finished {
        let tomorrow = Utc::now() + Duration::hours(RETRY_AFTER_HOURS);
        match outcome {
            CallOutcome::NotInterested => {
                leads::set_status(
                    &mut *conn,
                    client,
                    lead.id,
                    LeadStatus::Paused.as_str(),
                    None,
                )
                .await?;
            }
            CallOutcome::CallbackRequested => {
                leads::set_status(&mut *conn, client, lead.id, &lead.status, Some(tomorrow))
                    .await?;
            }
            o if o.is_retryable() => {
                // This call is counted: retry while the unanswered calls are at most 1 + 2.
                let unanswered = activities::count_for_lead(
                    &mut *conn,
                    client,
                    lead.id,
                    &[
                        ActivityAction::VoicemailLeft.as_str(),
                        ActivityAction::NoAnswer.as_str(),
                    ],
                )
                .await?;
                let next = (unanswered <= i64::from(MAX_CALL_RETRIES)).then_some(tomorrow);
                leads::set_status(&mut *conn, client, lead.id, &lead.status, next).await?;
            }
            _ => {}
        }
    }
    Ok(Outcome::Applied(Some(call.client_id)))
}
