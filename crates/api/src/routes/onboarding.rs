//! Onboarding and ICP analysis routes: `POST /onboarding/analyze` (the caller's client),
//! `GET /onboarding/status/{job_id}`, `GET /onboarding/result/{job_id}` (202 while running),
//! `POST /onboarding/confirm`, and `POST /clients/{client_id}/icp/reanalyze`. A caller only
//! sees analyses of clients they are a member of (404 otherwise). Each handler calls one
//! engine function in `agency_engine::onboarding`.

use agency_domain::icp::{AnalysisStatus, AnalysisStep, IcpProfile, progress_percent};
use agency_domain::{OnboardingJobId, Role};
use agency_engine::onboarding::{self, AnalysisResult, IcpAdjustments};
use agency_engine::records::OnboardingJob;
use agency_engine::usecase::Actor;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use super::campaigns::actor;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiPath, AuthUser, Tenant};
use crate::request_id;
use crate::server::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(analyze))
        .routes(routes!(analysis_status))
        .routes(routes!(analysis_result))
        .routes(routes!(confirm))
        .routes(routes!(reanalyze))
}

fn user_actor(user: &AuthUser) -> Actor {
    Actor {
        user_id: Some(user.id.into_uuid()),
        request_id: request_id::current(),
    }
}

/// `POST /onboarding/analyze` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AnalyzeRequest {
    /// The agency's website (`https://` is added when missing).
    pub website_url: String,
}

/// An analysis was queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnalysisQueued {
    /// The analysis id.
    pub job_id: Uuid,
    /// `pending`.
    pub status: String,
}

/// One of the eight steps.
#[derive(Debug, Serialize, ToSchema)]
pub struct StepDto {
    /// Step name, e.g. `fetching_website`.
    pub name: String,
    /// Label for people.
    pub label: String,
    /// Overall progress once this step is done (0-100).
    pub percent: f64,
    /// `pending`, `running`, `completed` or `failed`.
    pub status: String,
}

/// Progress of an analysis.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnalysisStatusDto {
    /// The analysis id.
    pub job_id: Uuid,
    /// `pending`, `running`, `completed` or `failed`.
    pub status: String,
    /// The step under way (the last one reached once ended).
    pub current_step: Option<String>,
    /// Steps done.
    pub completed_steps: u32,
    /// Steps in total (8).
    pub total_steps: u32,
    /// 0-100.
    pub progress_percent: f64,
    /// Why it failed, for people.
    pub error_message: Option<String>,
    /// Started.
    pub started_at: Option<DateTime<Utc>>,
    /// Completed or failed.
    pub completed_at: Option<DateTime<Utc>>,
    /// The eight steps with their state.
    pub steps: Vec<StepDto>,
}

impl From<OnboardingJob> for AnalysisStatusDto {
    fn from(j: OnboardingJob) -> Self {
        let done = j.completed_steps as usize;
        let steps = AnalysisStep::ALL
            .iter()
            .map(|s| {
                let n = s.number();
                let status = if n <= done {
                    "completed"
                } else if n == done + 1 && j.status == AnalysisStatus::Running {
                    "running"
                } else if n == done + 1 && j.status == AnalysisStatus::Failed {
                    "failed"
                } else {
                    "pending"
                };
                StepDto {
                    name: s.as_str().to_owned(),
                    label: s.label().to_owned(),
                    percent: s.percent_when_done(),
                    status: status.to_owned(),
                }
            })
            .collect();
        Self {
            job_id: j.id.into_uuid(),
            status: j.status.as_str().to_owned(),
            current_step: j.current_step.map(|s| s.as_str().to_owned()),
            completed_steps: j.completed_steps,
            total_steps: AnalysisStep::COUNT as u32,
            progress_percent: progress_percent(done),
            error_message: j.error_message,
            started_at: j.started_at,
            completed_at: j.completed_at,
            steps,
        }
    }
}

/// Suggested ALS weights (sum to 1).
#[derive(Debug, Serialize, ToSchema)]
pub struct AlsWeightsDto {
    /// data_quality.
    pub data_quality: f64,
    /// authority.
    pub authority: f64,
    /// company_fit.
    pub company_fit: f64,
    /// timing.
    pub timing: f64,
    /// risk.
    pub risk: f64,
}

