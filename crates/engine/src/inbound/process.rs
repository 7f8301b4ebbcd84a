//! The `process_webhook_event` job: applies one stored inbox event, once. The event row is
//! locked and its status checked in the same transaction as the effects and the status
//! change, so a job delivered twice (or an event replayed while its first job runs) applies
//! once; an event that is no longer `pending` is skipped. A failure rolls the effects back
//! and is retried; on the last attempt the event is marked `failed` with the error.

use agency_domain::{ClientId, WebhookProvider, WebhookStatus};
use agency_store::webhook_events::{self, WebhookEvent};
use agency_store::{PgPool, StoreError};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::jobs::enqueue::{EnqueueOptions, enqueue_on};
use crate::jobs::payload::ProcessWebhookEvent;
use crate::jobs::{JobContext, JobError};
use crate::usecase::UseCaseError;

use super::{resend_events, twilio_events, vapi_events};

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

/// Applies the event's effects in the caller's transaction.
async fn apply(conn: &mut PgConnection, event: &WebhookEvent) -> Result<Outcome, StoreError> {
    match event.provider {
        WebhookProvider::Twilio => twilio_events::apply(conn, event).await,
        WebhookProvider::Resend => resend_events::apply(conn, event).await,
        WebhookProvider::Vapi => vapi_events::apply(conn, event).await,
    }
}

/// Processes one stored event (the job handler).
pub async fn process_webhook_event(
    ctx: JobContext,
    job: ProcessWebhookEvent,
) -> Result<(), JobError> {
    let mut tx = ctx.services.pool.begin().await?;
    let event = match webhook_events::lock(&mut tx, job.event_id).await {
        Ok(e) => e,
        // Purged by retention (or never committed): nothing to do.
        Err(StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(JobError::retryable(e)),
    };
    if event.status != WebhookStatus::Pending {
        return Ok(());
    }
    match apply(&mut tx, &event).await {
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
            webhook_events::finish(&ctx.services.pool, event.id, status, None, Some(&message))
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
