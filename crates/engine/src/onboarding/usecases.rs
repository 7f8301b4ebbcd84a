//! Onboarding use-cases: start an analysis of the caller's client's website (its first accepted
//! membership), re-analyse a client, read an analysis's progress and profile (only for members
//! of its client: anything else is 404), and confirm the profile, with the agency's
//! adjustments, onto the client (`icp_*` columns, `icp_confirmed_at`, and the suggested ALS
//! weights in `icp_als_weights`, which scoring does not read: SPEC 3.1 replaces the default
//! weights only with weights learned from conversions). Each write is audited in
//! its transaction; the `analyze_website` job is enqueued in the same transaction as its row.

use agency_domain::icp::{
    AnalysisPurpose, AnalysisStatus, IcpProfile, revenue_bounds, revenue_ranges,
};
use agency_domain::{ClientId, OnboardingJobId, Role, UserId, Weights};
use agency_providers::website::parse_website_url;
use agency_store::clients::{self, ExtractedIcp};
use agency_store::onboarding_jobs::{self as store, NewOnboardingJob, OnboardingJob};
use agency_store::{PgPool, memberships};
use chrono::Utc;
use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use serde::Deserialize;
use serde_json::json;
use sqlx::PgConnection;

use crate::error::FieldError;
use crate::jobs::payload::AnalyzeWebsite;
use crate::jobs::{EnqueueOptions, enqueue_on};
use crate::usecase::{Actor, UseCaseError, audit, clean_list};

/// What `GET /onboarding/result/{job_id}` finds.
#[derive(Debug, Clone)]
pub enum AnalysisResult {
    /// The profile.
    Ready(Box<IcpProfile>),
    /// Still pending or running.
    Running,
    /// Ended with this message.
    Failed(String),
}

/// The agency's changes to the extracted profile when confirming; every field optional (the
/// ICP form's names are accepted too).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct IcpAdjustments {
    /// Company name.
    pub company_name: Option<String>,
    /// What the company does.
    pub company_description: Option<String>,
    /// Main value proposition.
    pub value_proposition: Option<String>,
    /// Services offered.
    pub services_offered: Option<Vec<String>>,
    /// Differentiators.
    pub differentiators: Option<Vec<String>>,
    /// Target industries.
    #[serde(alias = "target_industries")]
    pub icp_industries: Option<Vec<String>>,
    /// Target company sizes.
    #[serde(alias = "target_company_sizes")]
    pub icp_company_sizes: Option<Vec<String>>,
    /// Target locations.
    #[serde(alias = "target_locations")]
    pub icp_locations: Option<Vec<String>>,
    /// Target titles.
    #[serde(alias = "target_job_titles", alias = "target_titles")]
    pub icp_titles: Option<Vec<String>>,
    /// Pain points.
    #[serde(alias = "pain_points")]
    pub icp_pain_points: Option<Vec<String>>,
    /// Buying signals.
    pub icp_signals: Option<Vec<String>>,
    /// The suggested ALS weights, changed: all five, in any scale (fractions or percentages);
    /// they are normalised to sum to 1.
    pub als_weights: Option<AlsWeightsAdjustment>,
}

/// The agency's ALS weights when confirming a profile.
#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
pub struct AlsWeightsAdjustment {
    /// Weight of data quality.
    pub data_quality: Option<f64>,
    /// Weight of authority.
    pub authority: Option<f64>,
    /// Weight of company fit.
    pub company_fit: Option<f64>,
    /// Weight of timing.
    pub timing: Option<f64>,
    /// Weight of risk.
    pub risk: Option<f64>,
}

impl AlsWeightsAdjustment {
    /// The weights normalised to sum to 1, or the 422 naming what is wrong.
    pub fn normalised(&self) -> Result<Weights, UseCaseError> {
        let path = "adjustments.als_weights";
        let named = [
            ("data_quality", self.data_quality),
            ("authority", self.authority),
            ("company_fit", self.company_fit),
            ("timing", self.timing),
            ("risk", self.risk),
        ];
        let mut values = [Decimal::ZERO; 5];
        let mut errors = Vec::new();
        for (i, (name, value)) in named.iter().enumerate() {
            let field = format!("{path}.{name}");
            match value {
                None => errors.push(FieldError::new(
                    field,
                    "Give all five weights (data_quality, authority, company_fit, timing and risk).",
                )),
                Some(v) if !v.is_finite() || *v < 0.0 || *v > 100.0 => errors.push(
                    FieldError::new(field, "A weight must be a number from 0 to 100."),
                ),
                Some(v) => values[i] = Decimal::from_f64(*v).unwrap_or_default(),
            }
        }
        if !errors.is_empty() {
            return Err(UseCaseError::invalid(errors));
        }
        Weights::normalised(values)
            .ok_or_else(|| UseCaseError::field(path, "At least one weight must be above zero."))
    }
}

