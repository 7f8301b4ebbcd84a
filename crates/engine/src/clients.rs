//! Clients (tenants): create (the caller becomes owner; a new client is a trial whatever the
//! body asks: the ignition tier, status `trialing`, the small configured lead allowance and a
//! credit reset date a month ahead; at most a configured number of clients per user per day),
//! read and update settings, and the ICP profile. Validation of every client field lives
//! here; each change is audited in its transaction.

use agency_domain::{ClientTier, PermissionMode, Role, UserId, normalise_domain};
use agency_store::audit::{self, AuditEntry};
use agency_store::clients::{self, IcpPatch, NewClient, SettingsPatch};
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

pub use agency_store::clients::ClientRow;

use crate::Services;
use crate::error::{FieldError, UseCaseError};
use crate::tenancy::TenantContext;

/// Longest client name.
const MAX_NAME: usize = 200;

/// The timezone of a client created without one.
pub const DEFAULT_TIMEZONE: &str = "Australia/Sydney";

/// What a new client gets and how many a user may create (`TRIAL_LEAD_CREDITS`,
/// `CLIENTS_PER_USER_PER_DAY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewClientPolicy {
    /// Lead credits of a new (trial) client.
    pub trial_credits: u32,
    /// Clients one user may create in any 24 hours.
    pub per_user_per_day: u32,
}

impl Default for NewClientPolicy {
    /// 50 trial credits, 3 clients a day.
    fn default() -> Self {
        Self {
            trial_credits: 50,
            per_user_per_day: 3,
        }
    }
}

/// The tier a new client starts on (changing it is a platform operator's action).
pub const TRIAL_TIER: ClientTier = ClientTier::Ignition;

/// `POST /clients` body.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientCreate {
    /// Name.
    pub name: String,
    /// Accepted for the dashboard's sake and ignored: a new client is always a trial on the
    /// ignition tier (tier changes are a platform-admin action).
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

/// Integer digits of `clients.daily_ai_budget_aud` (`numeric(10, 2)`).
const MAX_DAILY_AI_BUDGET_DIGITS: u32 = 8;
/// Integer digits of `clients.icp_revenue_min/max` (`numeric(14, 2)`).
const MAX_REVENUE_DIGITS: u32 = 12;

/// Whether `v`, stored with two decimals, fits a `numeric(digits + 2, 2)` column.
fn fits_numeric(v: Decimal, integer_digits: u32) -> bool {
    v.round_dp(2).abs() < Decimal::from(10_i64.pow(integer_digits))
}

fn valid_name(name: &str, path: &str, fields: &mut Vec<FieldError>) -> Option<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        fields.push(FieldError::new(
            path,
            format!("must be 1 to {MAX_NAME} characters"),
        ));
        return None;
    }
    Some(name.to_owned())
}

