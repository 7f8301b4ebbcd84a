//! Meetings: the client's list (all, or the upcoming scheduled ones), booking (by a user, by a
//! reply or by a voice call's `book_meeting` tool) and cancelling. A booking never overlaps
//! another scheduled meeting of the client (the database's exclusion constraint decides, so
//! concurrent bookings cannot both win); it marks the lead converted and appends a
//! `meeting_booked` activity credited to the lead's latest touch (`led_to_booking`). The
//! client's endpoints get `meeting.booked` and `meeting.cancelled` in the same transaction.

use std::str::FromStr;

use agency_domain::{
    ActivityAction, CampaignId, Channel, ClientId, EventType, LeadId, LeadStatus, MeetingId,
    MeetingSource, MeetingStatus, MeetingType, UserId,
};
use agency_store::activities::{self, NewActivity};
use agency_store::meetings::{self as store, Meeting, NewMeeting};
use agency_store::{PgPool, StoreError, leads};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::outbound::emit_event;
use crate::usecase::{Actor, FieldError, UseCaseError, audit};

/// Default meeting length, minutes.
pub const DEFAULT_DURATION_MINUTES: i64 = 30;
/// Shortest and longest meeting, minutes.
pub const DURATION_RANGE: std::ops::RangeInclusive<i64> = 5..=480;
/// Default and largest `limit` of the list.
pub const DEFAULT_LIMIT: i64 = 50;
/// Largest `limit` of the list.
pub const MAX_LIMIT: i64 = 100;

/// The body of `POST /meetings`.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeetingCreate {
    /// The lead (of this client).
    pub lead_id: Uuid,
    /// Start, RFC 3339.
    pub scheduled_at: DateTime<Utc>,
    /// Minutes, 5-480 (default 30).
    pub duration_minutes: Option<i64>,
    /// `discovery` (default), `demo` or `follow_up`.
    pub meeting_type: Option<String>,
}

/// A booking to make, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booking {
    /// The lead.
    pub lead_id: LeadId,
    /// Start.
    pub scheduled_at: DateTime<Utc>,
    /// Minutes.
    pub duration_minutes: i32,
    /// Kind.
    pub meeting_type: MeetingType,
    /// Where it comes from.
    pub source: MeetingSource,
    /// The provider's reference (a tool call id), booked once.
    pub source_ref: Option<String>,
}

/// Validates a meeting length and type (422 naming the field).
pub fn parse_booking_fields(
    duration_minutes: Option<i64>,
    meeting_type: Option<&str>,
) -> Result<(i32, MeetingType), UseCaseError> {
    let mut errors = Vec::new();
    let duration = duration_minutes.unwrap_or(DEFAULT_DURATION_MINUTES);
    if !DURATION_RANGE.contains(&duration) {
        errors.push(FieldError::new(
            "duration_minutes",
            format!(
                "must be between {} and {}",
                DURATION_RANGE.start(),
                DURATION_RANGE.end()
            ),
        ));
    }
    let kind = match meeting_type.map(str::trim) {
        None | Some("") => Some(MeetingType::Discovery),
        Some(text) => MeetingType::from_str(text)
            .map_err(|e| errors.push(FieldError::new("meeting_type", e.to_string())))
            .ok(),
    };
    match kind {
        Some(kind) if errors.is_empty() => Ok((duration as i32, kind)),
        _ => Err(UseCaseError::invalid(errors)),
    }
}

/// The client's meetings: with `upcoming`, the scheduled ones still ahead, soonest first;
/// otherwise all, latest first. At most `limit` (1-100, default 50); the total counts all
/// matches.
pub async fn list(
    pool: &PgPool,
    client_id: ClientId,
    upcoming: bool,
    limit: Option<i64>,
) -> Result<(Vec<Meeting>, i64), UseCaseError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(UseCaseError::field(
            "limit",
            format!("must be between 1 and {MAX_LIMIT}"),
        ));
    }
    let mut conn = pool.acquire().await?;
    let after = upcoming.then(Utc::now);
    Ok(store::list(&mut conn, client_id, after, limit).await?)
}

/// The meeting `id` of the client.
pub async fn get(
    pool: &PgPool,
    client_id: ClientId,
    id: MeetingId,
) -> Result<Meeting, UseCaseError> {
    store::get(pool, client_id, id)
        .await
        .map_err(UseCaseError::not_found_as("meeting"))
}

