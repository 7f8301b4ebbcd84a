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

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn escapes_wildcards() {
        assert_eq!(like_pattern("a_b%c\\d"), "%a\\_b\\%c\\\\d%");
        assert_eq!(like_pattern("acme"), "%acme%");
    }
}
