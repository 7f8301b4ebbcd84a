//! The `leads` columns of allocation: the batched write of first-touch plans (channel,
//! reserved resource, when, why it waits; one multi-row UPDATE per batch) and the leads of a
//! campaign still waiting for one.

use agency_domain::{CampaignId, ClientId, LeadId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::StoreError;

/// One lead's planned first touch.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AllocationUpdate {
    /// Lead id.
    pub lead_id: LeadId,
    /// First-touch channel text (`None`: nothing to send, e.g. a dead lead).
    pub first_touch_channel: Option<String>,
    /// The resource reserved (`None` for mail, or while waiting for capacity).
    pub resource_id: Option<Uuid>,
    /// When the first touch is due (`None` when nothing is planned).
    pub next_action_at: Option<DateTime<Utc>>,
    /// Why the lead waits (no resource free, no resource of the kind), if it does.
    pub wait_reason: Option<String>,
}

/// Stores many allocations in one UPDATE. Returns the rows updated.
pub async fn save_allocations(
    conn: &mut PgConnection,
    client_id: ClientId,
    rows: &[AllocationUpdate],
    allocated_at: DateTime<Utc>,
) -> Result<u64, StoreError> {
    if rows.is_empty() {
        return Ok(0);
    }
    let ids: Vec<LeadId> = rows.iter().map(|r| r.lead_id).collect();
    let channels: Vec<Option<String>> =
        rows.iter().map(|r| r.first_touch_channel.clone()).collect();
    let resources: Vec<Option<Uuid>> = rows.iter().map(|r| r.resource_id).collect();
    let next: Vec<Option<DateTime<Utc>>> = rows.iter().map(|r| r.next_action_at).collect();
    let reasons: Vec<Option<String>> = rows.iter().map(|r| r.wait_reason.clone()).collect();
    let done = sqlx::query(
        "UPDATE leads l
            SET first_touch_channel = u.channel, allocated_resource_id = u.resource,
                next_action_at = u.next_at, allocation_wait_reason = u.reason,
                allocated_at = $7, updated_at = now()
           FROM UNNEST($2::uuid[], $3::text[], $4::uuid[], $5::timestamptz[], $6::text[])
                AS u(id, channel, resource, next_at, reason)
          WHERE l.client_id = $1 AND l.id = u.id AND l.deleted_at IS NULL",
    )
    .bind(client_id)
    .bind(&ids)
    .bind(&channels)
    .bind(&resources)
    .bind(&next)
    .bind(&reasons)
    .bind(allocated_at)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected())
}

/// The campaign's live leads waiting for allocation, best score first.
pub async fn waiting_lead_ids(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    campaign_id: CampaignId,
) -> Result<Vec<LeadId>, StoreError> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM leads
          WHERE client_id = $1 AND campaign_id = $2 AND deleted_at IS NULL
            AND allocation_wait_reason IS NOT NULL
          ORDER BY als_score DESC NULLS LAST, id",
    )
    .bind(client_id)
    .bind(campaign_id)
    .fetch_all(db)
    .await?)
}
