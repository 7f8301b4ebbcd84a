//! The `process_webhook_event` job: applies one stored inbox event, once. The event row is
//! locked and its status checked in the same transaction as the effects and the status
//! change, so a job delivered twice (or an event replayed while its first job runs) applies
//! once; an event that is no longer `pending` is skipped. A failure rolls the effects back
//! and is retried; on the last attempt the event is marked `failed` with the error.
//!
//! An inbound reply (SMS or received email) needs the network before it can be applied: the
//! received email's body from Resend and the AI classification. Both happen first, outside
//! any transaction (no row is locked while a provider answers); the transaction then records
//! the prepared reply. A run that fails after preparing prepares again on its retry.

use agency_domain::{ClientId, WebhookProvider, WebhookStatus};
use agency_store::webhook_events::{self, WebhookEvent};
use agency_store::{PgPool, StoreError};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::jobs::enqueue::{EnqueueOptions, enqueue_on};
use crate::jobs::payload::ProcessWebhookEvent;
use crate::jobs::{JobContext, JobError};
use crate::usecase::UseCaseError;

use super::replies::{InboundReply, client_timezone, record_inbound};
use super::{resend_events, twilio_events, vapi_events};
use crate::Services;
use crate::ai::classify::{ReplyClassification, classify_reply};

/// What applying an event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Applied to this tenant (or to none, for platform-wide effects).
    Applied(Option<ClientId>),
    /// Nothing to apply, and why (an event type we do not act on, no tenant owns it...).
    Ignored(Option<ClientId>, String),
}

impl Outcome {
    /// An ignored outcome without a tenant.
    pub fn ignored(note: impl Into<String>) -> Self {
        Outcome::Ignored(None, note.into())
    }
}

/// Applies the effects of a non-reply event in the caller's transaction.
async fn apply(conn: &mut PgConnection, event: &WebhookEvent) -> Result<Outcome, StoreError> {
    match event.provider {
        WebhookProvider::Twilio => twilio_events::apply(conn, event).await,
        WebhookProvider::Resend => resend_events::apply(conn, event).await,
        WebhookProvider::Vapi => vapi_events::apply(conn, event).await,
    }
}

/// An inbound reply ready to record: the message, its classification and its tenant's zone.
struct PreparedReply {
    reply: InboundReply,
    class: ReplyClassification,
    tz: chrono_tz::Tz,
}

/// What preparing an event found.
enum Prepared {
    /// Not a reply: applied by [`apply`] in the transaction.
    Effects,
    /// A reply to record.
    Reply(Box<PreparedReply>),
    /// A reply nobody can take (unknown receiving number or address...).
    Nothing(Outcome),
}

/// The reply an event carries, if any (read from the database, no lock).
async fn inbound_reply(
    conn: &mut PgConnection,
    event: &WebhookEvent,
) -> Result<Option<Result<InboundReply, Outcome>>, StoreError> {
    Ok(match event.provider {
        WebhookProvider::Twilio if twilio_events::is_inbound(event) => {
            Some(twilio_events::inbound_reply(conn, event).await?)
        }
        WebhookProvider::Resend if resend_events::is_inbound(event) => {
            Some(resend_events::inbound_reply(conn, event).await?)
        }
        _ => None,
    })
}

/// Fetches a received email's body from Resend when the webhook carried none. A provider
/// failure is retried, except on the last attempt, which records the reply without text
/// rather than lose it.
async fn fetch_email_body(
    services: &Services,
    reply: &mut InboundReply,
    last_attempt: bool,
) -> Result<(), JobError> {
    let Some(email_id) = reply.provider_message_id.as_deref() else {
        return Ok(());
    };
    if !reply.content.trim().is_empty() {
        return Ok(());
    }
    let email = &services.providers.outreach.providers.email;
    match email.received_email(email_id).await {
        Ok(Some(found)) => {
            reply.content = found
                .text
                .filter(|t| !t.trim().is_empty())
                .or_else(|| {
                    found
                        .html
                        .as_deref()
                        .map(agency_providers::website::html::html_to_text)
                })
                .unwrap_or_default();
            if reply.subject.is_none() {
                reply.subject = found.subject;
            }
            Ok(())
        }
        Ok(None) => Ok(()),
        Err(e) if last_attempt => {
            tracing::warn!(email_id, error = %e, "received email recorded without its body");
            Ok(())
        }
        Err(e) => Err(JobError::Retryable(format!(
            "fetching received email {email_id}: {e}"
        ))),
    }
}

