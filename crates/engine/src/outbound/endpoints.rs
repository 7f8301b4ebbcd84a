//! A client's outbound webhook endpoints: list them and their delivery log (any member);
//! create one (`{url, events}`; its `whsec_` secret is answered once), change or delete it,
//! rotate its secret (the previous one keeps signing during [`ROTATION_OVERLAP`]) and send it
//! a test event (admins and owners). The URL must be https in production and must not name a
//! private address there; the events are SPEC 6's. Every change is audited in its
//! transaction (never with the secret).

use std::collections::BTreeSet;

use agency_domain::outbound_webhook::{EndpointUrlError, parse_endpoint_url};
use agency_domain::{EndpointStatus, EventType, Role};
use agency_providers::standard_webhooks::generate_secret;
use agency_providers::website::AddressPolicy;
use agency_store::audit;
use agency_store::webhook_deliveries::{self as deliveries, Delivery};
use agency_store::webhook_endpoints::{self as store, Endpoint, NewEndpoint};
use chrono::{Duration, Utc};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::emit::{enqueue_delivery, event_body};
use crate::Services;
use crate::error::{FieldError, UseCaseError};
use crate::tenancy::TenantContext;

/// How long the previous secret keeps signing after a rotation.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);

/// Most live endpoints per client.
pub const MAX_ENDPOINTS: i64 = 20;

/// The body of `POST .../webhook-endpoints`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointCreate {
    /// Where events are POSTed (https in production).
    pub url: String,
    /// Events to receive: `lead.replied`, `meeting.booked`, `meeting.cancelled`,
    /// `lead.unsubscribed`, `campaign.completed`, `call.completed`.
    pub events: Vec<String>,
}

/// The body of `PUT .../webhook-endpoints/{id}` (every field optional).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointUpdate {
    /// A new URL.
    pub url: Option<String>,
    /// A new list of events.
    pub events: Option<Vec<String>>,
    /// `active` (re-enables a disabled endpoint) or `disabled`.
    pub status: Option<String>,
}

fn check_url(services: &Services, text: &str) -> Result<String, FieldError> {
    let production = services.settings.production;
    let url = parse_endpoint_url(text, production).map_err(|e| {
        let message = match e {
            EndpointUrlError::NotHttps => {
                "must use https (plain http is accepted in development only)".to_owned()
            }
            other => other.to_string(),
        };
        FieldError::new("url", message)
    })?;
    if production && AddressPolicy::PUBLIC_ONLY.check_url(&url).is_err() {
        return Err(FieldError::new(
            "url",
            "must not point to a private, loopback or internal address",
        ));
    }
    Ok(url.to_string())
}

