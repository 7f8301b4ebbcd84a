//! Vapi outbound call adapter.
//!
//! `POST {base}/call` with `Authorization: Bearer <private key>` and a JSON body:
//! `assistantId`, `phoneNumberId`, `customer: {number, name?}`, `metadata: {client_id,
//! campaign_id, lead_id}` (read back from the call's webhooks and tool calls), and
//! `assistantOverrides: {firstMessage, variableValues, metadata}` (the personalised first
//! sentence and the prompt's variables). The answer (201) is the Call; its `id` is the
//! provider message id.
//!
//! Vapi takes no idempotency key, so the call is at most once (see `twilio`). A 400 whose
//! message names `customer.number` -> invalid number; other 4xx -> rejected.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::error::{ProviderError, UndeliverableReason};
use crate::http::{Auth, CallOptions, HttpSettings, ProviderHttp};
use crate::outreach::{CallMetadata, CallRequest, SendReceipt, VoiceCaller};
use crate::provider::Provider;

/// Vapi's production API root.
pub const VAPI_DEFAULT_BASE_URL: &str = "https://api.vapi.ai";

/// The create-call path under the base URL.
pub const VAPI_CALL_PATH: &str = "/call";

/// The Vapi adapter: one assistant calling from one Vapi phone number.
pub struct Vapi {
    http: ProviderHttp,
    api_key: SecretString,
    assistant_id: String,
    phone_number_id: String,
}

impl fmt::Debug for Vapi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Vapi")
            .field("http", &self.http)
            .field("api_key", &"[redacted]")
            .field("assistant_id", &self.assistant_id)
            .field("phone_number_id", &self.phone_number_id)
            .finish()
    }
}

impl Vapi {
    /// A Vapi client at `base_url` (use [`VAPI_DEFAULT_BASE_URL`]) for the assistant and
    /// phone number ids.
    pub fn new(
        api_key: SecretString,
        assistant_id: &str,
        phone_number_id: &str,
        base_url: &str,
        settings: &HttpSettings,
    ) -> Result<Self, ProviderError> {
        let missing = |what: &str| ProviderError::Misconfigured {
            provider: Provider::Vapi,
            reason: format!("the {what} is empty"),
        };
        if assistant_id.trim().is_empty() {
            return Err(missing("assistant id"));
        }
        if phone_number_id.trim().is_empty() {
            return Err(missing("phone number id"));
        }
        Ok(Vapi {
            http: ProviderHttp::new(Provider::Vapi, base_url, settings)?,
            api_key,
            assistant_id: assistant_id.trim().to_owned(),
            phone_number_id: phone_number_id.trim().to_owned(),
        })
    }
}

#[derive(Debug, Serialize)]
struct Customer<'a> {
    number: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<&'a str>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Overrides<'a> {
    first_message: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    variable_values: &'a BTreeMap<String, String>,
    metadata: &'a CallMetadata,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CreateCall<'a> {
    assistant_id: &'a str,
    phone_number_id: &'a str,
    customer: Customer<'a>,
    metadata: &'a CallMetadata,
    assistant_overrides: Overrides<'a>,
}

#[derive(Debug, Deserialize)]
struct CallResource {
    id: String,
}

/// Reads Vapi's refusals: a 400 whose message (a string or a list) names the customer number.
fn classify(provider: Provider, status: u16, body: &[u8]) -> Option<ProviderError> {
    if status != 400 {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let messages: Vec<String> = match value.get("message")? {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => return None,
    };
    let about_number = messages.iter().find(|m| m.contains("customer.number"))?;
    Some(ProviderError::Undeliverable {
        provider,
        reason: UndeliverableReason::InvalidNumber,
        message: about_number.chars().take(200).collect(),
    })
}

#[async_trait]
impl VoiceCaller for Vapi {
    fn is_sandbox(&self) -> bool {
        false
    }

    #[tracing::instrument(skip_all, fields(provider = "vapi"))]
    async fn place_call(&self, call: &CallRequest) -> Result<SendReceipt, ProviderError> {
        let url = self.http.endpoint(VAPI_CALL_PATH)?;
        let body = CreateCall {
            assistant_id: &self.assistant_id,
            phone_number_id: &self.phone_number_id,
            customer: Customer {
                number: &call.customer_number,
                name: call.customer_name.as_deref(),
            },
            metadata: &call.metadata,
            assistant_overrides: Overrides {
                first_message: &call.first_message,
                variable_values: &call.variables,
                metadata: &call.metadata,
            },
        };
        let options = CallOptions {
            at_most_once: true,
            classify: Some(classify),
        };
        let answer: CallResource = self
            .http
            .post_json_with(&url, Auth::Bearer(&self.api_key), &body, &[], options)
            .await?;
        Ok(SendReceipt {
            provider: Provider::Vapi,
            provider_message_id: answer.id,
            sandbox: false,
        })
    }
}
