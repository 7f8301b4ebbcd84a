//! Standard Webhooks signing for the webhooks we send to clients' systems
//! (<https://www.standardwebhooks.com>): secrets `whsec_<base64 key>`, the signed content
//! `{webhook-id}.{webhook-timestamp}.{body}`, HMAC-SHA256, and the `webhook-signature` header
//! `v1,<base64>` (several space-separated during a secret rotation).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// The prefix of a signing secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A secret that is not `whsec_` followed by base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a webhook secret is whsec_ followed by base64")]
pub struct BadSecret;

/// A new random secret: `whsec_` and 32 random bytes in base64.
pub fn generate_secret() -> String {
    let mut key = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

fn key_of(secret: &str) -> Result<Vec<u8>, BadSecret> {
    let b64 = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    STANDARD.decode(b64).map_err(|_| BadSecret)
}

/// The `v1,<base64>` signature of `body` sent as message `msg_id` at `timestamp` (Unix
/// seconds).
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &[u8]) -> Result<String, BadSecret> {
    let key = key_of(secret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).map_err(|_| BadSecret)?;
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Ok(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header value: one signature per secret, space-separated (the
/// current secret first; the previous one during a rotation's overlap).
pub fn signature_header(
    secrets: &[&str],
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, BadSecret> {
    let sigs = secrets
        .iter()
        .map(|s| sign(s, msg_id, timestamp, body))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(sigs.join(" "))
}

/// True when any `v1` signature in `header` matches (constant-time), for receivers and tests.
pub fn verify(secret: &str, msg_id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
    let Ok(key) = key_of(secret) else {
        return false;
    };
    header.split_whitespace().any(|part| {
        let Some(b64) = part.strip_prefix("v1,") else {
            return false;
        };
        let Ok(expected) = STANDARD.decode(b64) else {
            return false;
        };
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key) else {
            return false;
        };
        mac.update(format!("{msg_id}.{timestamp}.").as_bytes());
        mac.update(body);
        mac.verify_slice(&expected).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference vector of the Standard Webhooks specification's libraries.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const MSG: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const EXPECTED: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signs_the_reference_vector() {
        assert_eq!(sign(SECRET, MSG, TS, BODY).as_deref(), Ok(EXPECTED));
        assert!(verify(SECRET, MSG, TS, BODY, EXPECTED));
        assert!(!verify(SECRET, MSG, TS + 1, BODY, EXPECTED));
        assert!(!verify(SECRET, MSG, TS, b"{}", EXPECTED));
    }

    #[test]
    fn rotation_sends_both_signatures_and_either_verifies() {
        let new = generate_secret();
        assert!(new.starts_with(SECRET_PREFIX));
        assert_eq!(key_of(&new).map(|k| k.len()), Ok(32));
        let header = signature_header(&[&new, SECRET], MSG, TS, BODY).expect("sign");
        assert_eq!(header.split(' ').count(), 2);
        assert!(header.ends_with(EXPECTED));
        assert!(verify(SECRET, MSG, TS, BODY, &header));
        assert!(verify(&new, MSG, TS, BODY, &header));
        assert!(!verify(&generate_secret(), MSG, TS, BODY, &header));
        assert_eq!(sign("whsec_***", MSG, TS, BODY), Err(BadSecret));
    }
}
