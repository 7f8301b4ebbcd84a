//! Enriching one stored lead: one lead credit, then the cached answer when usable, else the
//! provider waterfall; SEO facts for the company domain (cached 30 days); the accepted facts
//! stored on the lead; scoring enqueued in the same transaction.
//!
//! Credits: one per enrichment, spent before the cache or a provider is read (a client with no
//! credit left never costs us a provider call). A cache hit spends the credit too: the provider
//! was paid once, the client pays per enrichment, and a free hit would tell a tenant that
//! another tenant holds the contact. No credit left: the lead stays as it is with
//! `enrichment_wait_reason = 'no_credits'` (the credit reset re-enqueues those leads). When
//! every provider failed transiently the credit is refunded and the job retries. Inside a job
//! the spend is recorded as an effect of the job, so a redelivered job does not spend twice.
//!
//! Claim: in the transaction that spends the credit, the run claims the lead
//! (`leads.enrichment_claimed_by`, compare-and-set: unclaimed, its own claim, or a claim older
//! than [`CLAIM_STALE_AFTER_SECS`]). A second run for the same lead while the first holds it
//! spends nothing and asks nobody ([`EnrichOutcome::InProgress`]); storing the facts, or the
//! refund, releases the claim.
//!
//! The cache is shared across tenants: it is keyed by the normalised email only and holds only
//! answers a real provider gave for that email ([`waterfall::is_cacheable`]); the source stored
//! for a hit is the provider's name, never a `cache:` marker.

use agency_cache::{Cache, CacheJsonExt};
use agency_domain::ClientId;
use agency_domain::LeadId;
use agency_domain::{Email, Phone, SeoFacts};
use agency_providers::{EnrichedPerson, PersonQuery, ProviderError, SeoReport};
use agency_store::leads::enrichment as store;
use agency_store::{PgPool, clients, job_effects};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::waterfall::{
    self, FallbackGate, SEO_TTL, Waterfall, WaterfallReport, fallback_allowance, seo_cache_key,
};
use crate::error::UseCaseError;
use crate::jobs::payload::ScoreLeads;
use crate::jobs::{EnqueueOptions, JobContext, enqueue_on, idempotency};

/// A claim older than this (well past the `enrich_lead` job's 120 s timeout) is abandoned and
/// may be taken over.
pub const CLAIM_STALE_AFTER_SECS: i64 = 600;

/// The reason stored when a lead waits because the client has no credit left.
pub const WAIT_NO_CREDITS: &str = "no_credits";

/// What enriching one lead did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnrichOutcome {
    /// Facts stored from an accepted answer.
    Enriched {
        /// The stored `enrichment_source`: the provider's label, for a cache hit too.
        source: String,
        /// Its confidence.
        confidence: Decimal,
        /// Served from the cache (no provider asked; the credit is spent all the same).
        from_cache: bool,
    },
    /// Providers were asked (a credit spent) but none answered at the threshold; the lead is
    /// marked enriched with source `none` and scored on what it has.
    NoMatch {
        /// The run.
        report: WaterfallReport,
    },
    /// No credit left: nothing asked, the wait reason recorded.
    WaitingForCredits,
    /// Enriched before; nothing done.
    AlreadyEnriched,
    /// Another run holds the lead's claim (or finished it meanwhile): nothing spent or asked.
    InProgress,
}

/// What [`enrich_lead`] works with.
#[derive(Clone, Copy)]
pub struct EnrichEnv<'a> {
    /// Database.
    pub pool: &'a PgPool,
    /// Cache and counters.
    pub cache: &'a dyn Cache,
    /// Providers.
    pub waterfall: &'a Waterfall,
    /// The job doing this, when run as one (makes the credit spend once-only).
    pub job: Option<&'a JobContext>,
    /// Enqueue `score_leads` for the lead in the transaction that stores the facts.
    pub enqueue_scoring: bool,
    /// Enrich again even when enriched before.
    pub force: bool,
}

impl std::fmt::Debug for EnrichEnv<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrichEnv")
            .field("job", &self.job)
            .field("enqueue_scoring", &self.enqueue_scoring)
            .field("force", &self.force)
            .finish_non_exhaustive()
    }
}

/// The per-client daily fallback cap used by single-lead jobs: the "batch" is the client's
/// day (in its timezone), so Clay serves at most 15% of the day's provider runs.
pub struct DailyFallbackGate<'a> {
    cache: &'a dyn Cache,
    client_id: ClientId,
    tz: Tz,
    now: DateTime<Utc>,
}

