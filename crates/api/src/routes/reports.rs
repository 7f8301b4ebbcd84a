//! Report routes under `/api/v1/reports` (membership of the client required, any role): the
//! client overview, the tier distribution, daily activity, a campaign's summary and daily
//! series, and a lead's engagement. The client comes from the path (`Tenant`), the
//! `client_id` query parameter, or the campaign's or lead's owner; each is checked through
//! [`Tenant::of_client`], so a client the caller is not a member of is 404.

use agency_domain::{CampaignId, ClientId, LeadId};
use agency_engine::reports::{
    self, CampaignReport, ClientReport, DailyReport, LeadDistribution, LeadEngagement, RangeQuery,
};
use axum::extract::State;
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, AuthUser, Tenant};
use crate::server::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(client_report))
        .routes(routes!(lead_distribution))
        .routes(routes!(daily_activity))
        .routes(routes!(campaign_report))
        .routes(routes!(campaign_daily))
        .routes(routes!(lead_engagement))
}

/// `client_id` and an optional `campaign_id`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DistributionQuery {
    /// The client (membership required).
    pub client_id: Uuid,
    /// Only this campaign's leads.
    pub campaign_id: Option<Uuid>,
}

/// `client_id`, an optional `campaign_id` and the range.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DailyQuery {
    /// The client (membership required).
    pub client_id: Uuid,
    /// Only this campaign's activities.
    pub campaign_id: Option<Uuid>,
    /// First day, `YYYY-MM-DD` (default: 29 days before `end_date`).
    pub start_date: Option<NaiveDate>,
    /// Last day, `YYYY-MM-DD` (default: today in the client's timezone).
    pub end_date: Option<NaiveDate>,
}

/// The tenant owning `owner` (a looked-up campaign or lead): none is 404 as `what`.
async fn tenant_of_owner(
    state: &AppState,
    user: AuthUser,
    owner: Option<ClientId>,
    what: &str,
) -> ApiResult<Tenant> {
    let client = owner.ok_or_else(|| ApiError::not_found(what))?;
    Tenant::of_client(state, user, client)
        .await
        .map_err(|_| ApiError::not_found(what))
}

/// The client overview: campaigns, leads, replies, conversions and channel performance over
/// a range of the client's local dates (default: the last 30 days).
#[utoipa::path(get, path = "/api/v1/reports/clients/{client_id}", tag = "reports",
    params(("client_id" = Uuid, Path), RangeQuery),
    responses((status = 200, body = ClientReport), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn client_report(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> ApiResult<ApiJson<ClientReport>> {
    Ok(ApiJson(
        reports::client_report(
            &state.services.pool,
            tenant.client_id,
            &q,
            state.services.clock.now(),
        )
        .await?,
    ))
}

/// Live leads per ALS tier of the client or one of its campaigns.
#[utoipa::path(get, path = "/api/v1/reports/leads/distribution", tag = "reports",
    params(DistributionQuery),
    responses((status = 200, body = LeadDistribution), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn lead_distribution(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<DistributionQuery>,
) -> ApiResult<ApiJson<LeadDistribution>> {
    let tenant = Tenant::of_client(&state, user, ClientId::from_uuid(q.client_id)).await?;
    let campaign = q.campaign_id.map(CampaignId::from_uuid);
    Ok(ApiJson(
        reports::lead_distribution(&state.services.pool, tenant.client_id, campaign).await?,
    ))
}

/// Activities per local day of the client (or one of its campaigns), every day present.
#[utoipa::path(get, path = "/api/v1/reports/activity/daily", tag = "reports",
    params(DailyQuery),
    responses((status = 200, body = DailyReport), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn daily_activity(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<DailyQuery>,
) -> ApiResult<ApiJson<DailyReport>> {
    let tenant = Tenant::of_client(&state, user, ClientId::from_uuid(q.client_id)).await?;
    let range = RangeQuery {
        start_date: q.start_date,
        end_date: q.end_date,
    };
    let campaign = q.campaign_id.map(CampaignId::from_uuid);
    Ok(ApiJson(
        reports::daily_activity(
            &state.services.pool,
            tenant.client_id,
            campaign,
            &range,
            state.services.clock.now(),
        )
        .await?,
    ))
}

/// One campaign's summary over a range (membership of its client required).
#[utoipa::path(get, path = "/api/v1/reports/campaigns/{id}", tag = "reports",
    params(("id" = Uuid, Path), RangeQuery),
    responses((status = 200, body = CampaignReport), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn campaign_report(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> ApiResult<ApiJson<CampaignReport>> {
    let campaign = CampaignId::from_uuid(id);
    let owner = reports::campaign_owner(&state.services.pool, campaign).await?;
    let tenant = tenant_of_owner(&state, user, owner, "campaign").await?;
    Ok(ApiJson(
        reports::campaign_report(
            &state.services.pool,
            tenant.client_id,
            campaign,
            &q,
            state.services.clock.now(),
        )
        .await?,
    ))
}

/// One campaign's activities per local day of its client.
#[utoipa::path(get, path = "/api/v1/reports/campaigns/{id}/daily", tag = "reports",
    params(("id" = Uuid, Path), RangeQuery),
    responses((status = 200, body = DailyReport), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn campaign_daily(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> ApiResult<ApiJson<DailyReport>> {
    let campaign = CampaignId::from_uuid(id);
    let owner = reports::campaign_owner(&state.services.pool, campaign).await?;
    let tenant = tenant_of_owner(&state, user, owner, "campaign").await?;
    Ok(ApiJson(
        reports::daily_activity(
            &state.services.pool,
            tenant.client_id,
            Some(campaign),
            &q,
            state.services.clock.now(),
        )
        .await?,
    ))
}

/// A lead's touches, opens, clicks, replies and latest activity (membership of its client
/// required).
#[utoipa::path(get, path = "/api/v1/reports/leads/{lead_id}/engagement", tag = "reports",
    params(("lead_id" = Uuid, Path)),
    responses((status = 200, body = LeadEngagement), (status = 404, body = ErrorBody)))]
async fn lead_engagement(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<ApiJson<LeadEngagement>> {
    let lead = LeadId::from_uuid(id);
    let owner = reports::lead_owner(&state.services.pool, lead).await?;
    let tenant = tenant_of_owner(&state, user, owner, "lead").await?;
    Ok(ApiJson(
        reports::lead_engagement(&state.services.pool, tenant.client_id, lead).await?,
    ))
}