fn valid_timezone(tz: &str, fields: &mut Vec<FieldError>) -> Option<String> {
    match tz.trim().parse::<chrono_tz::Tz>() {
        Ok(zone) => Some(zone.name().to_owned()),
        Err(_) => {
            fields.push(FieldError::new(
                "timezone",
                format!("`{tz}` is not an IANA timezone"),
            ));
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

fn fail_if_any(fields: Vec<FieldError>) -> Result<(), UseCaseError> {
    if fields.is_empty() {
        Ok(())
    } else {
        Err(UseCaseError::invalid(fields))
    }
}

/// Creates a client; `owner` becomes its owner. A trial whatever `input.tier` says; refused
/// (429) once `owner` created `policy.per_user_per_day` clients in the last 24 hours.
pub async fn create(
    services: &Services,
    owner: UserId,
    request_id: Option<String>,
    input: ClientCreate,
    policy: NewClientPolicy,
) -> Result<ClientRow, UseCaseError> {
    let mut fields = Vec::new();
    let name = valid_name(&input.name, "name", &mut fields);
    let timezone = match &input.timezone {
        Some(tz) => valid_timezone(tz, &mut fields),
        None => Some(DEFAULT_TIMEZONE.to_owned()),
    };
    fail_if_any(fields)?;
    let new = NewClient {
        name: name.unwrap_or_default(),
        tier: TRIAL_TIER.as_str().to_owned(),
        credits: i32::try_from(policy.trial_credits).unwrap_or(i32::MAX),
        timezone: timezone.unwrap_or_default(),
    };
    let mut tx = services.pool.begin().await?;
    // Serialised per user, so concurrent requests cannot pass the cap together.
    let created = clients::created_by_in_last_day(&mut tx, owner).await?;
    if created >= i64::from(policy.per_user_per_day) {
        return Err(UseCaseError::LimitReached {
            code: "client_limit_reached",
            message: format!(
                "You can create at most {} clients a day; try again tomorrow.",
                policy.per_user_per_day
            ),
            retry_after_secs: 3600,
        });
    }
    let row = clients::create_with_owner(&mut tx, &new, owner).await?;
    let entry = AuditEntry::user(Some(row.id.into()), owner, "client.created", "client")
        .entity(row.id)
        .after(json!({
            "name": row.name,
            "tier": row.tier,
            "subscription_status": row.subscription_status,
            "credits_remaining": row.credits_remaining,
            "timezone": row.timezone,
            "requested_tier": input.tier.map(|t| t.as_str()),
        }))
        .request_id(request_id);
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(row)
}

/// The tenant's client (any member).
pub async fn get(services: &Services, tenant: &TenantContext) -> Result<ClientRow, UseCaseError> {
    let mut conn = services.pool.acquire().await?;
    clients::get(&mut conn, tenant.client_id)
        .await
        .map_err(|e| UseCaseError::from(e).naming("client"))
}

/// Updates the client's settings (admin or owner).
pub async fn update_settings(
    services: &Services,
    tenant: &TenantContext,
    input: ClientUpdate,
) -> Result<ClientRow, UseCaseError> {
    tenant.require(Role::Admin)?;
    let mut fields = Vec::new();
    let name = input
        .name
        .as_deref()
        .and_then(|n| valid_name(n, "name", &mut fields));
    let timezone = input
        .timezone
        .as_deref()
        .and_then(|tz| valid_timezone(tz, &mut fields));
    if let Some(b) = input.daily_ai_budget_aud {
        if b.is_sign_negative() {
            fields.push(FieldError::new("daily_ai_budget_aud", "must be 0 or more"));
        } else if !fits_numeric(b, MAX_DAILY_AI_BUDGET_DIGITS) {
            fields.push(FieldError::new(
                "daily_ai_budget_aud",
                "must be less than 100,000,000",
            ));
        }
    }
    let mut domains = None;
    if let Some(list) = &input.competitor_domains {
        let mut out = Vec::new();
        for (i, d) in list.iter().enumerate() {
            match normalise_domain(d) {
                Ok(d) => out.push(d),
                Err(e) => fields.push(FieldError::new(
                    format!("competitor_domains[{i}]"),
                    e.to_string(),
                )),
            }
        }
        domains = Some(out);
    }
    if let Some(url) = input
        .website_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        && !is_web_url(url)
    {
        fields.push(FieldError::new("website_url", "must be an http(s) URL"));
    }
    fail_if_any(fields)?;
    let patch = SettingsPatch {
        name,
        timezone,
        default_permission_mode: input.default_permission_mode.map(|m| m.as_str().to_owned()),
        daily_ai_budget_aud: input.daily_ai_budget_aud,
        competitor_domains: domains,
        website_url: input.website_url.map(|u| u.trim().to_owned()),
        company_description: input.company_description,
        value_proposition: input.value_proposition,
        default_offer: input.default_offer,
        icp_industries: clean_list(input.icp_industries),
        icp_company_sizes: clean_list(input.icp_company_sizes),
        icp_locations: clean_list(input.icp_locations),
        icp_titles: clean_list(input.icp_titles),
        icp_pain_points: clean_list(input.icp_pain_points),
    };
    let mut tx = services.pool.begin().await?;
    let before = clients::get(&mut tx, tenant.client_id).await?;
    let row = clients::update_settings(&mut tx, tenant.client_id, &patch).await?;
    let entry = tenant
        .audit("client.settings_updated", "client")
        .entity(row.id)
        .before(json!({"name": before.name, "timezone": before.timezone, "default_permission_mode": before.default_permission_mode}))
        .after(json!({"name": row.name, "timezone": row.timezone, "default_permission_mode": row.default_permission_mode}));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(row)
}

/// Updates the ICP profile (admin or owner); a revenue range must not be inverted, also
/// against the stored bound the patch leaves unchanged.
pub async fn update_icp(
    services: &Services,
    tenant: &TenantContext,
    input: IcpUpdate,
) -> Result<ClientRow, UseCaseError> {
    tenant.require(Role::Admin)?;
    let mut fields = Vec::new();
    for (path, v) in [
        ("revenue_range_min", input.revenue_range_min),
        ("revenue_range_max", input.revenue_range_max),
    ] {
        if v.is_some_and(|v| v.is_sign_negative()) {
            fields.push(FieldError::new(path, "must be 0 or more"));
        } else if v.is_some_and(|v| !fits_numeric(v, MAX_REVENUE_DIGITS)) {
            fields.push(FieldError::new(path, "must be less than 1,000,000,000,000"));
        }
    }
    if let (Some(min), Some(max)) = (input.revenue_range_min, input.revenue_range_max)
        && min > max
    {
        fields.push(inverted_revenue());
    }
    fail_if_any(fields)?;
    let patch = IcpPatch {
        industries: clean_list(input.target_industries),
        company_sizes: clean_list(input.target_company_sizes),
        titles: clean_list(input.target_job_titles),
        locations: clean_list(input.target_locations),
        revenue_min: input.revenue_range_min,
        revenue_max: input.revenue_range_max,
        keywords: clean_list(input.keywords),
        exclusions: clean_list(input.exclusions),
        pain_points: clean_list(input.pain_points),
        value_propositions: clean_list(input.value_propositions),
    };
    let mut tx = services.pool.begin().await?;
    let row = clients::update_icp(&mut tx, tenant.client_id, &patch).await?;
    if let (Some(min), Some(max)) = (row.icp_revenue_min, row.icp_revenue_max)
        && min > max
    {
        // Dropping the transaction rolls the update back.
        return Err(UseCaseError::invalid(vec![inverted_revenue()]));
    }
    let entry = tenant.audit("client.icp_updated", "client").entity(row.id).after(json!({
        "target_industries": row.icp_industries, "target_job_titles": row.icp_titles, "target_locations": row.icp_locations,
    }));
    audit::record(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(row)
}

fn inverted_revenue() -> FieldError {
    FieldError::new("revenue_range_max", "must not be below revenue_range_min")
}

fn is_web_url(text: &str) -> bool {
    url::Url::parse(text)
        .is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
}