/// Prepares `event` outside any transaction: for a reply, its body and classification.
async fn prepare(ctx: &JobContext, event: &WebhookEvent) -> Result<Prepared, JobError> {
    let services = &ctx.services;
    let mut conn = services.pool.acquire().await?;
    let mut reply = match inbound_reply(&mut conn, event).await {
        Ok(None) => return Ok(Prepared::Effects),
        Ok(Some(Err(outcome))) => return Ok(Prepared::Nothing(outcome)),
        Ok(Some(Ok(reply))) => reply,
        Err(e) => return Err(JobError::retryable(e)),
    };
    let tz = client_timezone(&mut conn, reply.client_id).await;
    drop(conn);
    fetch_email_body(services, &mut reply, ctx.is_last_attempt()).await?;
    let class = classify_reply(
        &services.providers.ai,
        &services.pool,
        services.cache.as_ref(),
        reply.client_id,
        reply.channel,
        &reply.content,
        tz,
        services.now(),
    )
    .await;
    Ok(Prepared::Reply(Box::new(PreparedReply {
        reply,
        class,
        tz,
    })))
}

/// Applies what was prepared, in the caller's transaction.
async fn apply_prepared(
    conn: &mut PgConnection,
    event: &WebhookEvent,
    prepared: &Prepared,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Outcome, StoreError> {
    match prepared {
        Prepared::Effects => apply(conn, event).await,
        Prepared::Nothing(outcome) => Ok(outcome.clone()),
        Prepared::Reply(p) => {
            record_inbound(conn, &p.reply, &p.class, p.tz, now).await?;
            Ok(Outcome::Applied(Some(p.reply.client_id)))
        }
    }
}

/// Processes one stored event (the job handler).
pub async fn process_webhook_event(
    ctx: JobContext,
    job: ProcessWebhookEvent,
) -> Result<(), JobError> {
    let pool = &ctx.services.pool;
    let unlocked = match webhook_events::get(pool, job.event_id).await {
        Ok(e) if e.status == WebhookStatus::Pending => e,
        // Purged by retention (or never committed), or already applied: nothing to do.
        Ok(_) | Err(StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(JobError::retryable(e)),
    };
    let prepared = prepare(&ctx, &unlocked).await?;
    let mut tx = pool.begin().await?;
    let event = match webhook_events::lock(&mut tx, job.event_id).await {
        Ok(e) => e,
        Err(StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(JobError::retryable(e)),
    };
    if event.status != WebhookStatus::Pending {
        return Ok(());
    }
    match apply_prepared(&mut tx, &event, &prepared, ctx.services.now()).await {
        Ok(outcome) => {
            let (status, client, note) = match outcome {
                Outcome::Applied(c) => (WebhookStatus::Processed, c, None),
                Outcome::Ignored(c, note) => (WebhookStatus::Ignored, c, Some(note)),
            };
            webhook_events::finish(&mut *tx, event.id, status, client, note.as_deref())
                .await
                .map_err(JobError::retryable)?;
            tx.commit().await?;
            Ok(())
        }
        Err(e) => {
            drop(tx);
            let message = e.to_string();
            let status = if ctx.is_last_attempt() {
                WebhookStatus::Failed
            } else {
                WebhookStatus::Pending
            };
            webhook_events::finish(pool, event.id, status, None, Some(&message))
                .await
                .map_err(JobError::retryable)?;
            Err(JobError::Retryable(format!(
                "webhook event {}: {message}",
                event.id
            )))
        }
    }
}

/// Replays an event (platform admins): back to `pending` and a new processing job, in one
/// transaction. A rejected event cannot be replayed (409): its body could not be read.
pub async fn replay(pool: &PgPool, id: Uuid) -> Result<WebhookEvent, UseCaseError> {
    let mut tx = pool.begin().await?;
    let current = webhook_events::lock(&mut tx, id)
        .await
        .map_err(UseCaseError::not_found_as("webhook event"))?;
    if current.status == WebhookStatus::Rejected {
        return Err(UseCaseError::Conflict {
            code: "webhook_event_rejected",
            message: "A rejected event's body could not be read; it cannot be replayed.".into(),
        });
    }
    let event = webhook_events::reset_pending(&mut tx, id).await?;
    enqueue_on(
        &mut tx,
        &ProcessWebhookEvent { event_id: id },
        EnqueueOptions::default(),
    )
    .await?;
    tx.commit().await?;
    Ok(event)
}

/// One page of the inbox for platform admins (provider and status filters as text).
pub async fn list(
    pool: &PgPool,
    provider: Option<&str>,
    status: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<(Vec<WebhookEvent>, i64), UseCaseError> {
    let provider = parse_filter::<WebhookProvider>("provider", provider)?;
    let status = parse_filter::<WebhookStatus>("status", status)?;
    let mut conn = pool.acquire().await?;
    Ok(webhook_events::page(&mut conn, provider, status, limit, offset).await?)
}

/// A filter value of a closed set: absent or blank is `None`; an unknown value is a 422 on
/// `path`.
fn parse_filter<T: std::str::FromStr>(
    path: &'static str,
    text: Option<&str>,
) -> Result<Option<T>, UseCaseError>
where
    T::Err: std::fmt::Display,
{
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => t
            .parse::<T>()
            .map(Some)
            .map_err(|e| UseCaseError::field(path, e.to_string())),
    }
}
