//! Vapi's server-URL authentication: `x-vapi-signature`, the hex HMAC-SHA256 of the raw body
//! keyed with the webhook secret (a `sha256=` prefix is accepted), or, when the assistant is
//! set up with a static credential, `x-vapi-secret` equal to the secret. The signature is
//! checked when present; the static secret only when no signature is sent.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use super::{VerifyError, constant_time_eq};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-vapi-signature";
/// The static secret header.
pub const SECRET_HEADER: &str = "x-vapi-secret";

/// The hex HMAC-SHA256 of `body` with `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn present(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// Verifies a Vapi request's headers against `secret`.
pub fn verify(
    secret: Option<&SecretString>,
    signature_header: Option<&str>,
    secret_header: Option<&str>,
    body: &[u8],
) -> Result<(), VerifyError> {
    let secret = secret.ok_or(VerifyError::NotConfigured("vapi"))?;
    if let Some(given) = present(signature_header) {
        let given = given
            .strip_prefix("sha256=")
            .unwrap_or(given)
            .to_ascii_lowercase();
        let expected = signature(secret.expose_secret(), body);
        return if constant_time_eq(expected.as_bytes(), given.as_bytes()) {
            Ok(())
        } else {
            Err(VerifyError::BadSignature)
        };
    }
    match present(secret_header) {
        Some(given) if constant_time_eq(given.as_bytes(), secret.expose_secret().as_bytes()) => {
            Ok(())
        }
        Some(_) => Err(VerifyError::BadSignature),
        None => Err(VerifyError::MissingHeader(SIGNATURE_HEADER)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"message":{"type":"status-update","status":"in-progress"}}"#;

    fn secret() -> SecretString {
        SecretString::from("vapi-test-secret")
    }

    #[test]
    fn signature_or_static_secret_verify() {
        // Computed independently: printf '%s' BODY | openssl dgst -sha256 -hmac vapi-test-secret
        let sig = signature("vapi-test-secret", BODY);
        assert_eq!(
            sig,
            "83653a80e4c1b40a1304f961247f8f06653ad099e3a1b68ee7c3e41db63f3e7d"
        );
        assert_eq!(verify(Some(&secret()), Some(&sig), None, BODY), Ok(()));
        assert_eq!(
            verify(Some(&secret()), Some(&format!("sha256={sig}")), None, BODY),
            Ok(())
        );
        assert_eq!(
            verify(Some(&secret()), None, Some("vapi-test-secret"), BODY),
            Ok(())
        );
    }

    #[test]
    fn tampering_wrong_secrets_and_missing_headers_fail() {
        let sig = signature("vapi-test-secret", BODY);
        assert_eq!(
            verify(Some(&secret()), Some(&sig), None, b"{}"),
            Err(VerifyError::BadSignature)
        );
        // A signature that fails is not rescued by a static secret.
        assert_eq!(
            verify(Some(&secret()), Some("00"), Some("vapi-test-secret"), BODY),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify(Some(&secret()), None, Some("nope"), BODY),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify(Some(&secret()), None, None, BODY),
            Err(VerifyError::MissingHeader(SIGNATURE_HEADER))
        );
        assert_eq!(
            verify(None, Some(&sig), None, BODY),
            Err(VerifyError::NotConfigured("vapi"))
        );
    }
}
