//! Clients (tenants): create (the caller becomes owner), read and update settings, and the
//! ICP profile (`/clients/{client_id}/icp`). Reads: any member; writes: admin or owner.

use agency_domain::{ClientTier, PermissionMode, Role, normalise_domain};
use agency_store::audit::{self, AuditEntry};
use agency_store::clients::{self, ClientRow, IcpPatch, NewClient, SettingsPatch};
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorBody, FieldError};
use crate::extract::{ApiJson, AuthUser, Tenant};
use crate::request_id;
use crate::server::AppState;

/// Longest client name.
const MAX_NAME: usize = 200;

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

/// `POST /clients` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientCreate {
    /// Name.
    pub name: String,
    /// Plan tier (default ignition).
    #[schema(value_type = Option<String>)]
    pub tier: Option<ClientTier>,
    /// IANA timezone (default Australia/Sydney).
    pub timezone: Option<String>,
}

/// `PUT /clients/{client_id}` body: every field optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientUpdate {
    /// Name.
    pub name: Option<String>,
    /// IANA timezone.
    pub timezone: Option<String>,
    /// autopilot, co_pilot or manual.
    #[schema(value_type = Option<String>)]
    pub default_permission_mode: Option<PermissionMode>,
    /// Daily AI budget (AUD, >= 0).
    #[schema(value_type = Option<f64>)]
    #[serde(default, with = "rust_decimal::serde::float_option")]
    pub daily_ai_budget_aud: Option<Decimal>,
    /// Competitors' domains.
    pub competitor_domains: Option<Vec<String>>,
    /// Website (http or https).
    pub website_url: Option<String>,
    /// What the company does.
    pub company_description: Option<String>,
    /// Main value proposition.
    pub value_proposition: Option<String>,
    /// Default offer.
    pub default_offer: Option<String>,
    /// ICP industries.
    pub icp_industries: Option<Vec<String>>,
    /// ICP company sizes.
    pub icp_company_sizes: Option<Vec<String>>,
    /// ICP locations.
    pub icp_locations: Option<Vec<String>>,
    /// ICP titles.
    pub icp_titles: Option<Vec<String>>,
    /// ICP pain points.
    pub icp_pain_points: Option<Vec<String>>,
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

/// `PUT /clients/{client_id}/icp` body: every field optional.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IcpUpdate {
    /// Industries.
    pub target_industries: Option<Vec<String>>,
    /// Company sizes.
    pub target_company_sizes: Option<Vec<String>>,
    /// Job titles.
    pub target_job_titles: Option<Vec<String>>,
    /// Locations.
    pub target_locations: Option<Vec<String>>,
    /// Lowest target revenue (AUD).
    #[schema(value_type = Option<f64>)]
    #[serde(default, with = "rust_decimal::serde::float_option")]
    pub revenue_range_min: Option<Decimal>,
    /// Highest target revenue (AUD).
    #[schema(value_type = Option<f64>)]
    #[serde(default, with = "rust_decimal::serde::float_option")]
    pub revenue_range_max: Option<Decimal>,
    /// Keywords.
    pub keywords: Option<Vec<String>>,
    /// Exclusions.
    pub exclusions: Option<Vec<String>>,
    /// Pain points.
    pub pain_points: Option<Vec<String>>,
    /// Value propositions.
    pub value_propositions: Option<Vec<String>>,
}

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_client))
        .routes(routes!(get_client, update_client))
        .routes(routes!(get_icp, update_icp))
}

fn valid_name(name: &str, path: &str, fields: &mut Vec<FieldError>) -> Option<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        fields.push(FieldError {
            path: path.into(),
            message: format!("must be 1 to {MAX_NAME} characters"),
        });
        return None;
    }
    Some(name.to_owned())
}

fn valid_timezone(tz: &str, fields: &mut Vec<FieldError>) -> Option<String> {
    match tz.trim().parse::<chrono_tz::Tz>() {
        Ok(zone) => Some(zone.name().to_owned()),
        Err(_) => {
            fields.push(FieldError {
                path: "timezone".into(),
                message: format!("`{tz}` is not an IANA timezone"),
            });
            None
        }
    }
}

fn clean_list(items: Option<Vec<String>>) -> Option<Vec<String>> {
    items.map(|v| {
        v.into_iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    })
}

fn fail_if_any(fields: Vec<FieldError>) -> Result<(), ApiError> {
    if fields.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(fields))
    }
}

/// Creates a client; the caller becomes its owner.
#[utoipa::path(post, path = "/api/v1/clients", tag = "clients", request_body = ClientCreate,
    responses((status = 201, body = ClientDto), (status = 422, body = ErrorBody)))]
