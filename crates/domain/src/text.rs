//! Word matching shared by title scoring and the keyword classifier: lowercase words, phrase search.

/// Splits `text` into lowercase words: runs of letters and digits; everything else separates.
pub fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// True when `phrase` (lowercase words) occurs as consecutive whole words of `words`.
pub fn contains_phrase(words: &[String], phrase: &[&str]) -> bool {
    if phrase.is_empty() || phrase.len() > words.len() {
        return false;
    }
    words
        .windows(phrase.len())
        .any(|window| window.iter().zip(phrase).all(|(w, p)| w == p))
}

/// True when any of `phrases` occurs in `words`.
pub fn contains_any(words: &[String], phrases: &[&[&str]]) -> bool {
    phrases.iter().any(|p| contains_phrase(words, p))
}

/// Case-insensitive, whitespace-insensitive equality of two labels (industries, countries).
pub fn same_label(a: &str, b: &str) -> bool {
    let mut left = a
        .split_whitespace()
        .flat_map(|w| w.chars().flat_map(char::to_lowercase).chain([' ']));
    let mut right = b
        .split_whitespace()
        .flat_map(|w| w.chars().flat_map(char::to_lowercase).chain([' ']));
    loop {
        match (left.next(), right.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x == y => {}
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_phrases() {
        let w = words("Co-Founder & CEO, Vice-President");
        assert_eq!(w, ["co", "founder", "ceo", "vice", "president"]);
        assert!(contains_phrase(&w, &["co", "founder"]));
        assert!(contains_phrase(&w, &["vice", "president"]));
        assert!(!contains_phrase(&w, &["cto"]));
        assert!(!contains_phrase(&words("Coordinator"), &["coo"]));
        assert!(!contains_phrase(&w, &[]));
    }

    #[test]
    fn labels() {
        assert!(same_label(" Marketing   Services", "marketing services"));
        assert!(same_label("ÉCOLE", "école"));
        assert!(!same_label("Marketing", "Marketing Services"));
        assert!(same_label("", "  "));
    }
}