impl<'a> DailyFallbackGate<'a> {
    /// Counts one provider run for the client today and returns the gate for it.
    pub async fn start(
        cache: &'a dyn Cache,
        client_id: ClientId,
        tz: Tz,
        now: DateTime<Utc>,
    ) -> Result<DailyFallbackGate<'a>, UseCaseError> {
        cache
            .incr_daily(&runs_counter(client_id), 1, tz, now)
            .await?;
        Ok(DailyFallbackGate {
            cache,
            client_id,
            tz,
            now,
        })
    }
}

fn runs_counter(client_id: ClientId) -> String {
    format!("enrichment_runs:{client_id}")
}

fn fallback_counter(client_id: ClientId) -> String {
    format!("enrichment_fallback:{client_id}")
}

#[async_trait]
impl FallbackGate for DailyFallbackGate<'_> {
    async fn try_take(&mut self) -> Result<bool, UseCaseError> {
        let runs = self
            .cache
            .read_daily(&runs_counter(self.client_id), self.tz, self.now)
            .await?;
        let allowed = i64::from(fallback_allowance(
            u32::try_from(runs.max(0)).unwrap_or(u32::MAX),
        ));
        let key = fallback_counter(self.client_id);
        let kept =
            super::allocation::reserve_under_cap(self.cache, &key, 1, allowed, self.tz, self.now)
                .await?;
        Ok(kept == 1)
    }
}

/// The client's timezone (its stored IANA name), or an error naming it.
pub fn client_timezone(name: &str) -> Result<Tz, UseCaseError> {
    agency_domain::hours::parse_timezone(name)
        .ok_or_else(|| UseCaseError::Corrupt(format!("unknown timezone '{name}'")))
}

/// Enriches one lead (see the module doc). `gate` caps the fallback provider; pass a
/// [`waterfall::FallbackBudget`] for a batch, or `None` for the client's daily cap.
pub async fn enrich_lead(
    env: EnrichEnv<'_>,
    client_id: ClientId,
    lead_id: LeadId,
    gate: Option<&mut dyn FallbackGate>,
    now: DateTime<Utc>,
) -> Result<EnrichOutcome, UseCaseError> {
    let row = store::enrichment_row(env.pool, client_id, lead_id).await?;
    if row.enriched_at.is_some() && !env.force {
        return Ok(EnrichOutcome::AlreadyEnriched);
    }
    let email = Email::parse(&row.email).map_err(|e| UseCaseError::Corrupt(e.to_string()))?;
    let query = PersonQuery {
        email: email.clone(),
        first_name: row.first_name.clone(),
        last_name: row.last_name.clone(),
        company: row.company.clone(),
        domain: row.domain.clone(),
        linkedin_url: row.linkedin_url.clone(),
    };

    let client = clients::pipeline_settings(env.pool, client_id).await?;
    let tz = client_timezone(&client.timezone)?;
    let credit_key = env.job.map(|job| format!("enrich_credit:{}", job.job_id));
    let token = env
        .job
        .map(|job| job.job_id.to_string())
        .unwrap_or_else(|| Uuid::now_v7().to_string());
    match spend_credit(env, client_id, lead_id, &token, credit_key.as_deref()).await? {
        Claim::Spent => {}
        Claim::NoCredits => return Ok(EnrichOutcome::WaitingForCredits),
        Claim::Busy => return Ok(EnrichOutcome::InProgress),
    }
    let claimed = ClaimedRun {
        env,
        client_id,
        lead_id,
        token: &token,
        credit_key: credit_key.as_deref(),
    };
    let result = claimed.run(&email, &query, tz, gate, now).await;
    if result.is_err() {
        // Best effort: a retry of the same job may re-claim anyway; others wait for staleness.
        if let Err(e) = store::release_enrichment_claim(env.pool, client_id, lead_id, &token).await
        {
            tracing::warn!(%lead_id, error = %e, "releasing the enrichment claim failed");
        }
    }
    result
}

/// What a run holding the lead's claim works with.
struct ClaimedRun<'a> {
    env: EnrichEnv<'a>,
    client_id: ClientId,
    lead_id: LeadId,
    token: &'a str,
    credit_key: Option<&'a str>,
}

