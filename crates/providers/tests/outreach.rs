//! Resend, Twilio and Vapi adapters against wiremock servers that check each request as the
//! provider would (path, auth, headers, body form) and answer with the providers' real payloads;
//! retries on 429 (honouring `Retry-After`) and 5xx, at-most-once calls after a timeout, and
//! the typed "never retry" errors.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use agency_providers::error::UndeliverableReason;
use agency_providers::{
    CallMetadata, CallRequest, EmailMessage, EmailSender, HttpSettings, OutreachConfig, Provider,
    ProviderError, Resend, SmsMessage, SmsSender, Twilio, Vapi, VoiceCaller,
};
use base64::Engine;
use common::{fast_settings, fixture_response};
use secrecy::SecretString;
use serde_json::json;
use uuid::Uuid;
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const RESEND_KEY: &str = "re_test_123456789";
const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "twilio-auth-token-secret";
const VAPI_KEY: &str = "vapi-private-key-secret";

fn email() -> EmailMessage {
    EmailMessage {
        from: "Acme Digital <outreach@mail.acme.com.au>".into(),
        to: "jane@harbourplumbing.com.au".into(),
        reply_to: Some("replies@inbound.acme.com.au".into()),
        subject: "Quick question, Jane".into(),
        text: "Hi Jane,\n\nUnsubscribe: https://api.test/u/tok".into(),
        html: "<p>Hi Jane,</p>".into(),
        message_id: Some("send-2@mail.acme.com.au".into()),
        in_reply_to: Some("<prev-1@resend.dev>".into()),
        references: vec!["<prev-0@resend.dev>".into(), "<prev-1@resend.dev>".into()],
        unsubscribe_url: Some("https://api.test/u/tok".into()),
        tags: vec![("send_id".into(), "abc-123".into())],
        idempotency_key: "outreach-send/0190-abc".into(),
    }
}

fn sms() -> SmsMessage {
    SmsMessage {
        from: "+61485000111".into(),
        to: "+61412345678".into(),
        body: "Hi Jane, quick one from Acme Digital. Reply STOP to opt out".into(),
        status_callback: Some("https://api.test/webhooks/twilio/status".into()),
        idempotency_key: "outreach-send/0190-sms".into(),
    }
}

fn call() -> CallRequest {
    CallRequest {
        customer_number: "+61412345678".into(),
        customer_name: Some("Jane Citizen".into()),
        first_message: "Hi Jane, it's Sam from Acme Digital.".into(),
        variables: BTreeMap::from([("company".to_owned(), "Harbour Plumbing".to_owned())]),
        metadata: CallMetadata {
            client_id: Uuid::from_u128(1),
            campaign_id: Uuid::from_u128(2),
            lead_id: Uuid::from_u128(3),
        },
        idempotency_key: "outreach-send/0190-call".into(),
    }
}

fn resend(server: &MockServer, settings: &HttpSettings) -> Resend {
    Resend::new(SecretString::from(RESEND_KEY), &server.uri(), settings).expect("resend")
}

fn twilio(server: &MockServer, settings: &HttpSettings) -> Twilio {
    Twilio::new(SID, SecretString::from(TOKEN), &server.uri(), settings).expect("twilio")
}

fn vapi(server: &MockServer, settings: &HttpSettings) -> Vapi {
    Vapi::new(
        SecretString::from(VAPI_KEY),
        "asst_5c9e2f7a",
        "pn_1a2b3c4d",
        &server.uri(),
        settings,
    )
    .expect("vapi")
}

fn twilio_path() -> String {
    format!("/2010-04-01/Accounts/{SID}/Messages.json")
}

fn form_of(request: &Request) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(&request.body)
        .into_owned()
        .collect()
}

