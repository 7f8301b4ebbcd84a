//! AI-written content for a send. Before the claim transaction (no row is locked while Claude
//! answers), a due sequence step that uses the default templates is written through the gate
//! ([`write_message`]) from the lead, company, client (value proposition, industries) and
//! campaign facts, with the composed template as the fallback. A step with the agency's own
//! templates keeps them, and the sandbox model never writes (its text is made up from the
//! schema, not the facts). The send itself then checks the row again under its lock and uses
//! this content only for a row still waiting to be written.

use agency_cache::Cache;
use agency_domain::{Channel, ClientId, OutreachSendId, SendStatus};
use agency_store::PgPool;
use agency_store::outreach::{self as store, SendContext};
use chrono::{DateTime, Utc};
use serde_json::json;

use super::content::{MessageFacts, compose};
use crate::ai::AiGate;
use crate::ai::write::{MessageBrief, MessageContent, MessageKind, WrittenMessage, write_message};
use crate::jobs::JobError;

/// The gate a send may write with, and the cache its counters live in.
#[derive(Clone, Copy)]
pub struct AiWriter<'a> {
    /// The one door to Claude.
    pub gate: &'a AiGate,
    /// The money counters' cache.
    pub cache: &'a dyn Cache,
}

/// The template facts of a send's context.
pub(super) fn facts_of(ctx: &SendContext) -> MessageFacts {
    MessageFacts::new(
        ctx.first_name.as_deref(),
        ctx.last_name.as_deref(),
        &ctx.email,
        ctx.title.as_deref(),
        ctx.company.as_deref(),
        ctx.domain.as_deref(),
        ctx.industry.as_deref(),
        &ctx.client_name,
        ctx.postal_address.as_deref(),
        &ctx.campaign_name,
    )
}

fn kind_of(channel: Channel, step_number: i32) -> Option<MessageKind> {
    match channel {
        Channel::Email if step_number <= 1 => Some(MessageKind::FirstTouchEmail),
        Channel::Email => Some(MessageKind::FollowUpEmail),
        Channel::Sms => Some(MessageKind::Sms),
        Channel::Voice => Some(MessageKind::VoiceOpener),
        _ => None,
    }
}

fn has_custom_template(ctx: &SendContext) -> bool {
    [&ctx.subject_template, &ctx.body_template]
        .iter()
        .any(|t| t.as_deref().is_some_and(|t| !t.trim().is_empty()))
}

/// Writes the send's content through the gate when it is due, scheduled, not written yet and
/// on the default templates; `None` when the send keeps its templates (or is not ready).
pub(super) async fn draft(
    pool: &PgPool,
    writer: AiWriter<'_>,
    client_id: ClientId,
    send_id: OutreachSendId,
    now: DateTime<Utc>,
) -> Result<Option<WrittenMessage>, JobError> {
    if writer.gate.is_sandbox() {
        return Ok(None);
    }
    let (row, ctx) = {
        let mut tx = pool.begin().await?;
        let row = match store::lock(&mut tx, client_id, send_id).await {
            Ok(row) => row,
            // The send itself reports what is wrong.
            Err(_) => return Ok(None),
        };
        if row.status != SendStatus::Scheduled || row.body.is_some() || row.due_at > now {
            return Ok(None);
        }
        let ctx = store::context(&mut tx, &row)
            .await
            .map_err(JobError::retryable)?;
        (row, ctx)
    };
    let Some(kind) = kind_of(row.channel, row.step_number) else {
        return Ok(None);
    };
    if has_custom_template(&ctx) {
        return Ok(None);
    }
    let facts = facts_of(&ctx);
    let fallback = compose(row.channel, row.step_number, None, None, &facts);
    let hosts: Vec<&str> = ctx.client_website.as_deref().into_iter().collect();
    let brief = MessageBrief {
        kind,
        facts: json!({
            "lead": facts.lead,
            "company": facts.company,
            "client": {
                "name": facts.client.name,
                "website": ctx.client_website,
                "value_proposition": ctx.client_value_proposition,
                "ideal_customer_industries": ctx.client_industries,
            },
            "campaign": facts.campaign,
            "step_number": row.step_number,
        }),
        allowed_hosts: &hosts,
        allowed_links: &[],
        must_contain: &[],
        fallback: MessageContent {
            subject: fallback.subject,
            body: fallback.body,
        },
    };
    Ok(Some(
        write_message(writer.gate, pool, writer.cache, client_id, &brief, now).await,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sending_channel_but_linkedin_and_mail_has_a_kind() {
        assert_eq!(
            kind_of(Channel::Email, 1),
            Some(MessageKind::FirstTouchEmail)
        );
        assert_eq!(kind_of(Channel::Email, 3), Some(MessageKind::FollowUpEmail));
        assert_eq!(kind_of(Channel::Sms, 2), Some(MessageKind::Sms));
        assert_eq!(kind_of(Channel::Voice, 1), Some(MessageKind::VoiceOpener));
        assert_eq!(kind_of(Channel::Linkedin, 1), None);
    }
}
