//! Claude: the [`LanguageModel`] trait every AI call in the system goes through (via the
//! engine's spend gate), its request and answer types, the Anthropic Messages API adapter
//! ([`Anthropic`]), its deterministic sandbox twin ([`SandboxClaude`]) and [`AiConfig`], which
//! picks one of them and holds the per-purpose models and the price table.

mod anthropic;
mod config;
mod sandbox;

use std::fmt;

use async_trait::async_trait;
use serde::{Deserialize, Deserializer, Serialize};

use crate::error::ProviderError;

pub use anthropic::{
    ANTHROPIC_DEFAULT_BASE_URL, ANTHROPIC_MESSAGES_PATH, ANTHROPIC_VERSION, Anthropic,
};
pub use config::{AiConfig, AiConfigError, DEFAULT_PRICES};
pub use sandbox::SandboxClaude;

/// A tool the model must call: its arguments are the structured answer, validated by the
/// caller against `input_schema` (a JSON Schema object).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolSpec {
    /// Tool name (`^[a-zA-Z0-9_-]{1,64}$`).
    pub name: String,
    /// What the tool does, in words the model reads.
    pub description: String,
    /// JSON Schema of the arguments.
    pub input_schema: serde_json::Value,
}

/// One request to the model: a system prompt, one user turn, an output cap and, for a
/// structured answer, a tool the model is forced to call.
#[derive(Debug, Clone, PartialEq)]
pub struct AiRequest {
    /// The model id, e.g. `claude-haiku-4-5`.
    pub model: String,
    /// The system prompt.
    pub system: String,
    /// The user turn.
    pub user: String,
    /// Maximum output tokens.
    pub max_tokens: u32,
    /// Sampling temperature (0 for classification).
    pub temperature: Option<f32>,
    /// Forced tool for a structured answer; `None` for free text.
    pub tool: Option<ToolSpec>,
}

/// Tokens a call consumed, as the provider billed them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub struct Usage {
    /// Input tokens (not counting cache reads or writes).
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Input tokens written to the prompt cache.
    #[serde(default, deserialize_with = "null_as_zero")]
    pub cache_creation_input_tokens: u64,
    /// Input tokens read from the prompt cache.
    #[serde(default, deserialize_with = "null_as_zero")]
    pub cache_read_input_tokens: u64,
}

impl Usage {
    /// Every input token billed (plain, cache writes and cache reads; all charged here at the
    /// input price, which over-counts cache reads: the safe side for a budget).
    pub fn billed_input_tokens(&self) -> u64 {
        self.input_tokens
            .saturating_add(self.cache_creation_input_tokens)
            .saturating_add(self.cache_read_input_tokens)
    }
}

fn null_as_zero<'de, D: Deserializer<'de>>(de: D) -> Result<u64, D::Error> {
    Ok(Option::<u64>::deserialize(de)?.unwrap_or(0))
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopReason {
    /// A natural end.
    EndTurn,
    /// The output cap was reached (the answer is cut).
    MaxTokens,
    /// A stop sequence matched.
    StopSequence,
    /// The model called a tool.
    ToolUse,
    /// A long-running turn was paused.
    PauseTurn,
    /// The model declined for safety reasons (the answer must not be used).
    Refusal,
    /// A value this adapter does not know yet.
    Other(String),
}

impl StopReason {
    /// Parses the API's `stop_reason`.
    pub fn parse(value: &str) -> StopReason {
        match value {
            "end_turn" => StopReason::EndTurn,
            "max_tokens" => StopReason::MaxTokens,
            "stop_sequence" => StopReason::StopSequence,
            "tool_use" => StopReason::ToolUse,
            "pause_turn" => StopReason::PauseTurn,
            "refusal" => StopReason::Refusal,
            other => StopReason::Other(other.to_owned()),
        }
    }
}

/// The model's answer: text, the forced tool's arguments, why it stopped and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct AiAnswer {
    /// The provider's message id (`msg_...`).
    pub id: String,
    /// The model that answered (may be a dated id of the requested alias).
    pub model: String,
    /// The text blocks, concatenated.
    pub text: String,
    /// The arguments of the first `tool_use` block, when the model called a tool.
    pub tool_input: Option<serde_json::Value>,
    /// Why it stopped.
    pub stop_reason: StopReason,
    /// Billed tokens.
    pub usage: Usage,
}

/// A large language model. Implemented by [`Anthropic`] and [`SandboxClaude`]; the engine
/// reaches it only through its spend gate.
#[async_trait]
pub trait LanguageModel: Send + Sync + fmt::Debug {
    /// Sends one request. A refusal or a cut answer is `Ok` (with its stop reason and usage,
    /// which are billed); transport and API errors are `Err`.
    async fn complete(&self, request: &AiRequest) -> Result<AiAnswer, ProviderError>;

    /// True for the deterministic sandbox twin.
    fn is_sandbox(&self) -> bool;
}
