//! [`emit_event`]: the outbox write. Called inside the transaction of the change that causes
//! the event (a reply recorded, a meeting booked or cancelled, a lead unsubscribed, a call
//! ended, a campaign completed): one `webhook_deliveries` row per live, active endpoint of the
//! client subscribed to the event, and one `deliver_webhook` job per row, committed together
//! with the change or not at all.

use agency_domain::{ClientId, EventType};
use agency_store::StoreError;
use agency_store::webhook_deliveries as deliveries;
use agency_store::webhook_endpoints as endpoints;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::jobs::enqueue::{EnqueueError, EnqueueOptions, enqueue_on};
use crate::jobs::payload::DeliverWebhook;

/// The body sent for an event: `{"type", "timestamp", "data"}` (Standard Webhooks).
pub fn event_body(event: EventType, at: DateTime<Utc>, data: Value) -> Value {
    json!({
        "type": event.as_str(),
        "timestamp": at.to_rfc3339_opts(SecondsFormat::Millis, true),
        "data": data,
    })
}

/// A failed enqueue, as the store's error (the callers' transactions speak `StoreError`).
pub(crate) fn enqueue_failure(e: EnqueueError) -> StoreError {
    match e {
        EnqueueError::Database(apalis_postgres::Error::Database(db)) => StoreError::from(db),
        EnqueueError::Store(e) => e,
        other => StoreError::Jobs(crate::jobs::context::cause_chain(&other)),
    }
}

/// Writes one delivery of `event` to `endpoint_id` and queues its job, in `conn`'s
/// transaction. Answers the delivery id.
pub(crate) async fn enqueue_delivery(
    conn: &mut PgConnection,
    client_id: ClientId,
    endpoint_id: Uuid,
    event_id: Uuid,
    event: EventType,
    body: &Value,
    now: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    let id = deliveries::insert(
        &mut *conn,
        client_id,
        endpoint_id,
        event_id,
        event,
        body,
        now,
    )
    .await?;
    enqueue_on(
        conn,
        &DeliverWebhook {
            client_id: client_id.into_uuid(),
            delivery_id: id,
        },
        EnqueueOptions::default(),
    )
    .await
    .map_err(enqueue_failure)?;
    Ok(id)
}

/// Emits `event` with `data` for the client, in the caller's transaction: a delivery and its
/// job for every live, active endpoint subscribed to it. Answers how many were queued (none
/// when no endpoint wants it).
pub async fn emit_event(
    conn: &mut PgConnection,
    client_id: ClientId,
    event: EventType,
    data: Value,
) -> Result<usize, StoreError> {
    let targets = endpoints::subscribed(&mut *conn, client_id, event).await?;
    if targets.is_empty() {
        return Ok(0);
    }
    let now = Utc::now();
    let event_id = Uuid::now_v7();
    let body = event_body(event, now, data);
    for endpoint in &targets {
        enqueue_delivery(conn, client_id, endpoint.id, event_id, event, &body, now).await?;
    }
    tracing::debug!(%client_id, event = %event, endpoints = targets.len(), "webhook event emitted");
    Ok(targets.len())
}
