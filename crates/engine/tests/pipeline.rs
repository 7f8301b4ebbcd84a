//! The lead pipeline against a real PostgreSQL (a fresh database per test; the cache runs on
//! its PostgreSQL backend there, except where Redis is named) with scripted in-process
//! providers, the sandbox providers, and the real Apollo adapter against a wiremock server.

use agency_domain::LeadId;
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use agency_cache::{Cache, FallbackCache};
use agency_domain::{CampaignId, Channel, ClientId, SendBlocked, Weights};
use agency_engine::Services;
use agency_engine::jobs::payload::{EnrichLead, ScoreLeads};
use agency_engine::jobs::{JobContext, JobKind};
use agency_engine::pipeline::allocation::{self, WAIT_CAPACITY, WAIT_WINDOW, counter_name};
use agency_engine::pipeline::enrich::{EnrichEnv, EnrichOutcome, WAIT_NO_CREDITS, enrich_lead};
use agency_engine::pipeline::waterfall::{Attempt, FallbackBudget, Waterfall};
use agency_engine::pipeline::{self, jobs as pjobs, scoring};
use agency_engine::reports;
use agency_providers::{
    EmailStatus, EnrichedPerson, EnrichmentProviders, Organization, PersonEnricher, PersonQuery,
    Provider, ProviderError, SeoFactsProvider, SeoReport,
};
use agency_store::PgPool;
use agency_store::leads::{allocation::waiting_lead_ids, enrichment::leads_waiting_for_credits};
use agency_store::sending_resources::{NewSendingResource, insert_resource};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use uuid::Uuid;

// ---------- scripted providers ----------

#[derive(Debug, Clone, Copy)]
enum Answer {
    /// A match on the queried email, at this confidence in percent.
    Match(i64),
    /// A match on other input (a LinkedIn URL) for a person with another email.
    OtherEmail(i64),
    NoMatch,
    Transient,
}

#[derive(Debug)]
struct Scripted {
    provider: Provider,
    default: Answer,
    queue: Mutex<VecDeque<Answer>>,
    calls: AtomicUsize,
}

impl Scripted {
    fn new(provider: Provider, default: Answer) -> Arc<Self> {
        Arc::new(Scripted {
            provider,
            default,
            queue: Mutex::new(VecDeque::new()),
            calls: AtomicUsize::new(0),
        })
    }
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

fn person(provider: Provider, confidence_pct: i64) -> EnrichedPerson {
    EnrichedPerson {
        first_name: Some("Jane".into()),
        last_name: Some("Citizen".into()),
        title: Some("Founder & CEO".into()),
        email: None,
        email_status: EmailStatus::Verified,
        phone: Some("+61 2 9876 5432".into()),
        linkedin_url: Some("https://linkedin.com/in/jane".into()),
        personal_email: None,
        employment_start_date: None,
        organization: Some(Organization {
            name: Some("Acme".into()),
            domain: Some("acme.com.au".into()),
            industry: Some("Construction".into()),
            employee_count: Some(20),
            country: Some("Australia".into()),
            founded_year: Some(2010),
            is_hiring: Some(true),
            latest_funding_date: None,
        }),
        confidence: Decimal::new(confidence_pct, 2),
        source: provider,
        sandbox: false,
    }
}

#[async_trait]
impl PersonEnricher for Scripted {
    fn provider(&self) -> Provider {
        self.provider
    }
    fn is_sandbox(&self) -> bool {
        false
    }
    async fn enrich_person(
        &self,
        q: &PersonQuery,
    ) -> Result<Option<EnrichedPerson>, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let answer = self
            .queue
            .lock()
            .expect("lock")
            .pop_front()
            .unwrap_or(self.default);
        match answer {
            Answer::Match(c) => Ok(Some(EnrichedPerson {
                email: Some(q.email.as_str().to_owned()),
                ..person(self.provider, c)
            })),
            Answer::OtherEmail(c) => Ok(Some(EnrichedPerson {
                email: Some("someone.else@elsewhere.com.au".into()),
                ..person(self.provider, c)
            })),
            Answer::NoMatch => Ok(None),
            Answer::Transient => Err(ProviderError::Upstream {
                provider: self.provider,
                status: 503,
                attempts: 3,
            }),
        }
    }
}

/// A provider that takes its time (a slow upstream), answering as the wrapped script.
#[derive(Debug)]
struct Slow(Arc<Scripted>);

#[async_trait]
impl PersonEnricher for Slow {
    fn provider(&self) -> Provider {
        self.0.provider
    }
    fn is_sandbox(&self) -> bool {
        false
    }
    async fn enrich_person(
        &self,
        q: &PersonQuery,
    ) -> Result<Option<EnrichedPerson>, ProviderError> {
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        self.0.enrich_person(q).await
    }
}

#[derive(Debug, Default)]
struct FakeSeo {
    calls: AtomicUsize,
}

#[async_trait]
impl SeoFactsProvider for FakeSeo {
    fn provider(&self) -> Provider {
        Provider::DataForSeo
    }
    fn is_sandbox(&self) -> bool {
        false
    }
    async fn seo_facts(&self, domain: &str) -> Result<SeoReport, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        Ok(SeoReport {
            domain: domain.into(),
            facts: agency_domain::SeoFacts {
                domain_rank: Some(600),
                organic_traffic: Some(5_000),
                top10_keywords: Some(12),
                spam_score: Some(3),
            },
            source: Provider::DataForSeo,
            sandbox: false,
        })
    }
}

struct Fakes {
    apollo: Arc<Scripted>,
    apify: Arc<Scripted>,
    clay: Arc<Scripted>,
    seo: Arc<FakeSeo>,
    waterfall: Waterfall,
}

fn fakes(apollo: Answer, apify: Answer, clay: Answer) -> Fakes {
    let (apollo, apify, clay) = (
        Scripted::new(Provider::Apollo, apollo),
        Scripted::new(Provider::Apify, apify),
        Scripted::new(Provider::Clay, clay),
    );
    let seo = Arc::new(FakeSeo::default());
    let waterfall = Waterfall::new(EnrichmentProviders {
        primary: apollo.clone(),
        secondary: apify.clone(),
        fallback: clay.clone(),
        seo: seo.clone(),
    });
    Fakes {
        apollo,
        apify,
        clay,
        seo,
        waterfall,
    }
}

fn query(email: &str) -> PersonQuery {
    PersonQuery::new(agency_domain::Email::parse(email).expect("email"))
}

