//! The deterministic keyword intent classifier, used when AI is off or over budget, and
//! out-of-office return-date extraction.
//!
//! Quoted history (lines starting with `>`, and everything after an "On ... wrote:" or
//! "Original Message" line) is ignored, so our own footer ("reply STOP to opt out") quoted back
//! does not unsubscribe a lead. In the reply's own text, STOP / unsubscribe / remove me always
//! mean unsubscribe, whatever else it says.

use std::sync::LazyLock;

use chrono::{Datelike, Days, Months, NaiveDate, Weekday};
use regex::Regex;

use crate::intent::Intent;
use crate::text::{contains_any, words};

type Phrases = &'static [&'static [&'static str]];

const UNSUBSCRIBE: Phrases = &[
    &["stop"],
    &["stopall"],
    &["unsubscribe"],
    &["unsub"],
    &["remove", "me"],
    &["remove", "my"],
    &["delete", "my"],
    &["opt", "out"],
    &["optout"],
    &["take", "me", "off"],
    &["do", "not", "contact"],
    &["don", "t", "contact"],
    &["dont", "contact"],
    &["do", "not", "email"],
    &["do", "not", "message"],
    &["do", "not", "call"],
];
/// Carrier opt-out words that count only as the whole message (they are common words otherwise).
const UNSUBSCRIBE_ALONE: &[&str] = &["cancel", "end", "quit", "revoke"];
const OUT_OF_OFFICE: Phrases = &[
    &["out", "of", "office"],
    &["out", "of", "the", "office"],
    &["ooo"],
    &["on", "leave"],
    &["annual", "leave"],
    &["parental", "leave"],
    &["maternity", "leave"],
    &["paternity", "leave"],
    &["long", "service", "leave"],
    &["on", "holiday"],
    &["on", "holidays"],
    &["on", "vacation"],
    &["away", "from", "the", "office"],
    &["away", "until"],
    &["currently", "away"],
    &["limited", "access", "to", "email"],
    &["be", "back", "on"],
    &["returning", "on"],
    &["return", "to", "the", "office"],
    &["back", "in", "the", "office"],
];
const AUTO_REPLY: Phrases = &[
    &["automatic", "reply"],
    &["auto", "reply"],
    &["autoreply"],
    &["automated", "response"],
    &["automated", "message"],
    &["automated", "reply"],
    &["this", "is", "an", "automated"],
    &["do", "not", "reply", "to", "this"],
    &["mailbox", "is", "not", "monitored"],
    &["noreply"],
    &["we", "have", "received", "your"],
    &["we", "ve", "received", "your"],
    &["ticket", "number"],
];
const NOT_INTERESTED: Phrases = &[
    &["not", "interested"],
    &["no", "thanks"],
    &["no", "thank", "you"],
    &["not", "a", "fit"],
    &["not", "a", "good", "fit"],
    &["not", "right", "now"],
    &["not", "at", "this", "time"],
    &["not", "looking"],
    &["not", "for", "us"],
    &["no", "need"],
    &["we", "re", "good"],
    &["we", "are", "good"],
    &["already", "have"],
    &["already", "use"],
    &["already", "working", "with"],
    &["don", "t", "need"],
    &["do", "not", "need"],
    &["no", "budget"],
    &["not", "relevant"],
    &["isn", "t", "relevant"],
    &["we", "ll", "pass"],
    &["i", "ll", "pass"],
];
const MEETING: Phrases = &[
    &["book", "a", "call"],
    &["book", "a", "time"],
    &["book", "a", "meeting"],
    &["book", "in"],
    &["schedule", "a", "call"],
    &["schedule", "a", "meeting"],
    &["set", "up", "a", "call"],
    &["set", "up", "a", "meeting"],
    &["set", "up", "a", "time"],
    &["let", "s", "meet"],
    &["lets", "meet"],
    &["let", "s", "chat"],
    &["lets", "chat"],
    &["jump", "on", "a", "call"],
    &["hop", "on", "a", "call"],
    &["call", "me"],
    &["give", "me", "a", "call"],
    &["calendar"],
    &["calendly"],
    &["meeting"],
    &["catch", "up"],
    &["available", "on"],
    &["available", "next"],
    &["free", "on"],
    &["free", "next"],
    &["what", "time"],
    &["what", "times"],
    &["when", "are", "you", "free"],
    &["when", "works"],
    &["send", "me", "a", "time"],
    &["send", "an", "invite"],
    &["send", "me", "an", "invite"],
    &["zoom"],
    &["demo"],
];
const QUESTION_STARTS: &[&str] = &[
    "how", "what", "when", "why", "who", "which", "where", "can", "could", "do", "does", "is",
    "are", "would", "will",
];
const INTERESTED: Phrases = &[
    &["interested"],
    &["sounds", "good"],
    &["sounds", "great"],
    &["tell", "me", "more"],
    &["keen"],
    &["love", "to"],
    &["know", "more"],
    &["more", "info"],
    &["more", "information"],
    &["send", "me", "more"],
    &["send", "through"],
    &["happy", "to"],
    &["yes"],
    &["sure"],
    &["definitely"],
    &["absolutely"],
];

/// The part of a reply its sender wrote: quoted lines and quoted history removed.
pub fn strip_quoted(text: &str) -> String {
    let mut kept = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        let lower = trimmed.to_lowercase();
        if (lower.starts_with("on ") && lower.ends_with("wrote:"))
            || lower.contains("original message")
            || lower.starts_with("-----")
        {
            break;
        }
        if trimmed.starts_with('>') {
            continue;
        }
        kept.push(line);
    }
    kept.join("\n")
}

