//! The platform-admin console (`/api/v1/admin`, platform admins only): stats, system status,
//! alerts (list, acknowledge), the activity feed, the client list and detail, a client's plan
//! change, and revenue.
//! The data comes from `agency_engine::admin`; thresholds and prices from the API config.

use agency_domain::{ClientId, SubscriptionStatus};
use agency_engine::admin::{
    self, AdminClient, AdminClientDetail, AdminClientQuery, Alert, FeedItem, PlanChange,
    PlatformStats, Revenue, SystemStatus,
};
use agency_engine::reports::RangeQuery;
use axum::extract::State;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, ApiQuery, PlatformAdmin};
use crate::pagination::{Page, Pagination};
use crate::request_id;
use crate::server::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stats))
        .routes(routes!(system_status))
        .routes(routes!(list_alerts))
        .routes(routes!(acknowledge_alert))
        .routes(routes!(activity))
        .routes(routes!(list_clients))
        .routes(routes!(client_detail, change_plan))
        .routes(routes!(revenue))
}

/// Headline numbers of the platform.
#[utoipa::path(get, path = "/api/v1/admin/stats", tag = "admin",
    responses((status = 200, body = PlatformStats), (status = 403, body = ErrorBody)))]
async fn stats(
    State(state): State<AppState>,
    _admin: PlatformAdmin,
) -> ApiResult<ApiJson<PlatformStats>> {
    let settings = state.settings.admin;
    Ok(ApiJson(
        admin::platform_stats(
            &state.services.pool,
            &settings,
            state
                .services
                .providers
                .ai
                .settings()
                .platform_daily_cap_aud,
            state.services.clock.now(),
        )
        .await?,
    ))
}

/// Every service checked now, provider circuits included (raises alerts for dead letters over
/// the threshold, a silent scheduler and open provider circuits).
#[utoipa::path(get, path = "/api/v1/admin/system/status", tag = "admin",
    responses((status = 200, body = SystemStatus), (status = 403, body = ErrorBody)))]
async fn system_status(
    State(state): State<AppState>,
    _admin: PlatformAdmin,
) -> ApiResult<ApiJson<SystemStatus>> {
    let settings = state.settings.admin;
    Ok(ApiJson(
        admin::system_status(
            &state.services.pool,
            &state.services.cache,
            &settings,
            state.services.clock.now(),
        )
        .await?,
    ))
}

/// Alerts, open ones first (the system checks run first, so current problems are listed).
#[utoipa::path(get, path = "/api/v1/admin/alerts", tag = "admin",
    responses((status = 200, body = Vec<Alert>), (status = 403, body = ErrorBody)))]
async fn list_alerts(
    State(state): State<AppState>,
    _admin: PlatformAdmin,
) -> ApiResult<ApiJson<Vec<Alert>>> {
    let settings = state.settings.admin;
    admin::check_alerts(&state.services.pool, &settings, state.services.clock.now()).await?;
    Ok(ApiJson(admin::list_alerts(&state.services.pool).await?))
}

/// Path of an alert or a client.
#[derive(Debug, Deserialize)]
pub struct IdPath {
    /// The id.
    pub id: Uuid,
}

/// Acknowledges an alert (again: no change); answers the alert.
#[utoipa::path(post, path = "/api/v1/admin/alerts/{id}/acknowledge", tag = "admin",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = Alert), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn acknowledge_alert(
    State(state): State<AppState>,
    PlatformAdmin(user): PlatformAdmin,
    ApiPath(path): ApiPath<IdPath>,
) -> ApiResult<ApiJson<Alert>> {
    Ok(ApiJson(
        admin::acknowledge_alert(
            &state.services.pool,
            path.id,
            user.id,
            request_id::current(),
        )
        .await?,
    ))
}

/// `limit` of the activity feed.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// Items (default 20, 1-100).
    pub limit: Option<i64>,
}

/// The latest activities across clients.
#[utoipa::path(get, path = "/api/v1/admin/activity", tag = "admin",
    params(FeedQuery),
    responses((status = 200, body = Vec<FeedItem>), (status = 403, body = ErrorBody)))]