impl ClaimedRun<'_> {
    async fn run(
        &self,
        email: &Email,
        query: &PersonQuery,
        tz: Tz,
        gate: Option<&mut dyn FallbackGate>,
        now: DateTime<Utc>,
    ) -> Result<EnrichOutcome, UseCaseError> {
        let (env, client_id, lead_id) = (self.env, self.client_id, self.lead_id);
        let credit_key = self.credit_key;

        if let Some(hit) = waterfall::cached(env.cache, email).await {
            let source = hit.person.source_label();
            let confidence = hit.person.confidence;
            let seo = seo_for(env, &hit.person, query).await;
            store_facts(env, client_id, lead_id, &hit.person, &source, seo).await?;
            return Ok(EnrichOutcome::Enriched {
                source,
                confidence,
                from_cache: true,
            });
        }

        let report = match gate {
            Some(gate) => env.waterfall.run(query, gate).await,
            None => {
                let mut daily = DailyFallbackGate::start(env.cache, client_id, tz, now).await?;
                env.waterfall.run(query, &mut daily).await
            }
        };
        let report = match report {
            Ok(report) if !report.should_retry() => report,
            other => {
                refund_credit(env, client_id, lead_id, self.token, credit_key).await?;
                return match other {
                    Ok(report) => Err(UseCaseError::Unavailable(format!("{:?}", report.attempts))),
                    Err(e) => Err(e),
                };
            }
        };

        match &report.accepted {
            Some(person) => {
                waterfall::store_cached(env.cache, email, person, now).await;
                let source = person.source_label();
                let seo = seo_for(env, person, query).await;
                store_facts(env, client_id, lead_id, person, &source, seo).await?;
                Ok(EnrichOutcome::Enriched {
                    source,
                    confidence: person.confidence,
                    from_cache: false,
                })
            }
            None => {
                let seo = match query.company_domain() {
                    Some(domain) => seo_lookup(env, &domain).await,
                    None => None,
                };
                let update = store::EnrichmentUpdate {
                    source: "none".into(),
                    confidence: report
                        .best_confidence
                        .unwrap_or_default()
                        .clamp(Decimal::ZERO, Decimal::ONE)
                        .round_dp(3),
                    seo,
                    ..Default::default()
                };
                save(env, client_id, lead_id, &update).await?;
                Ok(EnrichOutcome::NoMatch { report })
            }
        }
    }
}

/// What claiming a lead and spending its credit came to.
enum Claim {
    /// Claimed, and the credit spent (or spent before by this job).
    Spent,
    /// No credit left: the wait reason is recorded, nothing claimed.
    NoCredits,
    /// Another run holds the lead (or finished it): nothing spent.
    Busy,
}

/// Claims the lead for `token` and spends a credit (once per job), in one transaction.
async fn spend_credit(
    env: EnrichEnv<'_>,
    client_id: ClientId,
    lead_id: LeadId,
    token: &str,
    credit_key: Option<&str>,
) -> Result<Claim, UseCaseError> {
    let mut tx = env.pool.begin().await?;
    if !store::claim_enrichment(
        &mut tx,
        client_id,
        lead_id,
        token,
        env.force,
        CLAIM_STALE_AFTER_SECS,
    )
    .await?
    {
        tx.rollback().await?;
        tracing::info!(%client_id, %lead_id, "enrichment already claimed or done; nothing spent");
        return Ok(Claim::Busy);
    }
    if let (Some(key), Some(job)) = (credit_key, env.job)
        && !idempotency::first_time(&mut tx, job, key).await?
    {
        tx.commit().await?;
        return Ok(Claim::Spent);
    }
    if !clients::spend_credit(&mut *tx, client_id).await? {
        tx.rollback().await?;
        store::set_enrichment_wait_reason(env.pool, client_id, lead_id, Some(WAIT_NO_CREDITS))
            .await?;
        tracing::info!(%client_id, %lead_id, "no lead credits left; enrichment waits");
        return Ok(Claim::NoCredits);
    }
    tx.commit().await?;
    Ok(Claim::Spent)
}

async fn refund_credit(
    env: EnrichEnv<'_>,
    client_id: ClientId,
    lead_id: LeadId,
    token: &str,
    credit_key: Option<&str>,
) -> Result<(), UseCaseError> {
    let mut tx = env.pool.begin().await?;
    clients::refund_credit(&mut *tx, client_id).await?;
    if let Some(key) = credit_key {
        job_effects::forget_job_effect(&mut *tx, key).await?;
    }
    store::release_enrichment_claim(&mut *tx, client_id, lead_id, token).await?;
    tx.commit().await?;
    Ok(())
}