fn check_events(list: &[String]) -> Result<Vec<EventType>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut seen = BTreeSet::new();
    let mut events = Vec::new();
    for (i, text) in list.iter().enumerate() {
        match text.trim().parse::<EventType>() {
            Ok(e) if e.is_subscribable() => {
                if seen.insert(e.as_str()) {
                    events.push(e);
                }
            }
            _ => errors.push(FieldError::new(
                format!("events[{i}]"),
                format!(
                    "`{text}` is not an event; choose from {}",
                    EventType::SUBSCRIBABLE
                        .iter()
                        .map(|e| e.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
    if list.is_empty() {
        errors.push(FieldError::new("events", "must name at least one event"));
    }
    if errors.is_empty() {
        Ok(events)
    } else {
        Err(errors)
    }
}

fn summary(e: &Endpoint) -> serde_json::Value {
    json!({
        "url": e.url,
        "events": e.events.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        "status": e.status.as_str(),
    })
}

/// The client's endpoints, one page, and the total (any member).
pub async fn list(
    services: &Services,
    tenant: &TenantContext,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Endpoint>, i64), UseCaseError> {
    let mut conn = services.pool.acquire().await?;
    Ok(store::page(&mut conn, tenant.client_id, limit, offset).await?)
}

/// Creates an endpoint with a new secret (admin or owner); the answer carries the secret,
/// which is never shown again.
pub async fn create(
    services: &Services,
    tenant: &TenantContext,
    input: &EndpointCreate,
) -> Result<Endpoint, UseCaseError> {
    tenant.require(Role::Admin)?;
    let mut errors = Vec::new();
    let url = check_url(services, &input.url)
        .map_err(|e| errors.push(e))
        .ok();
    let events = check_events(&input.events)
        .map_err(|e| errors.extend(e))
        .ok();
    let (Some(url), Some(events)) = (url, events) else {
        return Err(UseCaseError::invalid(errors));
    };
    let mut tx = services.pool.begin().await?;
    let (_, count) = store::page(&mut tx, tenant.client_id, 0, 0).await?;
    if count >= MAX_ENDPOINTS {
        return Err(UseCaseError::Conflict {
            code: "too_many_webhook_endpoints",
            message: format!(
                "A client can have at most {MAX_ENDPOINTS} webhook endpoints; delete one first."
            ),
        });
    }
    let secret = generate_secret();
    let endpoint = store::insert(
        &mut *tx,
        tenant.client_id,
        &NewEndpoint {
            url: &url,
            events: &events,
            secret: &secret,
            created_by: Some(tenant.user_id.into_uuid()),
        },
    )
    .await?;
    let entry = tenant
        .audit("webhook_endpoint.created", "webhook_endpoint")
        .entity(endpoint.id)
        .after(summary(&endpoint));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(endpoint)
}

/// Changes an endpoint's URL, events or status (admin or owner). Setting `active` re-enables
/// a disabled endpoint and forgets its failure streak.
pub async fn update(
    services: &Services,
    tenant: &TenantContext,
    id: Uuid,
    input: &EndpointUpdate,
) -> Result<Endpoint, UseCaseError> {
    tenant.require(Role::Admin)?;
    let mut errors = Vec::new();
    let url = match &input.url {
        Some(text) => check_url(services, text).map_err(|e| errors.push(e)).ok(),
        None => None,
    };
    let events = match &input.events {
        Some(list) => check_events(list).map_err(|e| errors.extend(e)).ok(),
        None => None,
    };
    let status = match input.status.as_deref().map(str::trim) {
        Some(text) => text
            .parse::<EndpointStatus>()
            .map_err(|e| errors.push(FieldError::new("status", e.to_string())))
            .ok(),
        None => None,
    };
    if !errors.is_empty() {
        return Err(UseCaseError::invalid(errors));
    }
    let mut tx = services.pool.begin().await?;
    let current = store::lock(&mut tx, tenant.client_id, id)
        .await
        .map_err(UseCaseError::not_found_as("webhook endpoint"))?;
    let updated = store::update(
        &mut tx,
        tenant.client_id,
        id,
        url.as_deref().unwrap_or(&current.url),
        events.as_deref().unwrap_or(&current.events),
        status.unwrap_or(current.status),
        Some("Disabled by a member of the client."),
    )
    .await?;
    let entry = tenant
        .audit("webhook_endpoint.updated", "webhook_endpoint")
        .entity(id)
        .before(summary(&current))
        .after(summary(&updated));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(updated)
}

/// Deletes an endpoint (admin or owner): nothing more is sent to it; its pending deliveries
/// are given up when their jobs run.
pub async fn delete(
    services: &Services,
    tenant: &TenantContext,
    id: Uuid,
) -> Result<(), UseCaseError> {
    tenant.require(Role::Admin)?;
    let mut tx = services.pool.begin().await?;
    let current = store::lock(&mut tx, tenant.client_id, id)
        .await
        .map_err(UseCaseError::not_found_as("webhook endpoint"))?;
    store::soft_delete(&mut tx, tenant.client_id, id).await?;
    let entry = tenant
        .audit("webhook_endpoint.deleted", "webhook_endpoint")
        .entity(id)
        .before(summary(&current));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Replaces the endpoint's secret (admin or owner); the previous one keeps signing for
/// [`ROTATION_OVERLAP`], so both signatures are sent meanwhile. The answer carries the new
/// secret, shown once.
pub async fn rotate_secret(
    services: &Services,
    tenant: &TenantContext,
    id: Uuid,
) -> Result<Endpoint, UseCaseError> {
    tenant.require(Role::Admin)?;
    let mut tx = services.pool.begin().await?;
    store::lock(&mut tx, tenant.client_id, id)
        .await
        .map_err(UseCaseError::not_found_as("webhook endpoint"))?;
    let until = services.now() + ROTATION_OVERLAP;
    let endpoint =
        store::rotate_secret(&mut tx, tenant.client_id, id, &generate_secret(), until).await?;
    let entry = tenant
        .audit("webhook_endpoint.secret_rotated", "webhook_endpoint")
        .entity(id)
        .after(json!({"previous_secret_expires_at": until}));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(endpoint)
}

/// Queues a `webhook.test` event to the endpoint (admin or owner); a disabled endpoint is
/// re-enabled first with `PUT` (409 here). Answers the delivery.
pub async fn send_test(
    services: &Services,
    tenant: &TenantContext,
    id: Uuid,
) -> Result<Delivery, UseCaseError> {
    tenant.require(Role::Admin)?;
    let mut tx = services.pool.begin().await?;
    let endpoint = store::lock(&mut tx, tenant.client_id, id)
        .await
        .map_err(UseCaseError::not_found_as("webhook endpoint"))?;
    if endpoint.status == EndpointStatus::Disabled {
        return Err(UseCaseError::Conflict {
            code: "webhook_endpoint_disabled",
            message: "The endpoint is disabled; set its status to active before testing it.".into(),
        });
    }
    let now = Utc::now();
    let event_id = Uuid::now_v7();
    let body = event_body(
        EventType::WebhookTest,
        now,
        json!({
            "client_id": tenant.client_id,
            "endpoint_id": id,
            "message": "This is a test event from Agency OS.",
        }),
    );
    let delivery_id = enqueue_delivery(
        &mut tx,
        tenant.client_id,
        id,
        event_id,
        EventType::WebhookTest,
        &body,
        now,
    )
    .await?;
    let entry = tenant
        .audit("webhook_endpoint.tested", "webhook_endpoint")
        .entity(id)
        .after(json!({"delivery_id": delivery_id}));
    audit::record(&mut tx, &entry).await?;
    let delivery = deliveries::get(&mut *tx, tenant.client_id, delivery_id).await?;
    tx.commit().await?;
    Ok(delivery)
}

/// One page of the endpoint's deliveries, newest first, and the total (any member; 404 for
/// another client's endpoint).
pub async fn deliveries(
    services: &Services,
    tenant: &TenantContext,
    id: Uuid,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Delivery>, i64), UseCaseError> {
    let mut conn = services.pool.acquire().await?;
    store::get(&mut *conn, tenant.client_id, id)
        .await
        .map_err(UseCaseError::not_found_as("webhook endpoint"))?;
    Ok(deliveries::page(&mut conn, tenant.client_id, id, limit, offset).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_validated_and_deduplicated() {
        let ok = check_events(&["lead.replied".into(), "lead.replied".into()]).unwrap();
        assert_eq!(ok, vec![EventType::LeadReplied]);
        let errs =
            check_events(&["lead.replied".into(), "webhook.test".into(), "x".into()]).unwrap_err();
        assert_eq!(
            errs.iter().map(|e| e.path.as_str()).collect::<Vec<_>>(),
            ["events[1]", "events[2]"]
        );
        assert_eq!(check_events(&[]).unwrap_err()[0].path, "events");
    }
}
