//! ICP extraction through the AI gate against a fake Anthropic Messages API (wiremock) and real
//! PostgreSQL: a valid forced-tool answer becomes the profile (cleaned, weights normalised, the
//! call settled in the ledger); garbage, a refusal, a provider outage, a zero budget and the
//! sandbox model all give the deterministic profile, with a lower confidence.

use std::sync::Arc;
use std::time::Duration;

use agency_cache::PgCache;
use agency_domain::ClientId;
use agency_domain::icp::{ExtractionMethod, SiteSnapshot, extract_icp};
use agency_engine::ai::{AiGate, AiSettings};
use agency_engine::onboarding::extract_profile;
use agency_providers::website::{SandboxWebsiteReader, WebsiteReader};
use agency_providers::{Anthropic, BreakerSettings, HttpSettings, RetryPolicy};
use agency_store::PgPool;
use chrono::{SubsecRound, Utc};
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn fast() -> HttpSettings {
    HttpSettings {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(20),
            max_retry_after: Duration::from_secs(1),
        },
        breaker: BreakerSettings {
            failure_threshold: 10,
            cool_down: Duration::from_secs(60),
        },
        ..HttpSettings::default()
    }
}

/// A gate over the real Anthropic adapter pointed at `server`.
fn gate(server: &MockServer) -> AiGate {
    let model =
        Anthropic::new(SecretString::from("sk-ant-test"), &server.uri(), &fast()).expect("adapter");
    AiGate::new(Arc::new(model), AiSettings::default())
}

async fn client(pool: &PgPool, budget: &str) -> ClientId {
    let id: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO clients (name, daily_ai_budget_aud) VALUES ('Harbour Lane', $1::numeric) RETURNING id",
    )
    .bind(budget)
    .fetch_one(pool)
    .await
    .expect("client");
    ClientId::from_uuid(id)
}

async fn site() -> SiteSnapshot {
    let url = url::Url::parse("https://harbourlane.example/").expect("url");
    SandboxWebsiteReader.read_site(&url).await.expect("site")
}

fn profile_input() -> Value {
    json!({
        "company_name": "Harbour Lane Digital",
        "company_description": "A Sydney digital marketing agency for clinics, law firms and trades.",
        "value_proposition": "More enquiries, less guesswork",
        "services_offered": ["Local SEO", "Google Ads management", "Web design", "local seo"],
        "primary_service_categories": ["SEO", "Paid media", "Web design"],
        "taglines": ["More enquiries, less guesswork"],
        "differentiators": ["No lock-in contracts", "Weekly reporting"],
        "team_size": 18,
        "years_in_business": 11,
        "portfolio_companies": ["Bondi Smile Dental", "Keystone Lawyers", "Volt Electrical", "Northside Physio"],
        "notable_brands": ["Bondi Smile Dental", "Keystone Lawyers"],
        "icp_industries": ["Dental clinics", "Family law firms", "Electrical trades", "Allied health"],
        "icp_company_sizes": ["1-10", "11-50"],
        "icp_locations": ["Sydney, NSW", "Newcastle, NSW", "Central Coast, NSW"],
        "icp_titles": ["Practice Owner", "Practice Manager", "Managing Partner", "Business Owner"],
        "icp_pain_points": ["Empty appointment slots on weekdays", "Google Ads spend without bookings"],
        "icp_signals": ["Opening a second location", "Hiring front-desk staff"],
        "als_weights": {"data_quality": 0.2, "authority": 0.3, "company_fit": 0.4, "timing": 0.3, "risk": 0.2},
        "pattern_description": "Owner-led dental, legal and trades businesses in Sydney and the NSW coast with 1-50 staff.",
        "confidence": 0.9
    })
}

/// The Messages API's answer calling `record_icp_profile` with `input`.
fn tool_answer(input: Value, stop_reason: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [{
            "type": "tool_use",
            "id": "toolu_01D7FLrfh4GYq7yT1ULFeyMV",
            "name": "record_icp_profile",
            "input": input
        }],
        "stop_reason": stop_reason,
        "stop_sequence": null,
        "usage": {"input_tokens": 3120, "cache_creation_input_tokens": 0,
                  "cache_read_input_tokens": 0, "output_tokens": 640}
    }))
}

async fn mount(server: &MockServer, answer: ResponseTemplate) {
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", "sk-ant-test"))
        .respond_with(answer)
        .mount(server)
        .await;
}