impl IcpAdjustments {
    fn apply(self, p: &mut IcpProfile) -> Result<(), UseCaseError> {
        if let Some(w) = self.als_weights {
            p.als_weights = w.normalised()?;
        }
        let text = |v: Option<String>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        if let Some(name) = text(self.company_name) {
            p.company_name = name;
        }
        if let Some(d) = text(self.company_description) {
            p.company_description = Some(d);
        }
        if let Some(v) = text(self.value_proposition) {
            p.value_proposition = Some(v);
        }
        let lists = [
            (self.services_offered, &mut p.services_offered),
            (self.differentiators, &mut p.differentiators),
            (self.icp_industries, &mut p.icp_industries),
            (self.icp_locations, &mut p.icp_locations),
            (self.icp_titles, &mut p.icp_titles),
            (self.icp_pain_points, &mut p.icp_pain_points),
            (self.icp_signals, &mut p.icp_signals),
        ];
        for (new, field) in lists {
            if let Some(values) = new {
                *field = clean_list(&values);
            }
        }
        if let Some(sizes) = self.icp_company_sizes {
            p.icp_company_sizes = clean_list(&sizes);
            p.icp_revenue_ranges = revenue_ranges(&p.icp_company_sizes);
        }
        Ok(())
    }
}

/// The client columns a profile fills.
pub(crate) fn extracted_icp(p: &IcpProfile) -> ExtractedIcp {
    let (revenue_min, revenue_max) = revenue_bounds(&p.icp_company_sizes);
    let mut value_propositions: Vec<String> = p.value_proposition.iter().cloned().collect();
    for d in &p.differentiators {
        if !value_propositions.contains(d) {
            value_propositions.push(d.clone());
        }
    }
    ExtractedIcp {
        website_url: p.website_url.clone(),
        company_description: p.company_description.clone(),
        value_proposition: p.value_proposition.clone(),
        industries: p.icp_industries.clone(),
        company_sizes: p.icp_company_sizes.clone(),
        locations: p.icp_locations.clone(),
        titles: p.icp_titles.clone(),
        pain_points: p.icp_pain_points.clone(),
        keywords: p.services_offered.clone(),
        value_propositions,
        revenue_min,
        revenue_max,
        extracted_at: p.extracted_at,
        als_weights: serde_json::to_value(p.als_weights).unwrap_or_default(),
    }
}

/// Inserts the analysis row and enqueues its job in the caller's transaction, with an audit row.
async fn queue_analysis(
    tx: &mut PgConnection,
    actor: &Actor,
    client_id: ClientId,
    purpose: AnalysisPurpose,
    website_url: String,
) -> Result<OnboardingJob, UseCaseError> {
    let new = NewOnboardingJob {
        id: OnboardingJobId::new_v7(),
        client_id,
        requested_by: actor.user_id.map(UserId::from_uuid),
        purpose,
        website_url,
    };
    let row = store::insert(tx, &new).await?;
    let payload = AnalyzeWebsite {
        client_id: client_id.into_uuid(),
        onboarding_job_id: row.id.into_uuid(),
    };
    enqueue_on(tx, &payload, EnqueueOptions::default()).await?;
    audit(
        tx,
        actor,
        client_id,
        "onboarding.analysis_started",
        ("onboarding_job", Some(row.id.into_uuid())),
        None,
        Some(json!({"website_url": row.website_url, "purpose": purpose.as_str()})),
    )
    .await?;
    Ok(row)
}

/// Starts the analysis of `website_url` for the caller's client (first accepted membership);
/// the client's `website_url` becomes it.
pub async fn start_onboarding(
    pool: &PgPool,
    actor: &Actor,
    user: UserId,
    website_url: &str,
) -> Result<OnboardingJob, UseCaseError> {
    let url = parse_website_url(website_url)
        .map_err(|e| UseCaseError::field("website_url", e.to_string()))?;
    let membership = memberships::for_user(pool, user)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| UseCaseError::Conflict {
            code: "no_client",
            message: "You are not a member of any agency yet. Create your agency first, then analyse its website.".into(),
        })?;
    let client_id = ClientId::from_uuid(membership.client_id);
    let mut tx = pool.begin().await?;
    clients::set_website_url(&mut tx, client_id, url.as_str()).await?;
    let row = queue_analysis(
        &mut tx,
        actor,
        client_id,
        AnalysisPurpose::Onboarding,
        url.to_string(),
    )
    .await?;
    tx.commit().await?;
    Ok(row)
}

