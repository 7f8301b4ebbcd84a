//! The sandbox twin of every outreach sender: nothing leaves the process. Each message is kept
//! in memory (for tests) and answered with a provider-looking id derived from its idempotency
//! key, so a repeat of the same planned send gets the same id, as Resend's idempotency gives.
//! The engine records sandboxed sends in its outbox table, shown by the sandbox API.

use std::sync::Mutex;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use crate::error::ProviderError;
use crate::outreach::{
    CallRequest, EmailMessage, EmailSender, ReceivedEmail, SendReceipt, SmsMessage, SmsSender,
    VoiceCaller,
};
use crate::provider::Provider;

/// One message a sandbox took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SandboxRecord {
    /// An email.
    Email(EmailMessage),
    /// An SMS.
    Sms(SmsMessage),
    /// A call.
    Call(CallRequest),
}

/// The sandbox email, SMS and voice provider.
#[derive(Debug, Default)]
pub struct SandboxOutreach {
    records: Mutex<Vec<(String, SandboxRecord)>>,
}

impl SandboxOutreach {
    /// An empty sandbox.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every message taken, with its id, in order (repeats of a key included).
    pub fn records(&self) -> Vec<(String, SandboxRecord)> {
        self.records.lock().map(|r| r.clone()).unwrap_or_default()
    }

    fn take(&self, provider: Provider, key: &str, record: SandboxRecord) -> SendReceipt {
        let id = sandbox_message_id(provider, key);
        if let Ok(mut records) = self.records.lock() {
            records.push((id.clone(), record));
        }
        SendReceipt {
            provider,
            provider_message_id: id,
            sandbox: true,
        }
    }
}

/// The id a sandbox answers for an idempotency key: shaped like the provider's own ids
/// (Resend and Vapi UUID-like, Twilio `SM` + 32 hex).
pub fn sandbox_message_id(provider: Provider, key: &str) -> String {
    let digest = Sha256::digest(format!("{provider}:{key}").as_bytes());
    let hex = hex::encode(&digest[..16]);
    match provider {
        Provider::Twilio => format!("SM{hex}"),
        _ => format!(
            "{}-{}-{}-{}-{}",
            &hex[..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        ),
    }
}

#[async_trait]
impl EmailSender for SandboxOutreach {
    fn is_sandbox(&self) -> bool {
        true
    }

    async fn send_email(&self, message: &EmailMessage) -> Result<SendReceipt, ProviderError> {
        let key = &message.idempotency_key;
        Ok(self.take(Provider::Resend, key, SandboxRecord::Email(message.clone())))
    }

    async fn received_email(
        &self,
        _email_id: &str,
    ) -> Result<Option<ReceivedEmail>, ProviderError> {
        // The sandbox receives nothing: the webhook's own text is all there is.
        Ok(None)
    }
}

#[async_trait]
impl SmsSender for SandboxOutreach {
    fn is_sandbox(&self) -> bool {
        true
    }

    async fn send_sms(&self, message: &SmsMessage) -> Result<SendReceipt, ProviderError> {
        let key = &message.idempotency_key;
        Ok(self.take(Provider::Twilio, key, SandboxRecord::Sms(message.clone())))
    }
}

#[async_trait]
impl VoiceCaller for SandboxOutreach {
    fn is_sandbox(&self) -> bool {
        true
    }

    async fn place_call(&self, call: &CallRequest) -> Result<SendReceipt, ProviderError> {
        let key = &call.idempotency_key;
        Ok(self.take(Provider::Vapi, key, SandboxRecord::Call(call.clone())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_per_key_and_shaped_like_the_provider() {
        let a = sandbox_message_id(Provider::Twilio, "send-1");
        assert_eq!(a, sandbox_message_id(Provider::Twilio, "send-1"));
        assert_ne!(a, sandbox_message_id(Provider::Twilio, "send-2"));
        assert!(a.starts_with("SM") && a.len() == 34);
        let e = sandbox_message_id(Provider::Resend, "send-1");
        assert!(uuid::Uuid::parse_str(&e).is_ok(), "{e}");
    }
}