#[tokio::test]
async fn resend_request_carries_key_threading_unsubscribe_and_both_parts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/emails"))
        .and(header(
            "authorization",
            format!("Bearer {RESEND_KEY}").as_str(),
        ))
        .and(header("idempotency-key", "outreach-send/0190-abc"))
        .and(header("content-type", "application/json"))
        .and(body_partial_json(json!({
            "from": "Acme Digital <outreach@mail.acme.com.au>",
            "to": ["jane@harbourplumbing.com.au"],
            "subject": "Quick question, Jane",
            "text": "Hi Jane,\n\nUnsubscribe: https://api.test/u/tok",
            "html": "<p>Hi Jane,</p>",
            "reply_to": "replies@inbound.acme.com.au",
            "headers": {
                "Message-ID": "<send-2@mail.acme.com.au>",
                "In-Reply-To": "<prev-1@resend.dev>",
                "References": "<prev-0@resend.dev> <prev-1@resend.dev>",
                "List-Unsubscribe": "<https://api.test/u/tok>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"
            },
            "tags": [{"name": "send_id", "value": "abc-123"}]
        })))
        .respond_with(fixture_response(200, "resend_email_sent.json"))
        .expect(1)
        .mount(&server)
        .await;

    let receipt = resend(&server, &fast_settings())
        .send_email(&email())
        .await
        .expect("sent");
    assert_eq!(receipt.provider, Provider::Resend);
    assert_eq!(
        receipt.provider_message_id,
        "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"
    );
    assert!(!receipt.sandbox);
}

#[tokio::test]
async fn resend_received_email_is_read_from_the_receiving_api_and_404_is_none() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(
            "/emails/receiving/4ef9a417-02e9-4d39-ad75-9611e0fcc33c",
        ))
        .and(header(
            "authorization",
            format!("Bearer {RESEND_KEY}").as_str(),
        ))
        .respond_with(fixture_response(200, "resend_received_email.json"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(
            "/emails/receiving/00000000-0000-0000-0000-000000000000",
        ))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "statusCode": 404, "name": "not_found", "message": "Email not found"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let resend = resend(&server, &fast_settings());

    let email = resend
        .received_email("4ef9a417-02e9-4d39-ad75-9611e0fcc33c")
        .await
        .expect("read")
        .expect("found");
    assert_eq!(email.subject.as_deref(), Some("Re: Quick question, Jane"));
    assert!(
        email
            .text
            .as_deref()
            .is_some_and(|t| t.starts_with("Sounds good, can we talk Thursday"))
    );
    assert_eq!(
        email.message_id.as_deref(),
        Some("<CAF=abc123@mail.gmail.com>")
    );
    assert_eq!(
        resend
            .received_email("00000000-0000-0000-0000-000000000000")
            .await
            .expect("answered"),
        None
    );
    // An id that is not Resend's never becomes part of a URL.
    assert!(resend.received_email("../domains").await.is_err());
}

#[tokio::test]
async fn resend_429_waits_for_retry_after_and_repeats_with_the_same_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/emails"))
        .respond_with(
            fixture_response(429, "resend_rate_limit.json").insert_header("retry-after", "1"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/emails"))
        .respond_with(fixture_response(200, "resend_email_sent.json"))
        .with_priority(2)
        .mount(&server)
        .await;

    let started = Instant::now();
    let receipt = resend(&server, &fast_settings())
        .send_email(&email())
        .await
        .expect("sent after the wait");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "honours Retry-After"
    );
    assert_eq!(
        receipt.provider_message_id,
        "49a3999c-0ce1-4ea6-ab68-afcd6dc2e794"
    );
    let requests = server.received_requests().await.unwrap_or_default();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(
            r.headers
                .get("idempotency-key")
                .and_then(|v| v.to_str().ok()),
            Some("outreach-send/0190-abc")
        );
    }
}

