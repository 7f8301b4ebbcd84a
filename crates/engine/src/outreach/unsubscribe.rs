//! The public one-click unsubscribe (`GET/POST /u/{token}`, RFC 8058): the signed token names
//! a lead; applying it suppresses the address platform-wide at once, marks the lead
//! unsubscribed, cancels every pending send of it and logs an `unsubscribed` activity, in one
//! transaction, with `lead.unsubscribed` to the client's endpoints. Applying it again changes
//! nothing.

use agency_domain::EventType;
use agency_store::PgPool;
use agency_store::activities::{self, NewActivity};
use agency_store::outreach as store;
use serde::Serialize;
use serde_json::json;

use super::Links;
use crate::outbound::emit_event;
use crate::usecase::UseCaseError;

/// What the unsubscribe page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct UnsubscribeStatus {
    /// The address, partly masked (`j***@example.com`).
    pub email: String,
    /// Who sent the messages.
    pub sender: String,
    /// The address is unsubscribed now.
    pub unsubscribed: bool,
}

fn mask(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

fn lead_of(links: &Links, token: &str) -> Result<agency_domain::LeadId, UseCaseError> {
    links
        .verify_unsubscribe_token(token)
        .ok_or(UseCaseError::NotFound("unsubscribe link"))
}

/// The status behind a token (`GET /u/{token}`); a forged or unknown token is 404.
pub async fn unsubscribe_status(
    pool: &PgPool,
    links: &Links,
    token: &str,
) -> Result<UnsubscribeStatus, UseCaseError> {
    let lead = lead_of(links, token)?;
    let mut tx = pool.begin().await?;
    let target = store::unsubscribe_target(&mut *tx, lead)
        .await
        .map_err(UseCaseError::not_found_as("unsubscribe link"))?;
    tx.rollback().await?;
    Ok(UnsubscribeStatus {
        email: mask(&target.email),
        sender: target.client_name,
        unsubscribed: target.unsubscribed,
    })
}

/// Applies a token (`POST /u/{token}`; see the module doc).
pub async fn unsubscribe(
    pool: &PgPool,
    links: &Links,
    token: &str,
) -> Result<UnsubscribeStatus, UseCaseError> {
    let lead = lead_of(links, token)?;
    let mut tx = pool.begin().await?;
    let target = store::unsubscribe_target(&mut *tx, lead)
        .await
        .map_err(UseCaseError::not_found_as("unsubscribe link"))?;
    let client = target.client_id;
    store::suppress_email(&mut *tx, &target.email, "unsubscribe", "unsubscribe_link").await?;
    let cancelled = store::cancel_pending_for_lead(&mut *tx, client, lead, "unsubscribed").await?;
    if !target.unsubscribed {
        store::set_lead_unsubscribed(&mut *tx, lead).await?;
        let activity = NewActivity {
            campaign_id: target.campaign_id,
            lead_id: Some(lead.into_uuid()),
            channel: "email".into(),
            action: "unsubscribed".into(),
            provider_message_id: None,
            sequence_step: None,
            subject: None,
            content_preview: None,
            intent: None,
            metadata: json!({"source": "unsubscribe_link", "cancelled_sends": cancelled}),
            led_to_booking: false,
        };
        activities::insert(&mut *tx, client, &activity).await?;
        emit_event(
            &mut tx,
            client,
            EventType::LeadUnsubscribed,
            json!({
                "lead": {"lead_id": lead, "campaign_id": target.campaign_id, "email": target.email},
                "source": "unsubscribe_link", "channel": "email",
            }),
        )
        .await?;
    }
    tx.commit().await?;
    tracing::info!(lead_id = %lead, cancelled, "lead unsubscribed by link");
    Ok(UnsubscribeStatus {
        email: mask(&target.email),
        sender: target.client_name,
        unsubscribed: true,
    })
}
