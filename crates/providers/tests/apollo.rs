//! Apollo adapter against a wiremock server speaking Apollo's request and response shapes,
//! plus the HTTP foundation's retry, rate-limit, auth and circuit-breaker behaviour.

mod common;

use std::time::{Duration, Instant};

use agency_providers::{
    Apollo, BreakerSettings, EmailStatus, EnrichedPerson, HttpSettings, PersonEnricher, Provider,
    ProviderError, RetryPolicy,
};
use chrono::NaiveDate;
use common::{fast_settings, fixture_response, query};
use rust_decimal_macros::dec;
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

const KEY: &str = "apollo-test-key";
const PATH: &str = "/api/v1/people/match";

fn apollo(server: &MockServer, settings: &HttpSettings) -> Apollo {
    Apollo::new(SecretString::from(KEY), &server.uri(), settings).expect("apollo client")
}

fn ok_fixture() -> ResponseTemplate {
    fixture_response(200, "apollo_people_match.json")
}

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// A mock for the people-match endpoint.
fn people_match() -> MockBuilder {
    Mock::given(method("POST")).and(path(PATH))
}

/// The first `times` calls answer `failure`; later calls answer the fixture.
async fn fail_then_succeed(server: &MockServer, failure: ResponseTemplate, times: u64) {
    people_match()
        .respond_with(failure)
        .up_to_n_times(times)
        .with_priority(1)
        .mount(server)
        .await;
    people_match()
        .respond_with(ok_fixture())
        .with_priority(2)
        .mount(server)
        .await;
}

/// Enriches the sample lead through a client on `server` with the fast test settings.
async fn enrich_jane(server: &MockServer) -> Result<Option<EnrichedPerson>, ProviderError> {
    apollo(server, &fast_settings())
        .enrich_person(&query("jane@harbourplumbing.com.au"))
        .await
}

/// Fast settings with a single attempt per call and the given circuit breaker.
fn single_attempt(failure_threshold: u32, cool_down: Duration) -> HttpSettings {
    HttpSettings {
        retry: RetryPolicy {
            max_attempts: 1,
            ..fast_settings().retry
        },
        breaker: BreakerSettings {
            failure_threshold,
            cool_down,
        },
        ..fast_settings()
    }
}

#[tokio::test]
async fn sends_the_people_match_request_and_maps_the_person() {
    let server = MockServer::start().await;
    people_match()
        .and(header("x-api-key", KEY))
        .and(header("content-type", "application/json"))
        .and(body_partial_json(json!({
            "email": "jane@harbourplumbing.com.au",
            "first_name": "Jane",
            "organization_name": "Harbour Plumbing",
            "domain": "harbourplumbing.com.au",
            "reveal_personal_emails": true
        })))
        .respond_with(ok_fixture())
        .expect(1)
        .mount(&server)
        .await;

    let mut q = query("Jane@HarbourPlumbing.com.au");
    q.first_name = Some("Jane".into());
    q.company = Some("Harbour Plumbing".into());
    let person = apollo(&server, &fast_settings())
        .enrich_person(&q)
        .await
        .expect("call succeeds")
        .expect("a match");

    assert_eq!(person.first_name.as_deref(), Some("Jane"));
    assert_eq!(person.last_name.as_deref(), Some("Citizen"));
    assert_eq!(person.title.as_deref(), Some("Managing Director"));
    assert_eq!(person.email_status, EmailStatus::Verified);
    assert!(person.email_verified());
    assert_eq!(person.phone.as_deref(), Some("+61412345678"));
    assert_eq!(
        person.linkedin_url.as_deref(),
        Some("http://www.linkedin.com/in/jane-citizen-4a1b2c")
    );
    assert_eq!(
        person.personal_email.as_deref(),
        Some("jane.citizen@gmail.com")
    );
    assert_eq!(
        person.employment_start_date,
        date(2024, 3, 1),
        "the current role's start"
    );
    let org = person.organization.clone().expect("organization");
    assert_eq!(org.name.as_deref(), Some("Harbour Plumbing"));
    assert_eq!(org.domain.as_deref(), Some("harbourplumbing.com.au"));
    assert_eq!(org.industry.as_deref(), Some("construction"));
    assert_eq!(org.employee_count, Some(35));
    assert_eq!(org.country.as_deref(), Some("Australia"));
    assert_eq!(org.founded_year, Some(2009));
    assert_eq!(org.latest_funding_date, date(2025, 6, 1));
    assert_eq!(org.is_hiring, None, "people/match does not report hiring");
    assert_eq!(person.confidence, dec!(0.95));
    assert_eq!(person.source, Provider::Apollo);
    assert_eq!(person.source_label(), "apollo");
}