// ---------- fixtures ----------

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().expect("instant")
}

fn pg_cache(pool: &PgPool) -> Arc<FallbackCache> {
    Arc::new(FallbackCache::new(None, pool.clone()).expect("cache"))
}

/// A client with `credits`, active, ICP industry Construction (and the job tables in place).
async fn client(pool: &PgPool, credits: i32) -> ClientId {
    agency_store::migrate::job_migrator()
        .run(pool)
        .await
        .expect("apalis migrations");
    sqlx::query_scalar(
        "INSERT INTO clients (name, credits_remaining, subscription_status, icp_industries)
         VALUES ('Acme', $1, 'active', '{Construction}') RETURNING id",
    )
    .bind(credits)
    .fetch_one(pool)
    .await
    .expect("client")
}

/// An active campaign with the given allocation (email, linkedin, voice, sms, mail).
async fn campaign(pool: &PgPool, client_id: ClientId, a: [i16; 5]) -> CampaignId {
    sqlx::query_scalar(
        "INSERT INTO campaigns (client_id, name, status, target_industries, allocation_email,
                allocation_linkedin, allocation_voice, allocation_sms, allocation_mail)
         VALUES ($1, 'Spring', 'active', '{Construction}', $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(client_id)
    .bind(a[0])
    .bind(a[1])
    .bind(a[2])
    .bind(a[3])
    .bind(a[4])
    .fetch_one(pool)
    .await
    .expect("campaign")
}

async fn raw_lead(
    pool: &PgPool,
    client_id: ClientId,
    campaign_id: Option<CampaignId>,
    email: &str,
) -> LeadId {
    sqlx::query_scalar(
        "INSERT INTO leads (client_id, campaign_id, email) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(client_id)
    .bind(campaign_id)
    .bind(email)
    .fetch_one(pool)
    .await
    .expect("lead")
}

/// A lead worth 95 points with default weights: data quality 20, CEO 25, company fit 20
/// (industry, size, Australia), timing 15, risk 15; reachable on every channel.
async fn hot_lead(
    pool: &PgPool,
    client_id: ClientId,
    campaign_id: CampaignId,
    email: &str,
    phone: &str,
    today: NaiveDate,
) -> LeadId {
    sqlx::query_scalar(
        "INSERT INTO leads (client_id, campaign_id, email, email_verified, phone, linkedin_url,
                personal_email, title, organization_industry, organization_employee_count,
                organization_country, employment_start_date, organization_is_hiring,
                organization_latest_funding_date)
         VALUES ($1, $2, $3, true, $4, 'https://linkedin.com/in/x', 'x@gmail.com', 'CEO',
                 'Construction', 20, 'Australia', $5, true, $5) RETURNING id",
    )
    .bind(client_id)
    .bind(campaign_id)
    .bind(email)
    .bind(phone)
    .bind(today - chrono::Days::new(30))
    .fetch_one(pool)
    .await
    .expect("hot lead")
}

/// A lead worth 48 (cool): verified email 8, CEO 25, risk 15.
async fn cool_lead(
    pool: &PgPool,
    client_id: ClientId,
    campaign_id: CampaignId,
    email: &str,
) -> LeadId {
    sqlx::query_scalar(
        "INSERT INTO leads (client_id, campaign_id, email, email_verified, title, linkedin_url)
         VALUES ($1, $2, $3, true, 'CEO', NULL) RETURNING id",
    )
    .bind(client_id)
    .bind(campaign_id)
    .bind(email)
    .fetch_one(pool)
    .await
    .expect("cool lead")
}

async fn credits(pool: &PgPool, client_id: ClientId) -> i32 {
    sqlx::query_scalar("SELECT credits_remaining FROM clients WHERE id = $1")
        .bind(client_id)
        .fetch_one(pool)
        .await
        .expect("credits")
}

async fn jobs_of(pool: &PgPool, kind: JobKind) -> Vec<serde_json::Value> {
    let rows: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT job FROM apalis.jobs WHERE job_type = $1 ORDER BY run_at")
            .bind(kind.name())
            .fetch_all(pool)
            .await
            .expect("jobs");
    rows.iter()
        .map(|b| serde_json::from_slice(b).expect("json"))
        .collect()
}

fn env<'a>(pool: &'a PgPool, cache: &'a dyn Cache, waterfall: &'a Waterfall) -> EnrichEnv<'a> {
    EnrichEnv {
        pool,
        cache,
        waterfall,
        job: None,
        enqueue_scoring: false,
        force: false,
    }
}

/// Enriches `lead` of `client` now through the fakes' waterfall, without a fallback gate.
async fn enrich_now(
    pool: &PgPool,
    cache: &dyn Cache,
    f: &Fakes,
    client: ClientId,
    lead: LeadId,
) -> EnrichOutcome {
    enrich_lead(
        env(pool, cache, &f.waterfall),
        ClientId::from_uuid(client.into_uuid()),
        lead,
        None,
        Utc::now(),
    )
    .await
    .expect("enrich")
}

// ---------- waterfall ----------

#[tokio::test]
async fn waterfall_asks_in_order_and_accepts_at_threshold() {
    let f = fakes(Answer::Match(69), Answer::NoMatch, Answer::Match(90));
    let mut budget = FallbackBudget::for_batch(10);
    let report = f
        .waterfall
        .run(&query("a@acme.com.au"), &mut budget)
        .await
        .expect("run");
    assert_eq!(
        report.asked(),
        vec![Provider::Apollo, Provider::Apify, Provider::Clay]
    );
    assert!(
        matches!(report.attempts[0], Attempt::BelowThreshold { .. }),
        "0.69 is below 0.70"
    );
    assert_eq!(
        report.accepted.as_ref().map(|p| p.source),
        Some(Provider::Clay)
    );
    assert_eq!(budget.used(), 1);

    // Exactly 0.70 is accepted, and nobody after the primary is asked.
    let f = fakes(Answer::Match(70), Answer::Match(99), Answer::Match(99));
    let mut budget = FallbackBudget::for_batch(10);
    let report = f
        .waterfall
        .run(&query("a@acme.com.au"), &mut budget)
        .await
        .expect("run");
    assert_eq!(report.accepted.map(|p| p.source), Some(Provider::Apollo));
    assert_eq!(
        (f.apollo.calls(), f.apify.calls(), f.clay.calls()),
        (1, 0, 0)
    );

    // A failing provider is skipped, not fatal.
    let f = fakes(Answer::Transient, Answer::Match(80), Answer::NoMatch);
    let report = f
        .waterfall
        .run(&query("a@acme.com.au"), &mut FallbackBudget::for_batch(10))
        .await
        .expect("run");
    assert_eq!(report.accepted.map(|p| p.source), Some(Provider::Apify));
    assert!(!f.waterfall.providers().any_sandbox());
}

