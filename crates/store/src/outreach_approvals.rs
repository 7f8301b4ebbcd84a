//! Co-pilot approvals SQL: the client's drafts waiting for a member, with the lead they are
//! for (the approval itself is a state change through `outreach::update`).

use agency_domain::LeadId;
use agency_domain::{CampaignId, ClientId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection};
use uuid::Uuid;

use crate::StoreError;

/// A draft as the approvals list shows it.
#[derive(Debug, Clone, PartialEq, Serialize, FromRow, utoipa::ToSchema)]
pub struct Approval {
    /// The send (approve, reject or edit it by this id).
    pub id: Uuid,
    /// Tenant.
    pub client_id: Uuid,
    /// Campaign.
    pub campaign_id: Uuid,
    /// Campaign name.
    pub campaign_name: String,
    /// Lead.
    pub lead_id: Uuid,
    /// Lead email.
    pub lead_email: String,
    /// Lead name (first and last; may be empty).
    pub lead_name: String,
    /// Lead company.
    pub lead_company: Option<String>,
    /// Channel text.
    pub channel: String,
    /// Sequence step.
    pub step_number: i32,
    /// State text (`awaiting_approval`, then `approved`, `rejected`).
    pub status: String,
    /// Draft subject (email).
    pub subject: Option<String>,
    /// Draft body.
    pub body: Option<String>,
    /// When it was due.
    pub due_at: DateTime<Utc>,
    /// Drafted.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

const APPROVAL_SELECT: &str = "SELECT s.id, s.client_id, s.campaign_id, cp.name AS campaign_name, s.lead_id,
        l.email AS lead_email, btrim(coalesce(l.first_name, '') || ' ' || coalesce(l.last_name, '')) AS lead_name,
        l.company AS lead_company, s.channel, s.step_number, s.status, s.subject, s.body, s.due_at,
        s.created_at, s.updated_at
   FROM outreach_sends s
   JOIN campaigns cp ON cp.id = s.campaign_id
   JOIN leads l ON l.id = s.lead_id";

/// A page of the client's drafts waiting for approval (oldest first: they are due) and how
/// many there are.
pub async fn pending(
    conn: &mut PgConnection,
    client_id: ClientId,
    limit: i64,
    offset: i64,
) -> Result<(Vec<Approval>, i64), StoreError> {
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM outreach_sends WHERE client_id = $1 AND status = 'awaiting_approval'",
    )
    .bind(client_id)
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query_as::<_, Approval>(sqlx::AssertSqlSafe(format!(
        "{APPROVAL_SELECT} WHERE s.client_id = $1 AND s.status = 'awaiting_approval'
          ORDER BY s.due_at, s.id LIMIT $2 OFFSET $3"
    )))
    .bind(client_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(&mut *conn)
    .await?;
    Ok((rows, total))
}

/// One send of the client as an approval (any state).
pub async fn one(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: Uuid,
) -> Result<Approval, StoreError> {
    sqlx::query_as::<_, Approval>(sqlx::AssertSqlSafe(format!(
        "{APPROVAL_SELECT} WHERE s.client_id = $1 AND s.id = $2"
    )))
    .bind(client_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// The campaign of a live lead of the client (`NotFound` when the lead is not the client's;
/// `None` inside when it has no campaign).
pub async fn lead_campaign(
    conn: &mut PgConnection,
    client_id: ClientId,
    lead_id: LeadId,
) -> Result<Option<CampaignId>, StoreError> {
    sqlx::query_scalar::<_, Option<CampaignId>>(
        "SELECT campaign_id FROM leads WHERE client_id = $1 AND id = $2 AND deleted_at IS NULL",
    )
    .bind(client_id)
    .bind(lead_id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}
