//! Dead-letter jobs for platform admins: list them, and re-run one (`202`). The data
//! functions live in `agency_engine::jobs::admin`.

use agency_engine::jobs::admin::{self, DeadJob};
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, PlatformAdmin};
use crate::pagination::{Page, Pagination};
use crate::server::AppState;

/// A job in the dead-letter state.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeadJobDto {
    /// Job id.
    pub id: String,
    /// Job kind (e.g. `process_webhook_event`).
    pub kind: String,
    /// Lane: critical, default or bulk.
    pub queue: String,
    /// `Failed` (attempts used up) or `Killed` (permanent error).
    pub status: String,
    /// Attempts made.
    pub attempts: i32,
    /// Attempts allowed.
    pub max_attempts: i32,
    /// The last error.
    pub last_error: Option<String>,
    /// The job's payload.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// When it failed for good.
    pub failed_at: Option<DateTime<Utc>>,
}

impl From<DeadJob> for DeadJobDto {
    fn from(j: DeadJob) -> Self {
        Self {
            id: j.id,
            kind: j.kind,
            queue: j.queue.to_owned(),
            status: j.status.to_string(),
            attempts: j.attempts,
            max_attempts: j.max_attempts,
            last_error: j.last_error,
            payload: j.payload,
            failed_at: j.failed_at,
        }
    }
}

/// The answer of a retry.
#[derive(Debug, Serialize, ToSchema)]
pub struct RetriedJobDto {
    /// Job id.
    pub id: String,
    /// Job kind.
    pub kind: String,
    /// `Pending`: it runs again with a fresh attempt budget.
    pub status: String,
}

/// Path of a job.
#[derive(Debug, Deserialize)]
pub struct JobPath {
    /// Job id.
    pub id: String,
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_dead_jobs))
        .routes(routes!(retry_job))
}

/// Dead-letter jobs, most recently failed first.
#[utoipa::path(get, path = "/api/v1/admin/jobs/dead", tag = "admin",
    params(Pagination),
    responses((status = 200, body = Page<DeadJobDto>), (status = 403, body = ErrorBody)))]
pub async fn list_dead_jobs(
    State(state): State<AppState>,
    _admin: PlatformAdmin,
    p: Pagination,
) -> ApiResult<ApiJson<Page<DeadJobDto>>> {
    let page = admin::list_dead(&state.services.pool, p.page, p.page_size).await?;
    let items = page.items.into_iter().map(DeadJobDto::from).collect();
    Ok(ApiJson(Page::new(items, page.total, p)))
}

/// Re-runs a dead-letter job: back to pending, due now, with a fresh attempt budget.
#[utoipa::path(post, path = "/api/v1/admin/jobs/{id}/retry", tag = "admin",
    params(("id" = String, Path, description = "Job id")),
    responses((status = 202, body = RetriedJobDto), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn retry_job(
    State(state): State<AppState>,
    _admin: PlatformAdmin,
    ApiPath(path): ApiPath<JobPath>,
) -> ApiResult<(StatusCode, ApiJson<RetriedJobDto>)> {
    let job = admin::retry(&state.services.pool, &path.id).await?;
    Ok((
        StatusCode::ACCEPTED,
        ApiJson(RetriedJobDto {
            id: job.id,
            kind: job.kind,
            status: job.status.to_string(),
        }),
    ))
}
