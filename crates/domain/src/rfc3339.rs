//! Timestamps in JSON, written in one piece: the same text as chrono's own `Serialize` for
//! `DateTime<Utc>` (RFC 3339, `Z`, fractional seconds as 0, 3, 6 or 9 digits, whichever is
//! exact), formatted into a stack buffer and handed to the serializer as one string. chrono's
//! impl writes each field through `collect_str`, which in serde_json escapes and copies about
//! fifteen fragments per timestamp; a page of leads holds two hundred timestamps. Use with
//! `#[serde(serialize_with = "rfc3339::serialize")]` (or `rfc3339::option::serialize`).

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serializer;

/// The longest text [`format`] writes: `+262143-12-31T23:59:59.999999999Z`.
const MAX_LEN: usize = 34;

/// A formatted timestamp held on the stack.
pub struct Formatted {
    buf: [u8; MAX_LEN],
    len: usize,
}

impl Formatted {
    /// The text.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and punctuation are ever written.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }

    fn push(&mut self, byte: u8) {
        self.buf[self.len] = byte;
        self.len += 1;
    }

    /// Writes `value` as exactly `width` decimal digits (zero-padded).
    fn digits(&mut self, mut value: u32, width: usize) {
        for i in (0..width).rev() {
            self.buf[self.len + i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
        self.len += width;
    }
}

/// Formats `at` exactly as chrono's `Serialize` impl does.
pub fn format(at: &DateTime<Utc>) -> Formatted {
    let mut out = Formatted {
        buf: [0; MAX_LEN],
        len: 0,
    };
    let naive = at.naive_utc();
    let year = naive.year();
    if (0..=9999).contains(&year) {
        out.digits(year.unsigned_abs(), 4);
    } else {
        // chrono writes `{year:+05}`: a sign, then at least four digits.
        out.push(if year < 0 { b'-' } else { b'+' });
        let abs = year.unsigned_abs();
        let width = abs.checked_ilog10().map_or(1, |l| l as usize + 1).max(4);
        out.digits(abs, width);
    }
    out.push(b'-');
    out.digits(naive.month(), 2);
    out.push(b'-');
    out.digits(naive.day(), 2);
    out.push(b'T');
    let mut second = naive.second();
    let mut nano = naive.nanosecond();
    if nano >= 1_000_000_000 {
        // A leap second is shown as second 60, as chrono does.
        second += 1;
        nano -= 1_000_000_000;
    }
    out.digits(naive.hour(), 2);
    out.push(b':');
    out.digits(naive.minute(), 2);
    out.push(b':');
    out.digits(second, 2);
    if nano != 0 {
        out.push(b'.');
        if nano.is_multiple_of(1_000_000) {
            out.digits(nano / 1_000_000, 3);
        } else if nano.is_multiple_of(1_000) {
            out.digits(nano / 1_000, 6);
        } else {
            out.digits(nano, 9);
        }
    }
    out.push(b'Z');
    out
}

/// `serialize_with` for `DateTime<Utc>`.
pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(format(at).as_str())
}

/// `serialize_with` for `Option<DateTime<Utc>>` (`None` is `null`).
pub mod option {
    use chrono::{DateTime, Utc};
    use serde::Serializer;

    /// Writes the timestamp as [`super::serialize`] does, or `null`.
    pub fn serialize<S: Serializer>(
        at: &Option<DateTime<Utc>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match at {
            Some(at) => super::serialize(at, serializer),
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};
    use proptest::prelude::*;

    use super::*;

    /// What chrono's own impl writes, as JSON.
    fn chrono_json(at: &DateTime<Utc>) -> String {
        serde_json::to_string(at).expect("chrono serializes")
    }

    fn ours_json(at: &DateTime<Utc>) -> String {
        let mut out = Vec::new();
        serialize(at, &mut serde_json::Serializer::new(&mut out)).expect("serializes");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn each_precision_matches_chrono() {
        let base = Utc.with_ymd_and_hms(2026, 12, 6, 1, 2, 3).unwrap();
        for nanos in [0, 120_000_000, 123_456_000, 123_456_789, 1, 999_999_999] {
            let at = base + chrono::Duration::nanoseconds(nanos);
            assert_eq!(ours_json(&at), chrono_json(&at), "{nanos} ns");
        }
        assert_eq!(ours_json(&base), "\"2026-12-06T01:02:03Z\"");
    }

    #[test]
    fn years_outside_four_digits_and_leap_seconds_match_chrono() {
        for year in [-262_000, -10_000, -1, 0, 9999, 10_000, 262_000] {
            let at = NaiveDate::from_ymd_opt(year, 1, 2)
                .and_then(|d| d.and_hms_nano_opt(3, 4, 5, 6_000))
                .expect("valid")
                .and_utc();
            assert_eq!(ours_json(&at), chrono_json(&at), "year {year}");
        }
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .expect("leap second")
            .and_utc();
        assert_eq!(ours_json(&leap), chrono_json(&leap));
    }

    #[test]
    fn none_is_null() {
        let mut out = Vec::new();
        option::serialize(&None, &mut serde_json::Serializer::new(&mut out)).expect("null");
        assert_eq!(out, b"null");
    }

    proptest! {
        #[test]
        fn any_timestamp_matches_chrono(secs in -8_000_000_000_000i64..8_000_000_000_000i64,
                                        nanos in prop_oneof![Just(0u32), 0u32..1_000_000_000,
                                                             (0u32..1000).prop_map(|m| m * 1_000_000),
                                                             (0u32..1_000_000).prop_map(|u| u * 1000)]) {
            let at = DateTime::from_timestamp(secs, nanos).expect("in range");
            prop_assert_eq!(ours_json(&at), chrono_json(&at));
        }
    }
}
