//! AI spend reports: a client's spend per day, purpose and model
//! (`GET /reports/clients/{client_id}/ai-spend`, any member) and the platform's AI costs for
//! platform admins (`GET /admin/costs/ai`). Both read the settled `ai_usage` ledger through the
//! engine.

use std::collections::BTreeMap;

use agency_engine::ai::spend::{self, ClientSpend, PlatformCosts};
use axum::extract::State;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiResult, ErrorBody};
use crate::extract::{ApiJson, ApiQuery, PlatformAdmin, Tenant};
use crate::server::AppState;

/// The routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(client_ai_spend))
        .routes(routes!(platform_ai_costs))
}

/// A date range (`YYYY-MM-DD`, both inclusive).
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DateRange {
    /// First day (default: 29 days before end_date for a client, the 1st of the month for
    /// the platform).
    pub start_date: Option<NaiveDate>,
    /// Last day (default: today).
    pub end_date: Option<NaiveDate>,
}

/// One (day, purpose, model) of a client's AI spend.
#[derive(Debug, Serialize, ToSchema)]
pub struct AiSpendRow {
    /// The client's local day.
    pub date: NaiveDate,
    /// classify_reply, write_message or extract_icp.
    pub purpose: String,
    /// The model that answered.
    pub model: String,
    /// Calls.
    pub calls: i64,
    /// Input tokens billed.
    pub input_tokens: i64,
    /// Output tokens billed.
    pub output_tokens: i64,
    /// Cost (AUD).
    #[schema(value_type = f64)]
    #[serde(with = "rust_decimal::serde::float")]
    pub cost_aud: Decimal,
}

/// A client's AI spend over a range.
#[derive(Debug, Serialize, ToSchema)]
pub struct AiSpendReport {
    /// The client.
    pub client_id: Uuid,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day.
    pub end_date: NaiveDate,
    /// Total over the range (AUD).
    #[schema(value_type = f64)]
    #[serde(with = "rust_decimal::serde::float")]
    pub total_aud: Decimal,
    /// The client's daily AI budget (AUD).
    #[schema(value_type = f64)]
    #[serde(with = "rust_decimal::serde::float")]
    pub daily_budget_aud: Decimal,
    /// Per day, purpose and model.
    pub rows: Vec<AiSpendRow>,
}

impl From<ClientSpend> for AiSpendReport {
    fn from(s: ClientSpend) -> Self {
        Self {
            client_id: s.client_id.into_uuid(),
            start_date: s.start_date,
            end_date: s.end_date,
            total_aud: s.total_aud,
            daily_budget_aud: s.daily_budget_aud,
            rows: s
                .rows
                .into_iter()
                .map(|r| AiSpendRow {
                    date: r.date,
                    purpose: r.purpose.as_str().to_owned(),
                    model: r.model,
                    calls: r.calls,
                    input_tokens: r.input_tokens,
                    output_tokens: r.output_tokens,
                    cost_aud: r.cost_aud,
                })
                .collect(),
        }
    }
}

/// The platform's AI costs.
#[derive(Debug, Serialize, ToSchema)]
pub struct AiCosts {
    /// Spent today (AUD; the platform's day, Australia/Sydney).
    #[schema(value_type = f64)]
    #[serde(with = "rust_decimal::serde::float")]
    pub today_aud: Decimal,
    /// Spent this month (AUD).
    #[schema(value_type = f64)]
    #[serde(with = "rust_decimal::serde::float")]
    pub month_aud: Decimal,
    /// Spend per purpose over the range (AUD).
    #[schema(value_type = BTreeMap<String, f64>)]
    pub by_agent: BTreeMap<String, f64>,
    /// Spend per client name over the range (AUD).
    #[schema(value_type = BTreeMap<String, f64>)]
    pub by_client: BTreeMap<String, f64>,
}

/// Money as a JSON number (six decimals at most, exact in an f64's range of use).
fn number(map: BTreeMap<String, Decimal>) -> BTreeMap<String, f64> {
    use rust_decimal::prelude::ToPrimitive;
    map.into_iter()
        .map(|(k, v)| (k, v.to_f64().unwrap_or_default()))
        .collect()
}

impl From<PlatformCosts> for AiCosts {
    fn from(c: PlatformCosts) -> Self {
        Self {
            today_aud: c.today_aud,
            month_aud: c.month_aud,
            by_agent: number(c.by_purpose),
            by_client: number(c.by_client),
        }
    }
}

/// A client's AI spend per day, purpose and model (settled calls; default the last 30 days).
#[utoipa::path(get, path = "/api/v1/reports/clients/{client_id}/ai-spend", tag = "reports",
    params(("client_id" = Uuid, Path), DateRange),
    responses((status = 200, body = AiSpendReport), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn client_ai_spend(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiQuery(range): ApiQuery<DateRange>,
) -> ApiResult<ApiJson<AiSpendReport>> {
    let services = &state.services;
    let report = spend::client_spend(
        &services.pool,
        tenant.client_id,
        range.start_date,
        range.end_date,
        services.now(),
    )
    .await?;
    Ok(ApiJson(report.into()))
}

/// The platform's AI costs: today, this month, and by purpose and by client over the range
/// (default this month). Platform admins only.
#[utoipa::path(get, path = "/api/v1/admin/costs/ai", tag = "admin",
    params(DateRange),
    responses((status = 200, body = AiCosts), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn platform_ai_costs(
    State(state): State<AppState>,
    _admin: PlatformAdmin,
    ApiQuery(range): ApiQuery<DateRange>,
) -> ApiResult<ApiJson<AiCosts>> {
    let services = &state.services;
    let costs = spend::platform_costs(
        &services.pool,
        range.start_date,
        range.end_date,
        services.now(),
    )
    .await?;
    Ok(ApiJson(costs.into()))
}
