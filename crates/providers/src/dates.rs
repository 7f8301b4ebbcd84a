//! Lenient date parsing for provider payloads: `2024-03-01`, `2024-03`, `2024`,
//! `2021-08-01T00:00:00.000+00:00`, `3-2024` / `03/2024` (month-year).

use chrono::NaiveDate;

/// The date in `text`, or `None` when it has no recognisable date. Partial dates take the
/// first day of the month or year.
pub fn parse_loose_date(text: &str) -> Option<NaiveDate> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let head = text.get(..10).unwrap_or(text);
    if let Ok(d) = NaiveDate::parse_from_str(head, "%Y-%m-%d") {
        return Some(d);
    }
    let mut nums = text
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| (s.len(), s.parse::<u32>().ok()));
    match (nums.next(), nums.next()) {
        (Some((4, Some(y))), Some((_, Some(m)))) => {
            NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, 1)
        }
        (Some((_, Some(m))), Some((4, Some(y)))) => {
            NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, 1)
        }
        (Some((4, Some(y))), None) => NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, 1, 1),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(y, m, day)
    }

    #[test]
    fn parses_the_shapes_providers_send() {
        assert_eq!(parse_loose_date("2024-03-15"), d(2024, 3, 15));
        assert_eq!(
            parse_loose_date("2021-08-01T00:00:00.000+00:00"),
            d(2021, 8, 1)
        );
        assert_eq!(parse_loose_date("2024-03"), d(2024, 3, 1));
        assert_eq!(parse_loose_date("2019"), d(2019, 1, 1));
        assert_eq!(parse_loose_date("3-2024"), d(2024, 3, 1));
        assert_eq!(parse_loose_date("03/2024"), d(2024, 3, 1));
        assert_eq!(parse_loose_date("Present"), None);
        assert_eq!(parse_loose_date("2024-13"), None);
        assert_eq!(parse_loose_date(""), None);
    }
}
