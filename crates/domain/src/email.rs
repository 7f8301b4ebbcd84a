//! Email addresses: trimmed, lowercased and validated once, at the edge.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::web_domain::{DomainError, validate_domain};

/// Longest address accepted (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;
/// Longest local part accepted.
pub const MAX_LOCAL_LEN: usize = 64;

/// Why a text is not an acceptable email address.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EmailError {
    /// Nothing but whitespace.
    #[error("email is empty")]
    Empty,
    /// More than 254 characters.
    #[error("email is longer than 254 characters")]
    TooLong,
    /// No `@`, or more than one.
    #[error("email must contain exactly one @")]
    BadAt,
    /// The part before `@` is empty, too long or has characters or dots in the wrong place.
    #[error("email `{0}` has an invalid part before the @")]
    InvalidLocalPart(String),
    /// The part after `@` is not a domain name.
    #[error("email `{email}` has an invalid domain: {source}")]
    InvalidDomain {
        /// The normalised address.
        email: String,
        /// What is wrong with the domain.
        source: DomainError,
    },
}

/// A normalised, validated email address (lowercase ASCII).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

/// Free-mail domains: an address there is a personal email.
const FREE_MAIL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "yahoo.com.au",
    "icloud.com",
    "me.com",
    "mac.com",
    "aol.com",
    "proton.me",
    "protonmail.com",
    "bigpond.com",
    "bigpond.net.au",
    "optusnet.com.au",
    "gmx.com",
    "zoho.com",
    "fastmail.com",
    "hotmail.com.au",
    "outlook.com.au",
    "live.com.au",
    "iinet.net.au",
];

fn is_local_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c)
}

impl Email {
    /// Trims, lowercases and validates `input`.
    pub fn parse(input: &str) -> Result<Email, EmailError> {
        let email = input.trim().to_ascii_lowercase();
        if email.is_empty() {
            return Err(EmailError::Empty);
        }
        if email.len() > MAX_EMAIL_LEN {
            return Err(EmailError::TooLong);
        }
        let mut parts = email.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(EmailError::BadAt);
        };
        let local_ok = !local.is_empty()
            && local.len() <= MAX_LOCAL_LEN
            && local.chars().all(is_local_char)
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        if !local_ok {
            return Err(EmailError::InvalidLocalPart(email));
        }
        if let Err(source) = validate_domain(domain) {
            return Err(EmailError::InvalidDomain { email, source });
        }
        Ok(Email(email))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before `@`.
    pub fn local_part(&self) -> &str {
        self.0.split_once('@').map_or("", |(l, _)| l)
    }

    /// The part after `@`.
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map_or("", |(_, d)| d)
    }

    /// True for free-mail providers (gmail.com, bigpond.com, ...): a personal address.
    pub fn is_free_mail(&self) -> bool {
        FREE_MAIL_DOMAINS.contains(&self.domain())
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Email {
    type Err = EmailError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Email::parse(s)
    }
}

impl TryFrom<String> for Email {
    type Error = EmailError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Email::parse(&value)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> String {
        email.0
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        let email = Email::parse("  Jane.Doe+AU@Example.COM ").ok();
        assert_eq!(
            email.as_ref().map(Email::as_str),
            Some("jane.doe+au@example.com")
        );
        let email = email.unwrap_or_else(|| Email("x@y.z".into()));
        assert_eq!(email.local_part(), "jane.doe+au");
        assert_eq!(email.domain(), "example.com");
        assert!(!email.is_free_mail());
        assert!(
            Email::parse("x@Gmail.com")
                .map(|e| e.is_free_mail())
                .unwrap_or(false)
        );
    }

    #[test]
    fn rejects_with_clear_errors() {
        assert_eq!(Email::parse("   "), Err(EmailError::Empty));
        assert_eq!(Email::parse("no-at.example.com"), Err(EmailError::BadAt));
        assert_eq!(Email::parse("a@b@c.com"), Err(EmailError::BadAt));
        assert!(matches!(
            Email::parse("@example.com"),
            Err(EmailError::InvalidLocalPart(_))
        ));
        assert!(matches!(
            Email::parse(".a@example.com"),
            Err(EmailError::InvalidLocalPart(_))
        ));
        assert!(matches!(
            Email::parse("a..b@example.com"),
            Err(EmailError::InvalidLocalPart(_))
        ));
        assert!(matches!(
            Email::parse("a b@example.com"),
            Err(EmailError::InvalidLocalPart(_))
        ));
        assert!(matches!(
            Email::parse("a@example"),
            Err(EmailError::InvalidDomain { .. })
        ));
        assert!(matches!(
            Email::parse("a@-example.com"),
            Err(EmailError::InvalidDomain { .. })
        ));
        assert!(matches!(
            Email::parse("a@exa mple.com"),
            Err(EmailError::InvalidDomain { .. })
        ));
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
        let msg = Email::parse("a@example")
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            msg.starts_with("email `a@example` has an invalid domain"),
            "{msg}"
        );
    }

    #[test]
    fn serde_validates() {
        let ok: Result<Email, _> = serde_json::from_str("\"A@B.co\"");
        assert_eq!(ok.ok().map(String::from), Some("a@b.co".to_owned()));
        let bad: Result<Email, _> = serde_json::from_str("\"nope\"");
        assert!(bad.is_err());
    }
}
