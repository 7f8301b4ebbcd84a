//! Verification of the webhooks providers send us, on the raw request bytes with
//! constant-time comparison: Twilio's `X-Twilio-Signature` ([`twilio`]), Resend's Svix
//! scheme ([`svix`]) and Vapi's signature or static secret ([`vapi`]); and
//! [`WebhookSecrets`], the secrets and public URL they are checked with (from the
//! environment, [`WebhooksConfig`]). A provider without its secret has every webhook refused.

pub mod config;
pub mod svix;
pub mod twilio;
pub mod vapi;

pub use config::{WebhookSecrets, WebhooksConfig};

/// Why a webhook was not accepted as the provider's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// No secret is configured for this provider: nothing can be verified.
    #[error("no webhook secret is configured for {0}")]
    NotConfigured(&'static str),
    /// A header the scheme needs is missing or empty.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// A header is present but malformed (e.g. a timestamp that is not a number).
    #[error("malformed header {0}")]
    MalformedHeader(&'static str),
    /// The timestamp is outside the tolerance (replay protection).
    #[error("timestamp outside the tolerance")]
    Stale,
    /// No signature matches.
    #[error("signature mismatch")]
    BadSignature,
}

/// Constant-time equality of two byte strings (the length is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn compares_bytes() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }
}
