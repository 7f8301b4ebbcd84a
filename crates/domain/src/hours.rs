//! Business hours for SMS and voice: the lead's timezone from an Australian area code, and the
//! next weekday 09:00-18:00 local window (DST-correct through `chrono-tz`).
//!
//! Area codes: 02 Sydney (NSW/ACT), 03 Melbourne (VIC; Tasmania shares the offset), 07 Brisbane
//! (QLD, no DST), 08 split by number range: 08 6xxx/9xxx Perth (WA), 08 7xxx/8xxx Adelaide (SA;
//! Broken Hill shares it), 08 89xx Darwin (NT). Mobiles (04), 05, 13/1300/1800 and foreign
//! numbers use the client's timezone. National public holidays, and those of the state the
//! timezone belongs to (`holidays`), are closed days.

use chrono::{
    DateTime, Datelike, Days, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc,
    Weekday,
};
use chrono_tz::Tz;

use crate::holidays::{is_public_holiday, state_for_timezone};
use crate::phone::Phone;

/// Local hour the send window opens.
pub const WINDOW_OPEN_HOUR: u32 = 9;
/// Local hour the send window closes (exclusive).
pub const WINDOW_CLOSE_HOUR: u32 = 18;
/// The default client timezone.
pub const DEFAULT_TIMEZONE: Tz = chrono_tz::Australia::Sydney;

/// The timezone an Australian number's area code implies, if it implies one.
pub fn timezone_for_area(national_digits: &str) -> Option<Tz> {
    use chrono_tz::Australia::{Adelaide, Brisbane, Darwin, Melbourne, Perth, Sydney};
    let mut digits = national_digits.chars();
    match digits.next()? {
        '2' => Some(Sydney),
        '3' => Some(Melbourne),
        '7' => Some(Brisbane),
        '8' => match (digits.next(), digits.next()) {
            (Some('8'), Some('9')) => Some(Darwin),
            (Some('7' | '8'), _) => Some(Adelaide),
            _ => Some(Perth),
        },
        _ => None,
    }
}

/// The lead's local timezone: from an Australian geographic number, else the client's.
pub fn timezone_for_phone(phone: &Phone, client_tz: Tz) -> Tz {
    phone
        .au_national_digits()
        .and_then(timezone_for_area)
        .unwrap_or(client_tz)
}

/// The lead's timezone for business hours: from its Australian area code (when its stored
/// number parses), else the client's.
pub fn lead_timezone(phone: Option<&str>, client_tz: Tz) -> Tz {
    phone
        .and_then(|p| Phone::parse(p).ok())
        .map_or(client_tz, |p| timezone_for_phone(&p, client_tz))
}

/// Parses an IANA name (e.g. `Australia/Sydney`).
pub fn parse_timezone(name: &str) -> Option<Tz> {
    name.trim().parse().ok()
}

fn is_weekday(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The UTC instant of a local wall time; in a DST gap, the first valid instant after it.
fn local_to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut probe = local;
    for _ in 0..4 {
        if let Some(t) = tz.from_local_datetime(&probe).earliest() {
            return t.with_timezone(&Utc);
        }
        probe += TimeDelta::minutes(30);
    }
    Utc.from_utc_datetime(&local)
}

fn at_hour(date: NaiveDate, hour: u32) -> NaiveDateTime {
    date.and_time(NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or(NaiveTime::MIN))
}

/// `now` when it falls on a working day (a weekday, not a public holiday of the timezone's
/// state) between 09:00 and 18:00 in `tz`, else the next 09:00 local on a working day.
pub fn next_send_window(now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
    let today = now.with_timezone(&tz).date_naive();
    let state = state_for_timezone(tz);
    let mut date = today;
    for _ in 0..16 {
        if is_weekday(date) && !is_public_holiday(date, state) {
            let open = local_to_utc(tz, at_hour(date, WINDOW_OPEN_HOUR));
            let close = local_to_utc(tz, at_hour(date, WINDOW_CLOSE_HOUR));
            if now < open {
                return open;
            }
            if now < close {
                return now;
            }
        }
        match date.checked_add_days(Days::new(1)) {
            Some(next) => date = next,
            None => break,
        }
    }
    now
}

