//! Checks on generated text before it is used: not empty, within a length, no unfilled
//! placeholders (`{{first_name}}`, `{company}`, `[First Name]`, `<<name>>`), no link other
//! than the allowed ones (the client's own site, the unsubscribe link), one GSM-7 SMS segment
//! where asked, and required words (opt-out words) kept.

use std::sync::LazyLock;

use regex::Regex;

use crate::sms::is_single_gsm7_segment;

static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\{\{[^}]*\}\}|\{%[^%]*%\}|\{[A-Za-z_][A-Za-z0-9_.]*\}|\[[A-Z][A-Za-z]*(?: [A-Za-z]+)*\]|<<[^>]*>>",
    )
    .unwrap_or_else(|e| panic!("placeholder pattern: {e}"))
});

static LINK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b(?:https?://|www\.)[^\s<>()"']+"#)
        .unwrap_or_else(|e| panic!("link pattern: {e}"))
});

/// What generated text must satisfy.
#[derive(Debug, Clone, Default)]
pub struct TextRules<'a> {
    /// Most characters allowed.
    pub max_chars: usize,
    /// Hosts links may point at (a subdomain of one counts), e.g. the client's domain.
    pub allowed_hosts: &'a [&'a str],
    /// Exact links allowed (with anything after them), e.g. the unsubscribe link.
    pub allowed_links: &'a [&'a str],
    /// The text must fit one GSM-7 SMS segment.
    pub single_sms_segment: bool,
    /// Words the text must contain (case-sensitive), e.g. `STOP`.
    pub must_contain: &'a [&'a str],
}

/// Why generated text was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextProblem {
    /// Nothing but whitespace.
    #[error("the text is empty")]
    Empty,
    /// Longer than allowed.
    #[error("the text has {chars} characters, more than {max}")]
    TooLong {
        /// Characters in the text.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// An unfilled placeholder.
    #[error("unfilled placeholder `{0}`")]
    Placeholder(String),
    /// A link to somewhere not allowed.
    #[error("link to a foreign site `{0}`")]
    ForeignLink(String),
    /// More than one SMS segment (or characters outside GSM-7).
    #[error("the SMS does not fit one GSM-7 segment")]
    NotOneSegment,
    /// A required word is missing.
    #[error("`{0}` is missing")]
    Missing(String),
}

/// The host of a link (`https://a.b/c` -> `a.b`), lowercased.
fn host_of(link: &str) -> String {
    let rest = link.split_once("://").map_or(link, |(_, rest)| rest);
    let end = rest.find(['/', '?', '#', ':']).unwrap_or(rest.len());
    let host = rest[..end].to_ascii_lowercase();
    host.strip_prefix("www.").map(str::to_owned).unwrap_or(host)
}

/// Checks `text` against `rules`.
pub fn check_text(text: &str, rules: &TextRules<'_>) -> Result<(), TextProblem> {
    if text.trim().is_empty() {
        return Err(TextProblem::Empty);
    }
    let chars = text.chars().count();
    if chars > rules.max_chars {
        return Err(TextProblem::TooLong {
            chars,
            max: rules.max_chars,
        });
    }
    if let Some(m) = PLACEHOLDER.find(text) {
        return Err(TextProblem::Placeholder(m.as_str().to_owned()));
    }
    for m in LINK.find_iter(text) {
        let link = m.as_str().trim_end_matches(['.', ',', ';', ':', '!', '?']);
        let exact = rules.allowed_links.iter().any(|l| link.starts_with(l));
        let host = host_of(link);
        let own = rules.allowed_hosts.iter().any(|h| {
            let h = host_of(h);
            !h.is_empty() && (host == h || host.ends_with(&format!(".{h}")))
        });
        if !exact && !own {
            return Err(TextProblem::ForeignLink(link.to_owned()));
        }
    }
    if rules.single_sms_segment && !is_single_gsm7_segment(text) {
        return Err(TextProblem::NotOneSegment);
    }
    for word in rules.must_contain {
        if !text.contains(word) {
            return Err(TextProblem::Missing((*word).to_owned()));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> TextRules<'static> {
        TextRules {
            max_chars: 500,
            allowed_hosts: &["harbourplumbing.com.au"],
            allowed_links: &["https://app.agencyos.com.au/u/abc123"],
            ..TextRules::default()
        }
    }

    #[test]
    fn clean_text_passes() {
        let text = "Hi Jane, saw https://www.harbourplumbing.com.au/services. Opt out: https://app.agencyos.com.au/u/abc123";
        assert_eq!(check_text(text, &rules()), Ok(()));
        assert_eq!(
            check_text("See https://blog.harbourplumbing.com.au.", &rules()),
            Ok(())
        );
    }

    #[test]
    fn placeholders_links_length_and_words() {
        for (text, problem) in [
            ("Hi {{first_name}},", "{{first_name}}"),
            ("Hi {first_name},", "{first_name}"),
            ("Hi [First Name], quick one", "[First Name]"),
            ("Dear <<name>>", "<<name>>"),
        ] {
            assert_eq!(
                check_text(text, &rules()),
                Err(TextProblem::Placeholder(problem.to_owned())),
                "{text}"
            );
        }
        assert_eq!(
            check_text("Book at https://calendly.com/x today.", &rules()),
            Err(TextProblem::ForeignLink("https://calendly.com/x".into()))
        );
        assert_eq!(
            check_text("see www.evil-harbourplumbing.com.au", &rules()),
            Err(TextProblem::ForeignLink(
                "www.evil-harbourplumbing.com.au".into()
            ))
        );
        assert_eq!(check_text("  ", &rules()), Err(TextProblem::Empty));
        assert_eq!(
            check_text(&"a".repeat(501), &rules()),
            Err(TextProblem::TooLong {
                chars: 501,
                max: 500
            })
        );
        let sms = TextRules {
            max_chars: 160,
            single_sms_segment: true,
            must_contain: &["STOP"],
            ..rules()
        };
        assert_eq!(
            check_text("Hi Jane, quick q. Reply STOP to opt out", &sms),
            Ok(())
        );
        assert_eq!(
            check_text("Hi Jane, quick q.", &sms),
            Err(TextProblem::Missing("STOP".into()))
        );
        assert_eq!(
            check_text("Hi Jane 😀 Reply STOP to opt out", &sms),
            Err(TextProblem::NotOneSegment)
        );
    }
}
