//! Small helpers the person adapters (Apollo, Apify, Clay) share when mapping a provider's
//! answer into [`EnrichedPerson`](crate::person::EnrichedPerson): trimming empty text away and
//! lower-casing emails and domains.

/// The trimmed text, or `None` when it is missing or blank.
pub(crate) fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// The trimmed, ASCII-lower-cased text (an email or a domain), or `None` when missing or blank.
pub(crate) fn lowercase(value: Option<String>) -> Option<String> {
    non_empty(value).map(|s| s.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_text_is_none_and_emails_are_lowered() {
        assert_eq!(non_empty(Some("  Jane ".into())), Some("Jane".into()));
        assert_eq!(non_empty(Some("   ".into())), None);
        assert_eq!(non_empty(None), None);
        assert_eq!(
            lowercase(Some(" Jane@Acme.COM ".into())),
            Some("jane@acme.com".into())
        );
        assert_eq!(lowercase(Some("".into())), None);
    }
}