pub async fn create_client(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<ClientCreate>,
) -> ApiResult<(StatusCode, ApiJson<ClientDto>)> {
    let mut fields = Vec::new();
    let name = valid_name(&body.name, "name", &mut fields);
    let timezone = match &body.timezone {
        Some(tz) => valid_timezone(tz, &mut fields),
        None => Some("Australia/Sydney".to_owned()),
    };
    fail_if_any(fields)?;
    let tier = body.tier.unwrap_or(ClientTier::Ignition);
    let new = NewClient {
        name: name.unwrap_or_default(),
        tier: tier.as_str().to_owned(),
        credits: i32::try_from(tier.monthly_credits()).unwrap_or(i32::MAX),
        timezone: timezone.unwrap_or_default(),
    };
    let mut tx = state.services.pool.begin().await?;
    let row = clients::create_with_owner(&mut tx, &new, user.id).await?;
    let entry = AuditEntry::user(Some(row.id.into()), user.id, "client.created", "client")
        .entity(row.id)
        .after(json!({"name": row.name, "tier": row.tier, "timezone": row.timezone}))
        .request_id(request_id::current());
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
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
    let mut conn = state.services.pool.acquire().await?;
    Ok(ApiJson(
        clients::get(&mut conn, tenant.client_id).await?.into(),
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
    tenant.require(Role::Admin)?;
    let mut fields = Vec::new();
    let name = body
        .name
        .as_deref()
        .and_then(|n| valid_name(n, "name", &mut fields));
    let timezone = body
        .timezone
        .as_deref()
        .and_then(|tz| valid_timezone(tz, &mut fields));
    if body
        .daily_ai_budget_aud
        .is_some_and(|b| b.is_sign_negative() || b > Decimal::from(100_000_000))
    {
        fields.push(FieldError {
            path: "daily_ai_budget_aud".into(),
            message: "must be 0 or more".into(),
        });
    }
    let mut domains = None;
    if let Some(list) = &body.competitor_domains {
        let mut out = Vec::new();
        for (i, d) in list.iter().enumerate() {
            match normalise_domain(d) {
                Ok(d) => out.push(d),
                Err(e) => fields.push(FieldError {
                    path: format!("competitor_domains[{i}]"),
                    message: e.to_string(),
                }),
            }
        }
        domains = Some(out);
    }
    if let Some(url) = body
        .website_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
    {
        let ok = url::Url::parse(url)
            .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some());
        if !ok {
            fields.push(FieldError {
                path: "website_url".into(),
                message: "must be an http(s) URL".into(),
            });
        }
    }
    fail_if_any(fields)?;
    let patch = SettingsPatch {
        name,
        timezone,
        default_permission_mode: body.default_permission_mode.map(|m| m.as_str().to_owned()),
        daily_ai_budget_aud: body.daily_ai_budget_aud,
        competitor_domains: domains,
        website_url: body.website_url.map(|u| u.trim().to_owned()),
        company_description: body.company_description,
        value_proposition: body.value_proposition,
        default_offer: body.default_offer,
        icp_industries: clean_list(body.icp_industries),
        icp_company_sizes: clean_list(body.icp_company_sizes),
        icp_locations: clean_list(body.icp_locations),
        icp_titles: clean_list(body.icp_titles),
        icp_pain_points: clean_list(body.icp_pain_points),
    };
    let mut tx = state.services.pool.begin().await?;
    let before = clients::get(&mut tx, tenant.client_id).await?;
    let row = clients::update_settings(&mut tx, tenant.client_id, &patch).await?;
    let entry = tenant
        .audit("client.settings_updated", "client")
        .entity(row.id)
        .before(json!({"name": before.name, "timezone": before.timezone, "default_permission_mode": before.default_permission_mode}))
        .after(json!({"name": row.name, "timezone": row.timezone, "default_permission_mode": row.default_permission_mode}));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(ApiJson(row.into()))
}

/// The client's ICP profile (any member).
#[utoipa::path(get, path = "/api/v1/clients/{client_id}/icp", tag = "clients",
    params(("client_id" = Uuid, Path, description = "Client id")),
    responses((status = 200, body = IcpDto), (status = 404, body = ErrorBody)))]
pub async fn get_icp(State(state): State<AppState>, tenant: Tenant) -> ApiResult<ApiJson<IcpDto>> {
    let mut conn = state.services.pool.acquire().await?;
    Ok(ApiJson(
        clients::get(&mut conn, tenant.client_id).await?.into(),
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
    tenant.require(Role::Admin)?;
    let mut fields = Vec::new();
    for (path, v) in [
        ("revenue_range_min", body.revenue_range_min),
        ("revenue_range_max", body.revenue_range_max),
    ] {
        if v.is_some_and(|v| v.is_sign_negative()) {
            fields.push(FieldError {
                path: path.into(),
                message: "must be 0 or more".into(),
            });
        }
    }
    if let (Some(min), Some(max)) = (body.revenue_range_min, body.revenue_range_max)
        && min > max
    {
        fields.push(FieldError {
            path: "revenue_range_max".into(),
            message: "must not be below revenue_range_min".into(),
        });
    }
    fail_if_any(fields)?;
    let patch = IcpPatch {
        industries: clean_list(body.target_industries),
        company_sizes: clean_list(body.target_company_sizes),
        titles: clean_list(body.target_job_titles),
        locations: clean_list(body.target_locations),
        revenue_min: body.revenue_range_min,
        revenue_max: body.revenue_range_max,
        keywords: clean_list(body.keywords),
        exclusions: clean_list(body.exclusions),
        pain_points: clean_list(body.pain_points),
        value_propositions: clean_list(body.value_propositions),
    };
    let mut tx = state.services.pool.begin().await?;
    let row = clients::update_icp(&mut tx, tenant.client_id, &patch).await?;
    if let (Some(min), Some(max)) = (row.icp_revenue_min, row.icp_revenue_max)
        && min > max
    {
        return Err(ApiError::field(
            "revenue_range_max",
            "must not be below revenue_range_min",
        ));
    }
    let entry = tenant.audit("client.icp_updated", "client").entity(row.id).after(json!({
        "target_industries": row.icp_industries, "target_job_titles": row.icp_titles, "target_locations": row.icp_locations,
    }));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(ApiJson(row.into()))
}