/// SEO facts for the answer's company domain (else the query's), from the 30-day cache or the
/// provider. A failure is logged and leaves SEO "not looked up".
async fn seo_for(
    env: EnrichEnv<'_>,
    person: &EnrichedPerson,
    query: &PersonQuery,
) -> Option<store::SeoUpdate> {
    let domain = person
        .organization
        .as_ref()
        .and_then(|o| o.domain.clone())
        .filter(|d| !d.trim().is_empty())
        .or_else(|| query.company_domain())?;
    seo_lookup(env, &domain).await
}

async fn seo_lookup(env: EnrichEnv<'_>, domain: &str) -> Option<store::SeoUpdate> {
    let key = seo_cache_key(domain);
    match env.cache.get_json::<SeoReport>(&key).await {
        Ok(Some(report)) => return Some(seo_update(&report.facts)),
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, "SEO cache read failed; asking the provider"),
    }
    let report: Result<SeoReport, ProviderError> =
        env.waterfall.providers().seo.seo_facts(domain).await;
    match report {
        Ok(report) => {
            if let Err(e) = env.cache.set_json(&key, &report, SEO_TTL).await {
                tracing::warn!(error = %e, "SEO cache write failed");
            }
            Some(seo_update(&report.facts))
        }
        Err(e) => {
            tracing::warn!(%domain, error = %e, "SEO lookup failed; leaving SEO not looked up");
            None
        }
    }
}

fn to_i32<T: TryInto<i32>>(v: Option<T>) -> Option<i32> {
    v.map(|v| v.try_into().unwrap_or(i32::MAX))
}

fn seo_update(facts: &SeoFacts) -> store::SeoUpdate {
    store::SeoUpdate {
        domain_rank: to_i32(facts.domain_rank),
        organic_traffic: to_i32(facts.organic_traffic),
        top10_keywords: to_i32(facts.top10_keywords),
        spam_score: facts.spam_score.map(i32::from),
    }
}

/// The stored form of an accepted answer.
pub fn enrichment_update(
    person: &EnrichedPerson,
    source: &str,
    seo: Option<store::SeoUpdate>,
) -> store::EnrichmentUpdate {
    let org = person.organization.clone().unwrap_or_default();
    store::EnrichmentUpdate {
        source: source.to_owned(),
        confidence: person
            .confidence
            .clamp(Decimal::ZERO, Decimal::ONE)
            .round_dp(3),
        first_name: person.first_name.clone(),
        last_name: person.last_name.clone(),
        title: person.title.clone(),
        phone: person
            .phone
            .as_deref()
            .and_then(|p| Phone::parse(p).ok())
            .map(|p| p.as_str().to_owned()),
        linkedin_url: person.linkedin_url.clone(),
        personal_email: person
            .personal_email
            .clone()
            .map(|e| e.to_ascii_lowercase()),
        email_verified: person.email_verified(),
        company: org.name,
        domain: org.domain.map(|d| d.to_ascii_lowercase()),
        industry: org.industry,
        employee_count: to_i32(org.employee_count),
        country: org.country,
        founded_year: org.founded_year,
        is_hiring: org.is_hiring,
        latest_funding_date: org.latest_funding_date,
        employment_start_date: person.employment_start_date,
        seo,
    }
}

async fn store_facts(
    env: EnrichEnv<'_>,
    client_id: ClientId,
    lead_id: LeadId,
    person: &EnrichedPerson,
    source: &str,
    seo: Option<store::SeoUpdate>,
) -> Result<(), UseCaseError> {
    save(
        env,
        client_id,
        lead_id,
        &enrichment_update(person, source, seo),
    )
    .await
}

async fn save(
    env: EnrichEnv<'_>,
    client_id: ClientId,
    lead_id: LeadId,
    update: &store::EnrichmentUpdate,
) -> Result<(), UseCaseError> {
    let mut tx = env.pool.begin().await?;
    store::save_enrichment(&mut tx, client_id, lead_id, update).await?;
    if env.enqueue_scoring {
        let job = ScoreLeads {
            client_id: client_id.into_uuid(),
            lead_ids: vec![lead_id.into_uuid()],
        };
        enqueue_on(&mut tx, &job, EnqueueOptions::default()).await?;
    }
    tx.commit().await?;
    Ok(())
}
