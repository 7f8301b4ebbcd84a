//! The HTTP foundation every adapter uses: one `reqwest::Client` per provider with connect and
//! request timeouts, bounded retries on 429/5xx/408/connection errors (exponential backoff with
//! jitter, honouring `Retry-After` on 429 and 5xx), a circuit breaker, secret-bearing auth headers marked
//! sensitive, and typed errors. URLs are stripped from transport errors (they may carry tokens).

mod breaker;
mod retry;

use std::fmt;
use std::time::Duration;

use reqwest::header::{HeaderValue, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use url::Url;

pub use breaker::{
    BreakerSettings, CircuitBreaker, CircuitChange, CircuitObserver, CircuitState, CircuitWatch,
};
pub use retry::{RetryPolicy, parse_retry_after};

use crate::error::ProviderError;
use crate::provider::Provider;

/// Timeouts, retries and breaker settings of one provider client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpSettings {
    /// Time allowed to open a connection.
    pub connect_timeout: Duration,
    /// Time allowed for one whole request (send and read the response).
    pub request_timeout: Duration,
    /// Retry behaviour.
    pub retry: RetryPolicy,
    /// Circuit breaker behaviour.
    pub breaker: BreakerSettings,
    /// Who is told when a client's circuit changes state (nobody by default).
    pub circuits: CircuitWatch,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            breaker: BreakerSettings::default(),
            circuits: CircuitWatch::default(),
        }
    }
}

/// How a request authenticates. Secret values are sent as sensitive headers, never logged.
#[derive(Clone, Copy)]
pub enum Auth<'a> {
    /// A named header carrying the key (`X-Api-Key: ...`).
    Header(&'static str, &'a SecretString),
    /// `Authorization: Bearer ...`.
    Bearer(&'a SecretString),
    /// HTTP Basic with a login and password.
    Basic {
        /// The login (not secret).
        login: &'a str,
        /// The password.
        password: &'a SecretString,
    },
}

impl fmt::Debug for Auth<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Header(name, _) => write!(f, "Header({name}: [redacted])"),
            Auth::Bearer(_) => f.write_str("Bearer([redacted])"),
            Auth::Basic { login, .. } => write!(f, "Basic({login}:[redacted])"),
        }
    }
}

impl Auth<'_> {
    fn apply(
        self,
        builder: reqwest::RequestBuilder,
        provider: Provider,
    ) -> Result<reqwest::RequestBuilder, ProviderError> {
        Ok(match self {
            Auth::Header(name, secret) => {
                let mut value = HeaderValue::from_str(secret.expose_secret()).map_err(|_| {
                    ProviderError::Misconfigured {
                        provider,
                        reason: format!("the {name} key has characters not allowed in a header"),
                    }
                })?;
                value.set_sensitive(true);
                builder.header(name, value)
            }
            Auth::Bearer(secret) => builder.bearer_auth(secret.expose_secret()),
            Auth::Basic { login, password } => {
                builder.basic_auth(login, Some(password.expose_secret()))
            }
        })
    }
}

/// One provider's HTTP client: base URL, timeouts, retries and circuit breaker.
pub struct ProviderHttp {
    provider: Provider,
    client: reqwest::Client,
    base_url: Url,
    retry: RetryPolicy,
    breaker: CircuitBreaker,
}

impl fmt::Debug for ProviderHttp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderHttp")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url.as_str())
            .field("circuit_open", &self.breaker.is_open())
            .finish()
    }
}

/// Reads a refused answer (provider, status, body) into a more precise error, or `None`.
pub type ClassifyRefusal = fn(Provider, u16, &[u8]) -> Option<ProviderError>;

/// Per-call options of [`ProviderHttp::execute_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct CallOptions {
    /// The call acts (sends a message, places a call) and carries no idempotency key: after a
    /// timeout or a dropped connection it is not repeated, because the provider may have acted
    /// (connect failures, 429 and 5xx answers are still retried: nothing was done).
    pub at_most_once: bool,
    /// Reads a refused answer (4xx other than 401/402/403/404/408/429: status and body) into a
    /// more precise error, e.g. [`ProviderError::Undeliverable`]; `None` keeps `Rejected`.
    pub classify: Option<ClassifyRefusal>,
}

/// Longest provider message kept in `ProviderError::Rejected`.
const MAX_MESSAGE_CHARS: usize = 200;