/// True when `now` is inside the send window in `tz`.
pub fn is_in_send_window(now: DateTime<Utc>, tz: Tz) -> bool {
    next_send_window(now, tz) == now
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Australia::{Adelaide, Brisbane, Darwin, Melbourne, Perth, Sydney};

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0)
            .single()
            .unwrap_or_default()
    }

    fn tz_of(number: &str) -> Option<Tz> {
        Phone::parse(number)
            .ok()
            .map(|p| timezone_for_phone(&p, Perth))
    }

    #[test]
    fn area_codes() {
        assert_eq!(tz_of("02 9374 4000"), Some(Sydney));
        assert_eq!(tz_of("03 9123 4567"), Some(Melbourne));
        assert_eq!(
            tz_of("03 6234 5678"),
            Some(Melbourne),
            "Tasmania shares the offset"
        );
        assert_eq!(tz_of("07 3123 4567"), Some(Brisbane));
        assert_eq!(tz_of("08 9123 4567"), Some(Perth));
        assert_eq!(tz_of("08 6123 4567"), Some(Perth));
        assert_eq!(tz_of("08 8123 4567"), Some(Adelaide));
        assert_eq!(tz_of("08 7123 4567"), Some(Adelaide));
        assert_eq!(tz_of("08 8981 2345"), Some(Darwin));
        assert_eq!(
            tz_of("0412 345 678"),
            Some(Perth),
            "mobiles use the client's zone"
        );
        assert_eq!(
            tz_of("+1 415 555 2671"),
            Some(Perth),
            "foreign numbers use the client's zone"
        );
        assert_eq!(parse_timezone("Australia/Sydney"), Some(Sydney));
        assert_eq!(parse_timezone("Mars/Base"), None);
    }

    #[test]
    fn inside_the_window_is_now() {
        // Wed 11 June 2025 10:00 AEST = 00:00 UTC.
        let now = utc(2025, 6, 11, 0, 0);
        assert_eq!(next_send_window(now, Sydney), now);
        assert!(is_in_send_window(now, Sydney));
        // 09:00 exactly is open; 17:59 open; 18:00 closed.
        let open = utc(2025, 6, 10, 23, 0);
        assert_eq!(next_send_window(open, Sydney), open);
        let late = utc(2025, 6, 11, 7, 59);
        assert_eq!(next_send_window(late, Sydney), late);
        assert_eq!(
            next_send_window(utc(2025, 6, 11, 8, 0), Sydney),
            utc(2025, 6, 11, 23, 0)
        );
    }

    #[test]
    fn before_opening_and_weekends() {
        // Wed 08:59 AEST -> 09:00 the same day.
        assert_eq!(
            next_send_window(utc(2025, 6, 10, 22, 59), Sydney),
            utc(2025, 6, 10, 23, 0)
        );
        // Fri 13 June 19:00 AEST -> Mon 16 June 09:00 AEST.
        assert_eq!(
            next_send_window(utc(2025, 6, 13, 9, 0), Sydney),
            utc(2025, 6, 15, 23, 0)
        );
        // Saturday noon -> Monday.
        assert_eq!(
            next_send_window(utc(2025, 6, 14, 2, 0), Sydney),
            utc(2025, 6, 15, 23, 0)
        );
        // Perth (UTC+8, no DST): Mon 16 June 08:00 AWST -> 09:00 AWST = 01:00 UTC.
        assert_eq!(
            next_send_window(utc(2025, 6, 16, 0, 0), Perth),
            utc(2025, 6, 16, 1, 0)
        );
    }

    #[test]
    fn public_holidays_are_closed_days() {
        // Fri 25 Dec 2026 and Mon 28 Dec (Boxing Day substitute) are closed everywhere:
        // Thu 24 Dec 18:30 AEDT -> Tue 29 Dec 09:00 AEDT = Mon 28 Dec 22:00 UTC.
        assert_eq!(
            next_send_window(utc(2026, 12, 24, 7, 30), Sydney),
            utc(2026, 12, 28, 22, 0)
        );
        // Good Friday 3 Apr 2026 and Easter Monday 6 Apr: Thu 2 Apr 19:00 AEDT -> Tue 7 Apr
        // 09:00 AEST (DST ended 5 Apr) = Mon 6 Apr 23:00 UTC.
        assert_eq!(
            next_send_window(utc(2026, 4, 2, 8, 0), Sydney),
            utc(2026, 4, 6, 23, 0)
        );
        // Melbourne Cup (Tue 3 Nov 2026) closes Melbourne, not Sydney.
        let cup_morning = utc(2026, 11, 2, 23, 0); // Tue 10:00 AEDT
        assert_eq!(next_send_window(cup_morning, Sydney), cup_morning);
        assert_eq!(
            next_send_window(cup_morning, chrono_tz::Australia::Melbourne),
            utc(2026, 11, 3, 22, 0)
        );
    }

    #[test]
    fn across_sydney_dst_start() {
        // DST starts Sun 5 Oct 2025 02:00 -> 03:00 (UTC+10 -> UTC+11).
        // Mon 6 Oct 2025 is Labour Day (NSW) and King's Birthday (QLD): closed in both.
        // Fri 3 Oct 19:00 AEST (09:00 UTC) -> Tue 7 Oct 09:00 AEDT = Mon 6 Oct 22:00 UTC.
        assert_eq!(
            next_send_window(utc(2025, 10, 3, 9, 0), Sydney),
            utc(2025, 10, 6, 22, 0)
        );
        // Brisbane has no DST: the same moment -> Tue 7 Oct 09:00 AEST = Mon 23:00 UTC.
        assert_eq!(
            next_send_window(utc(2025, 10, 3, 9, 0), Brisbane),
            utc(2025, 10, 6, 23, 0)
        );
        // Melbourne works that Monday: Mon 6 Oct 09:00 AEDT = Sun 22:00 UTC.
        assert_eq!(
            next_send_window(utc(2025, 10, 3, 9, 0), chrono_tz::Australia::Melbourne),
            utc(2025, 10, 5, 22, 0)
        );
        // Tue 7 Oct 17:30 AEDT = 06:30 UTC is inside; 18:00 AEDT = 07:00 UTC is closed; the
        // same hour on the Labour Day Monday is closed.
        assert!(is_in_send_window(utc(2025, 10, 7, 6, 30), Sydney));
        assert!(!is_in_send_window(utc(2025, 10, 7, 7, 0), Sydney));
        assert!(!is_in_send_window(utc(2025, 10, 6, 6, 30), Sydney));
    }

    #[test]
    fn across_sydney_dst_end() {
        // DST ends Sun 6 Apr 2025 03:00 -> 02:00 (UTC+11 -> UTC+10).
        // Fri 4 Apr 18:30 AEDT (07:30 UTC) -> Mon 7 Apr 09:00 AEST = Sun 6 Apr 23:00 UTC.
        assert_eq!(
            next_send_window(utc(2025, 4, 4, 7, 30), Sydney),
            utc(2025, 4, 6, 23, 0)
        );
        // Fri 4 Apr 09:00 AEDT = Thu 3 Apr 22:00 UTC is open.
        assert!(is_in_send_window(utc(2025, 4, 3, 22, 0), Sydney));
        // Adelaide (UTC+10:30 -> +9:30): Mon 7 Apr 09:00 ACST = Sun 23:30 UTC.
        assert_eq!(
            next_send_window(utc(2025, 4, 5, 0, 0), Adelaide),
            utc(2025, 4, 6, 23, 30)
        );
    }
}
