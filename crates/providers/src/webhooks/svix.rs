//! The Svix scheme Resend signs its webhooks with: headers `svix-id`, `svix-timestamp` (Unix
//! seconds) and `svix-signature` (space-separated `v1,<base64>` signatures; several during a
//! secret rotation); each signature is base64 HMAC-SHA256 over `id.timestamp.body` keyed with
//! the base64-decoded part of the `whsec_...` secret. A timestamp more than five minutes away
//! from now, in either direction, is refused.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{VerifyError, constant_time_eq};

/// Message id header (also the provider's event id: a redelivery keeps it).
pub const ID_HEADER: &str = "svix-id";
/// Timestamp header.
pub const TIMESTAMP_HEADER: &str = "svix-timestamp";
/// Signatures header.
pub const SIGNATURE_HEADER: &str = "svix-signature";
/// Largest accepted distance between the timestamp and now, seconds.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// A signing secret (the key bytes behind `whsec_...`).
#[derive(Clone)]
pub struct SvixSecret(Vec<u8>);

impl std::fmt::Debug for SvixSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SvixSecret(..)")
    }
}

impl SvixSecret {
    /// Parses `whsec_<base64>` (the prefix is optional).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let b64 = text.strip_prefix("whsec_").unwrap_or(text);
        let key = STANDARD
            .decode(b64)
            .map_err(|_| "expected whsec_ followed by base64".to_owned())?;
        if key.is_empty() {
            return Err("the secret is empty".into());
        }
        Ok(SvixSecret(key))
    }

    /// Parses one or more secrets separated by spaces or commas (several while rotating).
    pub fn parse_many(text: &str) -> Result<Vec<Self>, String> {
        let secrets = text
            .split([' ', ','])
            .filter(|s| !s.trim().is_empty())
            .map(Self::parse)
            .collect::<Result<Vec<_>, _>>()?;
        if secrets.is_empty() {
            return Err("no secret given".into());
        }
        Ok(secrets)
    }

    /// The `v1,<base64>` signature of a message.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        format!(
            "v1,{}",
            STANDARD.encode(self.mac(id, &timestamp.to_string(), body))
        )
    }

    fn mac(&self, id: &str, timestamp: &str, body: &[u8]) -> Vec<u8> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().to_vec()
    }
}

/// The three Svix headers of a request.
#[derive(Debug, Clone, Copy, Default)]
pub struct SvixHeaders<'a> {
    /// `svix-id`.
    pub id: Option<&'a str>,
    /// `svix-timestamp`.
    pub timestamp: Option<&'a str>,
    /// `svix-signature`.
    pub signature: Option<&'a str>,
}

fn required<'a>(value: Option<&'a str>, name: &'static str) -> Result<&'a str, VerifyError> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(VerifyError::MissingHeader(name))
}

