//! The HTTP side of the webhooks we send to clients' systems: [`WebhookSender`] (one POST of
//! a signed body, answered with the status, the latency and at most 1 KB of the response) and
//! its real implementation [`HttpWebhookSender`]: timeouts, no redirects followed, no proxy,
//! and the SSRF guard of [`crate::website::guard`] checking the resolved address at connect
//! time (private, loopback, link-local and metadata addresses refused unless the
//! [`AddressPolicy`] allows them: development and tests only, refused in production by
//! [`WebhookSenderConfig::build`]). Signing is [`crate::standard_webhooks`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use clap::Args;
use reqwest::redirect;
use url::Url;

use crate::config::ProvidersConfigError;
use crate::website::guard::{AddressPolicy, GuardedResolver, is_blocked};

/// The user agent of every webhook request.
pub const USER_AGENT: &str = "AgencyOS-Webhooks/1.0 (+https://agencyos.com.au/webhooks)";
/// Bytes of a response body read at most (the excerpt kept).
pub const MAX_RESPONSE_BYTES: usize = 1024;

/// One request to send.
#[derive(Debug, Clone)]
pub struct WebhookRequest {
    /// Where to POST.
    pub url: Url,
    /// Extra headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
    pub headers: Vec<(String, String)>,
    /// The JSON body, exactly as signed.
    pub body: Vec<u8>,
}

/// The endpoint's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookResponse {
    /// HTTP status.
    pub status: u16,
    /// Time to the answer's end (or to the excerpt's end), ms.
    pub latency_ms: u64,
    /// At most [`MAX_RESPONSE_BYTES`] of the body.
    pub body_head: Vec<u8>,
}

/// Why no answer came back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookSendError {
    /// The address is private, loopback, link-local or a metadata address.
    #[error("the endpoint's address is not a public address, so it was not called")]
    Blocked,
    /// No answer in time.
    #[error("the endpoint did not answer within {0} seconds")]
    Timeout(u64),
    /// Could not connect or the exchange broke.
    #[error("the endpoint could not be reached: {0}")]
    Unreachable(String),
}

/// `error: cause: ...` of a transport error.
fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

/// Sends one webhook request.
#[async_trait]
pub trait WebhookSender: Send + Sync + std::fmt::Debug {
    /// POSTs `request`; any HTTP answer (including 4xx/5xx) is `Ok`.
    async fn send(&self, request: WebhookRequest) -> Result<WebhookResponse, WebhookSendError>;
}

/// The real sender.
#[derive(Debug, Clone)]
pub struct HttpWebhookSender {
    client: reqwest::Client,
    policy: AddressPolicy,
    timeout: Duration,
}

impl HttpWebhookSender {
    /// A sender over the system resolver behind the guard of `policy`, giving each request
    /// `timeout` in all (connecting at most 5 s of it).
    pub fn new(policy: AddressPolicy, timeout: Duration) -> Result<Self, String> {
        Self::with_resolver(GuardedResolver::new(policy), policy, timeout)
    }

    /// A sender over a given guarded resolver (tests resolve names from a table).
    pub fn with_resolver(
        resolver: GuardedResolver,
        policy: AddressPolicy,
        timeout: Duration,
    ) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .timeout(timeout)
            .redirect(redirect::Policy::none())
            .dns_resolver(Arc::new(resolver))
            .no_proxy()
            .build()
            .map_err(|e| format!("HTTP client: {e}"))?;
        Ok(Self {
            client,
            policy,
            timeout,
        })
    }

    fn failure(&self, e: &reqwest::Error) -> WebhookSendError {
        if is_blocked(e) {
            WebhookSendError::Blocked
        } else if e.is_timeout() {
            WebhookSendError::Timeout(self.timeout.as_secs())
        } else {
            WebhookSendError::Unreachable(cause_chain(e))
        }
    }
}

#[async_trait]
impl WebhookSender for HttpWebhookSender {
    async fn send(&self, request: WebhookRequest) -> Result<WebhookResponse, WebhookSendError> {
        self.policy
            .check_url(&request.url)
            .map_err(|_| WebhookSendError::Blocked)?;
        let mut builder = self
            .client
            .post(request.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let started = Instant::now();
        let response = builder
            .body(request.body)
            .send()
            .await
            .map_err(|e| self.failure(&e))?;
        let status = response.status().as_u16();
        let mut body_head = Vec::new();
        let mut response = response;
        while body_head.len() < MAX_RESPONSE_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_RESPONSE_BYTES - body_head.len();
                    body_head.extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                // A body that breaks off after the status still answered the request.
                Err(_) | Ok(None) => break,
            }
        }
        let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        Ok(WebhookResponse {
            status,
            latency_ms,
            body_head,
        })
    }
}

/// Settings of the outbound webhook sender (flattened into the worker's configuration).
#[derive(Debug, Clone, Args)]
pub struct WebhookSenderConfig {
    /// Allow outbound webhooks to private, loopback and link-local addresses (development and tests only; refused in production).
    #[arg(id = "outbound_webhooks_allow_private_addresses", long = "outbound-webhooks-allow-private-addresses", env = "OUTBOUND_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", value_name = "OUTBOUND_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", default_value_t = false, action = clap::ArgAction::Set)]
    pub allow_private_addresses: bool,
    /// Seconds one outbound webhook request may take (connecting at most 5 of them).
    #[arg(id = "outbound_webhooks_timeout_secs", long = "outbound-webhooks-timeout-secs", env = "OUTBOUND_WEBHOOKS_TIMEOUT_SECS", value_name = "OUTBOUND_WEBHOOKS_TIMEOUT_SECS", default_value_t = 15, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub timeout_secs: u64,
}

impl Default for WebhookSenderConfig {
    fn default() -> Self {
        Self {
            allow_private_addresses: false,
            timeout_secs: 15,
        }
    }
}

impl WebhookSenderConfig {
    /// Builds the sender; production refuses private addresses.
    pub fn build(&self, production: bool) -> Result<Arc<dyn WebhookSender>, ProvidersConfigError> {
        if production && self.allow_private_addresses {
            return Err(ProvidersConfigError::Invalid {
                var: "OUTBOUND_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES",
                reason: "outbound webhooks never reach private addresses in production".into(),
            });
        }
        let policy = AddressPolicy {
            allow_private: self.allow_private_addresses,
        };
        let sender = HttpWebhookSender::new(policy, Duration::from_secs(self.timeout_secs))
            .map_err(|reason| ProvidersConfigError::Invalid {
                var: "OUTBOUND_WEBHOOKS_TIMEOUT_SECS",
                reason,
            })?;
        Ok(Arc::new(sender))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_refuses_private_addresses() {
        let private = WebhookSenderConfig {
            allow_private_addresses: true,
            ..WebhookSenderConfig::default()
        };
        assert!(private.build(true).is_err());
        assert!(private.build(false).is_ok());
        assert!(WebhookSenderConfig::default().build(true).is_ok());
    }
}