#[tokio::test]
async fn fallback_serves_at_most_fifteen_percent_of_a_batch() {
    let f = fakes(Answer::NoMatch, Answer::NoMatch, Answer::Match(95));
    let mut budget = FallbackBudget::for_batch(20);
    let mut accepted = 0;
    let mut capped = 0;
    for i in 0..20 {
        let report = f
            .waterfall
            .run(&query(&format!("p{i}@acme.com.au")), &mut budget)
            .await
            .expect("run");
        accepted += usize::from(report.accepted.is_some());
        capped += report
            .attempts
            .iter()
            .filter(|a| matches!(a, Attempt::Capped { .. }))
            .count();
    }
    assert_eq!(f.clay.calls(), 3, "15% of 20");
    assert_eq!((accepted, capped), (3, 17));
    assert_eq!(f.apollo.calls(), 20);
}

#[tokio::test]
async fn real_apollo_adapter_against_a_fake_server() {
    use wiremock::matchers::{body_partial_json, header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/people/match"))
        .and(header("x-api-key", "test-key"))
        .and(body_partial_json(serde_json::json!({"email": "jane@acme.com.au"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "person": {
                "first_name": "Jane", "last_name": "Citizen", "title": "Managing Director",
                "email": "jane@acme.com.au", "email_status": "verified",
                "organization": {"name": "Acme", "primary_domain": "acme.com.au", "industry": "construction",
                                  "estimated_num_employees": 25, "country": "Australia"}
            }
        })))
        .expect(1)
        .mount(&server)
        .await;
    let apollo = agency_providers::Apollo::new(
        secrecy::SecretString::from("test-key".to_owned()),
        &server.uri(),
        &agency_providers::HttpSettings::default(),
    )
    .expect("apollo");
    let f = fakes(Answer::NoMatch, Answer::NoMatch, Answer::NoMatch);
    let waterfall = Waterfall::new(EnrichmentProviders {
        primary: Arc::new(apollo),
        secondary: f.apify.clone(),
        fallback: f.clay.clone(),
        seo: f.seo.clone(),
    });
    let report = waterfall
        .run(
            &query("jane@acme.com.au"),
            &mut FallbackBudget::for_batch(1),
        )
        .await
        .expect("run");
    let accepted = report.accepted.expect("accepted");
    assert_eq!(accepted.title.as_deref(), Some("Managing Director"));
    assert!(accepted.confidence >= Decimal::new(70, 2));
    assert_eq!(f.apify.calls(), 0);
}

// ---------- enrichment ----------

#[sqlx::test(migrations = "../../migrations")]
async fn enrichment_stores_facts_and_a_cache_hit_spends_a_credit_too(pool: PgPool) {
    let cache = pg_cache(&pool);
    let f = fakes(Answer::Match(90), Answer::NoMatch, Answer::NoMatch);
    let c1 = client(&pool, 5).await;
    let lead1 = raw_lead(&pool, c1, None, "jane@acme.com.au").await;
    let out = enrich_now(&pool, &*cache, &f, c1, lead1).await;
    assert!(
        matches!(
            out,
            EnrichOutcome::Enriched {
                from_cache: false,
                ..
            }
        ),
        "{out:?}"
    );
    assert_eq!(credits(&pool, c1).await, 4);
    let (status, source, title, phone, seo, rank): (String, String, String, String, bool, Option<i32>) = sqlx::query_as(
        "SELECT status, enrichment_source, title, phone, seo_looked_up, seo_domain_rank FROM leads WHERE id = $1",
    )
    .bind(lead1)
    .fetch_one(&pool)
    .await
    .expect("row");
    assert_eq!(
        (status.as_str(), source.as_str(), title.as_str()),
        ("enriched", "apollo", "Founder & CEO")
    );
    assert_eq!(phone, "+61298765432", "normalised to E.164");
    assert_eq!((seo, rank), (true, Some(600)));
    assert_eq!(f.seo.calls.load(Ordering::SeqCst), 1);

    // Same person for another client: cache hit, no provider asked, but the credit is spent
    // and the source is the provider's name (nothing tells B that A holds the contact).
    let c2 = client(&pool, 5).await;
    let lead2 = raw_lead(&pool, c2, None, "jane@acme.com.au").await;
    let out = enrich_now(&pool, &*cache, &f, c2, lead2).await;
    assert!(
        matches!(&out, EnrichOutcome::Enriched { from_cache: true, source, .. } if source == "apollo"),
        "{out:?}"
    );
    assert_eq!(f.apollo.calls(), 1);
    assert_eq!(
        f.seo.calls.load(Ordering::SeqCst),
        1,
        "SEO cached per domain"
    );
    assert_eq!(credits(&pool, c2).await, 4, "a cache hit spends the credit");
    assert_eq!(source_of(&pool, lead2).await.as_deref(), Some("apollo"));

    // A stale cache layout is ignored (soft validation): providers are asked again.
    let key = agency_engine::pipeline::waterfall::enrichment_cache_key(
        &agency_domain::Email::parse("jane@acme.com.au").expect("email"),
    );
    cache
        .set(&key, br#"{"format":0}"#, std::time::Duration::from_secs(60))
        .await
        .expect("set");
    let c3 = client(&pool, 5).await;
    let lead3 = raw_lead(&pool, c3, None, "jane@acme.com.au").await;
    enrich_now(&pool, &*cache, &f, c3, lead3).await;
    assert_eq!(f.apollo.calls(), 2);
    assert_eq!(credits(&pool, c3).await, 4);

    // A client with no credit left gets nothing from the cache either.
    let c4 = client(&pool, 0).await;
    let lead4 = raw_lead(&pool, c4, None, "jane@acme.com.au").await;
    let out = enrich_now(&pool, &*cache, &f, c4, lead4).await;
    assert_eq!(out, EnrichOutcome::WaitingForCredits);
}

async fn source_of(pool: &PgPool, lead: LeadId) -> Option<String> {
    sqlx::query_scalar("SELECT enrichment_source FROM leads WHERE id = $1")
        .bind(lead)
        .fetch_one(pool)
        .await
        .expect("row")
}

/// Sets a lead's own (tenant-typed) names, company, domain and LinkedIn URL.
async fn type_in(pool: &PgPool, lead: LeadId, domain: &str) {
    sqlx::query(
        "UPDATE leads SET first_name = 'Made', last_name = 'Up', company = 'Invented Pty Ltd',
                          domain = $2, linkedin_url = 'https://www.linkedin.com/in/made-up'
          WHERE id = $1",
    )
    .bind(lead)
    .bind(domain)
    .execute(pool)
    .await
    .expect("type in");
}

/// Issue 15: tenant A's input must never reach tenant B's lead for the same address.
#[sqlx::test(migrations = "../../migrations")]
async fn tenant_input_never_reaches_another_tenant_through_the_cache(pool: PgPool) {
    let cache = pg_cache(&pool);
    let victim = "ceo@victimco.com.au";

    // A provider matched A's lead on the LinkedIn URL A typed, for a person with another email:
    // A's lead takes it (A asked for it), the shared cache does not.
    let f = fakes(Answer::OtherEmail(85), Answer::NoMatch, Answer::NoMatch);
    let a = client(&pool, 5).await;
    let lead_a = raw_lead(&pool, a, None, victim).await;
    type_in(&pool, lead_a, "victimco.com.au").await;
    let out = enrich_now(&pool, &*cache, &f, a, lead_a).await;
    assert!(
        matches!(
            &out,
            EnrichOutcome::Enriched {
                from_cache: false,
                ..
            }
        ),
        "{out:?}"
    );
    let b = client(&pool, 5).await;
    let lead_b = raw_lead(&pool, b, None, victim).await;
    let out = enrich_now(&pool, &*cache, &f, b, lead_b).await;
    assert!(
        matches!(&out, EnrichOutcome::Enriched { from_cache: false, source, .. } if source == "apollo"),
        "B's lead is looked up for B: {out:?}"
    );
    assert_eq!(f.apollo.calls(), 2, "nothing was shared through the cache");
    assert_eq!(credits(&pool, b).await, 4);

    // Sandbox answers are built from the tenant's own input: never shared either.
    let sandbox = Waterfall::new(EnrichmentProviders::sandbox(
        NaiveDate::from_ymd_opt(2026, 12, 1).expect("date"),
    ));
    let victim2 = "md@victimco2.com.au";
    let a2 = raw_lead(&pool, a, None, victim2).await;
    type_in(&pool, a2, "victimco2.com.au").await;
    let b2 = raw_lead(&pool, b, None, victim2).await;
    for (client, lead) in [(a, a2), (b, b2)] {
        enrich_lead(
            env(&pool, &*cache, &sandbox),
            client,
            lead,
            None,
            Utc::now(),
        )
        .await
        .expect("enrich");
    }
    let (first, company, source): (Option<String>, Option<String>, Option<String>) =
        sqlx::query_as("SELECT first_name, company, enrichment_source FROM leads WHERE id = $1")
            .bind(b2)
            .fetch_one(&pool)
            .await
            .expect("row");
    assert_ne!(first.as_deref(), Some("Made"), "A's names reached B");
    assert_ne!(
        company.as_deref(),
        Some("Invented Pty Ltd"),
        "A's company reached B"
    );
    assert!(
        !source.unwrap_or_default().starts_with("cache:"),
        "B is told nothing about other tenants"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn two_runs_for_one_lead_at_once_spend_one_credit_and_ask_once(pool: PgPool) {
    let cache = pg_cache(&pool);
    let c = client(&pool, 10).await;
    let lead = raw_lead(&pool, c, None, "jane@acme-builders.com.au").await;
    let f = fakes(Answer::NoMatch, Answer::NoMatch, Answer::NoMatch);
    let apollo = Scripted::new(Provider::Apollo, Answer::Match(95));
    let waterfall = Waterfall::new(EnrichmentProviders {
        primary: Arc::new(Slow(apollo.clone())),
        secondary: f.apify.clone(),
        fallback: f.clay.clone(),
        seo: f.seo.clone(),
    });
    let (a, b) = tokio::join!(
        enrich_lead(env(&pool, &*cache, &waterfall), c, lead, None, Utc::now()),
        enrich_lead(env(&pool, &*cache, &waterfall), c, lead, None, Utc::now()),
    );
    let outcomes = [a.expect("first"), b.expect("second")];
    assert!(
        outcomes
            .iter()
            .any(|o| matches!(o, EnrichOutcome::Enriched { .. })),
        "{outcomes:?}"
    );
    assert!(
        outcomes
            .iter()
            .any(|o| matches!(o, EnrichOutcome::InProgress)),
        "{outcomes:?}"
    );
    assert_eq!(credits(&pool, c).await, 9, "one credit");
    assert_eq!(apollo.calls(), 1, "one provider call");
    let claimed: Option<String> =
        sqlx::query_scalar("SELECT enrichment_claimed_by FROM leads WHERE id = $1")
            .bind(lead)
            .fetch_one(&pool)
            .await
            .expect("claim");
    assert_eq!(claimed, None, "the claim is released with the facts");
}

#[sqlx::test(migrations = "../../migrations")]
async fn no_credit_left_means_the_lead_waits_with_the_reason(pool: PgPool) {
    let cache = pg_cache(&pool);
    let f = fakes(Answer::Match(90), Answer::NoMatch, Answer::NoMatch);
    let c = client(&pool, 0).await;
    let lead = raw_lead(&pool, c, None, "bob@builder.com.au").await;
    let out = enrich_now(&pool, &*cache, &f, c, lead).await;
    assert_eq!(out, EnrichOutcome::WaitingForCredits);
    assert_eq!(f.apollo.calls(), 0);
    let (status, reason): (String, Option<String>) =
        sqlx::query_as("SELECT status, enrichment_wait_reason FROM leads WHERE id = $1")
            .bind(lead)
            .fetch_one(&pool)
            .await
            .expect("row");
    assert_eq!(
        (status.as_str(), reason.as_deref()),
        ("new", Some(WAIT_NO_CREDITS))
    );
    assert_eq!(
        leads_waiting_for_credits(&pool, c, WAIT_NO_CREDITS)
            .await
            .expect("waiting"),
        vec![lead]
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn providers_down_refunds_the_credit_and_asks_for_a_retry(pool: PgPool) {
    let cache = pg_cache(&pool);
    let f = fakes(Answer::Transient, Answer::Transient, Answer::Transient);
    let c = client(&pool, 3).await;
    let lead = raw_lead(&pool, c, None, "bob@builder.com.au").await;
    let mut budget = FallbackBudget::for_batch(10);
    let err = enrich_lead(
        env(&pool, &*cache, &f.waterfall),
        c,
        lead,
        Some(&mut budget),
        Utc::now(),
    )
    .await
    .expect_err("retry");
    assert!(
        matches!(err, agency_engine::UseCaseError::Unavailable(_)),
        "{err}"
    );
    assert_eq!(credits(&pool, c).await, 3);
    assert_eq!(f.clay.calls(), 1);
}

// ---------- scoring ----------

#[sqlx::test(migrations = "../../migrations")]
async fn scores_are_stored_with_the_weights_used_and_learned_weights_need_evidence(pool: PgPool) {
    let today = Utc::now().date_naive();
    let c = client(&pool, 10).await;
    let camp = campaign(&pool, c, [40, 30, 20, 5, 5]).await;
    let lead = hot_lead(&pool, c, camp, "ceo@acme.com.au", "+61298765432", today).await;

    let summary = scoring::score_leads(&pool, c, &[lead], Utc::now())
        .await
        .expect("score");
    assert_eq!(summary.scored, 1);
    assert!(!summary.learned_weights);
    let stored = agency_store::leads::get(&pool, c, lead)
        .await
        .expect("lead");
    assert_eq!(stored.als_score, Some(95));
    assert_eq!(stored.als_tier.as_deref(), Some("hot"));
    assert_eq!(
        (
            stored.als_data_quality,
            stored.als_authority,
            stored.als_company_fit,
            stored.als_timing,
            stored.als_risk
        ),
        (Some(20), Some(25), Some(20), Some(15), Some(15))
    );
    assert_eq!(
        stored.als_weights,
        Some(serde_json::to_value(Weights::default()).expect("json"))
    );
    assert_eq!(stored.als_channels.len(), 5);
    assert_eq!(stored.status, "scored");

    // Learned weights with confidence 0.8 on 49 conversions: not enough evidence -> defaults.
    let learned = serde_json::json!({"data_quality":0.1,"authority":0.1,"company_fit":0.1,"timing":0.1,"risk":0.6});
    sqlx::query("UPDATE clients SET als_weights = $2, als_weights_confidence = 0.8, als_weights_conversions = 49 WHERE id = $1")
        .bind(c)
        .bind(&learned)
        .execute(&pool)
        .await
        .expect("weights");
    scoring::score_leads(&pool, c, &[lead], Utc::now())
        .await
        .expect("score");
    let stored = agency_store::leads::get(&pool, c, lead)
        .await
        .expect("lead");
    assert_eq!(
        stored.als_weights,
        Some(serde_json::to_value(Weights::default()).expect("json"))
    );

    // 50 conversions: the learned weights are used and stored with the lead.
    sqlx::query("UPDATE clients SET als_weights_conversions = 50 WHERE id = $1")
        .bind(c)
        .execute(&pool)
        .await
        .expect("conversions");
    let summary = scoring::score_leads(&pool, c, &[lead], Utc::now())
        .await
        .expect("score");
    assert!(summary.learned_weights);
    let stored = agency_store::leads::get(&pool, c, lead)
        .await
        .expect("lead");
    assert_eq!(stored.als_weights, Some(learned));
    // 0.1*(100+100+80+100) + 0.6*100 = 98
    assert_eq!(stored.als_score, Some(98));

    // Confidence exactly 0.7 is not enough.
    sqlx::query("UPDATE clients SET als_weights_confidence = 0.7 WHERE id = $1")
        .bind(c)
        .execute(&pool)
        .await
        .expect("confidence");
    scoring::score_leads(&pool, c, &[lead], Utc::now())
        .await
        .expect("score");
    assert_eq!(
        agency_store::leads::get(&pool, c, lead)
            .await
            .expect("lead")
            .als_score,
        Some(95)
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn suppressed_leads_are_dead_and_get_no_channel(pool: PgPool) {
    let today = Utc::now().date_naive();
    let c = client(&pool, 10).await;
    let camp = campaign(&pool, c, [100, 0, 0, 0, 0]).await;
    let lead = hot_lead(&pool, c, camp, "gone@acme.com.au", "+61298765432", today).await;
    sqlx::query(
        "INSERT INTO global_suppression (email, reason) VALUES ('gone@acme.com.au', 'unsubscribe')",
    )
    .execute(&pool)
    .await
    .expect("suppress");
    let cache = pg_cache(&pool);
    let s = scoring::score_and_allocate(&pool, &*cache, c, &[lead], Utc::now())
        .await
        .expect("score");
    assert_eq!(s.allocation.no_channel, 1);
    let stored = agency_store::leads::get(&pool, c, lead)
        .await
        .expect("lead");
    assert_eq!(
        (stored.als_tier.as_deref(), stored.next_action_at),
        (Some("dead"), None)
    );
    assert!(stored.als_channels.is_empty());
}

// ---------- allocation ----------

async fn resource(
    pool: &PgPool,
    c: ClientId,
    kind: &str,
    value: &str,
    warmup: Option<NaiveDate>,
    cap: Option<i32>,
) -> Uuid {
    let new = NewSendingResource {
        kind,
        value,
        warmup_started_on: warmup,
        daily_cap_override: cap,
        verified: true,
        verification_token: None,
    };
    insert_resource(pool, c, &new).await.expect("resource").id
}

/// How often `resource` (of `kind`) was used on the Sydney day of `at` (the test clients'
/// time zone), by its daily counter.
async fn used_on(
    cache: &FallbackCache,
    kind: agency_domain::ResourceKind,
    resource: Uuid,
    at: DateTime<Utc>,
) -> i64 {
    cache
        .read_daily(
            &counter_name(kind, resource),
            chrono_tz::Australia::Sydney,
            at,
        )
        .await
        .expect("daily counter")
}

async fn allocation_of(
    pool: &PgPool,
    lead: LeadId,
) -> (
    Option<String>,
    Option<Uuid>,
    Option<DateTime<Utc>>,
    Option<String>,
) {
    sqlx::query_as(
        "SELECT first_touch_channel, allocated_resource_id, next_action_at, allocation_wait_reason FROM leads WHERE id = $1",
    )
    .bind(lead)
    .fetch_one(pool)
    .await
    .expect("allocation")
}

#[sqlx::test(migrations = "../../migrations")]
async fn unverified_resources_are_never_allocated(pool: PgPool) {
    let cache = pg_cache(&pool);
    let now = utc("2027-06-02T01:00:00Z"); // Wednesday 11:00 in Sydney
    let c = client(&pool, 100).await;
    let camp = campaign(&pool, c, [100, 0, 0, 0, 0]).await;
    let unverified = NewSendingResource {
        kind: "email_domain",
        value: "unproved.example",
        verified: false,
        verification_token: Some("agency-os-verify=abc"),
        ..NewSendingResource::default()
    };
    insert_resource(&pool, c, &unverified)
        .await
        .expect("resource");
    let lead = cool_lead(&pool, c, camp, "p0@acme.com.au").await;
    let s = scoring::score_and_allocate(&pool, &*cache, c, &[lead], now)
        .await
        .expect("run");
    assert_eq!((s.allocation.allocated, s.allocation.waiting), (0, 1));
    let (_, res, _, _) = allocation_of(&pool, lead).await;
    assert_eq!(res, None, "an unverified domain never sends");
}

#[sqlx::test(migrations = "../../migrations")]
async fn email_domains_fill_least_used_first_under_caps_with_warm_up(pool: PgPool) {
    let cache = pg_cache(&pool);
    let now = utc("2027-06-02T01:00:00Z"); // Wednesday 11:00 in Sydney
    let today = NaiveDate::from_ymd_opt(2027, 6, 2).expect("date");
    let c = client(&pool, 100).await;
    let camp = campaign(&pool, c, [100, 0, 0, 0, 0]).await;
    let new_domain = resource(
        &pool,
        c,
        "email_domain",
        "new.example",
        Some(today - chrono::Days::new(1)),
        None,
    )
    .await; // day 2: 20
    let warm = resource(&pool, c, "email_domain", "warm.example", None, None).await; // 50
    let mut leads = Vec::new();
    for i in 0..75 {
        leads.push(cool_lead(&pool, c, camp, &format!("p{i}@acme.com.au")).await);
    }
    let s = scoring::score_and_allocate(&pool, &*cache, c, &leads, now)
        .await
        .expect("run");
    assert_eq!((s.allocation.allocated, s.allocation.waiting), (70, 5));
    let kind = agency_domain::ResourceKind::EmailDomain;
    assert_eq!(used_on(&cache, kind, new_domain, now).await, 20);
    assert_eq!(used_on(&cache, kind, warm, now).await, 50);

    let mut waiting = 0;
    for lead in &leads {
        let (channel, res, next, reason) = allocation_of(&pool, *lead).await;
        assert_eq!(channel.as_deref(), Some("email"));
        match res {
            Some(_) => assert_eq!(next, Some(now)),
            None => {
                waiting += 1;
                assert_eq!(reason.as_deref(), Some(WAIT_CAPACITY));
                // The next day's window: Thursday 09:00 Sydney.
                assert_eq!(next, Some(utc("2027-06-02T23:00:00Z")));
            }
        }
    }
    assert_eq!(waiting, 5);
    // One waiting-leads pass is scheduled for that window.
    let passes = jobs_of(&pool, JobKind::RescoreCampaign).await;
    assert_eq!(passes.len(), 1);
    assert_eq!(passes[0]["only_waiting"], true);

    // Rescoring keeps reservations: counters do not move.
    let s = scoring::score_and_allocate(&pool, &*cache, c, &leads, now)
        .await
        .expect("again");
    assert_eq!((s.allocation.kept, s.allocation.allocated), (70, 0));
    assert_eq!(used_on(&cache, kind, warm, now).await, 50);

    // A later batch the same day also waits, and its plans are stored (the waiting-leads pass
    // it would schedule exists already: the duplicate must not undo the batch).
    let late = cool_lead(&pool, c, camp, "late@acme.com.au").await;
    let s = scoring::score_and_allocate(&pool, &*cache, c, &[late], now)
        .await
        .expect("late");
    assert_eq!(s.allocation.waiting, 1);
    assert_eq!(
        allocation_of(&pool, late).await.3.as_deref(),
        Some(WAIT_CAPACITY)
    );
    assert_eq!(jobs_of(&pool, JobKind::RescoreCampaign).await.len(), 1);
    sqlx::query("DELETE FROM leads WHERE id = $1")
        .bind(late)
        .execute(&pool)
        .await
        .expect("delete");

    // Next day (warm-up day 3 -> 30 on the new domain): the waiting leads get a resource.
    let tomorrow = utc("2027-06-02T23:00:00Z");
    let waiting_ids = waiting_lead_ids(&pool, c, camp).await.expect("waiting");
    assert_eq!(waiting_ids.len(), 5);
    let s = allocation::allocate_leads(&pool, &*cache, c, &waiting_ids, tomorrow)
        .await
        .expect("tomorrow");
    assert_eq!((s.allocated, s.waiting), (5, 0));
    // Least used first on a fresh day: both start at 0, so they alternate (ties: first listed).
    assert_eq!(used_on(&cache, kind, new_domain, tomorrow).await, 3);
    assert_eq!(used_on(&cache, kind, warm, tomorrow).await, 2);
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_failed_allocation_gives_its_reservations_back(pool: PgPool) {
    let cache = pg_cache(&pool);
    let now = utc("2027-06-02T01:00:00Z"); // Wednesday 11:00 in Sydney
    let c = client(&pool, 100).await;
    let camp = campaign(&pool, c, [100, 0, 0, 0, 0]).await;
    let domain = resource(&pool, c, "email_domain", "warm.example", None, None).await;
    let mut leads = Vec::new();
    for i in 0..3 {
        leads.push(cool_lead(&pool, c, camp, &format!("f{i}@acme.com.au")).await);
    }
    // The database refuses to store the plans (after the counters were reserved).
    sqlx::query(
        "CREATE FUNCTION refuse_allocation() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN RAISE EXCEPTION 'storage failed'; END; $$",
    )
    .execute(&pool)
    .await
    .expect("function");
    sqlx::query(
        "CREATE TRIGGER refuse_allocation BEFORE UPDATE OF allocated_resource_id ON leads
         FOR EACH ROW WHEN (NEW.allocated_resource_id IS NOT NULL)
         EXECUTE FUNCTION refuse_allocation()",
    )
    .execute(&pool)
    .await
    .expect("trigger");
    let kind = agency_domain::ResourceKind::EmailDomain;
    let scored = scoring::score_leads(&pool, c, &leads, now).await;
    assert!(scored.is_ok(), "scoring alone stores: {scored:?}");
    let err = allocation::allocate_leads(&pool, &*cache, c, &leads, now).await;
    assert!(err.is_err(), "the plans could not be stored");
    assert_eq!(
        used_on(&cache, kind, domain, now).await,
        0,
        "the reservations were given back"
    );
    assert_eq!(allocation_of(&pool, leads[0]).await.1, None);

    // The retry, once storage works, reserves exactly once per lead.
    sqlx::query("DROP TRIGGER refuse_allocation ON leads")
        .execute(&pool)
        .await
        .expect("drop");
    let s = allocation::allocate_leads(&pool, &*cache, c, &leads, now)
        .await
        .expect("retry");
    assert_eq!(s.allocated, 3);
    assert_eq!(used_on(&cache, kind, domain, now).await, 3);
}

#[sqlx::test(migrations = "../../migrations")]
async fn linkedin_seat_caps_at_seventeen_and_day_rolls_over_at_local_midnight(pool: PgPool) {
    let cache = pg_cache(&pool);
    let c = client(&pool, 100).await;
    let camp = campaign(&pool, c, [0, 100, 0, 0, 0]).await;
    let seat = resource(&pool, c, "linkedin_seat", "seat-1", None, None).await;
    let mut leads = Vec::new();
    for i in 0..20 {
        let id: LeadId = sqlx::query_scalar(
            "INSERT INTO leads (client_id, campaign_id, email, email_verified, title, linkedin_url)
             VALUES ($1, $2, $3, true, 'CEO', 'https://linkedin.com/in/p') RETURNING id",
        )
        .bind(c)
        .bind(camp)
        .bind(format!("l{i}@acme.com.au"))
        .fetch_one(&pool)
        .await
        .expect("lead");
        leads.push(id);
    }
    // 23:59:59 on 1 June in Sydney.
    let before = utc("2027-06-01T13:59:59Z");
    let s = scoring::score_and_allocate(&pool, &*cache, c, &leads, before)
        .await
        .expect("run");
    assert_eq!((s.allocation.allocated, s.allocation.waiting), (17, 3));
    let waiting = waiting_lead_ids(&pool, c, camp).await.expect("waiting");
    // One second later it is 2 June in Sydney: the seat is free again.
    let after = utc("2027-06-01T14:00:00Z");
    let s = allocation::allocate_leads(&pool, &*cache, c, &waiting, after)
        .await
        .expect("rollover");
    assert_eq!(s.allocated, 3);
    let kind = agency_domain::ResourceKind::LinkedinSeat;
    assert_eq!(used_on(&cache, kind, seat, before).await, 17);
    assert_eq!(used_on(&cache, kind, seat, after).await, 3);
}

#[sqlx::test(migrations = "../../migrations")]
async fn sms_goes_out_in_the_leads_business_hours(pool: PgPool) {
    let cache = pg_cache(&pool);
    let c = client(&pool, 100).await;
    let camp = campaign(&pool, c, [0, 0, 0, 100, 0]).await;
    let number = resource(&pool, c, "sms_number", "+61400000000", None, None).await;
    let today = NaiveDate::from_ymd_opt(2027, 6, 1).expect("date");
    // A Perth landline (08 9xxx): UTC+8.
    let lead = hot_lead(&pool, c, camp, "perth@acme.com.au", "+61892345678", today).await;

    // Tuesday 07:00 in Perth: planned for 09:00 Perth the same day, reserved.
    let now = utc("2027-06-07T23:00:00Z");
    scoring::score_and_allocate(&pool, &*cache, c, &[lead], now)
        .await
        .expect("run");
    let (channel, res, next, reason) = allocation_of(&pool, lead).await;
    assert_eq!(channel.as_deref(), Some("sms"));
    assert_eq!(
        (res, next, reason),
        (Some(number), Some(utc("2027-06-08T01:00:00Z")), None)
    );

    // Friday 19:00 in Perth: Monday's window is more than a day away, so it waits for it.
    let lead2 = hot_lead(&pool, c, camp, "perth2@acme.com.au", "+61892345679", today).await;
    let friday = utc("2027-06-11T11:00:00Z");
    scoring::score_and_allocate(&pool, &*cache, c, &[lead2], friday)
        .await
        .expect("run");
    let (_, res, next, reason) = allocation_of(&pool, lead2).await;
    assert_eq!(
        (res, next, reason.as_deref()),
        (None, Some(utc("2027-06-14T01:00:00Z")), Some(WAIT_WINDOW))
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn draft_campaign_leads_are_scored_but_not_allocated(pool: PgPool) {
    let cache = pg_cache(&pool);
    let c = client(&pool, 100).await;
    let camp = campaign(&pool, c, [100, 0, 0, 0, 0]).await;
    sqlx::query("UPDATE campaigns SET status = 'draft' WHERE id = $1")
        .bind(camp)
        .execute(&pool)
        .await
        .expect("draft");
    resource(&pool, c, "email_domain", "d.example", None, None).await;
    let lead = cool_lead(&pool, c, camp, "x@acme.com.au").await;
    let s = scoring::score_and_allocate(&pool, &*cache, c, &[lead], Utc::now())
        .await
        .expect("run");
    assert_eq!((s.scored, s.allocation.skipped), (1, 1));
    assert_eq!(allocation_of(&pool, lead).await, (None, None, None, None));
}

// ---------- jobs, rescore, report, send check ----------

fn job_ctx(pool: &PgPool, cache: Arc<FallbackCache>, kind: JobKind) -> JobContext {
    JobContext::in_process(Services::with_sandbox_providers(pool.clone(), cache), kind)
}

#[sqlx::test(migrations = "../../migrations")]
async fn new_leads_flow_through_enrich_score_and_allocate_jobs(pool: PgPool) {
    let cache = pg_cache(&pool);
    let c = client(&pool, 10).await;
    let camp = campaign(&pool, c, [100, 0, 0, 0, 0]).await;
    resource(&pool, c, "email_domain", "d.example", None, None).await;
    let lead = raw_lead(&pool, c, Some(camp), "someone@acme-builders.com.au").await;

    let mut tx = pool.begin().await.expect("tx");
    assert_eq!(
        pjobs::enqueue_new_leads(&mut tx, c, &[lead])
            .await
            .expect("enqueue"),
        1
    );
    tx.commit().await.expect("commit");
    let enrich: Vec<EnrichLead> = jobs_of(&pool, JobKind::EnrichLead)
        .await
        .into_iter()
        .map(|j| serde_json::from_value(j).expect("payload"))
        .collect();
    assert_eq!(
        enrich,
        vec![EnrichLead {
            client_id: c.into_uuid(),
            lead_id: lead.into_uuid()
        }]
    );

    // The handler (sandbox providers: nothing installed in this process).
    pjobs::enrich_lead_job(
        job_ctx(&pool, cache.clone(), JobKind::EnrichLead),
        enrich[0].clone(),
    )
    .await
    .expect("enrich job");
    let score: Vec<ScoreLeads> = jobs_of(&pool, JobKind::ScoreLeads)
        .await
        .into_iter()
        .map(|j| serde_json::from_value(j).expect("payload"))
        .collect();
    assert_eq!(
        score,
        vec![ScoreLeads {
            client_id: c.into_uuid(),
            lead_ids: vec![lead.into_uuid()]
        }]
    );
    let (status, source): (String, Option<String>) =
        sqlx::query_as("SELECT status, enrichment_source FROM leads WHERE id = $1")
            .bind(lead)
            .fetch_one(&pool)
            .await
            .expect("row");
    assert_eq!(status, "enriched");
    assert!(source.is_some_and(|s| s.starts_with("sandbox:") || s == "none"));

    pjobs::score_leads_job(
        job_ctx(&pool, cache.clone(), JobKind::ScoreLeads),
        score[0].clone(),
    )
    .await
    .expect("score job");
    let stored = agency_store::leads::get(&pool, c, lead)
        .await
        .expect("lead");
    assert!(stored.als_score.is_some());
    assert_eq!(stored.status, "scored");
    // A dead lead has no next action; any other tier has its email planned now.
    let (channel, _, next, _) = allocation_of(&pool, lead).await;
    assert_eq!(
        channel.is_some(),
        stored.als_tier.as_deref() != Some("dead")
    );
    assert_eq!(next.is_some(), channel.is_some());
}

#[sqlx::test(migrations = "../../migrations")]
async fn campaign_rescore_fans_out_batches_and_the_tier_distribution_counts(pool: PgPool) {
    let cache = pg_cache(&pool);
    let today = Utc::now().date_naive();
    let c = client(&pool, 10).await;
    let camp = campaign(&pool, c, [100, 0, 0, 0, 0]).await;
    let mut leads = vec![hot_lead(&pool, c, camp, "h@acme.com.au", "+61298765432", today).await];
    for i in 0..1_001 {
        leads.push(cool_lead(&pool, c, camp, &format!("c{i}@acme.com.au")).await);
    }
    raw_lead(&pool, c, None, "loose@acme.com.au").await;

    let mut conn = pool.acquire().await.expect("conn");
    pjobs::enqueue_campaign_rescore(&mut conn, c, camp)
        .await
        .expect("enqueue");
    drop(conn);
    let fan = jobs_of(&pool, JobKind::RescoreCampaign).await;
    let payload = serde_json::from_value(fan[0].clone()).expect("payload");
    pjobs::rescore_campaign_job(
        job_ctx(&pool, cache.clone(), JobKind::RescoreCampaign),
        payload,
    )
    .await
    .expect("fan out");
    let batches: Vec<ScoreLeads> = jobs_of(&pool, JobKind::ScoreLeads)
        .await
        .into_iter()
        .map(|j| serde_json::from_value(j).expect("payload"))
        .collect();
    assert_eq!(
        batches.iter().map(|b| b.lead_ids.len()).collect::<Vec<_>>(),
        vec![1_000, 2]
    );
    for b in batches {
        pjobs::score_leads_job(job_ctx(&pool, cache.clone(), JobKind::ScoreLeads), b)
            .await
            .expect("score");
    }
    // Unscored leads are not in the distribution; percentages are of the scored ones.
    let all = reports::lead_distribution(&pool, c, None)
        .await
        .expect("report");
    assert_eq!(all.total, 1_002);
    assert_eq!((all.hot.count, all.cool.count), (1, 1_001));
    let spring = reports::lead_distribution(&pool, c, Some(camp))
        .await
        .expect("campaign report");
    assert_eq!(spring.total, 1_002);
    assert!(
        (spring.cool.percentage - 99.9).abs() < 0.01,
        "{}",
        spring.cool.percentage
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn send_check_reads_the_snapshot_in_the_transaction(pool: PgPool) {
    let today = Utc::now().date_naive();
    let c = client(&pool, 10).await;
    let camp = campaign(&pool, c, [100, 0, 0, 0, 0]).await;
    let lead = hot_lead(&pool, c, camp, "ok@acme.com.au", "+61298765432", today).await;
    let cache = pg_cache(&pool);
    scoring::score_and_allocate(&pool, &*cache, c, &[lead], Utc::now())
        .await
        .expect("score");

    let check = |channel| {
        let pool = pool.clone();
        async move {
            let mut tx = pool.begin().await.expect("tx");
            let r = pipeline::check_send(&mut tx, c, lead, channel)
                .await
                .expect("check");
            tx.rollback().await.expect("rollback");
            r
        }
    };
    assert_eq!(check(Channel::Email).await, Ok(()));
    assert_eq!(check(Channel::Sms).await, Err(SendBlocked::DncrNotChecked));

    sqlx::query("INSERT INTO global_suppression (phone, reason) VALUES ('+61298765432', 'dncr')")
        .execute(&pool)
        .await
        .expect("suppress");
    sqlx::query("UPDATE leads SET dncr_checked = true WHERE id = $1")
        .bind(lead)
        .execute(&pool)
        .await
        .expect("dncr");
    assert_eq!(
        check(Channel::Voice).await,
        Err(SendBlocked::AddressSuppressed)
    );
    assert_eq!(
        check(Channel::Email).await,
        Ok(()),
        "the email itself is not suppressed"
    );

    sqlx::query("UPDATE campaigns SET status = 'paused' WHERE id = $1")
        .bind(camp)
        .execute(&pool)
        .await
        .expect("pause");
    assert!(matches!(
        check(Channel::Email).await,
        Err(SendBlocked::CampaignNotActive { .. })
    ));
    sqlx::query("UPDATE clients SET credits_remaining = 0 WHERE id = $1")
        .bind(c)
        .execute(&pool)
        .await
        .expect("credits");
    assert_eq!(check(Channel::Email).await, Err(SendBlocked::NoCredits));
    sqlx::query("UPDATE clients SET subscription_status = 'cancelled' WHERE id = $1")
        .bind(c)
        .execute(&pool)
        .await
        .expect("cancel");
    assert!(matches!(
        check(Channel::Email).await,
        Err(SendBlocked::SubscriptionInactive { .. })
    ));
}
