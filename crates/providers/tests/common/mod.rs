//! Shared helpers for the provider tests: fixtures, fast HTTP settings, queries.

#![allow(dead_code)]

use std::time::Duration;

use agency_domain::Email;
use agency_providers::{BreakerSettings, HttpSettings, PersonQuery, RetryPolicy};

/// The text of `tests/fixtures/{name}`.
pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

/// A wiremock answer with `status` and the fixture `name` as its JSON body.
pub fn fixture_response(status: u16, name: &str) -> wiremock::ResponseTemplate {
    wiremock::ResponseTemplate::new(status).set_body_raw(fixture(name), "application/json")
}

/// The fixture parsed as JSON.
pub fn fixture_json(name: &str) -> serde_json::Value {
    serde_json::from_str(&fixture(name)).expect("fixture is JSON")
}

/// Settings with tiny delays so retry tests run fast: 3 attempts, breaker at 3 failures.
pub fn fast_settings() -> HttpSettings {
    HttpSettings {
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(40),
            max_retry_after: Duration::from_secs(2),
        },
        breaker: BreakerSettings {
            failure_threshold: 3,
            cool_down: Duration::from_secs(60),
        },
        ..HttpSettings::default()
    }
}

/// A query with only an email.
pub fn query(email: &str) -> PersonQuery {
    PersonQuery::new(Email::parse(email).expect("valid email"))
}
