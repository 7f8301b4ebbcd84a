//! The outreach senders: one small trait per channel ([`EmailSender`], [`SmsSender`],
//! [`VoiceCaller`]), the messages they take and the [`SendReceipt`] they answer. Adapters:
//! Resend (`resend`), Twilio (`twilio`), Vapi (`vapi`); sandbox twins in `outreach_sandbox`.
//!
//! Every message carries an idempotency key derived by the caller from its `outreach_sends`
//! row: an adapter whose provider deduplicates by key (Resend) sends it, and the sandbox twins
//! answer the same message id for the same key, so a retried send is recognised downstream.

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;
use serde::Serialize;
use uuid::Uuid;

use crate::error::ProviderError;
use crate::provider::Provider;

/// One email to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmailMessage {
    /// The sender, `Name <address>`.
    pub from: String,
    /// The recipient address.
    pub to: String,
    /// Where replies go (the client's inbound address), if set.
    pub reply_to: Option<String>,
    /// Subject line.
    pub subject: String,
    /// Plain-text part.
    pub text: String,
    /// HTML part.
    pub html: String,
    /// This message's own `Message-ID` (so follow-ups can thread on it), if set.
    pub message_id: Option<String>,
    /// The previous message's `Message-ID` (threading), if this is a follow-up.
    pub in_reply_to: Option<String>,
    /// Earlier `Message-ID`s of the thread, oldest first.
    pub references: Vec<String>,
    /// The one-click unsubscribe URL (RFC 8058), sent as `List-Unsubscribe` and
    /// `List-Unsubscribe-Post`.
    pub unsubscribe_url: Option<String>,
    /// Tags for the provider's dashboard and webhooks (names and values `[A-Za-z0-9_-]`).
    pub tags: Vec<(String, String)>,
    /// Stable per planned send: a repeat with the same key is the same message.
    pub idempotency_key: String,
}

impl EmailMessage {
    /// The extra headers: threading and one-click unsubscribe.
    pub fn headers(&self) -> BTreeMap<&'static str, String> {
        let mut headers = BTreeMap::new();
        if let Some(id) = &self.message_id {
            headers.insert("Message-ID", angle(id));
        }
        if let Some(id) = &self.in_reply_to {
            headers.insert("In-Reply-To", angle(id));
            let mut refs: Vec<String> = self.references.iter().map(|r| angle(r)).collect();
            let last = angle(id);
            if refs.last() != Some(&last) {
                refs.push(last);
            }
            headers.insert("References", refs.join(" "));
        }
        if let Some(url) = &self.unsubscribe_url {
            headers.insert("List-Unsubscribe", format!("<{url}>"));
            headers.insert(
                "List-Unsubscribe-Post",
                "List-Unsubscribe=One-Click".to_owned(),
            );
        }
        headers
    }
}

/// A message id in angle brackets, as `In-Reply-To` and `References` carry it.
fn angle(id: &str) -> String {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    format!("<{id}>")
}

/// One SMS to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SmsMessage {
    /// The sending number (E.164), from allocation.
    pub from: String,
    /// The recipient (E.164).
    pub to: String,
    /// The text (one segment).
    pub body: String,
    /// Where the provider posts delivery status (our `/webhooks/twilio/status`), if set.
    pub status_callback: Option<String>,
    /// Stable per planned send.
    pub idempotency_key: String,
}

/// Who a call is for, carried in the call's metadata and read back from its webhooks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CallMetadata {
    /// The tenant.
    pub client_id: Uuid,
    /// The campaign.
    pub campaign_id: Uuid,
    /// The lead called.
    pub lead_id: Uuid,
}

/// One outbound call to place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallRequest {
    /// The number to call (E.164).
    pub customer_number: String,
    /// The person's name, if known.
    pub customer_name: Option<String>,
    /// The assistant's personalised first sentence.
    pub first_message: String,
    /// Template variables for the assistant's prompt.
    pub variables: BTreeMap<String, String>,
    /// Tenant, campaign and lead.
    pub metadata: CallMetadata,
    /// Stable per planned send.
    pub idempotency_key: String,
}

/// What the provider answered for an accepted message or call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SendReceipt {
    /// Who took it.
    pub provider: Provider,
    /// The provider's id of the message or call (Resend email id, Twilio `SM...` sid, Vapi
    /// call id).
    pub provider_message_id: String,
    /// True when a sandbox twin took it (nothing left the building).
    pub sandbox: bool,
}

/// Sends email.
#[async_trait]
pub trait EmailSender: Send + Sync + fmt::Debug {
    /// True for the sandbox twin.
    fn is_sandbox(&self) -> bool;
    /// Sends one email.
    async fn send_email(&self, message: &EmailMessage) -> Result<SendReceipt, ProviderError>;
    /// The content of an email received on one of our domains (the `email.received` webhook
    /// carries metadata only); `None` when the provider has no such email (or, for the
    /// sandbox, never holds received mail).
    async fn received_email(&self, email_id: &str) -> Result<Option<ReceivedEmail>, ProviderError>;
}

/// An inbound email's content, as the provider's receiving API returns it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
pub struct ReceivedEmail {
    /// Subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// Plain-text part.
    #[serde(default)]
    pub text: Option<String>,
    /// HTML part.
    #[serde(default)]
    pub html: Option<String>,
    /// The RFC 5322 `Message-ID` (threading).
    #[serde(default)]
    pub message_id: Option<String>,
}

/// Sends SMS.
#[async_trait]
pub trait SmsSender: Send + Sync + fmt::Debug {
    /// True for the sandbox twin.
    fn is_sandbox(&self) -> bool;
    /// Sends one SMS.
    async fn send_sms(&self, message: &SmsMessage) -> Result<SendReceipt, ProviderError>;
}

/// Places outbound calls.
#[async_trait]
pub trait VoiceCaller: Send + Sync + fmt::Debug {
    /// True for the sandbox twin.
    fn is_sandbox(&self) -> bool;
    /// Places one call.
    async fn place_call(&self, call: &CallRequest) -> Result<SendReceipt, ProviderError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threading_and_unsubscribe_headers() {
        let message = EmailMessage {
            from: "Acme <hi@acme.com.au>".into(),
            to: "jane@example.com".into(),
            reply_to: None,
            subject: "Hi".into(),
            text: "t".into(),
            html: "<p>t</p>".into(),
            message_id: None,
            in_reply_to: Some("b@mail".into()),
            references: vec!["<a@mail>".into(), "b@mail".into()],
            unsubscribe_url: Some("https://x.test/u/tok".into()),
            tags: vec![],
            idempotency_key: "k".into(),
        };
        let h = message.headers();
        assert_eq!(h["In-Reply-To"], "<b@mail>");
        assert_eq!(h["References"], "<a@mail> <b@mail>");
        assert_eq!(h["List-Unsubscribe"], "<https://x.test/u/tok>");
        assert_eq!(h["List-Unsubscribe-Post"], "List-Unsubscribe=One-Click");
        let first = EmailMessage {
            in_reply_to: None,
            references: vec![],
            unsubscribe_url: None,
            ..message
        };
        assert!(first.headers().is_empty());
    }
}
