//! The Anthropic adapter against a wiremock server speaking the Messages API: the request's
//! headers and body (forced tool), answers with tool use, text, null cache counts and refusal,
//! and the error shapes (`{"type":"error","error":{...}}`) with retries and `retry-after`.

mod common;

use std::time::{Duration, Instant};

use agency_providers::{
    AiRequest, Anthropic, HttpSettings, LanguageModel, Provider, ProviderError, StopReason,
    ToolSpec, Usage,
};
use common::{fast_settings, fixture_response};
use secrecy::SecretString;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer};

const KEY: &str = "sk-ant-api03-test";

fn client(server: &MockServer, settings: &HttpSettings) -> Anthropic {
    Anthropic::new(SecretString::from(KEY), &server.uri(), settings).expect("client")
}

fn schema() -> serde_json::Value {
    json!({
        "type": "object",
        "properties": {"intent": {"type": "string", "enum": ["meeting_request", "question"]}},
        "required": ["intent"]
    })
}

fn classify_request() -> AiRequest {
    AiRequest {
        model: "claude-haiku-4-5".into(),
        system: "You classify replies.".into(),
        user: "Happy to chat Tuesday at 10am".into(),
        max_tokens: 300,
        temperature: Some(0.0),
        tool: Some(ToolSpec {
            name: "record_reply_intent".into(),
            description: "Record the reply's intent".into(),
            input_schema: schema(),
        }),
    }
}

fn text_request() -> AiRequest {
    AiRequest {
        tool: None,
        temperature: None,
        model: "claude-sonnet-4-5".into(),
        ..classify_request()
    }
}

#[tokio::test]
async fn sends_the_messages_request_and_reads_the_tool_answer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", KEY))
        .and(header("anthropic-version", "2023-06-01"))
        .and(header("content-type", "application/json"))
        .and(body_json(json!({
            "model": "claude-haiku-4-5",
            "max_tokens": 300,
            "system": "You classify replies.",
            "messages": [{"role": "user", "content": "Happy to chat Tuesday at 10am"}],
            "temperature": 0.0,
            "tools": [{
                "name": "record_reply_intent",
                "description": "Record the reply's intent",
                "input_schema": schema()
            }],
            "tool_choice": {"type": "tool", "name": "record_reply_intent"}
        })))
        .respond_with(fixture_response(200, "anthropic_tool_use.json"))
        .expect(1)
        .mount(&server)
        .await;

    let answer = client(&server, &fast_settings())
        .complete(&classify_request())
        .await
        .expect("answer");
    assert_eq!(answer.id, "msg_01Aq9w938a90dw8q");
    assert_eq!(answer.model, "claude-haiku-4-5-20251001");
    assert_eq!(answer.stop_reason, StopReason::ToolUse);
    assert_eq!(answer.text, "I'll record the classification.");
    let input = answer.tool_input.expect("tool input");
    assert_eq!(input["intent"], "meeting_request");
    assert_eq!(input["confidence"], 0.93);
    assert_eq!(
        answer.usage,
        Usage {
            input_tokens: 612,
            output_tokens: 87,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 0,
        }
    );
}

#[tokio::test]
async fn text_answer_with_null_cache_counts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(body_json(json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 300,
            "system": "You classify replies.",
            "messages": [{"role": "user", "content": "Happy to chat Tuesday at 10am"}]
        })))
        .respond_with(fixture_response(200, "anthropic_text.json"))
        .mount(&server)
        .await;
    let answer = client(&server, &fast_settings())
        .complete(&text_request())
        .await
        .expect("answer");
    assert_eq!(answer.stop_reason, StopReason::EndTurn);
    assert_eq!(
        answer.text,
        "Hi Jane, I noticed Harbour Plumbing is hiring two apprentices."
    );
    assert_eq!(answer.tool_input, None);
    assert_eq!(answer.usage.input_tokens, 2095);
    assert_eq!(answer.usage.output_tokens, 503);
    assert_eq!(answer.usage.billed_input_tokens(), 2095);
}

