//! Activity repository: the append-only `activities` log of outreach events on leads.

use agency_domain::ClientId;
use agency_domain::LeadId;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::StoreError;

/// An activity as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Activity {
    /// Activity id.
    pub id: Uuid,
    /// Owning client.
    pub client_id: Uuid,
    /// Campaign, when part of one.
    pub campaign_id: Option<Uuid>,
    /// Lead.
    pub lead_id: Option<Uuid>,
    /// Channel text.
    pub channel: String,
    /// What happened (`sent`, `opened`, `replied`, ...).
    pub action: String,
    /// The provider's message id.
    pub provider_message_id: Option<String>,
    /// Free-form details.
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// Sequence step number.
    pub sequence_step: Option<i32>,
    /// Subject line.
    pub subject: Option<String>,
    /// Short preview of the content.
    pub content_preview: Option<String>,
    /// Reply intent, for replies.
    pub intent: Option<String>,
    /// When it happened.
    pub created_at: DateTime<Utc>,
}

/// A new activity to append.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewActivity {
    /// Campaign.
    pub campaign_id: Option<Uuid>,
    /// Lead.
    pub lead_id: Option<Uuid>,
    /// Channel text.
    pub channel: String,
    /// Action text.
    pub action: String,
    /// Provider message id.
    pub provider_message_id: Option<String>,
    /// Sequence step.
    pub sequence_step: Option<i32>,
    /// Subject.
    pub subject: Option<String>,
    /// Content preview.
    pub content_preview: Option<String>,
    /// Intent.
    pub intent: Option<String>,
    /// Metadata object.
    pub metadata: serde_json::Value,
    /// This touch led to a booked meeting.
    pub led_to_booking: bool,
}

/// Appends an activity for the client and answers it.
pub async fn insert(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    a: &NewActivity,
) -> Result<Activity, StoreError> {
    insert_with_snapshot(db, client_id, a, None).await
}

/// Lets the caller's transaction (only it) update activities, which are otherwise append-only:
/// erasure and retention redact personal content in place.
pub async fn allow_redaction(conn: &mut PgConnection) -> Result<(), StoreError> {
    sqlx::query("SELECT set_config('agency.erasure', 'on', true)")
        .execute(conn)
        .await?;
    Ok(())
}

/// Appends an activity caused by the provider webhook event `event_id`, once: the event id is
/// recorded in `metadata.webhook_event_id`, and an activity of the same action already
/// recorded for that event (the event replayed by an admin) is not repeated. Answers whether
/// it was appended. The caller holds the event's row lock, so runs of one event never overlap.
pub async fn insert_for_event(
    conn: &mut PgConnection,
    client_id: ClientId,
    event_id: Uuid,
    a: &NewActivity,
) -> Result<bool, StoreError> {
    let seen: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM activities
                         WHERE client_id = $1 AND metadata ? 'webhook_event_id'
                           AND metadata->>'webhook_event_id' = $2 AND action = $3)",
    )
    .bind(client_id)
    .bind(event_id.to_string())
    .bind(&a.action)
    .fetch_one(&mut *conn)
    .await?;
    if seen {
        return Ok(false);
    }
    let mut activity = a.clone();
    if !activity.metadata.is_object() {
        activity.metadata = serde_json::json!({});
    }
    activity.metadata["webhook_event_id"] = serde_json::Value::String(event_id.to_string());
    insert(conn, client_id, &activity).await?;
    Ok(true)
}

