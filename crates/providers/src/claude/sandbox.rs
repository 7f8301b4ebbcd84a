//! `SandboxClaude`: the deterministic twin of the Anthropic adapter for development, demos and
//! tests without a key. The same request always gets the same answer: with a tool, arguments
//! built from the tool's JSON Schema (enum values chosen by a SHA-256 of the prompt, numbers at
//! 90% of their range, nullable fields null, dates fixed); without one, a short text. Usage
//! is the conservative token estimate of the prompt and of the answer, capped at `max_tokens`.

use agency_domain::ai::estimate_tokens;
use async_trait::async_trait;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{AiAnswer, AiRequest, LanguageModel, StopReason, Usage};
use crate::error::ProviderError;

/// The sandbox model.
#[derive(Debug, Clone, Copy, Default)]
pub struct SandboxClaude;

impl SandboxClaude {
    /// The sandbox.
    pub fn new() -> Self {
        SandboxClaude
    }
}

/// Builds a value of `schema`, choosing among alternatives with `seed`.
fn instance(schema: &Value, name: &str, seed: u64) -> Value {
    if let Some(values) = schema.get("enum").and_then(Value::as_array)
        && !values.is_empty()
    {
        let index = usize::try_from(seed % values.len() as u64).unwrap_or(0);
        return values[index].clone();
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ if schema.get("properties").is_some() => vec!["object"],
        _ => vec!["string"],
    };
    if types.contains(&"null") {
        return Value::Null;
    }
    match types.first().copied().unwrap_or("string") {
        "object" => {
            let mut out = Map::new();
            if let Some(props) = schema.get("properties").and_then(Value::as_object) {
                for (i, (key, sub)) in props.iter().enumerate() {
                    out.insert(
                        key.clone(),
                        instance(sub, key, seed.rotate_left(i as u32 * 7)),
                    );
                }
            }
            Value::Object(out)
        }
        "array" => {
            let min = schema.get("minItems").and_then(Value::as_u64).unwrap_or(0);
            let item = schema.get("items").cloned().unwrap_or(json!({}));
            Value::Array((0..min).map(|i| instance(&item, name, seed ^ i)).collect())
        }
        "number" | "integer" => {
            let min = schema.get("minimum").and_then(Value::as_f64);
            let max = schema.get("maximum").and_then(Value::as_f64);
            let v = match (min, max) {
                (Some(lo), Some(hi)) => lo + (hi - lo) * 0.9,
                (Some(lo), None) => lo,
                (None, Some(hi)) => hi,
                (None, None) => 1.0,
            };
            if types.contains(&"integer") {
                json!(v.round() as i64)
            } else {
                json!(v)
            }
        }
        "boolean" => Value::Bool(false),
        _ => match schema.get("format").and_then(Value::as_str) {
            Some("date") => json!("2027-01-04"),
            Some("date-time") => json!("2027-01-04T23:00:00Z"),
            _ => json!(format!("Sandbox {}", name.replace('_', " "))),
        },
    }
}

#[async_trait]
impl LanguageModel for SandboxClaude {
    async fn complete(&self, request: &AiRequest) -> Result<AiAnswer, ProviderError> {
        let digest = Sha256::digest(format!(
            "{}\n{}\n{}",
            request.model, request.system, request.user
        ));
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        let seed = u64::from_be_bytes(first);
        let (text, tool_input, stop_reason) = match &request.tool {
            Some(tool) => (
                String::new(),
                Some(instance(&tool.input_schema, &tool.name, seed)),
                StopReason::ToolUse,
            ),
            None => (
                format!("Sandbox answer {}.", hex::encode(&digest[..4])),
                None,
                StopReason::EndTurn,
            ),
        };
        let schema_text = request
            .tool
            .as_ref()
            .map(|t| t.input_schema.to_string())
            .unwrap_or_default();
        let output_text = tool_input.as_ref().map_or(text.clone(), Value::to_string);
        let usage = Usage {
            input_tokens: estimate_tokens(&request.system)
                + estimate_tokens(&request.user)
                + estimate_tokens(&schema_text),
            output_tokens: estimate_tokens(&output_text).min(u64::from(request.max_tokens)),
            ..Usage::default()
        };
        Ok(AiAnswer {
            id: format!("msg_sandbox_{}", hex::encode(&digest[..12])),
            model: request.model.clone(),
            text,
            tool_input,
            stop_reason,
            usage,
        })
    }

    fn is_sandbox(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claude::ToolSpec;

    fn request(user: &str) -> AiRequest {
        AiRequest {
            model: "claude-haiku-4-5".into(),
            system: "Classify.".into(),
            user: user.into(),
            max_tokens: 300,
            temperature: Some(0.0),
            tool: Some(ToolSpec {
                name: "record_intent".into(),
                description: "Record the intent".into(),
                input_schema: json!({
                    "type": "object",
                    "properties": {
                        "intent": {"type": "string", "enum": ["a", "b", "c"]},
                        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                        "return_date": {"type": ["string", "null"], "format": "date"},
                        "times": {"type": "array", "items": {"type": "string"}}
                    },
                    "required": ["intent", "confidence"]
                }),
            }),
        }
    }

    #[tokio::test]
    async fn same_request_same_answer_matching_the_schema() {
        let model = SandboxClaude::new();
        let a = model.complete(&request("hello")).await.expect("answer");
        let b = model.complete(&request("hello")).await.expect("answer");
        assert_eq!(a, b);
        let input = a.tool_input.expect("tool input");
        assert!(["a", "b", "c"].contains(&input["intent"].as_str().expect("intent")));
        assert_eq!(input["confidence"], json!(0.9));
        assert_eq!(input["return_date"], Value::Null);
        assert_eq!(input["times"], json!([]));
        assert_eq!(a.stop_reason, StopReason::ToolUse);
        assert!(a.usage.input_tokens > 0 && a.usage.output_tokens > 0);
    }
}