#[tokio::test]
async fn resend_500_then_success_and_invalid_address_is_never_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/emails"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/emails"))
        .respond_with(fixture_response(200, "resend_email_sent.json"))
        .with_priority(2)
        .mount(&server)
        .await;
    resend(&server, &fast_settings())
        .send_email(&email())
        .await
        .expect("second attempt succeeds");
    assert_eq!(server.received_requests().await.map_or(0, |r| r.len()), 2);

    let bad = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/emails"))
        .respond_with(fixture_response(422, "resend_validation_error.json"))
        .expect(1)
        .mount(&bad)
        .await;
    let err = resend(&bad, &fast_settings())
        .send_email(&email())
        .await
        .expect_err("refused");
    assert!(
        matches!(
            err,
            ProviderError::Undeliverable {
                provider: Provider::Resend,
                reason: UndeliverableReason::InvalidAddress,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_transient());
}

#[tokio::test]
async fn twilio_posts_the_form_with_basic_auth_and_status_callback() {
    let server = MockServer::start().await;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"));
    Mock::given(method("POST"))
        .and(path(twilio_path()))
        .and(header("authorization", format!("Basic {basic}").as_str()))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(fixture_response(201, "twilio_message_created.json"))
        .expect(1)
        .mount(&server)
        .await;

    let receipt = twilio(&server, &fast_settings())
        .send_sms(&sms())
        .await
        .expect("sent");
    assert_eq!(receipt.provider, Provider::Twilio);
    assert_eq!(
        receipt.provider_message_id,
        "SM1f0e8ae6ade43cb3c0ce4525424e404f"
    );
    let requests = server.received_requests().await.unwrap_or_default();
    let form = form_of(&requests[0]);
    assert_eq!(form["To"], "+61412345678");
    assert_eq!(form["From"], "+61485000111");
    assert_eq!(
        form["Body"],
        "Hi Jane, quick one from Acme Digital. Reply STOP to opt out"
    );
    assert_eq!(
        form["StatusCallback"],
        "https://api.test/webhooks/twilio/status"
    );
    assert_eq!(form.len(), 4);
}

#[tokio::test]
async fn twilio_invalid_and_opted_out_numbers_are_undeliverable_after_one_request() {
    for (fixture, want) in [
        (
            "twilio_error_21211.json",
            UndeliverableReason::InvalidNumber,
        ),
        ("twilio_error_21610.json", UndeliverableReason::OptedOut),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(twilio_path()))
            .respond_with(fixture_response(400, fixture))
            .expect(1)
            .mount(&server)
            .await;
        let err = twilio(&server, &fast_settings())
            .send_sms(&sms())
            .await
            .expect_err("refused");
        match err {
            ProviderError::Undeliverable { reason, .. } => assert_eq!(reason, want),
            other => panic!("{fixture}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn twilio_timeout_is_not_repeated_but_503_is() {
    // A request that timed out may have been accepted: one request only, a transport error.
    let slow = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(twilio_path()))
        .respond_with(
            fixture_response(201, "twilio_message_created.json")
                .set_delay(Duration::from_millis(800)),
        )
        .mount(&slow)
        .await;
    let settings = HttpSettings {
        request_timeout: Duration::from_millis(200),
        ..fast_settings()
    };
    let err = twilio(&slow, &settings)
        .send_sms(&sms())
        .await
        .expect_err("timed out");
    assert!(
        matches!(err, ProviderError::Transport { attempts: 1, .. }),
        "{err:?}"
    );
    assert_eq!(slow.received_requests().await.map_or(0, |r| r.len()), 1);

    // A 503 means nothing was sent: repeated, then accepted.
    let flaky = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(twilio_path()))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&flaky)
        .await;
    Mock::given(method("POST"))
        .and(path(twilio_path()))
        .respond_with(fixture_response(201, "twilio_message_created.json"))
        .with_priority(2)
        .mount(&flaky)
        .await;
    twilio(&flaky, &fast_settings())
        .send_sms(&sms())
        .await
        .expect("second attempt");
    assert_eq!(flaky.received_requests().await.map_or(0, |r| r.len()), 2);
}