async fn activity(
    State(state): State<AppState>,
    _admin: PlatformAdmin,
    ApiQuery(q): ApiQuery<FeedQuery>,
) -> ApiResult<ApiJson<Vec<FeedItem>>> {
    let limit = q.limit.unwrap_or(admin::FEED_DEFAULT);
    Ok(ApiJson(
        admin::activity_feed(&state.services.pool, None, limit).await?,
    ))
}

/// Filters of the client list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClientFilters {
    /// Substring of the name, case-insensitive.
    pub search: Option<String>,
    /// Subscription status: trialing, active, past_due, cancelled or paused.
    pub status: Option<String>,
}

/// Clients by name, paged, with MRR and health score.
#[utoipa::path(get, path = "/api/v1/admin/clients", tag = "admin",
    params(Pagination, ClientFilters),
    responses((status = 200, body = Page<AdminClient>), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn list_clients(
    State(state): State<AppState>,
    _admin: PlatformAdmin,
    p: Pagination,
    ApiQuery(f): ApiQuery<ClientFilters>,
) -> ApiResult<ApiJson<Page<AdminClient>>> {
    let status = match f.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            s.parse::<SubscriptionStatus>()
                .map_err(|e| ApiError::field("status", e.to_string()))?,
        ),
    };
    let q = AdminClientQuery {
        search: f.search,
        status,
        limit: p.limit(),
        offset: p.offset(),
    };
    let settings = state.settings.admin;
    let (items, total) = admin::clients_page(
        &state.services.pool,
        &settings,
        &q,
        state.services.clock.now(),
    )
    .await?;
    Ok(ApiJson(Page::new(items, total, p)))
}

/// One client with its campaigns, team members and recent activity.
#[utoipa::path(get, path = "/api/v1/admin/clients/{id}", tag = "admin",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = AdminClientDetail), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn client_detail(
    State(state): State<AppState>,
    _admin: PlatformAdmin,
    ApiPath(path): ApiPath<IdPath>,
) -> ApiResult<ApiJson<AdminClientDetail>> {
    let settings = state.settings.admin;
    Ok(ApiJson(
        admin::client_detail(
            &state.services.pool,
            &settings,
            ClientId::from_uuid(path.id),
            state.services.clock.now(),
        )
        .await?,
    ))
}

/// Changes a client's tier or subscription status (platform admins; audited). A trial that
/// becomes `active` gets its tier's monthly credits. Answers the client's detail.
#[utoipa::path(patch, path = "/api/v1/admin/clients/{id}", tag = "admin",
    params(("id" = Uuid, Path)), request_body = PlanChange,
    responses((status = 200, body = AdminClientDetail), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn change_plan(
    State(state): State<AppState>,
    PlatformAdmin(admin): PlatformAdmin,
    ApiPath(path): ApiPath<IdPath>,
    ApiJson(body): ApiJson<PlanChange>,
) -> ApiResult<ApiJson<AdminClientDetail>> {
    let client = ClientId::from_uuid(path.id);
    let now = state.services.clock.now();
    admin::change_plan(&state.services.pool, admin.id, client, &body, now).await?;
    let settings = state.settings.admin;
    Ok(ApiJson(
        admin::client_detail(&state.services.pool, &settings, client, now).await?,
    ))
}

/// MRR, ARR, growth and churn over a period (default: the last 30 days); no transactions
/// are recorded.
#[utoipa::path(get, path = "/api/v1/admin/revenue", tag = "admin",
    params(RangeQuery),
    responses((status = 200, body = Revenue), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn revenue(
    State(state): State<AppState>,
    _admin: PlatformAdmin,
    ApiQuery(q): ApiQuery<RangeQuery>,
) -> ApiResult<ApiJson<Revenue>> {
    let settings = state.settings.admin;
    Ok(ApiJson(
        admin::revenue(
            &state.services.pool,
            &settings,
            &q,
            state.services.clock.now(),
        )
        .await?,
    ))
}
