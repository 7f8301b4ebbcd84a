//! The Anthropic Messages API adapter: `POST {base}/v1/messages` with `x-api-key` and
//! `anthropic-version: 2023-06-01`, a forced tool (`tool_choice: {type: tool}`) for structured
//! answers. Retries (429, 529 overloaded, other 5xx; honouring `retry-after`), timeouts and the
//! circuit breaker come from [`ProviderHttp`]; API errors
//! (`{"type":"error","error":{"type":"overloaded_error","message":...}}`) map to typed
//! [`ProviderError`]s: 401/403 `Unauthorized`, 429 `RateLimited`, 5xx/529 `Upstream`, other
//! 4xx `Rejected` with the API's message.

use std::fmt;

use async_trait::async_trait;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::{AiAnswer, AiRequest, LanguageModel, StopReason, ToolSpec, Usage};
use crate::error::ProviderError;
use crate::http::{Auth, HttpSettings, ProviderHttp};
use crate::provider::Provider;

/// Anthropic's production API root.
pub const ANTHROPIC_DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

/// The Messages API path under the base URL.
pub const ANTHROPIC_MESSAGES_PATH: &str = "/v1/messages";

/// The API version header value this adapter speaks.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// The Anthropic adapter.
pub struct Anthropic {
    http: ProviderHttp,
    api_key: SecretString,
}

impl fmt::Debug for Anthropic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Anthropic")
            .field("http", &self.http)
            .field("api_key", &"[redacted]")
            .finish()
    }
}

#[derive(Serialize)]
struct WireMessage<'a> {
    role: &'static str,
    content: &'a str,
}

#[derive(Serialize)]
struct ToolChoice<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    name: &'a str,
}

#[derive(Serialize)]
struct WireRequest<'a> {
    model: &'a str,
    max_tokens: u32,
    #[serde(skip_serializing_if = "str::is_empty")]
    system: &'a str,
    messages: [WireMessage<'a>; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<[&'a ToolSpec; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<ToolChoice<'a>>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireBlock {
    Text {
        text: String,
    },
    ToolUse {
        input: serde_json::Value,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct WireResponse {
    id: String,
    model: String,
    content: Vec<WireBlock>,
    stop_reason: Option<String>,
    usage: Usage,
}

impl Anthropic {
    /// A client at `base_url` (use [`ANTHROPIC_DEFAULT_BASE_URL`] in production).
    pub fn new(
        api_key: SecretString,
        base_url: &str,
        settings: &HttpSettings,
    ) -> Result<Self, ProviderError> {
        Ok(Anthropic {
            http: ProviderHttp::new(Provider::Anthropic, base_url, settings)?,
            api_key,
        })
    }
}

#[async_trait]
impl LanguageModel for Anthropic {
    async fn complete(&self, request: &AiRequest) -> Result<AiAnswer, ProviderError> {
        let url = self.http.endpoint(ANTHROPIC_MESSAGES_PATH)?;
        let body = WireRequest {
            model: &request.model,
            max_tokens: request.max_tokens,
            system: &request.system,
            messages: [WireMessage {
                role: "user",
                content: &request.user,
            }],
            temperature: request.temperature,
            tools: request.tool.as_ref().map(|t| [t]),
            tool_choice: request.tool.as_ref().map(|t| ToolChoice {
                kind: "tool",
                name: &t.name,
            }),
        };
        let wire: WireResponse = self
            .http
            .post_json_with_headers(
                &url,
                Auth::Header("x-api-key", &self.api_key),
                &[("anthropic-version", ANTHROPIC_VERSION)],
                &body,
            )
            .await?;
        let mut text = String::new();
        let mut tool_input = None;
        for block in wire.content {
            match block {
                WireBlock::Text { text: t } => text.push_str(&t),
                WireBlock::ToolUse { input } if tool_input.is_none() => tool_input = Some(input),
                WireBlock::ToolUse { .. } | WireBlock::Other => {}
            }
        }
        Ok(AiAnswer {
            id: wire.id,
            model: wire.model,
            text,
            tool_input,
            stop_reason: StopReason::parse(wire.stop_reason.as_deref().unwrap_or("end_turn")),
            usage: wire.usage,
        })
    }

    fn is_sandbox(&self) -> bool {
        false
    }
}
