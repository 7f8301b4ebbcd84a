//! Meeting slots: the free starts of a local business day (weekdays 09:00-17:00 in the given
//! timezone, every 30 minutes) that fit a meeting of a given length, avoid the busy intervals
//! and lie in the future.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// First bookable hour of the day, local time.
pub const DAY_START_HOUR: u32 = 9;
/// Meetings end by this hour, local time.
pub const DAY_END_HOUR: u32 = 17;
/// Slots start every this many minutes.
pub const SLOT_STEP_MINUTES: i64 = 30;

fn local(date: NaiveDate, hour: u32, tz: Tz) -> Option<DateTime<Utc>> {
    let time = NaiveTime::from_hms_opt(hour, 0, 0)?;
    tz.from_local_datetime(&date.and_time(time))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// True on Monday to Friday.
pub fn is_weekday(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The free slot starts of `date` in `tz` for a `minutes`-long meeting after `now`, given the
/// busy intervals `[start, end)`; none on weekends.
pub fn free_slots(
    date: NaiveDate,
    tz: Tz,
    minutes: i64,
    busy: &[(DateTime<Utc>, DateTime<Utc>)],
    now: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let (Some(open), Some(close)) = (
        local(date, DAY_START_HOUR, tz),
        local(date, DAY_END_HOUR, tz),
    ) else {
        return Vec::new();
    };
    if !is_weekday(date) || minutes <= 0 {
        return Vec::new();
    }
    let length = Duration::minutes(minutes);
    let mut out = Vec::new();
    let mut start = open;
    while start + length <= close {
        let end = start + length;
        let clashes = busy.iter().any(|(b0, b1)| start < *b1 && *b0 < end);
        if start > now && !clashes {
            out.push(start);
        }
        start += Duration::minutes(SLOT_STEP_MINUTES);
    }
    out
}

/// The first weekday on or after `date`.
pub fn next_weekday(date: NaiveDate) -> NaiveDate {
    let mut d = date;
    while !is_weekday(d) {
        d = d.succ_opt().unwrap_or(d);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Australia::Sydney;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_free_day_has_sixteen_half_hour_slots_in_local_time() {
        // Wednesday 3 December 2026, Sydney is UTC+11 (daylight time).
        let day = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        let slots = free_slots(day, Sydney, 30, &[], at("2026-12-01T00:00:00Z"));
        assert_eq!(slots.len(), 16);
        assert_eq!(slots[0], at("2026-12-02T22:00:00Z"));
        assert_eq!(slots[15], at("2026-12-03T05:30:00Z"));
        // An hour-long meeting must end by 17:00: the last start is 16:00.
        let long = free_slots(day, Sydney, 60, &[], at("2026-12-01T00:00:00Z"));
        assert_eq!(long.len(), 15);
        assert_eq!(*long.last().unwrap(), at("2026-12-03T05:00:00Z"));
    }

    #[test]
    fn busy_times_the_past_and_weekends_are_left_out() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        // Busy 10:00-11:00 local; now is 09:40 local.
        let busy = [(at("2026-12-02T23:00:00Z"), at("2026-12-03T00:00:00Z"))];
        let slots = free_slots(day, Sydney, 30, &busy, at("2026-12-02T22:40:00Z"));
        assert_eq!(slots[0], at("2026-12-03T00:00:00Z"));
        assert!(!slots.contains(&at("2026-12-02T23:30:00Z")));
        assert_eq!(slots.len(), 12);
        // 09:30-10:00 would have fitted a 30-minute meeting but it is past.
        let sat = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        assert!(free_slots(sat, Sydney, 30, &[], at("2026-12-01T00:00:00Z")).is_empty());
        assert_eq!(
            next_weekday(sat),
            NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
        );
    }
}