#[tokio::test]
async fn refusal_is_an_answer_with_its_usage() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(fixture_response(200, "anthropic_refusal.json"))
        .mount(&server)
        .await;
    let answer = client(&server, &fast_settings())
        .complete(&classify_request())
        .await
        .expect("a refusal is billed, so it is an answer");
    assert_eq!(answer.stop_reason, StopReason::Refusal);
    assert_eq!(answer.tool_input, None);
    assert_eq!(answer.text, "");
    assert_eq!(answer.usage.input_tokens, 340);
    assert_eq!(answer.usage.output_tokens, 4);
}

#[tokio::test]
async fn overloaded_529_is_retried_honouring_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(
            fixture_response(529, "anthropic_overloaded.json").insert_header("retry-after", "1"),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(fixture_response(200, "anthropic_tool_use.json"))
        .with_priority(2)
        .mount(&server)
        .await;
    let started = Instant::now();
    let answer = client(&server, &fast_settings())
        .complete(&classify_request())
        .await
        .expect("answer after one retry");
    // The backoff of the fast settings is at most 40 ms: waiting 1 s means retry-after won.
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(answer.stop_reason, StopReason::ToolUse);
    assert_eq!(server.received_requests().await.map(|r| r.len()), Some(2));
}

#[tokio::test]
async fn persistent_overload_is_a_typed_upstream_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(fixture_response(529, "anthropic_overloaded.json"))
        .expect(3)
        .mount(&server)
        .await;
    let err = client(&server, &fast_settings())
        .complete(&classify_request())
        .await
        .expect_err("overloaded");
    assert_eq!(
        err,
        ProviderError::Upstream {
            provider: Provider::Anthropic,
            status: 529,
            attempts: 3
        }
    );
    assert!(err.is_transient());
}

#[tokio::test]
async fn rate_limit_with_long_retry_after_fails_fast() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(
            fixture_response(429, "anthropic_rate_limit.json").insert_header("retry-after", "30"),
        )
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server, &fast_settings())
        .complete(&classify_request())
        .await
        .expect_err("rate limited");
    assert_eq!(
        err,
        ProviderError::RateLimited {
            provider: Provider::Anthropic,
            retry_after: Some(Duration::from_secs(30))
        }
    );
}

#[tokio::test]
async fn invalid_request_and_auth_errors_are_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", KEY))
        .respond_with(fixture_response(400, "anthropic_invalid_request.json"))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server, &fast_settings())
        .complete(&classify_request())
        .await
        .expect_err("rejected");
    match err {
        ProviderError::Rejected {
            provider: Provider::Anthropic,
            status: 400,
            message,
        } => assert!(
            message.starts_with("max_tokens: 100000 > 64000"),
            "{message}"
        ),
        other => panic!("expected Rejected, got {other:?}"),
    }

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(fixture_response(401, "anthropic_auth.json"))
        .expect(1)
        .mount(&server)
        .await;
    let err = client(&server, &fast_settings())
        .complete(&classify_request())
        .await
        .expect_err("unauthorized");
    assert_eq!(
        err,
        ProviderError::Unauthorized {
            provider: Provider::Anthropic,
            status: 401
        }
    );
}

#[tokio::test]
async fn a_slow_answer_times_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(
            fixture_response(200, "anthropic_text.json").set_delay(Duration::from_millis(800)),
        )
        .mount(&server)
        .await;
    let mut settings = fast_settings();
    settings.request_timeout = Duration::from_millis(200);
    settings.retry.max_attempts = 2;
    let err = client(&server, &settings)
        .complete(&text_request())
        .await
        .expect_err("timeout");
    assert!(
        matches!(err, ProviderError::Transport { attempts: 2, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn the_key_never_appears_in_debug_output() {
    let server = MockServer::start().await;
    let debug = format!("{:?}", client(&server, &fast_settings()));
    assert!(!debug.contains(KEY), "{debug}");
}
