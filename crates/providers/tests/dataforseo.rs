//! DataForSEO adapter against a wiremock server: both endpoints, Basic auth, the task body,
//! envelope status codes and empty results.

mod common;

use agency_providers::{DataForSeo, Provider, ProviderError, SeoFactsProvider};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{fast_settings, fixture_response};
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const LOGIN: &str = "ops@agency.example";
const PASSWORD: &str = "d4f0-secret";
const OVERVIEW: &str = "/v3/dataforseo_labs/google/domain_rank_overview/live";
const BACKLINKS: &str = "/v3/backlinks/summary/live";

fn basic() -> String {
    format!("Basic {}", STANDARD.encode(format!("{LOGIN}:{PASSWORD}")))
}

fn client(server: &MockServer) -> DataForSeo {
    DataForSeo::new(
        LOGIN,
        SecretString::from(PASSWORD),
        &server.uri(),
        &fast_settings(),
    )
    .expect("client")
}

#[tokio::test]
async fn combines_the_labs_overview_and_the_backlinks_summary() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(OVERVIEW))
        .and(header("authorization", basic().as_str()))
        .and(body_json(json!([{
            "target": "harbourplumbing.com.au",
            "location_code": 2036,
            "language_code": "en"
        }])))
        .respond_with(fixture_response(
            200,
            "dataforseo_domain_rank_overview.json",
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(BACKLINKS))
        .and(header("authorization", basic().as_str()))
        .and(body_json(json!([{
            "target": "harbourplumbing.com.au",
            "include_subdomains": true
        }])))
        .respond_with(fixture_response(200, "dataforseo_backlinks_summary.json"))
        .expect(1)
        .mount(&server)
        .await;

    let report = client(&server)
        .seo_facts("harbourplumbing.com.au")
        .await
        .expect("facts");
    assert_eq!(report.domain, "harbourplumbing.com.au");
    assert_eq!(report.facts.domain_rank, Some(212));
    assert_eq!(
        report.facts.organic_traffic,
        Some(1844),
        "etv 1843.62 rounded"
    );
    assert_eq!(report.facts.top10_keywords, Some(30), "4 + 7 + 19");
    assert_eq!(report.facts.spam_score, Some(12));
    assert_eq!(report.source, Provider::DataForSeo);
    assert!(!report.sandbox);
}

#[tokio::test]
async fn a_domain_without_organic_data_keeps_those_facts_empty() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(OVERVIEW))
        .respond_with(fixture_response(200, "dataforseo_no_results.json"))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(BACKLINKS))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status_code": 20000, "status_message": "Ok.",
            "tasks": [{"status_code": 40102, "status_message": "No Search Results.", "result": null}]
        })))
        .mount(&server)
        .await;
    let report = client(&server)
        .seo_facts("brand-new-site.com.au")
        .await
        .expect("looked up");
    assert_eq!(report.facts, agency_domain::SeoFacts::default());
}

#[tokio::test]
async fn envelope_auth_errors_are_unauthorized() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(fixture_response(200, "dataforseo_auth_error.json"))
        .mount(&server)
        .await;
    assert_eq!(
        client(&server).seo_facts("example.com").await,
        Err(ProviderError::Unauthorized {
            provider: Provider::DataForSeo,
            status: 0
        })
    );
}

#[tokio::test]
async fn task_errors_are_rejected_with_the_code() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status_code": 20000, "status_message": "Ok.",
            "tasks": [{"status_code": 40501, "status_message": "Invalid Field: 'target'.", "result": null}]
        })))
        .mount(&server)
        .await;
    match client(&server).seo_facts("not a domain").await {
        Err(ProviderError::Rejected { message, .. }) => {
            assert!(message.starts_with("40501"), "{message}")
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn http_401_is_unauthorized_and_a_bad_body_is_invalid() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(OVERVIEW))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"status_code": "ok"})))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(BACKLINKS))
        .respond_with(fixture_response(200, "dataforseo_backlinks_summary.json"))
        .mount(&server)
        .await;
    assert!(matches!(
        client(&server).seo_facts("example.com").await,
        Err(ProviderError::InvalidResponse { .. })
    ));

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    assert!(matches!(
        client(&server).seo_facts("example.com").await,
        Err(ProviderError::Unauthorized { status: 401, .. })
    ));
}