/// Classifies a reply by keywords; returns the intent and a confidence in 0..=1.
pub fn classify_keywords(text: &str) -> (Intent, f64) {
    let body = strip_quoted(text);
    let w = words(&body);
    if w.is_empty() {
        return (Intent::AutoReply, 0.5);
    }
    if contains_any(&w, UNSUBSCRIBE) || (w.len() == 1 && UNSUBSCRIBE_ALONE.contains(&w[0].as_str()))
    {
        return (Intent::Unsubscribe, 0.99);
    }
    if contains_any(&w, OUT_OF_OFFICE) {
        return (Intent::OutOfOffice, 0.9);
    }
    if contains_any(&w, AUTO_REPLY) {
        return (Intent::AutoReply, 0.85);
    }
    if contains_any(&w, NOT_INTERESTED) {
        return (Intent::NotInterested, 0.8);
    }
    if contains_any(&w, MEETING) {
        return (Intent::MeetingRequest, 0.75);
    }
    if body.contains('?') || QUESTION_STARTS.contains(&w[0].as_str()) {
        return (Intent::Question, 0.6);
    }
    if contains_any(&w, INTERESTED) {
        return (Intent::Interested, 0.65);
    }
    // Unknown: a human should look.
    (Intent::Question, 0.3)
}

const MONTHS: &str = "jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec";

static ISO_DATE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b").ok());
static NUMERIC_DATE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\b(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?\b").ok());
static DAY_MONTH: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)\b(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+({MONTHS})[a-z]*\.?(?:,?\s+(\d{{4}}))?\b"
    ))
    .ok()
});
static MONTH_DAY: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(&format!(
        r"(?i)\b({MONTHS})[a-z]*\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?"
    ))
    .ok()
});
static WEEKDAY: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:on|until|till|til|from|by)\s+(monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow)\b").ok()
});

fn month_number(name: &str) -> Option<u32> {
    let prefix = name.get(..3)?.to_ascii_lowercase();
    MONTHS
        .split('|')
        .position(|m| m == prefix)
        .and_then(|i| u32::try_from(i + 1).ok())
}

fn full_year(year: Option<&str>) -> Option<Option<i32>> {
    match year {
        None => Some(None),
        Some(y) => {
            let n: i32 = y.parse().ok()?;
            Some(Some(if n < 100 { 2000 + n } else { n }))
        }
    }
}

/// Days back within which a yearless date is read as recent past rather than next year.
const RECENT_PAST_DAYS: i64 = 60;

/// A day and month without a year: this year's, unless that is more than 60 days past, then
/// next year's (so "since 1 June" stays in the past and "until 5 Jan" in June means next January).
fn resolve(today: NaiveDate, year: Option<i32>, month: u32, day: u32) -> Option<NaiveDate> {
    match year {
        Some(y) => NaiveDate::from_ymd_opt(y, month, day),
        None => {
            let this_year = NaiveDate::from_ymd_opt(today.year(), month, day)?;
            if (today - this_year).num_days() <= RECENT_PAST_DAYS {
                Some(this_year)
            } else {
                NaiveDate::from_ymd_opt(today.year() + 1, month, day)
            }
        }
    }
}

fn next_weekday(today: NaiveDate, name: &str) -> Option<NaiveDate> {
    if name.eq_ignore_ascii_case("tomorrow") {
        return today.checked_add_days(Days::new(1));
    }
    let target: Weekday = name.parse().ok()?;
    let ahead = (7 + target.num_days_from_monday() - today.weekday().num_days_from_monday()) % 7;
    today.checked_add_days(Days::new(u64::from(if ahead == 0 { 7 } else { ahead })))
}

