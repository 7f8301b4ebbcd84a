//! The `analyze_website` job: reads the client's website through the services' [`WebsiteReader`]
//! (`Providers::website`), extracts the profile (Claude through the AI gate
//! `Providers::ai`, the rule extractor as its fallback), and records the eight steps on the
//! `onboarding_jobs` row as it goes. A site that cannot be read ends the analysis `failed`
//! with a sentence for people (it can be started again); database trouble is retried.
//! Idempotent: a finished analysis is never run again, and a re-analysis writes the client's
//! ICP in the same transaction that completes it.

use std::sync::Arc;

use agency_domain::OnboardingJobId;
use agency_domain::icp::{AnalysisPurpose, AnalysisStatus, AnalysisStep, IcpProfile};
use agency_providers::website::{WebsiteReader, parse_website_url};
use agency_store::{StoreError, clients, onboarding_jobs as store};
use chrono::{SubsecRound, Utc};

use super::extract::extract_profile;
use super::usecases::extracted_icp;
use crate::jobs::payload::AnalyzeWebsite;
use crate::jobs::{JobContext, JobError, Registry};

/// Registers `analyze_website`.
pub fn register(registry: &mut Registry) -> &mut Registry {
    registry.register(analyze_website)
}

fn store_err(e: StoreError) -> JobError {
    match e {
        StoreError::NotFound => JobError::Permanent("onboarding job not found".into()),
        other => JobError::Retryable(format!("database: {other}")),
    }
}

/// Runs one analysis (see the module doc).
pub async fn analyze_website(ctx: JobContext, job: AnalyzeWebsite) -> Result<(), JobError> {
    let id = OnboardingJobId::from_uuid(job.onboarding_job_id);
    let reader = Arc::clone(&ctx.services.providers.website);
    let outcome = run(&ctx, id, reader.as_ref()).await;
    if let Err(e) = &outcome
        && ctx.is_last_attempt()
    {
        let mut conn = ctx.services.pool.acquire().await?;
        store::fail(
            &mut conn,
            id,
            "The analysis could not be finished because of an internal error. Please try again.",
        )
        .await
        .map_err(store_err)?;
        tracing::error!(error = %e, "website analysis gave up");
    }
    outcome
}

async fn run(
    ctx: &JobContext,
    id: OnboardingJobId,
    reader: &dyn WebsiteReader,
) -> Result<(), JobError> {
    let mut tx = ctx.services.pool.begin().await?;
    let row = match store::lock(&mut tx, id).await {
        Ok(row) => row,
        Err(StoreError::NotFound) => return Ok(()),
        Err(e) => return Err(store_err(e)),
    };
    if matches!(
        row.status,
        AnalysisStatus::Completed | AnalysisStatus::Failed
    ) {
        return Ok(());
    }
    store::start(&mut tx, id).await.map_err(store_err)?;
    tx.commit().await?;

    let site = match parse_website_url(&row.website_url) {
        Ok(url) => reader.read_site(&url).await,
        Err(e) => Err(e),
    };
    let site = match site {
        Ok(site) => site,
        Err(e) => {
            let mut conn = ctx.services.pool.acquire().await?;
            store::fail(&mut conn, id, &e.to_string())
                .await
                .map_err(store_err)?;
            tracing::info!(error = %e, url = %row.website_url, "website analysis failed");
            return Ok(());
        }
    };
    let mut conn = ctx.services.pool.acquire().await?;
    store::record_step(&mut conn, id, 1, AnalysisStep::ExtractingServices)
        .await
        .map_err(store_err)?;
    // No connection is held while the model answers.
    drop(conn);
    let services = &ctx.services;
    let profile: IcpProfile = extract_profile(
        &services.providers.ai,
        &services.pool,
        services.cache.as_ref(),
        row.client_id,
        &site,
        Utc::now().trunc_subsecs(6),
    )
    .await;
    let mut conn = ctx.services.pool.acquire().await?;
    // The extraction's later steps, recorded in order before the profile is stored.
    for (done, step) in AnalysisStep::ALL.iter().enumerate().skip(2) {
        store::record_step(&mut conn, id, done as u32, *step)
            .await
            .map_err(store_err)?;
    }
    drop(conn);
    let json = serde_json::to_value(&profile).map_err(JobError::permanent)?;
    let pages = u32::try_from(site.pages.len()).unwrap_or(u32::MAX);
    let mut tx = ctx.services.pool.begin().await?;
    let done = store::complete(&mut tx, id, &json, pages)
        .await
        .map_err(store_err)?;
    if done.purpose == AnalysisPurpose::Reanalysis {
        clients::write_extracted_icp(&mut tx, done.client_id, &extracted_icp(&profile), false)
            .await
            .map_err(store_err)?;
    }
    tx.commit().await?;
    tracing::info!(pages, confidence = %profile.confidence, "website analysed");
    Ok(())
}
