//! Helpers for case-insensitive substring search with `ILIKE`.

/// `%text%` with `\`, `%` and `_` escaped, so user input never acts as a wildcard
/// (PostgreSQL's default `LIKE` escape character is the backslash).
pub fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '\\' | '%' | '_') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// The [`like_pattern`] of a search term after trimming it, or `None` when the term is
/// missing or blank (no filter).
pub fn search_pattern(search: Option<&str>) -> Option<String> {
    search
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(like_pattern)
}

#[cfg(test)]
mod tests {
    use super::{like_pattern, search_pattern};

    #[test]
    fn escapes_wildcards() {
        assert_eq!(like_pattern("a_b%c\\d"), "%a\\_b\\%c\\\\d%");
        assert_eq!(like_pattern("acme"), "%acme%");
    }

    #[test]
    fn search_terms_are_trimmed_and_blank_ones_dropped() {
        assert_eq!(
            search_pattern(Some("  ac_me ")),
            Some("%ac\\_me%".to_owned())
        );
        assert_eq!(search_pattern(Some("   ")), None);
        assert_eq!(search_pattern(None), None);
    }
}
