//! Reply routes under `/api/v1/clients/{client_id}/replies` (API_CONTRACT "Replies"): the
//! paged list with filters, one reply, and the handled mark (member or above).

use agency_domain::{ReplyId, Role};
use agency_engine::inbound::replies::{self, ReplyQuery};
use agency_engine::records::Reply;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Tenant};
use crate::pagination::{Page, Pagination};
use crate::routes::campaigns::actor;
use crate::server::AppState;

/// The lead a reply came from.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyLeadDto {
    /// Lead id.
    pub id: Uuid,
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Email.
    pub email: String,
    /// Company.
    pub company: Option<String>,
}

/// A reply as the dashboard reads it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplyDto {
    /// Reply id.
    pub id: Uuid,
    /// The matched lead's id (null: the sender matched no lead).
    pub lead_id: Option<Uuid>,
    /// The matched lead.
    pub lead: Option<ReplyLeadDto>,
    /// The lead's campaign.
    pub campaign_id: Option<Uuid>,
    /// The campaign's name.
    pub campaign_name: Option<String>,
    /// `email`, `sms`, ...
    pub channel: String,
    /// Classified intent (null until classified).
    pub intent: Option<String>,
    /// Confidence 0-1.
    pub intent_confidence: Option<f64>,
    /// The text.
    pub content: String,
    /// Email subject.
    pub subject: Option<String>,
    /// Arrival time.
    pub received_at: DateTime<Utc>,
    /// Marked handled.
    pub handled: bool,
    /// When it was marked handled.
    pub handled_at: Option<DateTime<Utc>>,
}

impl From<Reply> for ReplyDto {
    fn from(r: Reply) -> Self {
        Self {
            id: r.id.into_uuid(),
            lead_id: r.lead.as_ref().map(|l| l.id.into_uuid()),
            lead: r.lead.map(|l| ReplyLeadDto {
                id: l.id.into_uuid(),
                first_name: l.first_name,
                last_name: l.last_name,
                email: l.email,
                company: l.company,
            }),
            campaign_id: r.campaign_id.map(Into::into),
            campaign_name: r.campaign_name,
            channel: r.channel.as_str().to_owned(),
            intent: r.intent.map(|i| i.as_str().to_owned()),
            intent_confidence: r.intent_confidence,
            content: r.content,
            subject: r.subject,
            received_at: r.received_at,
            handled: r.handled_at.is_some(),
            handled_at: r.handled_at,
        }
    }
}

/// `PATCH /replies/{id}/handled` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandledBody {
    /// Handled or not.
    pub handled: bool,
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_replies))
        .routes(routes!(get_reply))
        .routes(routes!(set_handled))
}

/// The client's replies, newest first.
#[utoipa::path(get, path = "/api/v1/clients/{client_id}/replies", tag = "replies",
    params(("client_id" = Uuid, Path), Pagination, ReplyQuery),
    responses((status = 200, body = Page<ReplyDto>), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_replies(
    State(state): State<AppState>,
    tenant: Tenant,
    p: Pagination,
    ApiQuery(q): ApiQuery<ReplyQuery>,
) -> ApiResult<ApiJson<Page<ReplyDto>>> {
    let (items, total) = replies::list(
        &state.services.pool,
        tenant.client_id,
        &q,
        p.limit(),
        p.offset(),
    )
    .await?;
    Ok(ApiJson(Page::new(items, total, p).map(ReplyDto::from)))
}

/// One reply.
#[utoipa::path(get, path = "/api/v1/clients/{client_id}/replies/{id}", tag = "replies",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path)),
    responses((status = 200, body = ReplyDto), (status = 404, body = ErrorBody)))]
async fn get_reply(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath((_client, id)): ApiPath<(Uuid, Uuid)>,
) -> ApiResult<ApiJson<ReplyDto>> {
    let reply = replies::get(
        &state.services.pool,
        tenant.client_id,
        ReplyId::from_uuid(id),
    )
    .await?;
    Ok(ApiJson(reply.into()))
}

/// Marks a reply handled or not (member or above).
#[utoipa::path(patch, path = "/api/v1/clients/{client_id}/replies/{id}/handled", tag = "replies",
    params(("client_id" = Uuid, Path), ("id" = Uuid, Path)), request_body = HandledBody,
    responses((status = 200, body = ReplyDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn set_handled(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath((_client, id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(body): ApiJson<HandledBody>,
) -> ApiResult<ApiJson<ReplyDto>> {
    tenant.require(Role::Member)?;
    let reply = replies::set_handled(
        &state.services.pool,
        &actor(&tenant),
        tenant.client_id,
        ReplyId::from_uuid(id),
        body.handled,
    )
    .await?;
    Ok(ApiJson(reply.into()))
}
