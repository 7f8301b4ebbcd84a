//! Job-title rules: authority groups (first match in order wins) and junk-title words.

use crate::text::{contains_any, contains_phrase, words};

/// Authority groups in the order they are checked, with their points.
const AUTHORITY_GROUPS: &[(u8, &[&[&str]])] = &[
    (
        25,
        &[
            &["owner"],
            &["founder"],
            &["co", "founder"],
            &["cofounder"],
            &["ceo"],
            &["managing", "director"],
        ],
    ),
    (18, &[&["vice", "president"], &["vp"], &["svp"], &["evp"]]),
    (
        22,
        &[
            &["chief"],
            &["cto"],
            &["cfo"],
            &["cmo"],
            &["coo"],
            &["cio"],
            &["president"],
        ],
    ),
    (15, &[&["director"], &["head"]]),
    (10, &[&["senior", "manager"]]),
    (7, &[&["manager"], &["lead"]]),
];

/// Points for a title that matches no group.
pub const OTHER_TITLE_POINTS: u8 = 3;

/// Words that mark a junk title.
const JUNK_WORDS: &[&[&str]] = &[
    &["assistant"],
    &["intern"],
    &["student"],
    &["coordinator"],
    &["receptionist"],
];

/// Authority points for an already split title (0 when it has no words).
pub fn authority_points_words(title_words: &[String]) -> u8 {
    if title_words.is_empty() {
        return 0;
    }
    AUTHORITY_GROUPS
        .iter()
        .find(|(_, phrases)| phrases.iter().any(|p| contains_phrase(title_words, p)))
        .map_or(OTHER_TITLE_POINTS, |(points, _)| *points)
}

/// Authority points for a title (0 for none or blank).
pub fn authority_points(title: Option<&str>) -> u8 {
    authority_points_words(&words(title.unwrap_or_default()))
}

/// True when the split title contains a junk word.
pub fn is_junk_title_words(title_words: &[String]) -> bool {
    contains_any(title_words, JUNK_WORDS)
}

/// True when the title contains a junk word (assistant, intern, student, coordinator,
/// receptionist) as a whole word.
pub fn is_junk_title(title: &str) -> bool {
    is_junk_title_words(&words(title))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_table() {
        let cases: &[(Option<&str>, u8)] = &[
            (None, 0),
            (Some(""), 0),
            (Some("   "), 0),
            (Some("Owner"), 25),
            (Some("Founder"), 25),
            (Some("Co-Founder"), 25),
            (Some("Cofounder & CTO"), 25),
            (Some("CEO"), 25),
            (Some("Managing Director"), 25),
            (Some("Vice President"), 18),
            (Some("Vice-President of Sales"), 18),
            (Some("VP Marketing"), 18),
            (Some("SVP, Growth"), 18),
            (Some("EVP Operations"), 18),
            (Some("Chief Revenue Officer"), 22),
            (Some("CTO"), 22),
            (Some("cfo"), 22),
            (Some("CMO"), 22),
            (Some("COO"), 22),
            (Some("CIO"), 22),
            (Some("President"), 22),
            (Some("Director"), 15),
            (Some("Director of Engineering"), 15),
            (Some("Head of Growth"), 15),
            (Some("Senior Manager"), 10),
            (Some("Senior Manager, Partnerships"), 10),
            (Some("Manager"), 7),
            (Some("Account Manager"), 7),
            (Some("Team Lead"), 7),
            (Some("Coordinator"), 3),
            (Some("Marketing Coordinator"), 3),
            (Some("Leader"), 3),
            (Some("Directorate Analyst"), 3),
            (Some("Headhunter"), 3),
            (Some("Ownership Analyst"), 3),
            (Some("Engineer"), 3),
            (Some("Senior Engineering Manager"), 7),
        ];
        for (title, want) in cases {
            assert_eq!(authority_points(*title), *want, "{title:?}");
        }
    }

    #[test]
    fn junk_titles() {
        for t in [
            "Executive Assistant",
            "Marketing Intern",
            "PhD Student",
            "Sales Coordinator",
            "Receptionist",
        ] {
            assert!(is_junk_title(t), "{t}");
        }
        for t in [
            "Internal Comms Manager",
            "Assistance Lead",
            "CEO",
            "Studentship Director",
            "",
        ] {
            assert!(!is_junk_title(t), "{t}");
        }
    }
}
