//! The sandbox loop (development): a message the sandbox sender took comes back as the
//! webhooks the real provider would send, so the whole loop (send -> delivery -> reply ->
//! meeting request -> report) runs without provider accounts. What happens to a message is
//! scripted from its lead id (the same lead always behaves the same way):
//! - email: delivered (5% bounce permanently instead), 70% opened, 20% answer with a reply
//!   (a meeting request, a question, not interested, out of office, interested, or a request
//!   to be removed);
//! - SMS: delivered, 15% answer (one of them STOP);
//! - voice: an end-of-call report (no answer, voicemail, not interested, callback requested,
//!   or a completed call with a summary).
//!
//! The payloads are the providers' own shapes, signed with this loop's development secrets and
//! handed to the same receive path as a real webhook ([`crate::inbound::receive`]:
//! verification, the inbox row and its processing job), in process rather than over HTTP.
//! The `sandbox_feedback` job plays a send's script once it is recorded; it runs only when
//! `EngineSettings::sandbox_feedback` is on (`agencyctl dev`), never for a real provider's
//! message (only sandboxed messages are in `sandbox_messages`).

use agency_domain::{Channel, ClientId, LeadId, OutreachSendId};
use agency_providers::sealed::CredentialKeys;
use agency_providers::webhooks::svix::SvixSecret;
use agency_providers::webhooks::{twilio, vapi};
use agency_store::outreach::{self as store, SandboxMessage};
use chrono::{DateTime, SecondsFormat, Utc};
use secrecy::SecretString;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::inbound::inbox::WebhookInbox;
use crate::inbound::receive::{
    ReceiveError, RequestHeaders, TwilioHook, WebhookSecrets, receive_resend, receive_twilio,
    receive_vapi,
};
use crate::inbound::resend_events::bare_address;
use crate::jobs::payload::SandboxFeedback;
use crate::jobs::{JobContext, JobError};

/// The loop's Twilio auth token (development only; never a real account's).
const LOOP_TWILIO_TOKEN: &str = "sandbox-loop-twilio-token";
/// The loop's Resend (Svix) secret.
const LOOP_RESEND_SECRET: &str = "whsec_c2FuZGJveC1sb29wLXJlc2VuZC1zZWNyZXQ=";
/// The loop's Vapi secret.
const LOOP_VAPI_SECRET: &str = "sandbox-loop-vapi-secret";
/// The public base URL the loop's Twilio signatures are computed over.
const LOOP_BASE_URL: &str = "http://sandbox.loop";

/// Email replies the script picks from, with the intent each should be read as.
pub const EMAIL_REPLIES: &[&str] = &[
    "Thanks for reaching out. Could we book a call on Thursday at 10am?",
    "What would this cost for a business our size?",
    "Not interested, thanks.",
    "I'm out of the office until next Monday with limited access to email.",
    "Sounds good, tell me more.",
    "Please remove me from your list.",
];
/// SMS replies the script picks from.
pub const SMS_REPLIES: &[&str] = &[
    "Yes keen, give me a call tomorrow arvo",
    "Who is this?",
    "No thanks",
    "STOP",
];

