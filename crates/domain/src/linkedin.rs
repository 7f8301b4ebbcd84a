//! LinkedIn URLs as lead data: only an https profile (`/in/<name>`) or company
//! (`/company/<name>`) page on linkedin.com (optionally `www.` or a two-letter country
//! subdomain such as `au.`). Anything else (`javascript:`, plain http, other hosts, a
//! spreadsheet formula such as `=HYPERLINK(...)`) is refused, so the value is safe to render
//! as a link and to export to CSV.

use thiserror::Error;

/// Why a text is not an acceptable LinkedIn URL.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "must be an https LinkedIn profile or company URL, like https://www.linkedin.com/in/<name> or https://www.linkedin.com/company/<name>"
)]
pub struct LinkedinUrlError;

fn linkedin_host(host: &str) -> bool {
    match host.strip_suffix("linkedin.com") {
        Some("") | Some("www.") => true,
        Some(sub) => sub
            .strip_suffix('.')
            .is_some_and(|cc| cc.len() == 2 && cc.bytes().all(|b| b.is_ascii_lowercase())),
        None => false,
    }
}

fn slug_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '%' | '.')
}

/// Parses `input` (trimmed) into `https://<host>/<in|company>/<name>` (host lowercased, query,
/// fragment and a trailing slash dropped).
pub fn parse_linkedin_url(input: &str) -> Result<String, LinkedinUrlError> {
    let url = url::Url::parse(input.trim()).map_err(|_| LinkedinUrlError)?;
    if url.scheme() != "https"
        || !url.username().is_empty()
        || url.password().is_some()
        || url.port().is_some()
    {
        return Err(LinkedinUrlError);
    }
    let Some(url::Host::Domain(host)) = url.host() else {
        return Err(LinkedinUrlError);
    };
    let host = host.to_ascii_lowercase();
    if !linkedin_host(&host) {
        return Err(LinkedinUrlError);
    }
    let mut segments = url.path_segments().ok_or(LinkedinUrlError)?;
    let kind = segments.next().ok_or(LinkedinUrlError)?;
    let name = segments.next().ok_or(LinkedinUrlError)?;
    let rest_empty = segments.all(str::is_empty);
    if !matches!(kind, "in" | "company")
        || name.is_empty()
        || !name.chars().all(slug_char)
        || !rest_empty
    {
        return Err(LinkedinUrlError);
    }
    Ok(format!("https://{host}/{kind}/{name}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_and_companies_on_linkedin_over_https() {
        for (input, out) in [
            (
                "https://www.linkedin.com/in/jane-smith",
                "https://www.linkedin.com/in/jane-smith",
            ),
            (
                " https://linkedin.com/in/jane/ ",
                "https://linkedin.com/in/jane",
            ),
            (
                "https://AU.LinkedIn.com/in/Jane-Smith?trk=x#top",
                "https://au.linkedin.com/in/Jane-Smith",
            ),
            (
                "https://www.linkedin.com/company/acme-pty-ltd/",
                "https://www.linkedin.com/company/acme-pty-ltd",
            ),
            (
                "https://www.linkedin.com/in/j%C3%B6rg",
                "https://www.linkedin.com/in/j%C3%B6rg",
            ),
        ] {
            assert_eq!(parse_linkedin_url(input).as_deref(), Ok(out), "{input}");
        }
    }

    #[test]
    fn scripts_formulas_and_other_places_are_refused() {
        for input in [
            "javascript:alert(1)",
            "javascript://www.linkedin.com/in/x%0aalert(1)",
            "=HYPERLINK(\"https://evil.example\",\"x\")",
            "+1-555",
            "-2+3",
            "@SUM(A1)",
            "http://www.linkedin.com/in/jane",
            "https://evil.example/in/jane",
            "https://linkedin.com.evil.example/in/jane",
            "https://evillinkedin.com/in/jane",
            "https://a.b.linkedin.com/in/jane",
            "https://user@www.linkedin.com/in/jane",
            "https://www.linkedin.com:8443/in/jane",
            "https://www.linkedin.com/feed/",
            "https://www.linkedin.com/in/",
            "https://www.linkedin.com/in/jane/details/experience",
            "www.linkedin.com/in/jane",
            "",
        ] {
            assert_eq!(parse_linkedin_url(input), Err(LinkedinUrlError), "{input}");
        }
    }
}