/// The extracted profile (`GET /onboarding/result/{job_id}`); every list is an array.
#[derive(Debug, Serialize, ToSchema)]
pub struct IcpProfileDto {
    /// Company name.
    pub company_name: String,
    /// The site analysed.
    pub website_url: String,
    /// What the company does.
    pub company_description: Option<String>,
    /// Services offered.
    pub services_offered: Vec<String>,
    /// Broad service categories.
    pub primary_service_categories: Vec<String>,
    /// Main value proposition.
    pub value_proposition: Option<String>,
    /// Taglines.
    pub taglines: Vec<String>,
    /// Differentiators.
    pub differentiators: Vec<String>,
    /// People in the agency.
    pub team_size: Option<u32>,
    /// `1-10` ... `500+`.
    pub size_range: Option<String>,
    /// Years since founding.
    pub years_in_business: Option<u32>,
    /// Portfolio companies.
    pub portfolio_companies: Vec<String>,
    /// Brands shown as clients.
    pub notable_brands: Vec<String>,
    /// Target industries.
    pub icp_industries: Vec<String>,
    /// Target company sizes.
    pub icp_company_sizes: Vec<String>,
    /// Target revenue ranges (AUD).
    pub icp_revenue_ranges: Vec<String>,
    /// Target locations.
    pub icp_locations: Vec<String>,
    /// Decision makers' titles.
    pub icp_titles: Vec<String>,
    /// Pain points.
    pub icp_pain_points: Vec<String>,
    /// Buying signals.
    pub icp_signals: Vec<String>,
    /// Suggested ALS weights.
    pub als_weights: AlsWeightsDto,
    /// The ideal customer in one sentence.
    pub pattern_description: String,
    /// 0-1.
    pub confidence: f64,
    /// `deterministic` or `ai`.
    pub extraction_method: String,
    /// When it was extracted.
    pub extracted_at: DateTime<Utc>,
    /// When it was confirmed.
    pub confirmed_at: Option<DateTime<Utc>>,
}

fn number(d: rust_decimal::Decimal) -> f64 {
    use rust_decimal::prelude::ToPrimitive;
    d.to_f64().unwrap_or(0.0)
}

impl From<IcpProfile> for IcpProfileDto {
    fn from(p: IcpProfile) -> Self {
        let w = p.als_weights;
        Self {
            company_name: p.company_name,
            website_url: p.website_url,
            company_description: p.company_description,
            services_offered: p.services_offered,
            primary_service_categories: p.primary_service_categories,
            value_proposition: p.value_proposition,
            taglines: p.taglines,
            differentiators: p.differentiators,
            team_size: p.team_size,
            size_range: p.size_range,
            years_in_business: p.years_in_business,
            portfolio_companies: p.portfolio_companies,
            notable_brands: p.notable_brands,
            icp_industries: p.icp_industries,
            icp_company_sizes: p.icp_company_sizes,
            icp_revenue_ranges: p.icp_revenue_ranges,
            icp_locations: p.icp_locations,
            icp_titles: p.icp_titles,
            icp_pain_points: p.icp_pain_points,
            icp_signals: p.icp_signals,
            als_weights: AlsWeightsDto {
                data_quality: number(w.data_quality),
                authority: number(w.authority),
                company_fit: number(w.company_fit),
                timing: number(w.timing),
                risk: number(w.risk),
            },
            pattern_description: p.pattern_description,
            confidence: number(p.confidence),
            extraction_method: serde_json::to_value(p.extraction_method)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
            extracted_at: p.extracted_at,
            confirmed_at: p.confirmed_at,
        }
    }
}

/// `POST /onboarding/confirm` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ConfirmRequest {
    /// The analysis to confirm.
    pub job_id: Uuid,
    /// Changes to the extracted profile.
    #[serde(default)]
    pub adjustments: Option<IcpAdjustments>,
}

/// The profile was confirmed.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfirmResponse {
    /// Always true.
    pub success: bool,
    /// For people.
    pub message: String,
    /// The client the profile was written to.
    pub client_id: Uuid,
}

/// A re-analysis was queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReanalysisQueued {
    /// The analysis id (its progress: `GET /onboarding/status/{task_id}`).
    pub task_id: Uuid,
}