/// Why a booking was refused.
#[derive(Debug, thiserror::Error)]
pub enum BookingError {
    /// The lead is not a live lead of the client.
    #[error("lead not found")]
    LeadNotFound,
    /// Another scheduled meeting of the client overlaps.
    #[error("the slot overlaps another meeting")]
    Overlap,
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<BookingError> for UseCaseError {
    fn from(e: BookingError) -> Self {
        match e {
            BookingError::LeadNotFound => UseCaseError::NotFound("lead"),
            BookingError::Overlap => UseCaseError::Conflict {
                code: "meeting_overlap",
                message: "The time overlaps another scheduled meeting of this client.".into(),
            },
            BookingError::Store(e) => UseCaseError::Store(e),
        }
    }
}

/// Books a meeting in the caller's transaction: the meeting row, the lead converted (its
/// sequence stopped) and a `meeting_booked` activity credited to the lead's latest touch.
/// An overlap is `BookingError::Overlap` (the transaction must then be rolled back).
pub async fn book(
    conn: &mut PgConnection,
    client_id: ClientId,
    booking: &Booking,
    created_by: Option<UserId>,
) -> Result<MeetingId, BookingError> {
    let client = client_id;
    let lead = leads::lock_match(conn, client, booking.lead_id)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => BookingError::LeadNotFound,
            e => BookingError::Store(e),
        })?;
    let new = NewMeeting {
        lead_id: booking.lead_id,
        campaign_id: lead.campaign_id,
        scheduled_at: booking.scheduled_at,
        duration_minutes: booking.duration_minutes,
        meeting_type: booking.meeting_type,
        source: booking.source,
        source_ref: booking.source_ref.clone(),
        created_by,
    };
    let id = store::insert(conn, client_id, &new)
        .await
        .map_err(|e| match e {
            e if e.is_conflict_on(store::NO_OVERLAP) => BookingError::Overlap,
            e => BookingError::Store(e),
        })?;
    if lead.status != LeadStatus::Unsubscribed.as_str() {
        leads::set_status(
            &mut *conn,
            client,
            lead.id,
            LeadStatus::Converted.as_str(),
            None,
        )
        .await?;
    }
    let touch = activities::latest_touch(&mut *conn, client, lead.id).await?;
    let channel = match (booking.source, &touch) {
        (MeetingSource::Voice, _) => Channel::Voice.as_str().to_owned(),
        (_, Some(t)) => t.channel.clone(),
        (_, None) => Channel::Email.as_str().to_owned(),
    };
    activities::insert(
        &mut *conn,
        client,
        &NewActivity {
            campaign_id: lead.campaign_id.map(CampaignId::into_uuid),
            lead_id: Some(lead.id.into_uuid()),
            channel,
            action: ActivityAction::MeetingBooked.as_str().to_owned(),
            metadata: json!({
                "meeting_id": id,
                "scheduled_at": booking.scheduled_at,
                "source": booking.source.as_str(),
                "converting_activity_id": touch.as_ref().map(|t| t.id),
            }),
            led_to_booking: true,
            ..NewActivity::default()
        },
    )
    .await?;
    emit_event(
        conn,
        client_id,
        EventType::MeetingBooked,
        json!({
            "meeting_id": id, "lead_id": lead.id, "campaign_id": lead.campaign_id,
            "lead_email": lead.email, "scheduled_at": booking.scheduled_at,
            "duration_minutes": booking.duration_minutes,
            "meeting_type": booking.meeting_type.as_str(), "source": booking.source.as_str(),
        }),
    )
    .await?;
    Ok(id)
}

/// Books a meeting for a user (member or above; the caller checked the role).
pub async fn create(
    pool: &PgPool,
    actor: &Actor,
    client_id: ClientId,
    input: &MeetingCreate,
) -> Result<Meeting, UseCaseError> {
    let (duration, meeting_type) =
        parse_booking_fields(input.duration_minutes, input.meeting_type.as_deref())?;
    let booking = Booking {
        lead_id: LeadId::from_uuid(input.lead_id),
        scheduled_at: input.scheduled_at,
        duration_minutes: duration,
        meeting_type,
        source: MeetingSource::Manual,
        source_ref: None,
    };
    let mut tx = pool.begin().await?;
    let id = book(
        &mut tx,
        client_id,
        &booking,
        actor.user_id.map(UserId::from_uuid),
    )
    .await?;
    let meeting = store::get(&mut *tx, client_id, id).await?;
    audit(
        &mut tx,
        actor,
        client_id,
        "meeting.create",
        ("meeting", Some(id.into_uuid())),
        None,
        Some(json!({
            "lead_id": meeting.lead_id, "scheduled_at": meeting.scheduled_at,
            "duration_minutes": meeting.duration_minutes, "meeting_type": meeting.meeting_type.as_str(),
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(meeting)
}

/// Cancels a scheduled meeting (a cancelled one is answered as it is; a completed or no-show
/// meeting cannot be cancelled: 409).
pub async fn cancel(
    pool: &PgPool,
    actor: &Actor,
    client_id: ClientId,
    id: MeetingId,
) -> Result<Meeting, UseCaseError> {
    let mut tx = pool.begin().await?;
    let current = store::lock(&mut tx, client_id, id)
        .await
        .map_err(UseCaseError::not_found_as("meeting"))?;
    match current.status {
        MeetingStatus::Cancelled => return Ok(current),
        MeetingStatus::Scheduled => {}
        other => {
            return Err(UseCaseError::Conflict {
                code: "meeting_not_scheduled",
                message: format!("Only a scheduled meeting can be cancelled; this one is {other}."),
            });
        }
    }
    store::set_status(&mut *tx, client_id, id, MeetingStatus::Cancelled).await?;
    emit_event(
        &mut tx,
        client_id,
        EventType::MeetingCancelled,
        json!({
            "meeting_id": id, "lead_id": current.lead_id, "campaign_id": current.campaign_id,
            "scheduled_at": current.scheduled_at, "duration_minutes": current.duration_minutes,
            "meeting_type": current.meeting_type.as_str(),
        }),
    )
    .await?;
    audit(
        &mut tx,
        actor,
        client_id,
        "meeting.cancel",
        ("meeting", Some(id.into_uuid())),
        Some(json!({"status": current.status.as_str()})),
        Some(json!({"status": MeetingStatus::Cancelled.as_str()})),
    )
    .await?;
    let meeting = store::get(&mut *tx, client_id, id).await?;
    tx.commit().await?;
    Ok(meeting)
}
