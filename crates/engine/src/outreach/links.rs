//! The links a message carries back to us: the signed one-click unsubscribe link (`/u/{token}`)
//! and the provider status callback. A token is the lead id and a truncated HMAC-SHA256 of it
//! under the configured secret (base64url, 43 characters): it names one lead, cannot be
//! forged or altered without the secret, and never expires (an unsubscribe link must keep
//! working).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use uuid::Uuid;

use agency_domain::LeadId;

/// The development signing secret (the runtime config's default outside production).
pub const DEV_UNSUBSCRIBE_SECRET: &str = "agency-os-dev-unsubscribe-secret-not-for-production";

const CONTEXT: &[u8] = b"agency-os/unsubscribe/v1:";
const MAC_BYTES: usize = 16;

/// Where our public routes live and the key unsubscribe tokens are signed with.
#[derive(Clone)]
pub struct Links {
    public_base_url: String,
    secret: SecretString,
}

impl std::fmt::Debug for Links {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Links")
            .field("public_base_url", &self.public_base_url)
            .field("secret", &"[redacted]")
            .finish()
    }
}

impl Links {
    /// Links under `public_base_url` (e.g. `https://api.agencyos.com.au`), signed with `secret`.
    pub fn new(public_base_url: &str, secret: SecretString) -> Self {
        Links {
            public_base_url: public_base_url.trim_end_matches('/').to_owned(),
            secret,
        }
    }

    fn mac(&self, lead: LeadId) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.expose_secret().as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(CONTEXT);
        mac.update(lead.as_uuid().as_bytes());
        mac
    }

    /// Links under `public_base_url` signed with `secret`, or with [`DEV_UNSUBSCRIBE_SECRET`]
    /// when none is configured (configuration refuses that in production).
    pub fn configured(public_base_url: &str, secret: Option<SecretString>) -> Self {
        Links::new(
            public_base_url,
            secret.unwrap_or_else(|| SecretString::from(DEV_UNSUBSCRIBE_SECRET)),
        )
    }

    /// The lead's unsubscribe token.
    pub fn unsubscribe_token(&self, lead: LeadId) -> String {
        let tag = self.mac(lead).finalize().into_bytes();
        let mut raw = Vec::with_capacity(16 + MAC_BYTES);
        raw.extend_from_slice(lead.as_uuid().as_bytes());
        raw.extend_from_slice(&tag[..MAC_BYTES]);
        URL_SAFE_NO_PAD.encode(raw)
    }

    /// The lead a token names, when its signature is ours.
    pub fn verify_unsubscribe_token(&self, token: &str) -> Option<LeadId> {
        let raw = URL_SAFE_NO_PAD.decode(token.trim()).ok()?;
        if raw.len() != 16 + MAC_BYTES {
            return None;
        }
        let lead = LeadId::from_uuid(Uuid::from_slice(&raw[..16]).ok()?);
        self.mac(lead).verify_truncated_left(&raw[16..]).ok()?;
        Some(lead)
    }

    /// The public one-click unsubscribe URL of a lead.
    pub fn unsubscribe_url(&self, lead: LeadId) -> String {
        format!(
            "{}/u/{}",
            self.public_base_url,
            self.unsubscribe_token(lead)
        )
    }

    /// Where Twilio posts SMS delivery status.
    pub fn twilio_status_callback(&self) -> String {
        format!("{}/webhooks/twilio/status", self.public_base_url)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn links(secret: &str) -> Links {
        Links::new("https://api.test/", SecretString::from(secret.to_owned()))
    }

    #[test]
    fn tokens_round_trip_and_resist_forgery() {
        let l = links("s3cret");
        let lead = LeadId::from_uuid(Uuid::from_u128(42));
        let token = l.unsubscribe_token(lead);
        assert_eq!(token.len(), 43);
        assert_eq!(l.verify_unsubscribe_token(&token), Some(lead));
        assert_eq!(
            l.unsubscribe_url(lead),
            format!("https://api.test/u/{token}")
        );
        // Another secret, another lead's id with this tag, a flipped character: refused.
        assert_eq!(links("other").verify_unsubscribe_token(&token), None);
        let mut raw = URL_SAFE_NO_PAD.decode(&token).unwrap_or_default();
        raw[0] ^= 1;
        assert_eq!(
            l.verify_unsubscribe_token(&URL_SAFE_NO_PAD.encode(&raw)),
            None
        );
        assert_eq!(l.verify_unsubscribe_token("not-a-token"), None);
        assert_eq!(l.verify_unsubscribe_token(""), None);
    }
}
