//! The `deliver_webhook` job: one attempt of one delivery. The attempt is claimed first (a
//! second run of the same job, or a stale one, sends nothing), then the body is POSTed with
//! the Standard Webhooks headers (`webhook-id` stable across attempts, `webhook-timestamp` of
//! the attempt, `webhook-signature` with one `v1,` signature per live secret) through the
//! guarded sender of `Services::providers`, and the outcome is recorded in one transaction:
//! the attempt log, the delivery's state, the endpoint's failure streak, and on failure the
//! next attempt as a new job due on SPEC 6's schedule (`RETRY_SCHEDULE`), or the delivery
//! failed when it is exhausted. A 410 Gone disables the endpoint at once; an endpoint failing
//! for 5 days is disabled; both raise an admin alert. Deliveries to a disabled or deleted
//! endpoint are given up without a request. The job system's own retries only cover
//! infrastructure failures (the database).

use agency_domain::outbound_webhook::{
    disables_at_once, is_success, response_excerpt, retry_delay, should_disable,
};
use agency_domain::{AlertSeverity, ClientId, DeliveryStatus, EndpointStatus};
use agency_providers::WebhookRequest;
use agency_providers::standard_webhooks::signature_header;
use agency_store::StoreError;
use agency_store::webhook_deliveries::{self as deliveries, AttemptRecord, Delivery};
use agency_store::webhook_endpoints::{self as endpoints, Endpoint};
use chrono::{DateTime, SubsecRound, Utc};
use serde_json::json;
use url::Url;

use crate::admin::{RaiseAlert, raise_alert};
use crate::jobs::enqueue::{EnqueueOptions, enqueue_on};
use crate::jobs::payload::DeliverWebhook;
use crate::jobs::{JobContext, JobError};

use super::emit::enqueue_failure;

/// The alert kind raised when an endpoint is disabled.
pub const ENDPOINT_DISABLED_ALERT: &str = "webhook_endpoint_disabled";

/// The `webhook-id` of an event's deliveries: stable across attempts (receivers deduplicate
/// on it).
pub fn message_id(event_id: uuid::Uuid) -> String {
    format!("msg_{}", event_id.simple())
}

fn store_err(e: StoreError) -> JobError {
    JobError::retryable(e)
}

