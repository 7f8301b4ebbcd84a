//! Campaign sequences SQL: the `campaign_sequence_steps` of a campaign (read, replaced as a
//! whole), and the lead facts the planner reads to pick a lead's next step.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

use crate::StoreError;

/// One stored step, as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, FromRow, utoipa::ToSchema)]
pub struct SequenceStep {
    /// Step id.
    pub id: Uuid,
    /// Campaign.
    pub campaign_id: Uuid,
    /// 1-based position.
    pub step_number: i32,
    /// Channel text.
    pub channel: String,
    /// Days after the previous step.
    pub delay_days: i32,
    /// Subject template (email).
    pub subject_template: Option<String>,
    /// Body template.
    pub body_template: Option<String>,
    /// Stop the sequence here when the lead replied.
    pub skip_if_replied: bool,
    /// Stop the sequence here when the lead bounced.
    pub skip_if_bounced: bool,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Updated.
    pub updated_at: DateTime<Utc>,
}

/// A step to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStep {
    /// 1-based position.
    pub step_number: i32,
    /// Channel text.
    pub channel: String,
    /// Days after the previous step.
    pub delay_days: i32,
    /// Subject template.
    pub subject_template: Option<String>,
    /// Body template.
    pub body_template: Option<String>,
    /// Stop when replied.
    pub skip_if_replied: bool,
    /// Stop when bounced.
    pub skip_if_bounced: bool,
}

const STEP_COLUMNS: &str =
    "id, campaign_id, step_number, channel, delay_days, subject_template, body_template,
    skip_if_replied, skip_if_bounced, created_at, updated_at";

/// The campaign's steps in order.
pub async fn steps(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
    campaign_id: Uuid,
) -> Result<Vec<SequenceStep>, StoreError> {
    Ok(
        sqlx::query_as::<_, SequenceStep>(sqlx::AssertSqlSafe(format!(
            "SELECT {STEP_COLUMNS} FROM campaign_sequence_steps
          WHERE client_id = $1 AND campaign_id = $2 ORDER BY step_number"
        )))
        .bind(client_id)
        .bind(campaign_id)
        .fetch_all(db)
        .await?,
    )
}

/// Replaces the campaign's steps with `new` (in the caller's transaction) and answers them.
pub async fn replace(
    conn: &mut PgConnection,
    client_id: Uuid,
    campaign_id: Uuid,
    new: &[NewStep],
) -> Result<Vec<SequenceStep>, StoreError> {
    sqlx::query("DELETE FROM campaign_sequence_steps WHERE client_id = $1 AND campaign_id = $2")
        .bind(client_id)
        .bind(campaign_id)
        .execute(&mut *conn)
        .await?;
    for step in new {
        sqlx::query(
            "INSERT INTO campaign_sequence_steps (id, client_id, campaign_id, step_number, channel, delay_days,
                    subject_template, body_template, skip_if_replied, skip_if_bounced)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(Uuid::now_v7())
        .bind(client_id)
        .bind(campaign_id)
        .bind(step.step_number)
        .bind(&step.channel)
        .bind(step.delay_days)
        .bind(&step.subject_template)
        .bind(&step.body_template)
        .bind(step.skip_if_replied)
        .bind(step.skip_if_bounced)
        .execute(&mut *conn)
        .await?;
    }
    steps(&mut *conn, client_id, campaign_id).await
}

/// What the planner reads about a lead.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct LeadPlanFacts {
    /// Lead status text.
    pub status: String,
    /// Tier text.
    pub als_tier: Option<String>,
    /// Channels the lead may receive (tier ∩ campaign), texts.
    pub als_channels: Option<Vec<String>>,
    /// First-touch channel from allocation.
    pub first_touch_channel: Option<String>,
    /// The resource allocation reserved for the first touch.
    pub allocated_resource_id: Option<Uuid>,
    /// Phone (SMS and voice need one).
    pub phone: Option<String>,
    /// The lead replied in this campaign.
    pub replied: bool,
    /// The lead bounced.
    pub bounced: bool,
}

/// The planner's facts about a lead in a campaign.
pub async fn lead_plan_facts(
    db: impl PgExecutor<'_>,
    client_id: Uuid,
    lead_id: Uuid,
    campaign_id: Uuid,
) -> Result<LeadPlanFacts, StoreError> {
    sqlx::query_as::<_, LeadPlanFacts>(
        "SELECT l.status, l.als_tier, l.als_channels, l.first_touch_channel, l.allocated_resource_id, l.phone,
                EXISTS (SELECT 1 FROM activities a WHERE a.lead_id = l.id AND a.campaign_id = $3
                          AND a.action = 'replied') AS replied,
                (l.status = 'bounced' OR EXISTS (SELECT 1 FROM activities a WHERE a.lead_id = l.id
                          AND a.action = 'bounced')) AS bounced
           FROM leads l WHERE l.client_id = $1 AND l.id = $2",
    )
    .bind(client_id)
    .bind(lead_id)
    .bind(campaign_id)
    .fetch_optional(db)
    .await?
    .ok_or(StoreError::NotFound)
}
