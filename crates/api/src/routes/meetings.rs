//! Meeting routes under `/api/v1/clients/{client_id}/meetings` (API_CONTRACT "Meetings"):
//! the list (`upcoming=true`, `limit`; `{items, total}` with the total of all matches), booking
//! (member or above; an overlap with another scheduled meeting of the client is 409) and
//! cancelling.

use agency_domain::{MeetingId, Role};
use agency_engine::inbound::meetings::{self, MeetingCreate};
use agency_engine::records::Meeting;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Tenant};
use crate::routes::campaigns::actor;
use crate::server::AppState;

/// A meeting as the dashboard reads it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingDto {
    /// Meeting id.
    pub id: Uuid,
    /// The lead.
    pub lead_id: Uuid,
    /// The lead's name (its email when it has none).
    pub lead_name: String,
    /// The lead's company.
    pub lead_company: Option<String>,
    /// Start.
    pub scheduled_at: DateTime<Utc>,
    /// Minutes.
    pub duration_minutes: i32,
    /// `discovery`, `demo` or `follow_up`.
    pub meeting_type: String,
    /// Calendar link.
    pub calendar_link: Option<String>,
    /// `scheduled`, `completed`, `cancelled` or `no_show`.
    pub status: String,
    /// Booked at.
    pub created_at: DateTime<Utc>,
}

impl From<Meeting> for MeetingDto {
    fn from(m: Meeting) -> Self {
        Self {
            id: m.id.into_uuid(),
            lead_id: m.lead_id.into_uuid(),
            lead_name: m.lead_name,
            lead_company: m.lead_company,
            scheduled_at: m.scheduled_at,
            duration_minutes: m.duration_minutes,
            meeting_type: m.meeting_type.as_str().to_owned(),
            calendar_link: m.calendar_link,
            status: m.status.as_str().to_owned(),
            created_at: m.created_at,
        }
    }
}

/// The meeting list: `{items, total}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct MeetingList {
    /// The meetings returned (at most `limit`).
    pub items: Vec<MeetingDto>,
    /// All matching meetings.
    pub total: i64,
}

/// Query of the meeting list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MeetingQuery {
    /// `true`: only scheduled meetings still ahead, soonest first.
    pub upcoming: Option<String>,
    /// At most this many (1-100, default 50).
    pub limit: Option<String>,
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_meetings, create_meeting))
        .routes(routes!(cancel_meeting))
}

fn parse_query(q: &MeetingQuery) -> ApiResult<(bool, Option<i64>)> {
    let upcoming = match q.upcoming.as_deref().map(str::trim) {
        None | Some("") | Some("false") => false,
        Some("true") => true,
        Some(_) => return Err(ApiError::field("upcoming", "must be true or false")),
    };
    let limit = match q.limit.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(
            text.parse::<i64>()
                .map_err(|_| ApiError::field("limit", "must be a whole number"))?,
        ),
    };
    Ok((upcoming, limit))
}

/// The client's meetings.
#[utoipa::path(get, path = "/api/v1/clients/{client_id}/meetings", tag = "meetings",
    params(("client_id" = Uuid, Path), MeetingQuery),
    responses((status = 200, body = MeetingList), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_meetings(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<MeetingQuery>,
) -> ApiResult<ApiJson<MeetingList>> {
    let (upcoming, limit) = parse_query(&q)?;
    let (items, total) =
        meetings::list(&state.services.pool, tenant.client_id, upcoming, limit).await?;
    Ok(ApiJson(MeetingList {
        items: items.into_iter().map(MeetingDto::from).collect(),
        total,
    }))
}

/// Books a meeting with a lead of the client (member or above); overlap 409.
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/meetings", tag = "meetings",
    params(("client_id" = Uuid, Path)), request_body = MeetingCreate,
    responses((status = 201, body = MeetingDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_meeting(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<MeetingCreate>,
) -> ApiResult<(StatusCode, ApiJson<MeetingDto>)> {
    tenant.require(Role::Member)?;
    let meeting = meetings::create(
        &state.services.pool,
        &actor(&tenant),
        tenant.client_id,
        &body,
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(meeting.into())))
}

/// Cancels a scheduled meeting (member or above).
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/meetings/{id}/cancel", tag = "meetings",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = MeetingDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn cancel_meeting(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath((_client, id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<ApiJson<MeetingDto>> {
    tenant.require(Role::Member)?;
    let meeting = meetings::cancel(
        &state.services.pool,
        &actor(&tenant),
        tenant.client_id,
        MeetingId::from_uuid(id),
    )
    .await?;
    Ok(ApiJson(meeting.into()))
}
