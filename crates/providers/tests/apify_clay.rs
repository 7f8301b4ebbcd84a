//! Apify and Clay adapters against wiremock servers speaking their request and response shapes.

mod common;

use agency_providers::{Apify, Clay, EmailStatus, PersonEnricher, Provider, ProviderError};
use chrono::NaiveDate;
use common::{fast_settings, fixture_response, query};
use rust_decimal_macros::dec;
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{body_json, body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const APIFY_TOKEN: &str = "apify_api_testtoken";
const APIFY_PATH: &str = "/v2/acts/dev_fusion~Linkedin-Profile-Scraper/run-sync-get-dataset-items";
const CLAY_KEY: &str = "clay-test-key";

fn apify(server: &MockServer) -> Apify {
    Apify::new(
        SecretString::from(APIFY_TOKEN),
        "dev_fusion/Linkedin-Profile-Scraper",
        &server.uri(),
        &fast_settings(),
    )
    .expect("apify client")
}

fn clay(server: &MockServer) -> Clay {
    Clay::new(
        SecretString::from(CLAY_KEY),
        &server.uri(),
        &fast_settings(),
    )
    .expect("clay client")
}

#[tokio::test]
async fn apify_runs_the_actor_synchronously_and_maps_the_profile() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(APIFY_PATH))
        .and(header(
            "authorization",
            format!("Bearer {APIFY_TOKEN}").as_str(),
        ))
        .and(body_json(json!({
            "profileUrls": ["https://linkedin.com/in/sam-ng-au"],
            "email": "sam@kettleco.com.au",
            "companyDomain": "kettleco.com.au"
        })))
        .respond_with(fixture_response(201, "apify_linkedin_profile.json"))
        .expect(1)
        .mount(&server)
        .await;

    let mut q = query("sam@kettleco.com.au");
    q.linkedin_url = Some("https://linkedin.com/in/sam-ng-au".into());
    let person = apify(&server)
        .enrich_person(&q)
        .await
        .expect("ok")
        .expect("a profile");

    let requests = server.received_requests().await.expect("recorded");
    assert!(
        !requests[0].url.as_str().contains(APIFY_TOKEN),
        "the token is not in the URL"
    );
    assert_eq!(person.first_name.as_deref(), Some("Sam"));
    assert_eq!(person.last_name.as_deref(), Some("Ng"));
    assert_eq!(person.title.as_deref(), Some("Head of Growth"));
    assert_eq!(person.phone.as_deref(), Some("+61 400 111 222"));
    assert_eq!(person.email_status, EmailStatus::Unverified);
    assert_eq!(
        person.employment_start_date,
        NaiveDate::from_ymd_opt(2025, 11, 1)
    );
    let org = person.organization.clone().expect("organization");
    assert_eq!(org.name.as_deref(), Some("Kettle & Co"));
    assert_eq!(org.domain.as_deref(), Some("kettleco.com.au"));
    assert_eq!(org.industry.as_deref(), Some("Marketing & Advertising"));
    assert_eq!(org.employee_count, Some(30), "11-50 read as its midpoint");
    assert_eq!(org.country.as_deref(), Some("Australia"));
    assert_eq!(org.founded_year, Some(2016));
    assert_eq!(
        person.confidence,
        dec!(0.95),
        "URL, email and domain all match"
    );
    assert_eq!(person.source, Provider::Apify);
}

#[tokio::test]
async fn apify_empty_dataset_or_error_items_are_none() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(APIFY_PATH))
        .and(body_partial_json(json!({"email": "empty@example.com"})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!([])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(APIFY_PATH))
        .and(body_partial_json(json!({"email": "private@example.com"})))
        .respond_with(fixture_response(201, "apify_error_item.json"))
        .mount(&server)
        .await;
    let apify = apify(&server);
    assert_eq!(
        apify.enrich_person(&query("empty@example.com")).await,
        Ok(None)
    );
    assert_eq!(
        apify.enrich_person(&query("private@example.com")).await,
        Ok(None)
    );
}

#[tokio::test]
async fn apify_unknown_actor_is_a_configuration_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_json(
            json!({"error": {"type": "record-not-found", "message": "Actor was not found"}}),
        ))
        .mount(&server)
        .await;
    assert!(matches!(
        apify(&server).enrich_person(&query("a@example.com")).await,
        Err(ProviderError::Misconfigured {
            provider: Provider::Apify,
            ..
        })
    ));
}

#[tokio::test]
async fn apify_a_non_array_answer_is_invalid() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"data": {}})))
        .mount(&server)
        .await;
    assert!(matches!(
        apify(&server).enrich_person(&query("a@example.com")).await,
        Err(ProviderError::InvalidResponse { .. })
    ));
}

#[tokio::test]
async fn clay_posts_to_the_enrichment_endpoint_and_maps_the_person() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/enrich/person"))
        .and(header(
            "authorization",
            format!("Bearer {CLAY_KEY}").as_str(),
        ))
        .and(body_json(json!({
            "email": "priya@brightdental.com.au",
            "last_name": "Raman",
            "domain": "brightdental.com.au"
        })))
        .respond_with(fixture_response(200, "clay_person.json"))
        .expect(1)
        .mount(&server)
        .await;
    let mut q = query("priya@brightdental.com.au");
    q.last_name = Some("Raman".into());
    let person = clay(&server)
        .enrich_person(&q)
        .await
        .expect("ok")
        .expect("a match");
    assert_eq!(person.title.as_deref(), Some("Chief Marketing Officer"));
    assert_eq!(person.email_status, EmailStatus::Verified);
    assert_eq!(person.confidence, dec!(0.82));
    assert_eq!(
        person.employment_start_date,
        NaiveDate::from_ymd_opt(2023, 7, 1)
    );
    let org = person.organization.clone().expect("organization");
    assert_eq!(org.employee_count, Some(48));
    assert_eq!(org.is_hiring, Some(true));
    assert_eq!(org.country.as_deref(), Some("AU"));
    assert_eq!(person.personal_email, None);
    assert_eq!(person.source_label(), "clay");
}

#[tokio::test]
async fn clay_not_found_answers_are_none() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"email": "a@example.com"})))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"found": false, "person": null})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({"email": "b@example.com"})))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let clay = clay(&server);
    assert_eq!(clay.enrich_person(&query("a@example.com")).await, Ok(None));
    assert_eq!(clay.enrich_person(&query("b@example.com")).await, Ok(None));
}

#[tokio::test]
async fn clay_forbidden_is_unauthorized_without_retry() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(403))
        .expect(1)
        .mount(&server)
        .await;
    assert_eq!(
        clay(&server).enrich_person(&query("a@example.com")).await,
        Err(ProviderError::Unauthorized {
            provider: Provider::Clay,
            status: 403
        })
    );
}