#[tokio::test]
async fn no_match_and_404_are_none() {
    let server = MockServer::start().await;
    people_match()
        .and(body_partial_json(json!({"email": "nobody@example.com"})))
        .respond_with(fixture_response(200, "apollo_no_match.json"))
        .mount(&server)
        .await;
    people_match()
        .and(body_partial_json(json!({"email": "gone@example.com"})))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "not found"})))
        .mount(&server)
        .await;
    let apollo = apollo(&server, &fast_settings());
    assert_eq!(
        apollo.enrich_person(&query("nobody@example.com")).await,
        Ok(None)
    );
    assert_eq!(
        apollo.enrich_person(&query("gone@example.com")).await,
        Ok(None)
    );
}

#[tokio::test]
async fn waits_for_retry_after_on_429_then_succeeds() {
    let server = MockServer::start().await;
    fail_then_succeed(
        &server,
        ResponseTemplate::new(429)
            .insert_header("retry-after", "1")
            .set_body_json(json!({"error": "rate limited"})),
        1,
    )
    .await;

    let started = Instant::now();
    let person = enrich_jane(&server)
        .await
        .expect("succeeds after the retry");
    assert!(person.is_some());
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "honoured Retry-After: waited {:?}",
        started.elapsed()
    );
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 2);
}