/// Appends an activity with the content it carried (`content_snapshot`: subject, preview, word
/// count, cta type) and answers it.
pub async fn insert_with_snapshot(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    a: &NewActivity,
    content_snapshot: Option<&serde_json::Value>,
) -> Result<Activity, StoreError> {
    Ok(sqlx::query_as::<_, Activity>(
        "INSERT INTO activities (id, client_id, campaign_id, lead_id, channel, action, provider_message_id,
                sequence_step, subject, content_preview, intent, metadata, led_to_booking, content_snapshot)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
         RETURNING id, client_id, campaign_id, lead_id, channel, action, provider_message_id, metadata,
                   sequence_step, subject, content_preview, intent, created_at",
    )
    .bind(Uuid::now_v7())
    .bind(client_id)
    .bind(a.campaign_id)
    .bind(a.lead_id)
    .bind(&a.channel)
    .bind(&a.action)
    .bind(&a.provider_message_id)
    .bind(a.sequence_step)
    .bind(&a.subject)
    .bind(&a.content_preview)
    .bind(&a.intent)
    .bind(&a.metadata)
    .bind(a.led_to_booking)
    .bind(content_snapshot)
    .fetch_one(db)
    .await?)
}

/// The lead's latest `limit` activities, newest first.
pub async fn for_lead(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    lead_id: LeadId,
    limit: i64,
) -> Result<Vec<Activity>, StoreError> {
    Ok(sqlx::query_as::<_, Activity>(
        "SELECT id, client_id, campaign_id, lead_id, channel, action, provider_message_id, metadata,
                sequence_step, subject, content_preview, intent, created_at
           FROM activities WHERE lead_id = $2 AND client_id = $1
          ORDER BY created_at DESC, id DESC LIMIT $3",
    )
    .bind(client_id)
    .bind(lead_id)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// The lead's latest outbound touch (a `sent` activity or a placed call), if any: the touch
/// a booking is credited to.
pub async fn latest_touch(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    lead_id: LeadId,
) -> Result<Option<Activity>, StoreError> {
    Ok(sqlx::query_as::<_, Activity>(
        "SELECT id, client_id, campaign_id, lead_id, channel, action, provider_message_id, metadata,
                sequence_step, subject, content_preview, intent, created_at
           FROM activities
          WHERE lead_id = $2 AND client_id = $1 AND action IN ('sent', 'call_initiated', 'connection_requested')
          ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(client_id)
    .bind(lead_id)
    .fetch_optional(db)
    .await?)
}

/// The latest activity carrying the provider's message id (any tenant): how a delivery event
/// finds the lead and tenant of the message it reports on.
pub async fn by_provider_message(
    db: impl PgExecutor<'_>,
    provider_message_id: &str,
) -> Result<Option<Activity>, StoreError> {
    Ok(sqlx::query_as::<_, Activity>(
        "SELECT id, client_id, campaign_id, lead_id, channel, action, provider_message_id, metadata,
                sequence_step, subject, content_preview, intent, created_at
           FROM activities WHERE provider_message_id = $1
          ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(provider_message_id)
    .fetch_optional(db)
    .await?)
}

/// How many of the lead's activities have one of `actions`.
pub async fn count_for_lead(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    lead_id: LeadId,
    actions: &[&str],
) -> Result<i64, StoreError> {
    let actions: Vec<String> = actions.iter().map(|a| (*a).to_owned()).collect();
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM activities WHERE client_id = $1 AND lead_id = $2 AND action = ANY($3)",
    )
    .bind(client_id)
    .bind(lead_id)
    .bind(&actions)
    .fetch_one(db)
    .await?)
}

/// Retention: removes the raw transcript from at most `limit` call activities older than their
/// client's `transcript_retention_days` (the outcome and summary stay); returns how many. Call
/// it in a transaction that [`allow_redaction`] opened to the change.
pub async fn strip_expired_transcripts(
    conn: &mut PgConnection,
    limit: i64,
) -> Result<u64, StoreError> {
    let stripped = sqlx::query(
        "UPDATE activities SET metadata = metadata - 'transcript'
          WHERE id IN (
                SELECT a.id FROM activities a JOIN clients c ON c.id = a.client_id
                 WHERE a.metadata ? 'transcript'
                   AND a.created_at < now() - make_interval(days => c.transcript_retention_days)
                 LIMIT $1)",
    )
    .bind(limit)
    .execute(conn)
    .await?;
    Ok(stripped.rows_affected())
}
