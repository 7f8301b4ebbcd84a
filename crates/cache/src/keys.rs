//! Key layout: the `v1:` version prefix (applied only here), daily keys per local
//! calendar day, and the time-to-live of daily counters.

use std::time::Duration;

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// Version prefix of every key in Redis and in the PostgreSQL tables.
pub const KEY_VERSION_PREFIX: &str = "v1:";

/// How long a daily counter outlives the end of its local day (late readers, reports).
pub const DAILY_COUNTER_GRACE: Duration = Duration::from_secs(24 * 60 * 60);

/// The stored key for a logical key: `v1:{key}`.
pub fn versioned(key: &str) -> String {
    format!("{KEY_VERSION_PREFIX}{key}")
}

/// The local calendar day of `now` in `tz`.
pub fn local_day(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// The stored key of a daily counter: `v1:{name}:{yyyy-mm-dd}` (local day in `tz`).
pub fn daily_key(name: &str, tz: Tz, now: DateTime<Utc>) -> String {
    versioned(&format!("{name}:{}", local_day(tz, now).format("%Y-%m-%d")))
}

/// The instant the local day of `now` ends in `tz` (the next local midnight, or the first
/// instant after it when a DST gap swallows midnight).
pub fn end_of_local_day(tz: Tz, now: DateTime<Utc>) -> DateTime<Utc> {
    let next_day = local_day(tz, now)
        .checked_add_days(Days::new(1))
        .unwrap_or(NaiveDate::MAX);
    let mut local = next_day.and_hms_opt(0, 0, 0).unwrap_or_default();
    // A DST gap can skip local midnight; step forward until a local time exists.
    for _ in 0..(24 * 4) {
        if let Some(t) = tz.from_local_datetime(&local).earliest() {
            return t.with_timezone(&Utc);
        }
        local += chrono::Duration::minutes(15);
    }
    now + chrono::Duration::days(1)
}

/// Time-to-live of a daily counter touched at `now`: until the local day ends plus
/// [`DAILY_COUNTER_GRACE`], measured from `now` (so an injected clock behaves the same as
/// the wall clock, and clock skew between hosts does not matter).
pub fn daily_ttl(tz: Tz, now: DateTime<Utc>) -> Duration {
    let remaining = (end_of_local_day(tz, now) - now)
        .to_std()
        .unwrap_or(Duration::ZERO);
    remaining + DAILY_COUNTER_GRACE
}

/// Milliseconds of a TTL for Redis (at least 1, so a key never lives forever by accident).
pub(crate) fn ttl_millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// Microseconds of a TTL for PostgreSQL intervals.
pub(crate) fn ttl_micros(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_micros()).unwrap_or(i64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Australia::Sydney;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().expect("valid instant")
    }

    #[test]
    fn prefix_applied_once() {
        assert_eq!(versioned("a:b"), "v1:a:b");
    }

    #[test]
    fn daily_key_uses_local_day() {
        // 13:59:59 UTC = 23:59:59 AEST on the 1st; 14:00 UTC = 00:00 on the 2nd (June: UTC+10).
        assert_eq!(
            daily_key("ratelimit:email:x", Sydney, utc("2027-06-01T13:59:59Z")),
            "v1:ratelimit:email:x:2027-06-01"
        );
        assert_eq!(
            daily_key("ratelimit:email:x", Sydney, utc("2027-06-01T14:00:00Z")),
            "v1:ratelimit:email:x:2027-06-02"
        );
    }

    #[test]
    fn end_of_day_on_dst_days() {
        // 2027-10-03: Sydney springs forward (23-hour day); midnight after it is AEDT (UTC+11).
        assert_eq!(
            end_of_local_day(Sydney, utc("2027-10-02T14:00:00Z")),
            utc("2027-10-03T13:00:00Z")
        );
        // 2028-04-02: Sydney falls back (25-hour day); day starts AEDT, ends AEST.
        assert_eq!(
            end_of_local_day(Sydney, utc("2028-04-01T13:00:00Z")),
            utc("2028-04-02T14:00:00Z")
        );
    }

    #[test]
    fn midnight_in_a_dst_gap() {
        // America/Santiago springs forward at 24:00 -> 01:00 (2027-09-05).
        let tz: Tz = chrono_tz::America::Santiago;
        let end = end_of_local_day(tz, utc("2027-09-04T15:00:00Z"));
        assert_eq!(
            end.with_timezone(&tz).date_naive().to_string(),
            "2027-09-05"
        );
    }

    #[test]
    fn ttl_covers_rest_of_day_plus_grace() {
        let now = utc("2027-06-01T13:00:00Z"); // 23:00 local
        assert_eq!(
            daily_ttl(Sydney, now),
            Duration::from_secs(3600) + DAILY_COUNTER_GRACE
        );
    }
}