impl ProviderHttp {
    /// A client for `provider` rooted at `base_url` (e.g. `https://api.apollo.io`).
    pub fn new(
        provider: Provider,
        base_url: &str,
        settings: &HttpSettings,
    ) -> Result<Self, ProviderError> {
        let misconfigured = |reason: String| ProviderError::Misconfigured { provider, reason };
        let base_url = Url::parse(base_url)
            .map_err(|e| misconfigured(format!("base URL is not a URL ({e})")))?;
        if !matches!(base_url.scheme(), "http" | "https") {
            return Err(misconfigured("base URL must be http(s)".into()));
        }
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.request_timeout)
            .user_agent(concat!("agency-os/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| misconfigured(format!("HTTP client: {}", e.without_url())))?;
        Ok(ProviderHttp {
            provider,
            client,
            base_url,
            retry: settings.retry,
            breaker: CircuitBreaker::watched(settings.breaker, provider, settings.circuits),
        })
    }

    /// The provider this client talks to.
    pub fn provider(&self) -> Provider {
        self.provider
    }

    /// The base URL.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// The underlying HTTP client (for requests the helpers below do not cover; run them
    /// through [`Self::execute`] to keep retries and the breaker).
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The circuit breaker (for readiness reporting and tests).
    pub fn breaker(&self) -> &CircuitBreaker {
        &self.breaker
    }

    /// The base URL with `path` appended (keeps any path prefix of the base URL).
    pub fn endpoint(&self, path: &str) -> Result<Url, ProviderError> {
        let joined = format!(
            "{}/{}",
            self.base_url.as_str().trim_end_matches('/'),
            path.trim_start_matches('/')
        );
        Url::parse(&joined).map_err(|e| ProviderError::Misconfigured {
            provider: self.provider,
            reason: format!("endpoint URL ({e})"),
        })
    }

    /// POSTs `body` as JSON to `url` and decodes the JSON answer into `T`, with retries and
    /// the circuit breaker. HTTP 404 is `Err(NotFound)`.
    pub async fn post_json<B, T>(
        &self,
        url: &Url,
        auth: Auth<'_>,
        body: &B,
    ) -> Result<T, ProviderError>
    where
        B: Serialize + ?Sized + Sync,
        T: DeserializeOwned,
    {
        self.post_json_with_headers(url, auth, &[], body).await
    }

    /// Like [`post_json`](Self::post_json), with extra (non-secret) request headers such as
    /// an API version.
    pub async fn post_json_with_headers<B, T>(
        &self,
        url: &Url,
        auth: Auth<'_>,
        headers: &[(&'static str, &str)],
        body: &B,
    ) -> Result<T, ProviderError>
    where
        B: Serialize + ?Sized + Sync,
        T: DeserializeOwned,
    {
        let bytes = self
            .execute(|| {
                let mut builder = self.client.post(url.clone()).json(body);
                for (name, value) in headers {
                    builder = builder.header(*name, *value);
                }
                auth.apply(builder, self.provider)
            })
            .await?;
        decode_json(self.provider, &bytes)
    }

    /// Like [`post_json`](Self::post_json), but HTTP 404 is `Ok(None)` (the provider has no
    /// such record).
    pub async fn post_json_optional<B, T>(
        &self,
        url: &Url,
        auth: Auth<'_>,
        body: &B,
    ) -> Result<Option<T>, ProviderError>
    where
        B: Serialize + ?Sized + Sync,
        T: DeserializeOwned,
    {
        match self.post_json(url, auth, body).await {
            Ok(answer) => Ok(Some(answer)),
            Err(ProviderError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// GETs `url` and decodes the JSON answer into `T`, with retries and the circuit breaker;
    /// HTTP 404 is `Ok(None)` (the provider has no such record).
    pub async fn get_json_optional<T>(
        &self,
        url: &Url,
        auth: Auth<'_>,
    ) -> Result<Option<T>, ProviderError>
    where
        T: DeserializeOwned,
    {
        match self
            .execute(|| auth.apply(self.client.get(url.clone()), self.provider))
            .await
        {
            Ok(bytes) => decode_json(self.provider, &bytes).map(Some),
            Err(ProviderError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// POSTs `body` as JSON with extra `headers` (e.g. `Idempotency-Key`) and `options`, and
    /// decodes the JSON answer into `T`.
    pub async fn post_json_with<B, T>(
        &self,
        url: &Url,
        auth: Auth<'_>,
        body: &B,
        headers: &[(&'static str, &str)],
        options: CallOptions,
    ) -> Result<T, ProviderError>
    where
        B: Serialize + ?Sized + Sync,
        T: DeserializeOwned,
    {
        let bytes = self
            .execute_with(
                || {
                    let mut builder = self.client.post(url.clone()).json(body);
                    for (name, value) in headers {
                        builder = builder.header(*name, *value);
                    }
                    auth.apply(builder, self.provider)
                },
                options,
            )
            .await?;
        decode_json(self.provider, &bytes)
    }

    /// POSTs `form` as `application/x-www-form-urlencoded` (repeated keys allowed) with
    /// `options`, and decodes the JSON answer into `T`.
    pub async fn post_form<T>(
        &self,
        url: &Url,
        auth: Auth<'_>,
        form: &[(&str, &str)],
        options: CallOptions,
    ) -> Result<T, ProviderError>
    where
        T: DeserializeOwned,
    {
        let bytes = self
            .execute_with(
                || auth.apply(self.client.post(url.clone()).form(form), self.provider),
                options,
            )
            .await?;
        decode_json(self.provider, &bytes)
    }

    /// Runs a request built by `build` (called once per attempt) through the breaker and the
    /// retry loop; returns the body of a 2xx response.
    pub async fn execute<F>(&self, build: F) -> Result<Vec<u8>, ProviderError>
    where
        F: Fn() -> Result<reqwest::RequestBuilder, ProviderError>,
    {
        self.execute_with(build, CallOptions::default()).await
    }

    /// Like [`execute`](Self::execute), with per-call retry and error-reading options.
    pub async fn execute_with<F>(
        &self,
        build: F,
        options: CallOptions,
    ) -> Result<Vec<u8>, ProviderError>
    where
        F: Fn() -> Result<reqwest::RequestBuilder, ProviderError>,
    {
        if let Err(retry_in) = self.breaker.try_acquire() {
            return Err(ProviderError::CircuitOpen {
                provider: self.provider,
                retry_in,
            });
        }
        let result = self.attempts(&build, options).await;
        match &result {
            Err(e) if e.is_transient() => self.breaker.record_failure_of(e.kind()),
            // Any other answer means the provider is up (even a 401 or 404).
            _ => self.breaker.record_success(),
        }
        result
    }

    async fn attempts<F>(&self, build: &F, options: CallOptions) -> Result<Vec<u8>, ProviderError>
    where
        F: Fn() -> Result<reqwest::RequestBuilder, ProviderError>,
    {
        let provider = self.provider;
        let max_attempts = self.retry.max_attempts.max(1);
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let last = attempt >= max_attempts;
            let outcome = build()?.send().await;
            let response = match outcome {
                Ok(response) => response,
                Err(e) => {
                    // A request that may have reached the provider is retried only when a
                    // repeat cannot act twice (an idempotency key, or a read-only call).
                    let retryable = e.is_connect()
                        || (!options.at_most_once && (e.is_timeout() || e.is_request()));
                    let message = e.without_url().to_string();
                    if retryable && !last {
                        self.pause(attempt, None, &message).await;
                        continue;
                    }
                    return Err(ProviderError::Transport {
                        provider,
                        message,
                        attempts: attempt,
                    });
                }
            };
            let status = response.status().as_u16();
            if response.status().is_success() {
                match response.bytes().await {
                    Ok(body) => return Ok(body.to_vec()),
                    Err(e) => {
                        let message = e.without_url().to_string();
                        if !last && !options.at_most_once {
                            self.pause(attempt, None, &message).await;
                            continue;
                        }
                        return Err(ProviderError::Transport {
                            provider,
                            message,
                            attempts: attempt,
                        });
                    }
                }
            }
            match status {
                401 | 403 => return Err(ProviderError::Unauthorized { provider, status }),
                402 => return Err(ProviderError::QuotaExhausted { provider }),
                404 => return Err(ProviderError::NotFound { provider }),
                429 => {
                    let retry_after = retry_after(&response);
                    let wait_ok = retry_after.is_none_or(|d| d <= self.retry.max_retry_after);
                    if !last && wait_ok {
                        self.pause(attempt, retry_after, "HTTP 429").await;
                        continue;
                    }
                    return Err(ProviderError::RateLimited {
                        provider,
                        retry_after,
                    });
                }
                408 | 500..=599 => {
                    // 503 and Anthropic's 529 (overloaded) may say how long to wait.
                    let retry_after =
                        retry_after(&response).filter(|d| *d <= self.retry.max_retry_after);
                    if !last {
                        self.pause(attempt, retry_after, &format!("HTTP {status}"))
                            .await;
                        continue;
                    }
                    return Err(ProviderError::Upstream {
                        provider,
                        status,
                        attempts: attempt,
                    });
                }
                _ => {
                    let body = response
                        .bytes()
                        .await
                        .map(|b| b.to_vec())
                        .unwrap_or_default();
                    if let Some(err) = options.classify.and_then(|f| f(provider, status, &body)) {
                        return Err(err);
                    }
                    return Err(ProviderError::Rejected {
                        provider,
                        status,
                        message: provider_message(&body),
                    });
                }
            }
        }
    }

    async fn pause(&self, attempt: u32, retry_after: Option<Duration>, why: &str) {
        let delay = retry_after.unwrap_or_else(|| self.retry.backoff(attempt));
        tracing::debug!(
            provider = %self.provider,
            attempt,
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            why,
            "retrying provider call"
        );
        tokio::time::sleep(delay).await;
    }
}

/// The response's `Retry-After` as a delay, when present and readable.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, chrono::Utc::now()))
}

/// Decodes JSON into `T`; a failure names the JSON path and error kind, never the values.
pub fn decode_json<T: DeserializeOwned>(
    provider: Provider,
    bytes: &[u8],
) -> Result<T, ProviderError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        ProviderError::InvalidResponse {
            provider,
            reason: format!(
                "{:?} error at `{path}` (line {}, column {})",
                inner.classify(),
                inner.line(),
                inner.column()
            ),
        }
    })
}

/// The provider's short error text from a JSON body (`error`, `message`, `status_message`),
/// truncated; empty when there is none.
pub(crate) fn provider_message(body: &[u8]) -> String {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return String::new();
    };
    let text = ["error", "message", "status_message"]
        .iter()
        .find_map(|k| match value.get(*k) {
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(serde_json::Value::Object(o)) => {
                o.get("message").and_then(|m| m.as_str()).map(str::to_owned)
            }
            _ => None,
        })
        .unwrap_or_default();
    text.chars().take(MAX_MESSAGE_CHARS).collect()
}
