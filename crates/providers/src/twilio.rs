//! Twilio Messages (SMS) adapter.
//!
//! `POST {base}/2010-04-01/Accounts/{AccountSid}/Messages.json`, HTTP Basic with the account
//! SID and auth token, a form-encoded body `To`, `From`, `Body` and `StatusCallback` (our
//! `/webhooks/twilio/status`). The answer (201) is the Message resource; its `sid` (`SM...`)
//! is the provider message id.
//!
//! Twilio takes no idempotency key on this endpoint, so the call is at most once: a timeout
//! after the request left is not repeated (the message may have gone); only connection
//! failures, 429 and 5xx answers are retried. Errors (`{"code", "message", "status"}`):
//! 21211 (invalid `To`), 21612 (cannot route to it), 21614 (not a mobile) -> invalid number;
//! 21610 (the recipient replied STOP) -> opted out; other 4xx -> rejected.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use secrecy::SecretString;
use serde::Deserialize;

use crate::error::{ProviderError, UndeliverableReason};
use crate::http::{Auth, CallOptions, HttpSettings, ProviderHttp, provider_message};
use crate::outreach::{SendReceipt, SmsMessage, SmsSender};
use crate::provider::Provider;

/// Twilio's production API root.
pub const TWILIO_DEFAULT_BASE_URL: &str = "https://api.twilio.com";

/// The Messages path of an account.
pub fn twilio_messages_path(account_sid: &str) -> String {
    format!("/2010-04-01/Accounts/{account_sid}/Messages.json")
}

/// The Twilio adapter for one account (the platform's, or a client's own).
pub struct Twilio {
    http: ProviderHttp,
    account_sid: String,
    auth_token: SecretString,
}

impl fmt::Debug for Twilio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Twilio")
            .field("http", &self.http)
            .field("account_sid", &self.account_sid)
            .field("auth_token", &"[redacted]")
            .finish()
    }
}

impl Twilio {
    /// A Twilio client for the account at `base_url` (use [`TWILIO_DEFAULT_BASE_URL`]).
    pub fn new(
        account_sid: &str,
        auth_token: SecretString,
        base_url: &str,
        settings: &HttpSettings,
    ) -> Result<Self, ProviderError> {
        let account_sid = account_sid.trim();
        if !account_sid.starts_with("AC") || !account_sid.chars().all(|c| c.is_ascii_alphanumeric())
        {
            return Err(ProviderError::Misconfigured {
                provider: Provider::Twilio,
                reason: "the account SID must look like AC followed by letters and digits".into(),
            });
        }
        Ok(Twilio {
            http: ProviderHttp::new(Provider::Twilio, base_url, settings)?,
            account_sid: account_sid.to_owned(),
            auth_token,
        })
    }
}

#[derive(Debug, Deserialize)]
struct MessageResource {
    sid: String,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    code: Option<u32>,
}

/// Reads Twilio's refusals (see the module doc).
fn classify(provider: Provider, _status: u16, body: &[u8]) -> Option<ProviderError> {
    let error: ErrorBody = serde_json::from_slice(body).ok()?;
    let reason = match error.code? {
        21211 | 21612 | 21614 => UndeliverableReason::InvalidNumber,
        21610 => UndeliverableReason::OptedOut,
        _ => return None,
    };
    Some(ProviderError::Undeliverable {
        provider,
        reason,
        message: provider_message(body),
    })
}

#[async_trait]
impl SmsSender for Twilio {
    fn is_sandbox(&self) -> bool {
        false
    }

    #[tracing::instrument(skip_all, fields(provider = "twilio"))]
    async fn send_sms(&self, message: &SmsMessage) -> Result<SendReceipt, ProviderError> {
        let url = self
            .http
            .endpoint(&twilio_messages_path(&self.account_sid))?;
        let mut form: Vec<(&str, &str)> = vec![
            ("To", &message.to),
            ("From", &message.from),
            ("Body", &message.body),
        ];
        if let Some(callback) = &message.status_callback {
            form.push(("StatusCallback", callback));
        }
        let options = CallOptions {
            at_most_once: true,
            classify: Some(classify),
        };
        let auth = Auth::Basic {
            login: &self.account_sid,
            password: &self.auth_token,
        };
        let answer: MessageResource = self.http.post_form(&url, auth, &form, options).await?;
        Ok(SendReceipt {
            provider: Provider::Twilio,
            provider_message_id: answer.sid,
            sandbox: false,
        })
    }
}

