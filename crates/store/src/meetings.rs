//! The `meetings` table: a client's booked meetings with leads. No two scheduled meetings of
//! a client overlap (the exclusion constraint [`NO_OVERLAP`]); a booking that would overlap
//! fails with `StoreError::Conflict` on it. Rows are decoded into typed ids and enums here.

use std::str::FromStr;

use agency_domain::{
    CampaignId, ClientId, LeadId, MeetingId, MeetingSource, MeetingStatus, MeetingType, UserId,
};
use chrono::{DateTime, Utc};
use sqlx::{FromRow, PgConnection, PgExecutor};
use uuid::Uuid;

use crate::StoreError;

/// The exclusion constraint that keeps a client's scheduled meetings apart.
pub const NO_OVERLAP: &str = "meetings_no_overlap";
/// The unique index that books a provider's tool call once.
pub const SOURCE_REF_UNIQUE: &str = "meetings_source_ref_idx";

/// A meeting with its lead's name and company.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    /// Meeting id.
    pub id: MeetingId,
    /// Owning client.
    pub client_id: ClientId,
    /// The lead met.
    pub lead_id: LeadId,
    /// The lead's name (or email when it has no name).
    pub lead_name: String,
    /// The lead's company.
    pub lead_company: Option<String>,
    /// The campaign it came from.
    pub campaign_id: Option<CampaignId>,
    /// Start.
    pub scheduled_at: DateTime<Utc>,
    /// Length in minutes.
    pub duration_minutes: i32,
    /// Kind of meeting.
    pub meeting_type: MeetingType,
    /// Calendar link, if any.
    pub calendar_link: Option<String>,
    /// Where it came from.
    pub source: MeetingSource,
    /// State.
    pub status: MeetingStatus,
    /// Booked at.
    pub created_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct Row {
    id: MeetingId,
    client_id: ClientId,
    lead_id: LeadId,
    lead_name: String,
    lead_company: Option<String>,
    campaign_id: Option<CampaignId>,
    scheduled_at: DateTime<Utc>,
    duration_minutes: i32,
    meeting_type: String,
    calendar_link: Option<String>,
    source: String,
    status: String,
    created_at: DateTime<Utc>,
}

impl TryFrom<Row> for Meeting {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Meeting {
            id: r.id,
            client_id: r.client_id,
            lead_id: r.lead_id,
            lead_name: r.lead_name,
            lead_company: r.lead_company,
            campaign_id: r.campaign_id,
            scheduled_at: r.scheduled_at,
            duration_minutes: r.duration_minutes,
            meeting_type: MeetingType::from_str(&r.meeting_type)
                .map_err(|e| StoreError::decode("meeting_type", e))?,
            calendar_link: r.calendar_link,
            source: MeetingSource::from_str(&r.source)
                .map_err(|e| StoreError::decode("source", e))?,
            status: MeetingStatus::from_str(&r.status)
                .map_err(|e| StoreError::decode("status", e))?,
            created_at: r.created_at,
        })
    }
}

const SELECT: &str = "SELECT m.id, m.client_id, m.lead_id,
        coalesce(nullif(btrim(concat_ws(' ', l.first_name, l.last_name)), ''), l.email) AS lead_name,
        l.company AS lead_company, m.campaign_id, m.scheduled_at, m.duration_minutes,
        m.meeting_type, m.calendar_link, m.source, m.status, m.created_at
   FROM meetings m JOIN leads l ON l.id = m.lead_id AND l.client_id = m.client_id";

fn decode(rows: Vec<Row>) -> Result<Vec<Meeting>, StoreError> {
    rows.into_iter().map(Meeting::try_from).collect()
}

/// The client's meetings, at most `limit`, and the number matching: with `upcoming_after`,
/// the scheduled ones starting after that instant, soonest first; otherwise all of them,
/// latest start first.
pub async fn list(
    conn: &mut PgConnection,
    client_id: ClientId,
    upcoming_after: Option<DateTime<Utc>>,
    limit: i64,
) -> Result<(Vec<Meeting>, i64), StoreError> {
    let filter = "m.client_id = $1
        AND ($2::timestamptz IS NULL OR (m.status = 'scheduled' AND m.scheduled_at > $2))";
    let order = if upcoming_after.is_some() {
        "m.scheduled_at ASC, m.id ASC"
    } else {
        "m.scheduled_at DESC, m.id DESC"
    };
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM meetings m WHERE {filter}"
    )))
    .bind(client_id)
    .bind(upcoming_after)
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE {filter} ORDER BY {order} LIMIT $3"
    )))
    .bind(client_id)
    .bind(upcoming_after)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    Ok((decode(rows)?, total))
}

