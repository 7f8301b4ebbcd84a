//! What a Vapi message says about its call: the tenant, campaign and lead from the call's
//! metadata (set by the voice sender when it places the call), checked against the database.

use agency_domain::{ClientId, LeadId};
use agency_store::StoreError;
use agency_store::leads::{self, LeadMatch};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// The call's tenant and lead.
#[derive(Debug, Clone)]
pub struct CallContext {
    /// Vapi's call id.
    pub call_id: String,
    /// The tenant.
    pub client_id: ClientId,
    /// The lead called (live, of that tenant).
    pub lead: LeadMatch,
}

fn metadata_id<Id: From<Uuid>>(message: &Value, key: &str) -> Option<Id> {
    [
        "/call/metadata",
        "/call/assistantOverrides/metadata",
        "/metadata",
    ]
    .iter()
    .filter_map(|p| message.pointer(p))
    .find_map(|m| m.get(key).and_then(Value::as_str))
    .and_then(|s| Uuid::parse_str(s).ok())
    .map(Id::from)
}

/// The call's context, when its metadata names a live lead of the named client.
pub async fn context(
    conn: &mut PgConnection,
    message: &Value,
) -> Result<Option<CallContext>, StoreError> {
    let (Some(client_id), Some(lead)) = (
        metadata_id::<ClientId>(message, "client_id"),
        metadata_id::<LeadId>(message, "lead_id"),
    ) else {
        return Ok(None);
    };
    let call_id = message
        .pointer("/call/id")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    match leads::lock_match(conn, client_id, lead).await {
        Ok(lead) => Ok(Some(CallContext {
            call_id,
            client_id,
            lead,
        })),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}
