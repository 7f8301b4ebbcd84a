//! Company domain names: `normalise_domain` turns a URL or host into a bare lowercase domain.

use thiserror::Error;

/// Why a text is not a usable domain name.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    /// Nothing left after stripping scheme, `www.` and path.
    #[error("domain is empty")]
    Empty,
    /// Longer than 253 characters.
    #[error("domain is longer than 253 characters")]
    TooLong,
    /// A single label, like `localhost`.
    #[error("domain `{0}` needs at least one dot")]
    NoDot(String),
    /// A label is empty, too long, has a bad character or starts/ends with `-`.
    #[error("domain `{0}` has an invalid label")]
    InvalidLabel(String),
    /// The last label is numeric or one letter.
    #[error("domain `{0}` has an invalid top-level domain")]
    InvalidTld(String),
}

/// Checks an already lowercase bare domain (`example.com.au`).
pub(crate) fn validate_domain(domain: &str) -> Result<(), DomainError> {
    if domain.is_empty() {
        return Err(DomainError::Empty);
    }
    if domain.len() > 253 {
        return Err(DomainError::TooLong);
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Err(DomainError::NoDot(domain.to_owned()));
    }
    for label in &labels {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(DomainError::InvalidLabel(domain.to_owned()));
        }
    }
    let tld = labels.last().copied().unwrap_or_default();
    if tld.len() < 2 || tld.chars().all(|c| c.is_ascii_digit()) {
        return Err(DomainError::InvalidTld(domain.to_owned()));
    }
    Ok(())
}

/// Normalises `https://WWW.Example.com.au:443/path?q` (or a bare host, or an email's domain
/// part) to `example.com.au`: trimmed, lowercase, no scheme, credentials, port, path, `www.`
/// or trailing dot; then validated.
pub fn normalise_domain(input: &str) -> Result<String, DomainError> {
    let mut s = input.trim().to_ascii_lowercase();
    if let Some((_, rest)) = s.split_once("://") {
        s = rest.to_owned();
    }
    let host_end = s.find(['/', '?', '#']).unwrap_or(s.len());
    s.truncate(host_end);
    if let Some((_, host)) = s.rsplit_once('@') {
        s = host.to_owned();
    }
    if let Some(colon) = s.find(':') {
        s.truncate(colon);
    }
    while s.ends_with('.') {
        s.pop();
    }
    let s = s.strip_prefix("www.").map(str::to_owned).unwrap_or(s);
    validate_domain(&s)?;
    Ok(s)
}

/// True when `domain` is `parent` or one of its subdomains (both already normalised).
pub fn is_same_or_subdomain(domain: &str, parent: &str) -> bool {
    !parent.is_empty()
        && (domain == parent
            || (domain.len() > parent.len()
                && domain.ends_with(parent)
                && domain.as_bytes()[domain.len() - parent.len() - 1] == b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_urls_and_hosts() {
        let cases = [
            ("example.com", "example.com"),
            ("  Example.COM. ", "example.com"),
            ("https://www.Example.com.au/about?x=1", "example.com.au"),
            ("http://user:pw@shop.example.com:8080/", "shop.example.com"),
            ("www.acme.io", "acme.io"),
            ("acme.io#top", "acme.io"),
        ];
        for (input, want) in cases {
            assert_eq!(normalise_domain(input).as_deref(), Ok(want), "{input}");
        }
    }

    #[test]
    fn rejects_bad_domains() {
        assert_eq!(normalise_domain(""), Err(DomainError::Empty));
        assert_eq!(normalise_domain("https://"), Err(DomainError::Empty));
        assert!(matches!(
            normalise_domain("localhost"),
            Err(DomainError::NoDot(_))
        ));
        assert!(matches!(
            normalise_domain("a_b.com"),
            Err(DomainError::InvalidLabel(_))
        ));
        assert!(matches!(
            normalise_domain("-a.com"),
            Err(DomainError::InvalidLabel(_))
        ));
        assert!(matches!(
            normalise_domain("a..com"),
            Err(DomainError::InvalidLabel(_))
        ));
        assert!(matches!(
            normalise_domain("10.0.0.1"),
            Err(DomainError::InvalidTld(_))
        ));
    }

    #[test]
    fn subdomains() {
        assert!(is_same_or_subdomain("acme.com", "acme.com"));
        assert!(is_same_or_subdomain("mail.acme.com", "acme.com"));
        assert!(!is_same_or_subdomain("notacme.com", "acme.com"));
        assert!(!is_same_or_subdomain("acme.com", ""));
    }
}