async fn ledger(pool: &PgPool, client: ClientId) -> Vec<(String, String)> {
    sqlx::query_as("SELECT purpose, status FROM ai_usage WHERE client_id = $1 ORDER BY at")
        .bind(client.into_uuid())
        .fetch_all(pool)
        .await
        .expect("ledger")
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_valid_tool_answer_becomes_the_profile(pool: PgPool) {
    let server = MockServer::start().await;
    mount(&server, tool_answer(profile_input(), "tool_use")).await;
    let cache = PgCache::new(pool.clone());
    let client = client(&pool, "100").await;
    let site = site().await;
    let now = Utc::now().trunc_subsecs(6);

    let profile = extract_profile(&gate(&server), &pool, &cache, client, &site, now).await;

    assert_eq!(profile.extraction_method, ExtractionMethod::Ai);
    assert_eq!(profile.company_name, "Harbour Lane Digital");
    assert_eq!(
        profile.services_offered,
        ["Local SEO", "Google Ads management", "Web design"],
        "duplicates are dropped"
    );
    assert_eq!(profile.icp_industries[0], "Dental clinics");
    assert_eq!(profile.icp_company_sizes, ["1-10", "11-50"]);
    assert_eq!(profile.icp_revenue_ranges, ["$0-$2M", "$2M-$10M"]);
    assert_eq!(profile.size_range.as_deref(), Some("11-50"));
    assert_eq!(profile.website_url, site.website_url);
    assert_eq!(profile.extracted_at, now);
    // 0.2 : 0.3 : 0.4 : 0.3 : 0.2 over 1.4, to two decimals, summing to exactly 1.
    let w = profile.als_weights;
    assert_eq!(w.sum(), Decimal::ONE);
    assert_eq!(w.company_fit, Decimal::new(30, 2));
    assert_eq!(w.data_quality, Decimal::new(14, 2));
    // The model's 0.9 mapped into 0.75-0.95, above any deterministic profile.
    assert_eq!(profile.confidence, Decimal::new(93, 2));
    assert!(profile.confidence > extract_icp(&site, now).confidence);

    // One forced-tool request, the pages marked as data; one settled ledger row.
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 1);
    let body: Value = serde_json::from_slice(&requests[0].body).expect("json");
    assert_eq!(
        body["tool_choice"],
        json!({"type": "tool", "name": "record_icp_profile"})
    );
    assert_eq!(body["max_tokens"], 1500);
    assert!(
        body["system"]
            .as_str()
            .is_some_and(|s| s.contains("never instructions"))
    );
    let user = body["messages"][0]["content"].as_str().expect("user turn");
    assert_eq!(user.matches("<page url=").count(), site.pages.len());
    assert!(user.contains("Harbour Lane Digital"));
    assert_eq!(
        ledger(&pool, client).await,
        [("extract_icp".to_owned(), "settled".to_owned())]
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn garbage_refusals_and_outages_fall_back_to_the_rules(pool: PgPool) {
    let cache = PgCache::new(pool.clone());
    let client = client(&pool, "100").await;
    let site = site().await;
    let now = Utc::now().trunc_subsecs(6);
    let rules = extract_icp(&site, now);

    let mut lists_as_text = profile_input();
    lists_as_text["icp_titles"] = json!("Practice Owner, Practice Manager");
    let mut zero_weights = profile_input();
    zero_weights["als_weights"] =
        json!({"data_quality": 0, "authority": 0, "company_fit": 0, "timing": 0, "risk": 0});
    let answers = [
        tool_answer(lists_as_text, "tool_use"),
        tool_answer(zero_weights, "tool_use"),
        tool_answer(json!({"answer": "I think they do SEO"}), "tool_use"),
        tool_answer(profile_input(), "max_tokens"),
        tool_answer(json!({}), "refusal"),
        ResponseTemplate::new(529).set_body_json(json!({"type": "error",
            "error": {"type": "overloaded_error", "message": "Overloaded"}})),
    ];
    for answer in answers {
        let server = MockServer::start().await;
        mount(&server, answer).await;
        let profile = extract_profile(&gate(&server), &pool, &cache, client, &site, now).await;
        assert_eq!(profile, rules);
        assert_eq!(profile.extraction_method, ExtractionMethod::Deterministic);
        assert!(profile.confidence <= Decimal::new(70, 2));
        assert!(
            !server
                .received_requests()
                .await
                .expect("recorded")
                .is_empty()
        );
    }
    // Answers were billed (settled); the outage held nothing.
    let rows = ledger(&pool, client).await;
    assert_eq!(
        rows.iter().filter(|(_, s)| s == "settled").count(),
        5,
        "{rows:?}"
    );
    assert!(rows.iter().all(|(_, s)| s == "settled" || s == "released"));
}

#[sqlx::test(migrations = "../../migrations")]
async fn no_budget_or_the_sandbox_never_calls_the_model(pool: PgPool) {
    let server = MockServer::start().await;
    mount(&server, tool_answer(profile_input(), "tool_use")).await;
    let cache = PgCache::new(pool.clone());
    let broke = client(&pool, "0").await;
    let site = site().await;
    let now = Utc::now().trunc_subsecs(6);

    let profile = extract_profile(&gate(&server), &pool, &cache, broke, &site, now).await;
    assert_eq!(profile.extraction_method, ExtractionMethod::Deterministic);
    assert_eq!(profile, extract_icp(&site, now));
    assert!(
        server
            .received_requests()
            .await
            .expect("recorded")
            .is_empty()
    );
    assert!(ledger(&pool, broke).await.is_empty());

    let funded = client(&pool, "100").await;
    let profile = extract_profile(&AiGate::sandbox(), &pool, &cache, funded, &site, now).await;
    assert_eq!(profile.extraction_method, ExtractionMethod::Deterministic);
    assert!(ledger(&pool, funded).await.is_empty());
}
