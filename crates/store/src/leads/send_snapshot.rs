//! The just-in-time send snapshot: a lead (locked `FOR SHARE`) with its client's and
//! campaign's state and its global suppression, as it is inside the send's transaction.

use agency_domain::ClientId;
use agency_domain::LeadId;
use sqlx::PgConnection;

use crate::StoreError;

/// What just-in-time validation reads, as it is inside the send's transaction.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SendSnapshotRow {
    /// Client subscription status text.
    pub subscription_status: String,
    /// Client credits.
    pub credits_remaining: i32,
    /// Campaign status text (`None`: the lead has no campaign).
    pub campaign_status: Option<String>,
    /// Campaign soft-deleted.
    pub campaign_deleted: bool,
    /// Lead soft-deleted.
    pub lead_deleted: bool,
    /// Lead status text.
    pub lead_status: String,
    /// Lead tier text.
    pub lead_tier: Option<String>,
    /// The lead's email is globally suppressed.
    pub email_suppressed: bool,
    /// The lead's phone is globally suppressed.
    pub phone_suppressed: bool,
    /// DNCR checked.
    pub dncr_checked: bool,
    /// DNCR blocked.
    pub dncr_blocked: bool,
}

/// Reads the snapshot for a send to one lead, locking the lead row (`FOR SHARE`) so a
/// concurrent unsubscribe waits for the send's transaction. `NotFound` when the lead is not
/// the client's (deleted leads are returned, flagged).
pub async fn send_snapshot(
    conn: &mut PgConnection,
    client_id: ClientId,
    lead_id: LeadId,
) -> Result<SendSnapshotRow, StoreError> {
    Ok(sqlx::query_as::<_, SendSnapshotRow>(
        "SELECT c.subscription_status, c.credits_remaining,
                cp.status AS campaign_status, coalesce(cp.deleted_at IS NOT NULL, false) AS campaign_deleted,
                l.deleted_at IS NOT NULL AS lead_deleted, l.status AS lead_status, l.als_tier AS lead_tier,
                EXISTS (SELECT 1 FROM global_suppression s WHERE s.email = l.email) AS email_suppressed,
                (l.phone IS NOT NULL
                 AND EXISTS (SELECT 1 FROM global_suppression s WHERE s.phone = l.phone)) AS phone_suppressed,
                l.dncr_checked, l.dncr_blocked
           FROM leads l
           JOIN clients c ON c.id = l.client_id
           LEFT JOIN campaigns cp ON cp.id = l.campaign_id
          WHERE l.client_id = $1 AND l.id = $2
            FOR SHARE OF l",
    )
    .bind(client_id)
    .bind(lead_id)
    .fetch_one(&mut *conn)
    .await?)
}