/// Verifies `body` against the headers with any of `secrets`, at `now` (Unix seconds).
/// Answers the message id.
pub fn verify<'a>(
    secrets: &[SvixSecret],
    headers: SvixHeaders<'a>,
    body: &[u8],
    now: i64,
) -> Result<&'a str, VerifyError> {
    if secrets.is_empty() {
        return Err(VerifyError::NotConfigured("resend"));
    }
    let id = required(headers.id, ID_HEADER)?;
    let timestamp = required(headers.timestamp, TIMESTAMP_HEADER)?;
    let signatures = required(headers.signature, SIGNATURE_HEADER)?;
    let ts: i64 = timestamp
        .parse()
        .map_err(|_| VerifyError::MalformedHeader(TIMESTAMP_HEADER))?;
    if (now - ts).abs() > TOLERANCE_SECS {
        return Err(VerifyError::Stale);
    }
    let given: Vec<Vec<u8>> = signatures
        .split(' ')
        .filter_map(|s| s.split_once(','))
        .filter(|(version, _)| *version == "v1")
        .filter_map(|(_, sig)| STANDARD.decode(sig).ok())
        .collect();
    for secret in secrets {
        let expected = secret.mac(id, timestamp, body);
        if given.iter().any(|g| constant_time_eq(g, &expected)) {
            return Ok(id);
        }
    }
    Err(VerifyError::BadSignature)
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example published in Svix's "verifying manually" documentation.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1_614_265_330;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    const BODY: &[u8] = br#"{"test": 2432232314}"#;

    fn secrets() -> Vec<SvixSecret> {
        vec![SvixSecret::parse(SECRET).unwrap()]
    }

    fn headers<'a>(ts: &'a str, sig: &'a str) -> SvixHeaders<'a> {
        SvixHeaders {
            id: Some(ID),
            timestamp: Some(ts),
            signature: Some(sig),
        }
    }

    #[test]
    fn the_published_example_verifies() {
        let ts = TS.to_string();
        assert_eq!(secrets()[0].sign(ID, TS, BODY), SIG);
        assert_eq!(verify(&secrets(), headers(&ts, SIG), BODY, TS), Ok(ID));
        // Several signatures (a rotation in progress), one of them ours.
        let several = format!("v1,bm90IGl0 v2,whatever {SIG}");
        assert_eq!(
            verify(&secrets(), headers(&ts, &several), BODY, TS + 10),
            Ok(ID)
        );
    }

    #[test]
    fn tolerance_is_five_minutes_both_ways() {
        let ts = TS.to_string();
        assert!(verify(&secrets(), headers(&ts, SIG), BODY, TS + TOLERANCE_SECS).is_ok());
        assert!(verify(&secrets(), headers(&ts, SIG), BODY, TS - TOLERANCE_SECS).is_ok());
        assert_eq!(
            verify(&secrets(), headers(&ts, SIG), BODY, TS + TOLERANCE_SECS + 1),
            Err(VerifyError::Stale)
        );
        assert_eq!(
            verify(&secrets(), headers(&ts, SIG), BODY, TS - TOLERANCE_SECS - 1),
            Err(VerifyError::Stale)
        );
    }

    #[test]
    fn tampering_wrong_secrets_and_missing_headers_fail() {
        let ts = TS.to_string();
        assert_eq!(
            verify(
                &secrets(),
                headers(&ts, SIG),
                br#"{"test": 2432232315}"#,
                TS
            ),
            Err(VerifyError::BadSignature)
        );
        let other_id = SvixHeaders {
            id: Some("msg_other"),
            ..headers(&ts, SIG)
        };
        assert_eq!(
            verify(&secrets(), other_id, BODY, TS),
            Err(VerifyError::BadSignature)
        );
        let wrong = vec![SvixSecret::parse("whsec_c2VjcmV0LXRoYXQtaXMtbm90LWl0").unwrap()];
        assert_eq!(
            verify(&wrong, headers(&ts, SIG), BODY, TS),
            Err(VerifyError::BadSignature)
        );
        // Rotation: the old and the new secret configured, either verifies.
        let both = SvixSecret::parse_many(&format!("whsec_c2VjcmV0LXRoYXQtaXMtbm90LWl0 {SECRET}"))
            .unwrap();
        assert_eq!(verify(&both, headers(&ts, SIG), BODY, TS), Ok(ID));
        assert_eq!(
            verify(
                &secrets(),
                headers(&ts, "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
                BODY,
                TS
            ),
            Err(VerifyError::BadSignature)
        );
        for (h, missing) in [
            (
                SvixHeaders {
                    id: None,
                    ..headers(&ts, SIG)
                },
                ID_HEADER,
            ),
            (
                SvixHeaders {
                    timestamp: None,
                    ..headers(&ts, SIG)
                },
                TIMESTAMP_HEADER,
            ),
            (
                SvixHeaders {
                    signature: Some(""),
                    ..headers(&ts, SIG)
                },
                SIGNATURE_HEADER,
            ),
        ] {
            assert_eq!(
                verify(&secrets(), h, BODY, TS),
                Err(VerifyError::MissingHeader(missing))
            );
        }
        assert_eq!(
            verify(&secrets(), headers("soon", SIG), BODY, TS),
            Err(VerifyError::MalformedHeader(TIMESTAMP_HEADER))
        );
        assert_eq!(
            verify(&[], headers(&ts, SIG), BODY, TS),
            Err(VerifyError::NotConfigured("resend"))
        );
        assert!(SvixSecret::parse("whsec_***").is_err());
    }
}
