//! `ProviderError`: every way an outbound provider call can fail, typed so callers can decide
//! (retry later, skip to the next provider, alert on bad credentials) without parsing text.
//! Messages never contain secrets or response bodies with personal data.

use std::time::Duration;

use crate::provider::Provider;

/// Why a provider call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    /// The credentials were refused (HTTP 401/403, or the provider's own auth code). Not retried.
    #[error("{provider}: credentials refused (HTTP {status})")]
    Unauthorized {
        /// Which provider.
        provider: Provider,
        /// The HTTP status (401 or 403), or 0 when reported in the body.
        status: u16,
    },
    /// The account has no credits or quota left (HTTP 402 or the provider's code). Not retried.
    #[error("{provider}: quota or credits exhausted")]
    QuotaExhausted {
        /// Which provider.
        provider: Provider,
    },
    /// Still rate limited after the allowed retries, or asked to wait longer than we wait inline.
    #[error("{provider}: rate limited (retry after {retry_after:?})")]
    RateLimited {
        /// Which provider.
        provider: Provider,
        /// How long the provider asked us to wait, when it said.
        retry_after: Option<Duration>,
    },
    /// The provider has no such record (HTTP 404). Lookups turn this into `Ok(None)`.
    #[error("{provider}: not found")]
    NotFound {
        /// Which provider.
        provider: Provider,
    },
    /// The provider rejected the request as malformed (HTTP 400/422 or another 4xx). Not retried.
    #[error("{provider}: request rejected (HTTP {status}): {message}")]
    Rejected {
        /// Which provider.
        provider: Provider,
        /// The HTTP status, or 0 when reported in the body.
        status: u16,
        /// The provider's short reason (truncated).
        message: String,
    },
    /// The provider kept failing on its side (HTTP 5xx/408) after the allowed retries.
    #[error("{provider}: upstream error (HTTP {status}) after {attempts} attempt(s)")]
    Upstream {
        /// Which provider.
        provider: Provider,
        /// The last HTTP status.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// The response did not have the documented shape.
    #[error("{provider}: invalid response: {reason}")]
    InvalidResponse {
        /// Which provider.
        provider: Provider,
        /// Where and how it failed to parse (a JSON path, never the values).
        reason: String,
    },
    /// Connecting, sending or reading failed (DNS, refused, reset, timeout) after the retries.
    #[error("{provider}: transport error after {attempts} attempt(s): {message}")]
    Transport {
        /// Which provider.
        provider: Provider,
        /// What failed (URLs stripped: they may carry tokens).
        message: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The circuit breaker is open after repeated failures: the call was not attempted.
    #[error("{provider}: circuit open, retry in {retry_in:?}")]
    CircuitOpen {
        /// Which provider.
        provider: Provider,
        /// Time left before a trial call is allowed.
        retry_in: Duration,
    },
    /// The provider refused the recipient for good (an invalid number, a hard-bounced or
    /// suppressed address, an opted-out number). Never retried; the address should not be used.
    #[error("{provider}: recipient undeliverable ({reason}): {message}")]
    Undeliverable {
        /// Which provider.
        provider: Provider,
        /// Why, as a closed set.
        reason: UndeliverableReason,
        /// The provider's short reason (truncated).
        message: String,
    },
    /// The adapter was built with an unusable setting (bad base URL, missing id).
    #[error("{provider}: misconfigured: {reason}")]
    Misconfigured {
        /// Which provider.
        provider: Provider,
        /// What is wrong.
        reason: String,
    },
}

impl ProviderError {
    /// The provider the error came from.
    pub fn provider(&self) -> Provider {
        match self {
            ProviderError::Unauthorized { provider, .. }
            | ProviderError::QuotaExhausted { provider }
            | ProviderError::RateLimited { provider, .. }
            | ProviderError::NotFound { provider }
            | ProviderError::Rejected { provider, .. }
            | ProviderError::Upstream { provider, .. }
            | ProviderError::InvalidResponse { provider, .. }
            | ProviderError::Transport { provider, .. }
            | ProviderError::CircuitOpen { provider, .. }
            | ProviderError::Undeliverable { provider, .. }
            | ProviderError::Misconfigured { provider, .. } => *provider,
        }
    }

    /// A stable snake_case name of the error's kind (recorded as a circuit's last error).
    pub const fn kind(&self) -> &'static str {
        match self {
            ProviderError::Unauthorized { .. } => "unauthorized",
            ProviderError::QuotaExhausted { .. } => "quota_exhausted",
            ProviderError::RateLimited { .. } => "rate_limited",
            ProviderError::NotFound { .. } => "not_found",
            ProviderError::Rejected { .. } => "rejected",
            ProviderError::Upstream { .. } => "upstream",
            ProviderError::InvalidResponse { .. } => "invalid_response",
            ProviderError::Transport { .. } => "transport",
            ProviderError::CircuitOpen { .. } => "circuit_open",
            ProviderError::Undeliverable { .. } => "undeliverable",
            ProviderError::Misconfigured { .. } => "misconfigured",
        }
    }

    /// True when trying again later may succeed (rate limit, upstream, transport, open circuit).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ProviderError::RateLimited { .. }
                | ProviderError::Upstream { .. }
                | ProviderError::Transport { .. }
                | ProviderError::CircuitOpen { .. }
        )
    }
}

/// Why a recipient cannot be reached, whatever the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UndeliverableReason {
    /// The phone number is not a valid or dialable number (Twilio 21211, 21614; Vapi 400 on
    /// `customer.number`).
    InvalidNumber,
    /// The email address is malformed or hard-bounced.
    InvalidAddress,
    /// The recipient opted out at the provider (Twilio 21610: replied STOP).
    OptedOut,
}

impl UndeliverableReason {
    /// A snake_case code to record.
    pub const fn code(self) -> &'static str {
        match self {
            UndeliverableReason::InvalidNumber => "invalid_number",
            UndeliverableReason::InvalidAddress => "invalid_address",
            UndeliverableReason::OptedOut => "opted_out",
        }
    }
}

impl std::fmt::Display for UndeliverableReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}