/// The meeting `id` of the client.
pub async fn get(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    id: MeetingId,
) -> Result<Meeting, StoreError> {
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE m.client_id = $1 AND m.id = $2"
    )))
    .bind(client_id)
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or(StoreError::NotFound)?
    .try_into()
}

/// The meeting `id` of the client, locked for an update.
pub async fn lock(
    conn: &mut PgConnection,
    client_id: ClientId,
    id: MeetingId,
) -> Result<Meeting, StoreError> {
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE m.client_id = $1 AND m.id = $2 FOR UPDATE OF m"
    )))
    .bind(client_id)
    .bind(id)
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?
    .try_into()
}

/// A meeting to book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMeeting {
    /// The lead.
    pub lead_id: LeadId,
    /// The lead's campaign.
    pub campaign_id: Option<CampaignId>,
    /// Start.
    pub scheduled_at: DateTime<Utc>,
    /// Minutes.
    pub duration_minutes: i32,
    /// Kind.
    pub meeting_type: MeetingType,
    /// Where it came from.
    pub source: MeetingSource,
    /// The provider's reference (e.g. Vapi tool call id): unique per client and source.
    pub source_ref: Option<String>,
    /// The user who booked it.
    pub created_by: Option<UserId>,
}

/// Books a meeting; `Conflict` on [`NO_OVERLAP`] when it overlaps a scheduled one of the
/// client, on [`SOURCE_REF_UNIQUE`] when the reference was booked before.
pub async fn insert(
    conn: &mut PgConnection,
    client_id: ClientId,
    m: &NewMeeting,
) -> Result<MeetingId, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO meetings (id, client_id, lead_id, campaign_id, scheduled_at, duration_minutes,
                meeting_type, source, source_ref, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(Uuid::now_v7())
    .bind(client_id)
    .bind(m.lead_id)
    .bind(m.campaign_id)
    .bind(m.scheduled_at)
    .bind(m.duration_minutes)
    .bind(m.meeting_type.as_str())
    .bind(m.source.as_str())
    .bind(&m.source_ref)
    .bind(m.created_by)
    .fetch_one(conn)
    .await?)
}

/// The meeting booked for a provider reference, if any.
pub async fn by_source_ref(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    source: MeetingSource,
    source_ref: &str,
) -> Result<Option<Meeting>, StoreError> {
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE m.client_id = $1 AND m.source = $2 AND m.source_ref = $3"
    )))
    .bind(client_id)
    .bind(source.as_str())
    .bind(source_ref)
    .fetch_optional(db)
    .await?
    .map(Meeting::try_from)
    .transpose()
}

/// Sets the meeting's status (cancelled also stamps `cancelled_at`).
pub async fn set_status(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    id: MeetingId,
    status: MeetingStatus,
) -> Result<(), StoreError> {
    let done = sqlx::query(
        "UPDATE meetings SET status = $3, updated_at = now(),
                cancelled_at = CASE WHEN $3 = 'cancelled' THEN now() ELSE cancelled_at END
          WHERE client_id = $1 AND id = $2",
    )
    .bind(client_id)
    .bind(id)
    .bind(status.as_str())
    .execute(db)
    .await?;
    crate::rows::touched(done)
}

/// The busy intervals `[start, end)` of the client's scheduled meetings that overlap
/// `[from, to)`, by start.
pub async fn busy_between(
    db: impl PgExecutor<'_>,
    client_id: ClientId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(DateTime<Utc>, DateTime<Utc>)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT scheduled_at, scheduled_at + duration_minutes * interval '1 minute'
           FROM meetings
          WHERE client_id = $1 AND status = 'scheduled'
            AND meeting_span(scheduled_at, duration_minutes) && tstzrange($2, $3, '[)')
          ORDER BY scheduled_at",
    )
    .bind(client_id)
    .bind(from)
    .bind(to)
    .fetch_all(db)
    .await?)
}
