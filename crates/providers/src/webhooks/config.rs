//! Webhook verification settings from the environment: the public base URL providers call
//! (Twilio signs the full URL, so behind a proxy it must be the public one), Twilio's auth
//! token, Resend's Svix signing secret(s) and Vapi's webhook secret. A provider whose secret
//! is unset has every webhook refused with 401: there is no unsigned mode, in development
//! either (set the secrets to any value you also give the provider or your test sender).

use clap::Args;
use secrecy::{ExposeSecret, SecretString};

use super::svix::SvixSecret;

/// The variable holding the public base URL.
pub const PUBLIC_BASE_URL_VAR: &str = "PUBLIC_BASE_URL";

/// Webhook settings (flattened into the API's config).
#[derive(Debug, Clone, Default, Args)]
pub struct WebhooksConfig {
    /// Public base URL of the API as providers call it (e.g. https://api.example.com); Twilio
    /// signatures are checked over PUBLIC_BASE_URL + path + query.
    #[arg(
        id = "webhook_public_base_url",
        long = "webhook-public-base-url",
        env = "PUBLIC_BASE_URL",
        value_name = "PUBLIC_BASE_URL"
    )]
    pub public_base_url: Option<String>,
    /// Twilio auth token: verifies X-Twilio-Signature on /webhooks/twilio/* (unset: refused).
    #[arg(
        id = "webhook_twilio_auth_token",
        long = "webhook-twilio-auth-token",
        env = "TWILIO_AUTH_TOKEN",
        value_name = "TWILIO_AUTH_TOKEN",
        hide_env_values = true
    )]
    pub twilio_auth_token: Option<SecretString>,
    /// Resend webhook signing secret(s), `whsec_...`, space- or comma-separated while rotating
    /// (unset: /webhooks/resend refused).
    #[arg(
        long = "resend-webhook-secret",
        env = "RESEND_WEBHOOK_SECRET",
        value_name = "RESEND_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    pub resend_webhook_secret: Option<SecretString>,
    /// Vapi server-URL secret: checks x-vapi-signature or x-vapi-secret (unset: refused).
    #[arg(
        long = "vapi-webhook-secret",
        env = "VAPI_WEBHOOK_SECRET",
        value_name = "VAPI_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    pub vapi_webhook_secret: Option<SecretString>,
}

/// A webhook setting that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{var} is invalid: {reason}")]
pub struct WebhooksConfigError {
    /// The variable.
    pub var: &'static str,
    /// Why.
    pub reason: String,
}

/// Validated webhook secrets.
#[derive(Debug, Clone, Default)]
pub struct WebhookSecrets {
    /// Public base URL without a trailing slash (None: the request's own host is used).
    pub public_base_url: Option<String>,
    /// Twilio auth token.
    pub twilio_auth_token: Option<SecretString>,
    /// Resend (Svix) secrets.
    pub resend: Vec<SvixSecret>,
    /// Vapi secret.
    pub vapi: Option<SecretString>,
}

fn non_empty(s: &Option<SecretString>) -> Option<SecretString> {
    s.as_ref()
        .filter(|s| !s.expose_secret().trim().is_empty())
        .map(|s| SecretString::from(s.expose_secret().trim().to_owned()))
}

impl WebhooksConfig {
    /// Validates the settings.
    pub fn secrets(&self) -> Result<WebhookSecrets, WebhooksConfigError> {
        let public_base_url = match self.public_base_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => {
                let url = url::Url::parse(raw).map_err(|e| WebhooksConfigError {
                    var: PUBLIC_BASE_URL_VAR,
                    reason: format!("not a URL ({e})"),
                })?;
                if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                    return Err(WebhooksConfigError {
                        var: PUBLIC_BASE_URL_VAR,
                        reason: "expected an http(s) URL".into(),
                    });
                }
                Some(raw.trim_end_matches('/').to_owned())
            }
        };
        let resend = match non_empty(&self.resend_webhook_secret) {
            None => Vec::new(),
            Some(s) => {
                SvixSecret::parse_many(s.expose_secret()).map_err(|reason| WebhooksConfigError {
                    var: "RESEND_WEBHOOK_SECRET",
                    reason,
                })?
            }
        };
        Ok(WebhookSecrets {
            public_base_url,
            twilio_auth_token: non_empty(&self.twilio_auth_token),
            resend,
            vapi: non_empty(&self.vapi_webhook_secret),
        })
    }
}

impl WebhookSecrets {
    /// The providers whose webhooks are refused for want of a secret.
    pub fn unconfigured(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.twilio_auth_token.is_none() {
            out.push("TWILIO_AUTH_TOKEN");
        }
        if self.resend.is_empty() {
            out.push("RESEND_WEBHOOK_SECRET");
        }
        if self.vapi.is_none() {
            out.push("VAPI_WEBHOOK_SECRET");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_validated() {
        let cfg = WebhooksConfig {
            public_base_url: Some("https://api.example.com/".into()),
            twilio_auth_token: Some(SecretString::from(" tok ")),
            resend_webhook_secret: Some(SecretString::from(
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            )),
            vapi_webhook_secret: Some(SecretString::from("")),
        };
        let s = cfg.secrets().unwrap();
        assert_eq!(
            s.public_base_url.as_deref(),
            Some("https://api.example.com")
        );
        assert_eq!(s.twilio_auth_token.unwrap().expose_secret(), "tok");
        assert_eq!(s.resend.len(), 1);
        assert!(s.vapi.is_none());
        let bad = WebhooksConfig {
            public_base_url: Some("ftp://x".into()),
            ..WebhooksConfig::default()
        };
        assert_eq!(bad.secrets().unwrap_err().var, PUBLIC_BASE_URL_VAR);
        let bad = WebhooksConfig {
            resend_webhook_secret: Some(SecretString::from("whsec_!!")),
            ..WebhooksConfig::default()
        };
        assert_eq!(bad.secrets().unwrap_err().var, "RESEND_WEBHOOK_SECRET");
        assert_eq!(
            WebhooksConfig::default().secrets().unwrap().unconfigured(),
            vec![
                "TWILIO_AUTH_TOKEN",
                "RESEND_WEBHOOK_SECRET",
                "VAPI_WEBHOOK_SECRET"
            ]
        );
    }
}