/// One webhook of a script.
#[derive(Debug, Clone, PartialEq)]
pub enum Feedback {
    /// Resend `email.delivered`.
    EmailDelivered,
    /// Resend `email.opened`.
    EmailOpened,
    /// Resend `email.bounced` (permanent).
    EmailBounced,
    /// Resend `email.received`: the lead answers with this text.
    EmailReply(&'static str),
    /// Twilio status `delivered`.
    SmsDelivered,
    /// Twilio inbound SMS: the lead answers with this text.
    SmsReply(&'static str),
    /// Vapi `end-of-call-report` with this ended reason and structured outcome.
    CallEnded {
        /// Vapi's `endedReason`.
        ended_reason: &'static str,
        /// `analysis.structuredData.outcome`, when the assistant decided one.
        outcome: Option<&'static str>,
    },
}

/// A stable 0-99 bucket of the lead (its id's random low bits).
fn bucket(lead: LeadId) -> usize {
    usize::try_from(lead.as_uuid().as_u128() % 100).unwrap_or(0)
}

/// What happens to a message of `channel` to `lead` (see the module doc).
pub fn script(channel: Channel, lead: LeadId) -> Vec<Feedback> {
    let b = bucket(lead);
    match channel {
        Channel::Email if b < 5 => vec![Feedback::EmailBounced],
        Channel::Email => {
            let mut out = vec![Feedback::EmailDelivered];
            if b < 75 {
                out.push(Feedback::EmailOpened);
            }
            if b < 25 {
                out.push(Feedback::EmailReply(EMAIL_REPLIES[b % EMAIL_REPLIES.len()]));
            }
            out
        }
        Channel::Sms => {
            let mut out = vec![Feedback::SmsDelivered];
            if (5..20).contains(&b) {
                out.push(Feedback::SmsReply(SMS_REPLIES[b % SMS_REPLIES.len()]));
            }
            out
        }
        Channel::Voice => vec![match b % 5 {
            0 => Feedback::CallEnded {
                ended_reason: "customer-did-not-answer",
                outcome: None,
            },
            1 => Feedback::CallEnded {
                ended_reason: "voicemail",
                outcome: None,
            },
            2 => Feedback::CallEnded {
                ended_reason: "customer-ended-call",
                outcome: Some("not_interested"),
            },
            3 => Feedback::CallEnded {
                ended_reason: "assistant-ended-call",
                outcome: Some("callback_requested"),
            },
            _ => Feedback::CallEnded {
                ended_reason: "customer-ended-call",
                outcome: None,
            },
        }],
        Channel::Linkedin | Channel::Mail => Vec::new(),
    }
}

/// The loop's webhook secrets (what its signatures verify against).
pub fn loop_secrets() -> WebhookSecrets {
    WebhookSecrets {
        public_base_url: Some(LOOP_BASE_URL.to_owned()),
        twilio_auth_token: Some(SecretString::from(LOOP_TWILIO_TOKEN)),
        resend: SvixSecret::parse_many(LOOP_RESEND_SECRET).unwrap_or_default(),
        vapi: Some(SecretString::from(LOOP_VAPI_SECRET)),
    }
}

fn headers(pairs: &[(&str, String)]) -> RequestHeaders {
    RequestHeaders(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect(),
    )
}

/// Hands one feedback webhook of `msg` to the receive path; its index makes its id unique.
async fn play_one(
    pool: &agency_store::PgPool,
    secrets: &WebhookSecrets,
    client_id: ClientId,
    msg: &SandboxMessage,
    step: usize,
    feedback: &Feedback,
    now: DateTime<Utc>,
) -> Result<(), ReceiveError> {
    let inbox = WebhookInbox::direct(pool.clone());
    let inbox = &inbox;
    let at = now.to_rfc3339_opts(SecondsFormat::Millis, true);
    let from = msg
        .from_address
        .as_deref()
        .map(bare_address)
        .unwrap_or_default();
    let resend = |kind: &str, data: Value| {
        let id = format!("msg_sandbox_{}_{step}", msg.send_id.simple());
        let body = serde_json::to_vec(&json!({"type": kind, "created_at": at, "data": data}))
            .unwrap_or_default();
        let signature = SvixSecret::parse(LOOP_RESEND_SECRET)
            .map(|s| s.sign(&id, now.timestamp(), &body))
            .unwrap_or_default();
        let h = headers(&[
            ("svix-id", id),
            ("svix-timestamp", now.timestamp().to_string()),
            ("svix-signature", signature),
        ]);
        (h, body)
    };
    let email_data = || {
        json!({"email_id": msg.provider_message_id, "from": msg.from_address,
               "to": [msg.to_address], "subject": msg.subject, "created_at": at})
    };
    let twilio_form = |hook: TwilioHook, params: Vec<(String, String)>| {
        let path = match hook {
            TwilioHook::InboundSms => "/webhooks/twilio/sms",
            TwilioHook::Status => "/webhooks/twilio/status",
        };
        let url = format!("{LOOP_BASE_URL}{path}");
        let signature = twilio::signature(LOOP_TWILIO_TOKEN, &url, &params);
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&params)
            .finish()
            .into_bytes();
        (url, headers(&[(twilio::SIGNATURE_HEADER, signature)]), body)
    };
    let p = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    match feedback {
        Feedback::EmailDelivered | Feedback::EmailOpened | Feedback::EmailBounced => {
            let mut data = email_data();
            let kind = match feedback {
                Feedback::EmailDelivered => "email.delivered",
                Feedback::EmailOpened => "email.opened",
                _ => {
                    data["bounce"] = json!({"type": "Permanent", "subType": "General",
                        "message": "The recipient's mailbox does not exist (sandbox)."});
                    "email.bounced"
                }
            };
            let (h, body) = resend(kind, data);
            receive_resend(inbox, secrets, &h, &body, now.timestamp()).await?;
        }
        Feedback::EmailReply(text) => {
            let (h, body) = resend(
                "email.received",
                json!({"email_id": Uuid::now_v7(), "from": msg.to_address,
                       "to": [format!("replies@{}", from.rsplit('@').next().unwrap_or_default())],
                       "subject": msg.subject.as_deref().map(|s| format!("Re: {s}")),
                       "text": text, "created_at": at}),
            );
            receive_resend(inbox, secrets, &h, &body, now.timestamp()).await?;
        }
        Feedback::SmsDelivered => {
            let (url, h, body) = twilio_form(
                TwilioHook::Status,
                vec![
                    p("MessageSid", &msg.provider_message_id),
                    p("MessageStatus", "delivered"),
                    p("To", &msg.to_address),
                    p("From", from),
                ],
            );
            receive_twilio(
                inbox,
                secrets,
                &CredentialKeys::default(),
                TwilioHook::Status,
                &url,
                &h,
                &body,
            )
            .await?;
        }
        Feedback::SmsReply(text) => {
            let sid = format!("SMsandbox{}", msg.send_id.simple());
            let (url, h, body) = twilio_form(
                TwilioHook::InboundSms,
                vec![
                    p("MessageSid", &sid),
                    p("From", &msg.to_address),
                    p("To", from),
                    p("Body", text),
                    p("NumMedia", "0"),
                ],
            );
            receive_twilio(
                inbox,
                secrets,
                &CredentialKeys::default(),
                TwilioHook::InboundSms,
                &url,
                &h,
                &body,
            )
            .await?;
        }
        Feedback::CallEnded {
            ended_reason,
            outcome,
        } => {
            let mut message = json!({
                "type": "end-of-call-report",
                "endedReason": ended_reason,
                "durationSeconds": 74,
                "call": {"id": msg.provider_message_id, "metadata": {
                    "client_id": client_id, "campaign_id": msg.campaign_id, "lead_id": msg.lead_id}},
                "analysis": {"summary": "Sandbox call: the assistant introduced the client and asked for a meeting."},
                "artifact": {"transcript": "AI: Hi, it's the assistant calling on behalf of the client.\nUser: Go on."}
            });
            if let Some(o) = outcome {
                message["analysis"]["structuredData"] = json!({"outcome": o});
            }
            let body = serde_json::to_vec(&json!({ "message": message })).unwrap_or_default();
            let h = headers(&[(
                vapi::SIGNATURE_HEADER,
                vapi::signature(LOOP_VAPI_SECRET, &body),
            )]);
            receive_vapi(inbox, secrets, &h, &body).await?;
        }
    }
    Ok(())
}

/// Plays the script of one sandboxed send (the `sandbox_feedback` job). A send the sandbox
/// did not take has nothing to play; a webhook already received (a retried job) is answered
/// as a duplicate by the receive path and applied once.
pub async fn sandbox_feedback(ctx: JobContext, job: SandboxFeedback) -> Result<(), JobError> {
    let services = &ctx.services;
    let client_id = ClientId::from_uuid(job.client_id);
    let Some(msg) = store::sandbox_message_of_send(
        &services.pool,
        client_id,
        OutreachSendId::from_uuid(job.send_id),
    )
    .await
    .map_err(JobError::retryable)?
    else {
        return Ok(());
    };
    let (Ok(channel), Some(lead)) = (
        msg.channel.parse::<Channel>(),
        msg.lead_id.map(LeadId::from_uuid),
    ) else {
        return Ok(());
    };
    let secrets = loop_secrets();
    let now = services.now();
    for (step, feedback) in script(channel, lead).iter().enumerate() {
        if let Err(e) = play_one(
            &services.pool,
            &secrets,
            client_id,
            &msg,
            step,
            feedback,
            now,
        )
        .await
        {
            return Err(match e {
                ReceiveError::Unauthorized(_) | ReceiveError::Rejected(_) => {
                    JobError::permanent(e.to_string())
                }
                other => JobError::retryable(other),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_are_stable_per_lead_and_cover_every_outcome() {
        let leads: Vec<LeadId> = (0..100u128)
            .map(|n| LeadId::from_uuid(Uuid::from_u128(n)))
            .collect();
        for lead in &leads {
            assert_eq!(script(Channel::Email, *lead), script(Channel::Email, *lead));
        }
        let email: Vec<Vec<Feedback>> = leads.iter().map(|l| script(Channel::Email, *l)).collect();
        let bounced = email
            .iter()
            .filter(|s| s.contains(&Feedback::EmailBounced))
            .count();
        let replied = email
            .iter()
            .filter(|s| s.iter().any(|f| matches!(f, Feedback::EmailReply(_))))
            .count();
        assert_eq!((bounced, replied), (5, 20));
        // Every scripted email reply is used by some lead.
        for text in EMAIL_REPLIES {
            assert!(
                email
                    .iter()
                    .any(|s| s.contains(&Feedback::EmailReply(text))),
                "{text}"
            );
        }
        assert!(script(Channel::Linkedin, leads[0]).is_empty());
        assert_eq!(script(Channel::Voice, leads[7]).len(), 1);
    }
}
