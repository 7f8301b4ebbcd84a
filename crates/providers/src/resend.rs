//! Resend email adapter.
//!
//! `POST {base}/emails` with `Authorization: Bearer re_...`, the message's idempotency key in
//! `Idempotency-Key` (Resend answers a repeat within 24 hours with the first answer and sends
//! nothing), and a JSON body: `from`, `to` (array), `subject`, `text`, `html`, `reply_to`,
//! `headers` (`In-Reply-To`, `References`, `List-Unsubscribe`, `List-Unsubscribe-Post`) and
//! `tags` (`[{name, value}]`). The answer is `{"id": "<uuid>"}`.
//!
//! Errors (`{"statusCode", "name", "message"}`): 422 naming the `to` field -> undeliverable
//! address; 409 `concurrent_idempotent_requests` -> rate limited (try again shortly);
//! 409 `invalid_idempotent_request` (same key, different body) and other 4xx -> rejected;
//! 429/5xx are retried by the HTTP layer (the key makes a repeat safe).
//!
//! Inbound mail: the `email.received` webhook carries metadata only; the text and HTML come
//! from `GET {base}/emails/receiving/{email_id}` (404: no such email).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::error::{ProviderError, UndeliverableReason};
use crate::http::{Auth, CallOptions, HttpSettings, ProviderHttp, provider_message};
use crate::outreach::{EmailMessage, EmailSender, ReceivedEmail, SendReceipt};
use crate::provider::Provider;

/// Resend's production API root.
pub const RESEND_DEFAULT_BASE_URL: &str = "https://api.resend.com";

/// The send path under the base URL.
pub const RESEND_EMAILS_PATH: &str = "/emails";

/// The received-email path under the base URL (`/emails/receiving/{id}`).
pub const RESEND_RECEIVING_PATH: &str = "/emails/receiving";

/// The Resend adapter.
pub struct Resend {
    http: ProviderHttp,
    api_key: SecretString,
}

impl fmt::Debug for Resend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Resend")
            .field("http", &self.http)
            .field("api_key", &"[redacted]")
            .finish()
    }
}

impl Resend {
    /// A Resend client at `base_url` (use [`RESEND_DEFAULT_BASE_URL`] in production).
    pub fn new(
        api_key: SecretString,
        base_url: &str,
        settings: &HttpSettings,
    ) -> Result<Self, ProviderError> {
        Ok(Resend {
            http: ProviderHttp::new(Provider::Resend, base_url, settings)?,
            api_key,
        })
    }
}

#[derive(Debug, Serialize)]
struct Tag<'a> {
    name: &'a str,
    value: &'a str,
}

#[derive(Debug, Serialize)]
struct SendRequest<'a> {
    from: &'a str,
    to: [&'a str; 1],
    subject: &'a str,
    text: &'a str,
    html: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reply_to: Option<&'a str>,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    headers: std::collections::BTreeMap<&'static str, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<Tag<'a>>,
}

#[derive(Debug, Deserialize)]
struct SendResponse {
    id: String,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    #[serde(default)]
    name: String,
    #[serde(default)]
    message: String,
}

/// Reads Resend's refusals (see the module doc).
fn classify(provider: Provider, status: u16, body: &[u8]) -> Option<ProviderError> {
    let error: ErrorBody = serde_json::from_slice(body).ok()?;
    match (status, error.name.as_str()) {
        (409, "concurrent_idempotent_requests") => Some(ProviderError::RateLimited {
            provider,
            retry_after: Some(Duration::from_secs(1)),
        }),
        (422, _) if error.message.contains("`to`") => Some(ProviderError::Undeliverable {
            provider,
            reason: UndeliverableReason::InvalidAddress,
            message: provider_message(body),
        }),
        _ => None,
    }
}

#[async_trait]
impl EmailSender for Resend {
    fn is_sandbox(&self) -> bool {
        false
    }

    #[tracing::instrument(skip_all, fields(provider = "resend"))]
    async fn send_email(&self, message: &EmailMessage) -> Result<SendReceipt, ProviderError> {
        let url = self.http.endpoint(RESEND_EMAILS_PATH)?;
        let body = SendRequest {
            from: &message.from,
            to: [&message.to],
            subject: &message.subject,
            text: &message.text,
            html: &message.html,
            reply_to: message.reply_to.as_deref(),
            headers: message.headers(),
            tags: message
                .tags
                .iter()
                .map(|(name, value)| Tag { name, value })
                .collect(),
        };
        let options = CallOptions {
            at_most_once: false,
            classify: Some(classify),
        };
        let answer: SendResponse = self
            .http
            .post_json_with(
                &url,
                Auth::Bearer(&self.api_key),
                &body,
                &[("Idempotency-Key", &message.idempotency_key)],
                options,
            )
            .await?;
        Ok(SendReceipt {
            provider: Provider::Resend,
            provider_message_id: answer.id,
            sandbox: false,
        })
    }

    #[tracing::instrument(skip_all, fields(provider = "resend"))]
    async fn received_email(&self, email_id: &str) -> Result<Option<ReceivedEmail>, ProviderError> {
        let id = email_id.trim();
        if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(ProviderError::Rejected {
                provider: Provider::Resend,
                status: 400,
                message: "the received email id is not a Resend id".into(),
            });
        }
        let url = self
            .http
            .endpoint(&format!("{RESEND_RECEIVING_PATH}/{id}"))?;
        self.http
            .get_json_optional(&url, Auth::Bearer(&self.api_key))
            .await
    }
}