/// The return date an out-of-office reply mentions: the latest date found between `today` and a
/// year ahead (dates are read day-first, as in Australia). `None` when there is none.
pub fn extract_return_date(text: &str, today: NaiveDate) -> Option<NaiveDate> {
    let body = strip_quoted(text);
    let mut found: Vec<NaiveDate> = Vec::new();
    if let Some(re) = ISO_DATE.as_ref() {
        for c in re.captures_iter(&body) {
            let parsed = (c[1].parse().ok(), c[2].parse().ok(), c[3].parse().ok());
            if let (Some(y), Some(m), Some(d)) = parsed {
                found.extend(NaiveDate::from_ymd_opt(y, m, d));
            }
        }
    }
    if let Some(re) = NUMERIC_DATE.as_ref() {
        for c in re.captures_iter(&body) {
            let year = full_year(c.get(3).map(|m| m.as_str()));
            if let (Some(d), Some(m), Some(y)) = (c[1].parse().ok(), c[2].parse().ok(), year) {
                found.extend(resolve(today, y, m, d));
            }
        }
    }
    if let Some(re) = DAY_MONTH.as_ref() {
        for c in re.captures_iter(&body) {
            let year = full_year(c.get(3).map(|m| m.as_str()));
            if let (Some(d), Some(m), Some(y)) = (c[1].parse().ok(), month_number(&c[2]), year) {
                found.extend(resolve(today, y, m, d));
            }
        }
    }
    if let Some(re) = MONTH_DAY.as_ref() {
        for c in re.captures_iter(&body) {
            let year = full_year(c.get(3).map(|m| m.as_str()));
            if let (Some(m), Some(d), Some(y)) = (month_number(&c[1]), c[2].parse().ok(), year) {
                found.extend(resolve(today, y, m, d));
            }
        }
    }
    if let Some(re) = WEEKDAY.as_ref() {
        for c in re.captures_iter(&body) {
            found.extend(next_weekday(today, &c[1]));
        }
    }
    let horizon = today.checked_add_months(Months::new(12))?;
    found
        .into_iter()
        .filter(|d| *d >= today && *d <= horizon)
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn intent(text: &str) -> Intent {
        classify_keywords(text).0
    }

    #[test]
    fn unsubscribe_always_wins() {
        for text in [
            "STOP",
            "stop",
            "Stop.",
            "Please unsubscribe me",
            "remove me from your list",
            "I'd love a meeting but please REMOVE ME",
            "Interested? No. Stop emailing me.",
            "Out of office until Monday. Also: unsubscribe",
            "opt out",
            "CANCEL",
            "do not contact me again",
        ] {
            assert_eq!(
                classify_keywords(text),
                (Intent::Unsubscribe, 0.99),
                "{text}"
            );
        }
        assert_ne!(
            intent("Can we cancel Tuesday's call and book another?"),
            Intent::Unsubscribe
        );
        assert_ne!(intent("Non-stopping growth"), Intent::Unsubscribe);
    }

    #[test]
    fn quoted_footer_does_not_unsubscribe() {
        let reply = "Sounds great, tell me more\n\nOn Tue, 3 Jun 2025, Sam <sam@agency.com> wrote:\n> Reply STOP to opt out";
        assert_eq!(intent(reply), Intent::Interested);
        assert_eq!(intent("Yes keen\n> unsubscribe here"), Intent::Interested);
    }

    #[test]
    fn each_intent() {
        let cases = [
            (
                "I am out of the office until 14 March with limited access to email.",
                Intent::OutOfOffice,
            ),
            ("Automatic reply: OOO", Intent::OutOfOffice),
            ("I'm on annual leave, back on Monday", Intent::OutOfOffice),
            (
                "This is an automated response. We have received your message.",
                Intent::AutoReply,
            ),
            ("Thanks but we're not interested.", Intent::NotInterested),
            (
                "No thanks, we already have an agency",
                Intent::NotInterested,
            ),
            (
                "Happy to chat - can you book a call for Thursday?",
                Intent::MeetingRequest,
            ),
            (
                "Send me a calendar invite for next week",
                Intent::MeetingRequest,
            ),
            ("How much does it cost?", Intent::Question),
            ("What does onboarding look like", Intent::Question),
            ("Sounds good, tell me more", Intent::Interested),
            ("Yes", Intent::Interested),
            ("", Intent::AutoReply),
            ("Thanks Sam", Intent::Question),
        ];
        for (text, want) in cases {
            assert_eq!(intent(text), want, "{text}");
        }
    }

    #[test]
    fn confidences_in_range() {
        for text in [
            "STOP",
            "ooo",
            "meeting?",
            "hmm",
            "",
            "yes",
            "not interested",
        ] {
            let (_, c) = classify_keywords(text);
            assert!((0.0..=1.0).contains(&c));
        }
    }

    #[test]
    fn return_dates() {
        let today = NaiveDate::from_ymd_opt(2025, 6, 11).unwrap_or_default(); // a Wednesday
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        let cases = [
            ("Out of office until 14 June", d(2025, 6, 14)),
            ("Back on the 3rd of July 2025", d(2025, 7, 3)),
            ("I return on July 3rd", d(2025, 7, 3)),
            ("Away 20/06 - 30/06/2025", d(2025, 6, 30)),
            ("Returning 2025-08-01", d(2025, 8, 1)),
            ("On leave until 5 Jan", d(2026, 1, 5)),
            ("Back on Monday", d(2025, 6, 16)),
            ("back tomorrow... I mean back on tomorrow", d(2025, 6, 12)),
            ("Out of office, no date", None),
            ("Out since 1 June", None),
        ];
        for (text, want) in cases {
            assert_eq!(extract_return_date(text, today), want, "{text}");
        }
    }
}