/// Still running.
#[derive(Debug, Serialize, ToSchema)]
pub struct StillRunning {
    /// For people.
    pub detail: String,
}

/// Starts analysing the caller's agency website (their first accepted membership).
#[utoipa::path(post, path = "/api/v1/onboarding/analyze", tag = "onboarding", request_body = AnalyzeRequest,
    responses((status = 202, body = AnalysisQueued), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn analyze(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<AnalyzeRequest>,
) -> ApiResult<(StatusCode, ApiJson<AnalysisQueued>)> {
    let job = onboarding::start_onboarding(
        &state.services.pool,
        &user_actor(&user),
        user.id,
        &body.website_url,
    )
    .await?;
    Ok((
        StatusCode::ACCEPTED,
        ApiJson(AnalysisQueued {
            job_id: job.id.into_uuid(),
            status: job.status.as_str().to_owned(),
        }),
    ))
}

/// Progress of an analysis.
#[utoipa::path(get, path = "/api/v1/onboarding/status/{job_id}", tag = "onboarding",
    params(("job_id" = Uuid, Path, description = "Analysis id")),
    responses((status = 200, body = AnalysisStatusDto), (status = 404, body = ErrorBody)))]
pub async fn analysis_status(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(job_id): ApiPath<Uuid>,
) -> ApiResult<ApiJson<AnalysisStatusDto>> {
    let job = onboarding::status(
        &state.services.pool,
        user.id,
        OnboardingJobId::from_uuid(job_id),
    )
    .await?;
    Ok(ApiJson(job.into()))
}

/// The extracted profile (202 while the analysis runs; 409 when it failed).
#[utoipa::path(get, path = "/api/v1/onboarding/result/{job_id}", tag = "onboarding",
    params(("job_id" = Uuid, Path, description = "Analysis id")),
    responses((status = 200, body = IcpProfileDto), (status = 202, body = StillRunning),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn analysis_result(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(job_id): ApiPath<Uuid>,
) -> ApiResult<Response> {
    match onboarding::result(
        &state.services.pool,
        user.id,
        OnboardingJobId::from_uuid(job_id),
    )
    .await?
    {
        AnalysisResult::Ready(profile) => {
            Ok(ApiJson(IcpProfileDto::from(*profile)).into_response())
        }
        AnalysisResult::Running => Ok((
            StatusCode::ACCEPTED,
            ApiJson(StillRunning {
                detail: "The website analysis is still running. Check again in a few seconds."
                    .into(),
            }),
        )
            .into_response()),
        AnalysisResult::Failed(message) => Err(ApiError::conflict("analysis_failed", message)),
    }
}

/// Confirms the profile (with adjustments) onto the agency (admin or owner).
#[utoipa::path(post, path = "/api/v1/onboarding/confirm", tag = "onboarding", request_body = ConfirmRequest,
    responses((status = 200, body = ConfirmResponse), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub async fn confirm(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<ConfirmRequest>,
) -> ApiResult<ApiJson<ConfirmResponse>> {
    let client_id = onboarding::confirm(
        &state.services.pool,
        &user_actor(&user),
        user.id,
        OnboardingJobId::from_uuid(body.job_id),
        body.adjustments.unwrap_or_default(),
    )
    .await?;
    Ok(ApiJson(ConfirmResponse {
        success: true,
        message: "Your ideal customer profile is saved.".into(),
        client_id: client_id.into_uuid(),
    }))
}

/// Re-analyses the client's website; the profile is written to the client when done (admin or owner).
#[utoipa::path(post, path = "/api/v1/clients/{client_id}/icp/reanalyze", tag = "clients",
    params(("client_id" = Uuid, Path, description = "Client id")),
    responses((status = 202, body = ReanalysisQueued), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn reanalyze(
    State(state): State<AppState>,
    tenant: Tenant,
) -> ApiResult<(StatusCode, ApiJson<ReanalysisQueued>)> {
    tenant.require(Role::Admin)?;
    let job =
        onboarding::reanalyze(&state.services.pool, &actor(&tenant), tenant.client_id).await?;
    Ok((
        StatusCode::ACCEPTED,
        ApiJson(ReanalysisQueued {
            task_id: job.id.into_uuid(),
        }),
    ))
}
