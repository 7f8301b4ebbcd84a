//! Clients (tenants): create (the caller becomes owner), read and update settings, and the
//! ICP profile (`/clients/{client_id}/icp`). Reads: any member; writes: admin or owner.

use agency_engine::clients::{self, ClientCreate, ClientRow, ClientUpdate, IcpUpdate};
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, AuthUser, Tenant};
use crate::request_id;
use crate::server::AppState;

/// A client's settings.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientDto {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Plan tier: ignition, velocity or dominance.
    pub tier: String,
    /// Billing state.
    pub subscription_status: String,
    /// Lead credits left this month.
    pub credits_remaining: i32,
    /// autopilot, co_pilot or manual.
    pub default_permission_mode: String,
    /// IANA timezone.
    pub timezone: String,
    /// Daily AI budget (AUD).
    #[schema(value_type = f64)]
    #[serde(with = "rust_decimal::serde::float")]
    pub daily_ai_budget_aud: Decimal,
    /// Competitors' domains.
    pub competitor_domains: Vec<String>,
    /// Website.
    pub website_url: Option<String>,
    /// What the company does.
    pub company_description: Option<String>,
    /// Main value proposition.
    pub value_proposition: Option<String>,
    /// Default offer.
    pub default_offer: Option<String>,
    /// ICP industries.
    pub icp_industries: Vec<String>,
    /// ICP company sizes.
    pub icp_company_sizes: Vec<String>,
    /// ICP locations.
    pub icp_locations: Vec<String>,
    /// ICP titles.
    pub icp_titles: Vec<String>,
    /// ICP pain points.
    pub icp_pain_points: Vec<String>,
    /// When the ICP was confirmed.
    pub icp_confirmed_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<ClientRow> for ClientDto {
    fn from(r: ClientRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            tier: r.tier,
            subscription_status: r.subscription_status,
            credits_remaining: r.credits_remaining,
            default_permission_mode: r.default_permission_mode,
            timezone: r.timezone,
            daily_ai_budget_aud: r.daily_ai_budget_aud,
            competitor_domains: r.competitor_domains,
            website_url: r.website_url,
            company_description: r.company_description,
            value_proposition: r.value_proposition,
            default_offer: r.default_offer,
            icp_industries: r.icp_industries,
            icp_company_sizes: r.icp_company_sizes,
            icp_locations: r.icp_locations,
            icp_titles: r.icp_titles,
            icp_pain_points: r.icp_pain_points,
            icp_confirmed_at: r.icp_confirmed_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The ICP profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct IcpDto {
    /// The profile id (the client's id: one profile per client).
    pub id: Uuid,
    /// Client id.
    pub client_id: Uuid,
    /// Industries.
    pub target_industries: Vec<String>,
    /// Company sizes.
    pub target_company_sizes: Vec<String>,
    /// Job titles.
    pub target_job_titles: Vec<String>,
    /// Locations.
    pub target_locations: Vec<String>,
    /// Lowest target revenue (AUD).
    #[schema(value_type = Option<f64>)]
    #[serde(default, with = "rust_decimal::serde::float_option")]
    pub revenue_range_min: Option<Decimal>,
    /// Highest target revenue (AUD).
    #[schema(value_type = Option<f64>)]
    #[serde(default, with = "rust_decimal::serde::float_option")]
    pub revenue_range_max: Option<Decimal>,
    /// Keywords.
    pub keywords: Vec<String>,
    /// Exclusions.
    pub exclusions: Vec<String>,
    /// Pain points.
    pub pain_points: Vec<String>,
    /// Value propositions.
    pub value_propositions: Vec<String>,
    /// Whether it came from analysing the website.
    pub extracted_from_website: bool,
    /// When it was last extracted.
    pub last_extraction_at: Option<DateTime<Utc>>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<ClientRow> for IcpDto {
    fn from(r: ClientRow) -> Self {
        let value_propositions = if r.icp_value_propositions.is_empty() {
            r.value_proposition.clone().into_iter().collect()
        } else {
            r.icp_value_propositions
        };
        Self {
            id: r.id,
            client_id: r.id,
            target_industries: r.icp_industries,
            target_company_sizes: r.icp_company_sizes,
            target_job_titles: r.icp_titles,
            target_locations: r.icp_locations,
            revenue_range_min: r.icp_revenue_min,
            revenue_range_max: r.icp_revenue_max,
            keywords: r.icp_keywords,
            exclusions: r.icp_exclusions,
            pain_points: r.icp_pain_points,
            value_propositions,
            extracted_from_website: r.icp_last_extraction_at.is_some(),
            last_extraction_at: r.icp_last_extraction_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_client))
        .routes(routes!(get_client, update_client))
        .routes(routes!(get_icp, update_icp))
}

/// Creates a client; the caller becomes its owner. A new client is a trial (ignition tier,
/// `trialing`, `TRIAL_LEAD_CREDITS` credits) whatever `tier` says; more than
/// `CLIENTS_PER_USER_PER_DAY` in 24 hours is 429 `client_limit_reached`.
#[utoipa::path(post, path = "/api/v1/clients", tag = "clients", request_body = ClientCreate,
    responses((status = 201, body = ClientDto), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub async fn create_client(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<ClientCreate>,
) -> ApiResult<(StatusCode, ApiJson<ClientDto>)> {
    let row = clients::create(
        &state.services,
        user.id,
        request_id::current(),
        body,
        state.settings.new_clients,
    )
    .await?;
    Ok((StatusCode::CREATED, ApiJson(row.into())))
}

/// A client's settings (any member).
#[utoipa::path(get, path = "/api/v1/clients/{client_id}", tag = "clients",
    params(("client_id" = Uuid, Path, description = "Client id")),
    responses((status = 200, body = ClientDto), (status = 404, body = ErrorBody)))]
pub async fn get_client(
    State(state): State<AppState>,
    tenant: Tenant,
) -> ApiResult<ApiJson<ClientDto>> {
    Ok(ApiJson(
        clients::get(&state.services, &tenant.context())
            .await?
            .into(),
    ))
}

/// Updates a client's settings (admin or owner).
#[utoipa::path(put, path = "/api/v1/clients/{client_id}", tag = "clients", request_body = ClientUpdate,
    params(("client_id" = Uuid, Path, description = "Client id")),
    responses((status = 200, body = ClientDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_client(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<ClientUpdate>,
) -> ApiResult<ApiJson<ClientDto>> {
    let row = clients::update_settings(&state.services, &tenant.context(), body).await?;
    Ok(ApiJson(row.into()))
}

/// The client's ICP profile (any member).
#[utoipa::path(get, path = "/api/v1/clients/{client_id}/icp", tag = "clients",
    params(("client_id" = Uuid, Path, description = "Client id")),
    responses((status = 200, body = IcpDto), (status = 404, body = ErrorBody)))]
pub async fn get_icp(State(state): State<AppState>, tenant: Tenant) -> ApiResult<ApiJson<IcpDto>> {
    Ok(ApiJson(
        clients::get(&state.services, &tenant.context())
            .await?
            .into(),
    ))
}

/// Updates the ICP profile (admin or owner).
#[utoipa::path(put, path = "/api/v1/clients/{client_id}/icp", tag = "clients", request_body = IcpUpdate,
    params(("client_id" = Uuid, Path, description = "Client id")),
    responses((status = 200, body = IcpDto), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub async fn update_icp(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiJson(body): ApiJson<IcpUpdate>,
) -> ApiResult<ApiJson<IcpDto>> {
    let row = clients::update_icp(&state.services, &tenant.context(), body).await?;
    Ok(ApiJson(row.into()))
}