#[derive(Debug, Deserialize)]
struct IncomingNumbers {
    #[serde(default)]
    incoming_phone_numbers: Vec<IncomingNumber>,
}

#[derive(Debug, Deserialize)]
struct IncomingNumber {
    phone_number: String,
}

impl Twilio {
    /// The account SID.
    pub fn account_sid(&self) -> &str {
        &self.account_sid
    }

    /// True when `number` (E.164) is one of this account's incoming phone numbers:
    /// `GET /2010-04-01/Accounts/{sid}/IncomingPhoneNumbers.json?PhoneNumber=...`.
    #[tracing::instrument(skip_all, fields(provider = "twilio"))]
    pub async fn owns_number(&self, number: &str) -> Result<bool, ProviderError> {
        let mut url = self.http.endpoint(&format!(
            "/2010-04-01/Accounts/{}/IncomingPhoneNumbers.json",
            self.account_sid
        ))?;
        url.query_pairs_mut().append_pair("PhoneNumber", number);
        let auth = Auth::Basic {
            login: &self.account_sid,
            password: &self.auth_token,
        };
        let answer: Option<IncomingNumbers> = self.http.get_json_optional(&url, auth).await?;
        Ok(answer.is_some_and(|a| {
            a.incoming_phone_numbers
                .iter()
                .any(|n| n.phone_number.trim() == number)
        }))
    }
}

/// Twilio adapters for clients' own accounts: opens a client's sealed auth token with the
/// configured credentials keys and keeps one adapter (with its own circuit breaker) per
/// account, rebuilt when the token changes.
pub struct ClientTwilioAccounts {
    keys: crate::sealed::CredentialKeys,
    base_url: String,
    settings: HttpSettings,
    built: std::sync::Mutex<std::collections::HashMap<String, BuiltAdapter>>,
}

/// An adapter built for an account, with the digest of the token it was built with.
type BuiltAdapter = ([u8; 32], Arc<Twilio>);

impl fmt::Debug for ClientTwilioAccounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTwilioAccounts")
            .field("keys", &self.keys)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

/// Why a client's own account cannot send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientAccountError {
    /// The sealed token does not open with the configured keys.
    #[error("the client's Twilio credentials cannot be opened: {0}")]
    Sealed(#[from] crate::sealed::SealError),
    /// The stored SID is unusable.
    #[error("the client's Twilio account is misconfigured: {0}")]
    Misconfigured(String),
}

impl ClientTwilioAccounts {
    /// Adapters at `base_url` (use [`TWILIO_DEFAULT_BASE_URL`]) opening tokens with `keys`.
    pub fn new(
        keys: crate::sealed::CredentialKeys,
        base_url: &str,
        settings: &HttpSettings,
    ) -> Self {
        Self {
            keys,
            base_url: base_url.to_owned(),
            settings: *settings,
            built: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// The keys tokens are opened with.
    pub fn keys(&self) -> &crate::sealed::CredentialKeys {
        &self.keys
    }

    /// The adapter of `account_sid`, its token opened from `sealed` bound to `owner`.
    pub fn sender(
        &self,
        account_sid: &str,
        sealed: &crate::sealed::Sealed,
        owner: &str,
    ) -> Result<Arc<Twilio>, ClientAccountError> {
        use secrecy::ExposeSecret;
        use sha2::Digest;
        let token = self.keys.open(sealed, owner)?;
        let digest: [u8; 32] = sha2::Sha256::digest(token.expose_secret().as_bytes()).into();
        let mut built = self.built.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((seen, adapter)) = built.get(account_sid)
            && *seen == digest
        {
            return Ok(adapter.clone());
        }
        let adapter = Arc::new(
            Twilio::new(account_sid, token, &self.base_url, &self.settings)
                .map_err(|e| ClientAccountError::Misconfigured(e.to_string()))?,
        );
        built.insert(account_sid.to_owned(), (digest, adapter.clone()));
        Ok(adapter)
    }
}