/// Delivers one attempt of a delivery (see the module doc).
pub async fn deliver_webhook(ctx: JobContext, job: DeliverWebhook) -> Result<(), JobError> {
    let services = &ctx.services;
    let pool = &services.pool;
    let client = ClientId::from_uuid(job.client_id);
    let delivery = match deliveries::get(pool, client, job.delivery_id).await {
        Ok(d) => d,
        // Purged by retention: nothing to do.
        Err(StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(store_err(e)),
    };
    let now = services.now();
    if delivery.status != DeliveryStatus::Pending {
        return Ok(());
    }
    // A job whose attempt was already made and whose successor is queued for later.
    if delivery
        .next_attempt_at
        .is_some_and(|due| due > now + chrono::Duration::seconds(1))
    {
        return Ok(());
    }
    let (endpoint, deleted) = endpoints::get_any(pool, client, delivery.endpoint_id)
        .await
        .map_err(store_err)?;
    if deleted || endpoint.status == EndpointStatus::Disabled {
        let reason = if deleted {
            "The endpoint was deleted, so the event was not sent."
        } else {
            "The endpoint is disabled, so the event was not sent."
        };
        deliveries::abandon(pool, client, delivery.id, reason)
            .await
            .map_err(store_err)?;
        return Ok(());
    }
    let Some(attempt) =
        deliveries::claim_attempt(pool, client, delivery.id, delivery.attempts, now)
            .await
            .map_err(store_err)?
    else {
        return Ok(());
    };
    let outcome = send(&ctx, &delivery, &endpoint, now).await;
    record(&ctx, client, &delivery, &endpoint, attempt, now, outcome).await
}

/// What one attempt gave.
#[derive(Debug)]
struct Outcome {
    status_code: Option<u16>,
    latency_ms: Option<u64>,
    excerpt: Option<String>,
    error: Option<String>,
}

async fn send(
    ctx: &JobContext,
    delivery: &Delivery,
    endpoint: &Endpoint,
    now: DateTime<Utc>,
) -> Outcome {
    let failed = |error: String| Outcome {
        status_code: None,
        latency_ms: None,
        excerpt: None,
        error: Some(error),
    };
    let url = match Url::parse(&endpoint.url) {
        Ok(u) => u,
        Err(e) => return failed(format!("The endpoint URL cannot be read: {e}.")),
    };
    let body = match serde_json::to_vec(&delivery.payload) {
        Ok(b) => b,
        Err(e) => return failed(format!("The event body does not serialise: {e}.")),
    };
    let msg_id = message_id(delivery.event_id);
    let timestamp = now.timestamp();
    let signature =
        match signature_header(&endpoint.signing_secrets(now), &msg_id, timestamp, &body) {
            Ok(s) => s,
            Err(e) => return failed(format!("The endpoint's secret cannot sign: {e}.")),
        };
    let request = WebhookRequest {
        url,
        headers: vec![
            ("webhook-id".into(), msg_id),
            ("webhook-timestamp".into(), timestamp.to_string()),
            ("webhook-signature".into(), signature),
        ],
        body,
    };
    match ctx.services.providers.webhooks.send(request).await {
        Ok(r) => Outcome {
            status_code: Some(r.status),
            latency_ms: Some(r.latency_ms),
            excerpt: Some(response_excerpt(&r.body_head)),
            error: (!is_success(r.status))
                .then(|| format!("The endpoint answered HTTP {}.", r.status)),
        },
        Err(e) => failed(format!("{e}.")),
    }
}

fn to_i32(v: u64) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

async fn record(
    ctx: &JobContext,
    client: ClientId,
    delivery: &Delivery,
    endpoint: &Endpoint,
    attempt: i32,
    now: DateTime<Utc>,
    outcome: Outcome,
) -> Result<(), JobError> {
    let log = AttemptRecord {
        attempt,
        at: now,
        status_code: outcome.status_code.map(i32::from),
        latency_ms: outcome.latency_ms.map(to_i32),
        response_excerpt: outcome.excerpt.clone(),
        error: outcome.error.clone(),
    };
    let mut tx = ctx.services.pool.begin().await?;
    let delivered = outcome.status_code.is_some_and(is_success);
    if delivered {
        deliveries::record_attempt(
            &mut *tx,
            client,
            delivery.id,
            &log,
            DeliveryStatus::Delivered,
            None,
        )
        .await
        .map_err(store_err)?;
        endpoints::record_success(&mut *tx, client, endpoint.id, now)
            .await
            .map_err(store_err)?;
        tx.commit().await?;
        return Ok(());
    }
    let gone = outcome.status_code.is_some_and(disables_at_once);
    let failing_since = endpoints::record_failure(&mut *tx, client, endpoint.id, now)
        .await
        .map_err(store_err)?;
    let failing_for = (now - failing_since).to_std().unwrap_or_default();
    let disable_reason = if gone {
        Some("The endpoint answered 410 Gone, so it was disabled.".to_owned())
    } else if should_disable(failing_for) {
        Some(format!(
            "Every delivery has failed since {}, so the endpoint was disabled after 5 days.",
            failing_since.format("%Y-%m-%d %H:%M UTC")
        ))
    } else {
        None
    };
    let next = match (
        &disable_reason,
        u32::try_from(attempt).ok().and_then(retry_delay),
    ) {
        (None, Some(delay)) => chrono::Duration::from_std(delay)
            .ok()
            // Whole seconds: the job's `run_at` has second precision.
            .map(|d| (now + d).trunc_subsecs(0)),
        _ => None,
    };
    let status = if next.is_some() {
        DeliveryStatus::Pending
    } else {
        DeliveryStatus::Failed
    };
    deliveries::record_attempt(&mut *tx, client, delivery.id, &log, status, next)
        .await
        .map_err(store_err)?;
    if let Some(at) = next {
        enqueue_on(
            &mut tx,
            &DeliverWebhook {
                client_id: client.into_uuid(),
                delivery_id: delivery.id,
            },
            EnqueueOptions {
                run_at: Some(at),
                ..EnqueueOptions::default()
            },
        )
        .await
        .map_err(|e| store_err(enqueue_failure(e)))?;
    }
    if let Some(reason) = disable_reason
        && endpoints::disable(&mut *tx, client, endpoint.id, &reason)
            .await
            .map_err(store_err)?
    {
        let alert = RaiseAlert::new(
            ENDPOINT_DISABLED_ALERT,
            AlertSeverity::Warning,
            "A client's webhook endpoint was disabled",
            format!(
                "The webhook endpoint {} of client {client} was disabled. {reason} The client re-enables it with PUT .../webhook-endpoints/{} and status active.",
                endpoint.url, endpoint.id
            ),
        )
        .client(client)
        .key(format!("{ENDPOINT_DISABLED_ALERT}:{}", endpoint.id))
        .metadata(json!({
            "endpoint_id": endpoint.id,
            "url": endpoint.url,
            "last_status_code": outcome.status_code,
            "last_error": outcome.error,
        }));
        raise_alert(&mut *tx, alert).await.map_err(store_err)?;
        tracing::warn!(%client, endpoint = %endpoint.id, reason, "webhook endpoint disabled");
    }
    tx.commit().await?;
    Ok(())
}