/// Re-analyses the client's website; the profile is written to the client when done.
pub async fn reanalyze(
    pool: &PgPool,
    actor: &Actor,
    client_id: ClientId,
) -> Result<OnboardingJob, UseCaseError> {
    let mut tx = pool.begin().await?;
    let client = clients::get(&mut tx, client_id)
        .await
        .map_err(UseCaseError::not_found_as("client"))?;
    let Some(url) = client.website_url.filter(|u| !u.trim().is_empty()) else {
        return Err(UseCaseError::field(
            "website_url",
            "The client has no website address yet. Set it first, then re-analyse.",
        ));
    };
    let row = queue_analysis(&mut tx, actor, client_id, AnalysisPurpose::Reanalysis, url).await?;
    tx.commit().await?;
    Ok(row)
}

/// The analysis `id`, if the caller is a member of its client (404 otherwise).
pub async fn status(
    pool: &PgPool,
    user: UserId,
    id: OnboardingJobId,
) -> Result<OnboardingJob, UseCaseError> {
    let mut conn = pool.acquire().await?;
    store::get_for_user(&mut conn, id, user)
        .await
        .map_err(UseCaseError::not_found_as("onboarding job"))
}

fn profile_of(row: &OnboardingJob) -> Result<IcpProfile, UseCaseError> {
    let json = row.result.clone().unwrap_or_default();
    serde_json::from_value(json).map_err(|e| {
        UseCaseError::Store(agency_store::StoreError::Database(sqlx::Error::Decode(
            format!("onboarding_jobs.result: {e}").into(),
        )))
    })
}

/// The analysis's profile, or where it is.
pub async fn result(
    pool: &PgPool,
    user: UserId,
    id: OnboardingJobId,
) -> Result<AnalysisResult, UseCaseError> {
    let row = status(pool, user, id).await?;
    Ok(match row.status {
        AnalysisStatus::Pending | AnalysisStatus::Running => AnalysisResult::Running,
        AnalysisStatus::Failed => AnalysisResult::Failed(row.error_message.unwrap_or_default()),
        AnalysisStatus::Completed => {
            let mut profile = profile_of(&row)?;
            profile.confirmed_at = row.confirmed_at;
            AnalysisResult::Ready(Box::new(profile))
        }
    })
}

/// Confirms a completed analysis's profile, with `adjustments`, onto its client (admin or
/// owner): the ICP columns, `icp_last_extraction_at` and `icp_confirmed_at`.
pub async fn confirm(
    pool: &PgPool,
    actor: &Actor,
    user: UserId,
    id: OnboardingJobId,
    adjustments: IcpAdjustments,
) -> Result<ClientId, UseCaseError> {
    let row = status(pool, user, id).await?;
    let access = memberships::access(pool, row.client_id, user)
        .await?
        .ok_or(UseCaseError::NotFound("onboarding job"))?;
    let role: Role = access
        .role
        .parse()
        .map_err(|_| UseCaseError::Forbidden("Your role in this agency is unknown.".into()))?;
    if !role.can_admin() {
        return Err(UseCaseError::Forbidden(format!(
            "Confirming the profile needs the admin role or higher; you are {role} in this agency."
        )));
    }
    match row.status {
        AnalysisStatus::Completed => {}
        AnalysisStatus::Failed => {
            return Err(UseCaseError::Conflict {
                code: "analysis_failed",
                message: "The website analysis failed, so there is no profile to confirm. Start the analysis again.".into(),
            });
        }
        AnalysisStatus::Pending | AnalysisStatus::Running => {
            return Err(UseCaseError::Conflict {
                code: "analysis_running",
                message: "The website analysis has not finished yet. Confirm once it is complete."
                    .into(),
            });
        }
    }
    let mut profile = profile_of(&row)?;
    adjustments.apply(&mut profile)?;
    profile.confirmed_at = Some(Utc::now());
    let json = serde_json::to_value(&profile).map_err(|e| UseCaseError::BadInput(e.to_string()))?;
    let mut tx = pool.begin().await?;
    let client =
        clients::write_extracted_icp(&mut tx, row.client_id, &extracted_icp(&profile), true)
            .await
            .map_err(UseCaseError::not_found_as("onboarding job"))?;
    store::confirm(&mut tx, id, &json).await?;
    audit(
        &mut tx,
        actor,
        row.client_id,
        "client.icp_confirmed",
        ("client", Some(client.id)),
        None,
        Some(json!({
            "onboarding_job_id": id.into_uuid(),
            "icp_industries": client.icp_industries,
            "icp_titles": client.icp_titles,
            "icp_locations": client.icp_locations,
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(row.client_id)
}