#[tokio::test]
async fn a_retry_after_longer_than_we_wait_inline_is_returned_as_rate_limited() {
    let server = MockServer::start().await;
    people_match()
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "3600"))
        .expect(1)
        .mount(&server)
        .await;
    let err = enrich_jane(&server).await.expect_err("rate limited");
    assert_eq!(
        err,
        ProviderError::RateLimited {
            provider: Provider::Apollo,
            retry_after: Some(Duration::from_secs(3600)),
        }
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn retries_5xx_then_gives_up() {
    let server = MockServer::start().await;
    people_match()
        .respond_with(ResponseTemplate::new(503))
        .expect(3)
        .mount(&server)
        .await;
    let err = enrich_jane(&server).await.expect_err("gives up");
    assert_eq!(
        err,
        ProviderError::Upstream {
            provider: Provider::Apollo,
            status: 503,
            attempts: 3
        }
    );
}

#[tokio::test]
async fn a_5xx_then_success_is_retried_transparently() {
    let server = MockServer::start().await;
    fail_then_succeed(&server, ResponseTemplate::new(502), 2).await;
    let person = enrich_jane(&server).await.expect("third attempt succeeds");
    assert!(person.is_some());
}

#[tokio::test]
async fn unauthorized_is_not_retried() {
    let server = MockServer::start().await;
    people_match()
        .respond_with(ResponseTemplate::new(401).set_body_json(
            json!({"error": "Invalid access credentials.", "error_code": "INVALID_API_KEY"}),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let err = enrich_jane(&server).await.expect_err("unauthorized");
    assert_eq!(
        err,
        ProviderError::Unauthorized {
            provider: Provider::Apollo,
            status: 401
        }
    );
    assert!(!err.is_transient());
}

#[tokio::test]
async fn other_4xx_is_rejected_with_the_providers_message() {
    let server = MockServer::start().await;
    people_match()
        .respond_with(ResponseTemplate::new(422).set_body_json(json!({"error": "bad domain"})))
        .expect(1)
        .mount(&server)
        .await;
    let err = enrich_jane(&server).await.expect_err("rejected");
    assert_eq!(
        err,
        ProviderError::Rejected {
            provider: Provider::Apollo,
            status: 422,
            message: "bad domain".into()
        }
    );
}

#[tokio::test]
async fn a_malformed_body_is_a_typed_error_naming_the_path() {
    let server = MockServer::start().await;
    people_match()
        .and(body_partial_json(json!({"email": "typed@example.com"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "person": {"first_name": "Jo", "organization": {"estimated_num_employees": "lots"}}
        })))
        .mount(&server)
        .await;
    people_match()
        .and(body_partial_json(json!({"email": "html@example.com"})))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>gateway</html>"))
        .mount(&server)
        .await;
    let apollo = apollo(&server, &fast_settings());

    match apollo.enrich_person(&query("typed@example.com")).await {
        Err(ProviderError::InvalidResponse { provider, reason }) => {
            assert_eq!(provider, Provider::Apollo);
            assert!(
                reason.contains("person.organization.estimated_num_employees"),
                "{reason}"
            );
            assert!(!reason.contains("lots"), "values are not echoed: {reason}");
        }
        other => panic!("expected InvalidResponse, got {other:?}"),
    }
    assert!(matches!(
        apollo.enrich_person(&query("html@example.com")).await,
        Err(ProviderError::InvalidResponse { .. })
    ));
}

#[tokio::test]
async fn the_circuit_opens_after_repeated_failures_and_fails_fast() {
    let server = MockServer::start().await;
    people_match()
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let settings = single_attempt(2, Duration::from_secs(60));
    let apollo = apollo(&server, &settings);
    let q = query("jane@harbourplumbing.com.au");
    for _ in 0..2 {
        assert!(matches!(
            apollo.enrich_person(&q).await,
            Err(ProviderError::Upstream { status: 500, .. })
        ));
    }
    assert!(apollo.http().breaker().is_open());
    let started = Instant::now();
    match apollo.enrich_person(&q).await {
        Err(ProviderError::CircuitOpen { provider, retry_in }) => {
            assert_eq!(provider, Provider::Apollo);
            assert!(retry_in > Duration::from_secs(50));
        }
        other => panic!("expected CircuitOpen, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_millis(50), "failed fast");
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 2, "the open circuit made no request");
}

#[tokio::test]
async fn the_circuit_recovers_after_the_cool_down() {
    let server = MockServer::start().await;
    fail_then_succeed(&server, ResponseTemplate::new(500), 1).await;
    let settings = single_attempt(1, Duration::from_millis(100));
    let apollo = apollo(&server, &settings);
    let q = query("jane@harbourplumbing.com.au");
    assert!(apollo.enrich_person(&q).await.is_err());
    assert!(matches!(
        apollo.enrich_person(&q).await,
        Err(ProviderError::CircuitOpen { .. })
    ));
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert!(
        apollo
            .enrich_person(&q)
            .await
            .expect("trial succeeds")
            .is_some()
    );
    assert!(!apollo.http().breaker().is_open());
}

#[tokio::test]
async fn connection_errors_are_retried_then_reported_as_transport() {
    // Bind then drop a listener: nothing accepts on that port.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let apollo = Apollo::new(
        SecretString::from(KEY),
        &format!("http://127.0.0.1:{port}"),
        &fast_settings(),
    )
    .expect("client");
    match apollo
        .enrich_person(&query("jane@harbourplumbing.com.au"))
        .await
    {
        Err(ProviderError::Transport {
            provider,
            attempts,
            message,
        }) => {
            assert_eq!(provider, Provider::Apollo);
            assert_eq!(attempts, 3);
            assert!(!message.contains("127.0.0.1"), "URL stripped: {message}");
        }
        other => panic!("expected Transport, got {other:?}"),
    }
}

#[tokio::test]
async fn debug_output_never_shows_the_key() {
    let server = MockServer::start().await;
    let apollo = apollo(&server, &fast_settings());
    let debug = format!("{apollo:?}");
    assert!(!debug.contains(KEY), "{debug}");
    assert!(debug.contains("redacted"));
}

#[tokio::test]
async fn a_base_url_with_a_path_prefix_is_kept() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/fakes/apollo/api/v1/people/match"))
        .respond_with(ok_fixture())
        .expect(1)
        .mount(&server)
        .await;
    let apollo = Apollo::new(
        SecretString::from(KEY),
        &format!("{}/fakes/apollo/", server.uri()),
        &fast_settings(),
    )
    .expect("client");
    assert!(
        apollo
            .enrich_person(&query("jane@harbourplumbing.com.au"))
            .await
            .expect("ok")
            .is_some()
    );
}