#[tokio::test]
async fn vapi_call_carries_assistant_number_customer_and_metadata() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/call"))
        .and(header(
            "authorization",
            format!("Bearer {VAPI_KEY}").as_str(),
        ))
        .and(body_partial_json(json!({
            "assistantId": "asst_5c9e2f7a",
            "phoneNumberId": "pn_1a2b3c4d",
            "customer": {"number": "+61412345678", "name": "Jane Citizen"},
            "metadata": {
                "client_id": Uuid::from_u128(1),
                "campaign_id": Uuid::from_u128(2),
                "lead_id": Uuid::from_u128(3)
            },
            "assistantOverrides": {
                "firstMessage": "Hi Jane, it's Sam from Acme Digital.",
                "variableValues": {"company": "Harbour Plumbing"}
            }
        })))
        .respond_with(fixture_response(201, "vapi_call_created.json"))
        .expect(1)
        .mount(&server)
        .await;
    let receipt = vapi(&server, &fast_settings())
        .place_call(&call())
        .await
        .expect("placed");
    assert_eq!(receipt.provider, Provider::Vapi);
    assert_eq!(
        receipt.provider_message_id,
        "0e6b5f1c-3d3a-4c6e-9f57-2b8a7c1d9e10"
    );
}

#[tokio::test]
async fn vapi_invalid_number_is_undeliverable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/call"))
        .respond_with(fixture_response(400, "vapi_invalid_number.json"))
        .expect(1)
        .mount(&server)
        .await;
    let err = vapi(&server, &fast_settings())
        .place_call(&call())
        .await
        .expect_err("refused");
    assert!(
        matches!(
            err,
            ProviderError::Undeliverable {
                reason: UndeliverableReason::InvalidNumber,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn secrets_stay_out_of_debug_output_and_sandbox_answers_stable_ids() {
    let server = MockServer::start().await;
    let settings = fast_settings();
    let shown = format!(
        "{:?} {:?} {:?}",
        resend(&server, &settings),
        twilio(&server, &settings),
        vapi(&server, &settings)
    );
    for secret in [RESEND_KEY, TOKEN, VAPI_KEY] {
        assert!(!shown.contains(secret), "{secret} leaked: {shown}");
    }

    let providers = OutreachConfig::default()
        .build(&settings)
        .expect("sandbox build");
    assert!(providers.email.is_sandbox() && providers.sms.is_sandbox());
    let a = providers.sms.send_sms(&sms()).await.expect("sandbox sms");
    let b = providers.sms.send_sms(&sms()).await.expect("sandbox sms");
    assert_eq!(a.provider_message_id, b.provider_message_id);
    assert!(a.sandbox && a.provider_message_id.starts_with("SM"));
    let c = providers
        .voice
        .place_call(&call())
        .await
        .expect("sandbox call");
    assert_ne!(c.provider_message_id, a.provider_message_id);
    assert_eq!(providers.sandbox.records().len(), 3);
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

#[test]
fn configuration_needs_pairs_and_refuses_sandbox_in_production() {
    let mut config = OutreachConfig {
        twilio_account_sid: Some(SID.into()),
        ..OutreachConfig::default()
    };
    let err = config.validate(false, false).expect_err("token missing");
    assert!(err.to_string().contains("TWILIO_AUTH_TOKEN"), "{err}");
    config.twilio_auth_token = Some(SecretString::from(TOKEN));
    config.validate(false, false).expect("pair complete");
    let err = config
        .validate(true, false)
        .expect_err("sandboxes in production");
    let text = err.to_string();
    assert!(
        text.contains("RESEND_API_KEY") && text.contains("VAPI_API_KEY"),
        "{text}"
    );
    assert!(!text.contains("TWILIO_ACCOUNT_SID"), "{text}");
    config.validate(true, true).expect("explicit opt-in");
    config.vapi_api_key = Some(SecretString::from(VAPI_KEY));
    let err = config
        .validate(false, false)
        .expect_err("assistant missing");
    assert!(err.to_string().contains("VAPI_ASSISTANT_ID"), "{err}");
}
