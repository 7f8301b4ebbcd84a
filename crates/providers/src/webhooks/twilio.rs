//! Twilio's request signature: base64 HMAC-SHA1, keyed with the account's auth token, over
//! the full URL Twilio called (scheme, host, path and query, as configured in Twilio) followed
//! by every POST parameter's name and value, sorted by name (then value, for repeated names).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha1::Sha1;

use super::{VerifyError, constant_time_eq};

/// The signature header.
pub const SIGNATURE_HEADER: &str = "x-twilio-signature";

/// The expected `X-Twilio-Signature` for `url` and the form parameters.
pub fn signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()).expect("HMAC takes any key");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    STANDARD.encode(mac.finalize().into_bytes())
}

/// The form parameters of a URL-encoded body, in order (`None` when it does not decode).
pub fn form_params(body: &[u8]) -> Option<Vec<(String, String)>> {
    std::str::from_utf8(body).ok()?;
    Some(
        url::form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    )
}

/// Checks the header against the signature of `url` and `params` with `auth_token`.
pub fn verify(
    auth_token: Option<&SecretString>,
    url: &str,
    params: &[(String, String)],
    header: Option<&str>,
) -> Result<(), VerifyError> {
    let token = auth_token.ok_or(VerifyError::NotConfigured("twilio"))?;
    let given = header
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .ok_or(VerifyError::MissingHeader(SIGNATURE_HEADER))?;
    let expected = signature(token.expose_secret(), url, params);
    if constant_time_eq(expected.as_bytes(), given.as_bytes()) {
        Ok(())
    } else {
        Err(VerifyError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Twilio's published example (webhooks security docs and every helper library's tests).
    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
    const SIG: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";

    fn params() -> Vec<(String, String)> {
        [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
    }

    fn token() -> SecretString {
        SecretString::from(TOKEN)
    }

    #[test]
    fn the_published_example_verifies_in_any_order() {
        assert_eq!(signature(TOKEN, URL, &params()), SIG);
        let mut reversed = params();
        reversed.reverse();
        assert_eq!(verify(Some(&token()), URL, &reversed, Some(SIG)), Ok(()));
        // The same parameters URL-encoded as Twilio posts them.
        let body = b"Digits=1234&To=%2B18005551212&From=%2B14158675309&Caller=%2B14158675309&CallSid=CA1234567890ABCDE";
        let parsed = form_params(body).unwrap();
        assert_eq!(verify(Some(&token()), URL, &parsed, Some(SIG)), Ok(()));
    }

    #[test]
    fn tampering_a_wrong_token_or_a_missing_header_fail() {
        let mut tampered = params();
        tampered[2].1 = "1235".into();
        assert_eq!(
            verify(Some(&token()), URL, &tampered, Some(SIG)),
            Err(VerifyError::BadSignature)
        );
        let mut extra = params();
        extra.push(("Body".into(), "hi".into()));
        assert_eq!(
            verify(Some(&token()), URL, &extra, Some(SIG)),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify(
                Some(&token()),
                "https://mycompany.com/myapp.php?foo=1&bar=3",
                &params(),
                Some(SIG)
            ),
            Err(VerifyError::BadSignature)
        );
        let wrong = SecretString::from("54321");
        assert_eq!(
            verify(Some(&wrong), URL, &params(), Some(SIG)),
            Err(VerifyError::BadSignature)
        );
        assert_eq!(
            verify(Some(&token()), URL, &params(), None),
            Err(VerifyError::MissingHeader(SIGNATURE_HEADER))
        );
        assert_eq!(
            verify(Some(&token()), URL, &params(), Some("  ")),
            Err(VerifyError::MissingHeader(SIGNATURE_HEADER))
        );
        assert_eq!(
            verify(None, URL, &params(), Some(SIG)),
            Err(VerifyError::NotConfigured("twilio"))
        );
    }

    #[test]
    fn repeated_names_sort_by_value() {
        let a = vec![
            ("Digits".to_owned(), "2".to_owned()),
            ("Digits".to_owned(), "1".to_owned()),
        ];
        let b = vec![
            ("Digits".to_owned(), "1".to_owned()),
            ("Digits".to_owned(), "2".to_owned()),
        ];
        assert_eq!(signature(TOKEN, URL, &a), signature(TOKEN, URL, &b));
    }
}
