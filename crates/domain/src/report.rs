//! Report rules: which funnel stage each activity action counts towards (the one vocabulary
//! every report uses), percentages on a 0-100 scale, and report date ranges (inclusive local
//! dates, the last 30 days by default, turned into UTC bounds in the client's timezone).

use chrono::{DateTime, Days, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::enum_macro::text_enum;
use crate::records::ActivityAction;

text_enum! {
    /// A step of the outreach funnel that reports count.
    pub enum FunnelStage {
        /// A touch went out: `sent`, `call_initiated`, `connection_requested`.
        Sent => "sent",
        /// It arrived: `delivered`, `call_answered`, `connection_accepted`.
        Delivered => "delivered",
        /// Email opened: `opened`.
        Opened => "opened",
        /// Link clicked: `clicked`.
        Clicked => "clicked",
        /// The lead replied: `replied`.
        Replied => "replied",
        /// It did not arrive: `bounced`, `failed`, `returned`.
        Bounced => "bounced",
        /// The lead converted: `meeting_booked`, `converted`.
        Converted => "converted",
    }
}

impl ActivityAction {
    /// The funnel stage this action counts towards (`None`: not counted by reports).
    pub const fn stage(self) -> Option<FunnelStage> {
        use ActivityAction as A;
        match self {
            A::Sent | A::CallInitiated | A::ConnectionRequested => Some(FunnelStage::Sent),
            A::Delivered | A::CallAnswered | A::ConnectionAccepted => Some(FunnelStage::Delivered),
            A::Opened => Some(FunnelStage::Opened),
            A::Clicked => Some(FunnelStage::Clicked),
            A::Replied => Some(FunnelStage::Replied),
            A::Bounced | A::Failed | A::Returned => Some(FunnelStage::Bounced),
            A::MeetingBooked | A::Converted => Some(FunnelStage::Converted),
            A::DeliveryDelayed
            | A::Complained
            | A::Unsubscribed
            | A::CallCompleted
            | A::VoicemailLeft
            | A::NoAnswer
            | A::Blocked => None,
        }
    }
}

impl FunnelStage {
    /// The stored action texts that count towards this stage.
    pub fn actions(self) -> Vec<&'static str> {
        ActivityAction::ALL
            .iter()
            .filter(|a| a.stage() == Some(self))
            .map(|a| a.as_str())
            .collect()
    }

    /// The stage of a stored action text (`None`: unknown or not counted).
    pub fn of_action(action: &str) -> Option<FunnelStage> {
        action
            .parse::<ActivityAction>()
            .ok()
            .and_then(|a| a.stage())
    }
}

/// `part` as a percentage of `whole`, 0-100, rounded to two decimals; 0 when `whole` is 0 and
/// never above 100.
pub fn percent(part: i64, whole: i64) -> f64 {
    if whole <= 0 || part <= 0 {
        return 0.0;
    }
    let hundredths = (i128::from(part) * 10_000 * 2 + i128::from(whole)) / (2 * i128::from(whole));
    (hundredths.min(10_000) as f64) / 100.0
}

/// Longest report range, in days.
pub const MAX_RANGE_DAYS: u64 = 366;
/// Days in the default range (ending today).
pub const DEFAULT_RANGE_DAYS: u64 = 30;

/// Why a requested range is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// `start_date` is after `end_date`.
    #[error("start_date must not be after end_date")]
    Reversed,
    /// More than [`MAX_RANGE_DAYS`] days.
    #[error("the range may span at most {MAX_RANGE_DAYS} days")]
    TooLong,
}

/// An inclusive range of local dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    /// First day.
    pub start: NaiveDate,
    /// Last day (inclusive).
    pub end: NaiveDate,
}

impl DateRange {
    /// The asked range; a missing end is `today`, a missing start is 29 days before the end
    /// (30 days in all).
    pub fn resolve(
        start: Option<NaiveDate>,
        end: Option<NaiveDate>,
        today: NaiveDate,
    ) -> Result<DateRange, RangeError> {
        let end = end.unwrap_or(today);
        let start = start.unwrap_or_else(|| {
            end.checked_sub_days(Days::new(DEFAULT_RANGE_DAYS - 1))
                .unwrap_or(end)
        });
        if start > end {
            return Err(RangeError::Reversed);
        }
        if (end - start).num_days() >= MAX_RANGE_DAYS as i64 {
            return Err(RangeError::TooLong);
        }
        Ok(DateRange { start, end })
    }

    /// Every day of the range, in order.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let end = self.end;
        self.start.iter_days().take_while(move |d| *d <= end)
    }

    /// The UTC bounds `[start 00:00, end+1 00:00)` in `tz`.
    pub fn bounds(&self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let after = self.end.checked_add_days(Days::new(1)).unwrap_or(self.end);
        (local_midnight(self.start, tz), local_midnight(after, tz))
    }
}

/// The first instant of `date` in `tz`, in UTC (a midnight skipped by DST starts the day at
/// the first local time that exists).
pub fn local_midnight(date: NaiveDate, tz: Tz) -> DateTime<Utc> {
    let mut at = date.and_time(chrono::NaiveTime::MIN);
    for _ in 0..4 {
        match tz.from_local_datetime(&at) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => return t.with_timezone(&Utc),
            LocalResult::None => at += chrono::TimeDelta::minutes(30),
        }
    }
    Utc.from_utc_datetime(&date.and_time(chrono::NaiveTime::MIN))
}

/// Today's date in `tz`.
pub fn today_in(tz: Tz, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    #[test]
    fn every_counted_action_has_one_stage() {
        assert_eq!(
            FunnelStage::Sent.actions(),
            ["sent", "call_initiated", "connection_requested"]
        );
        assert_eq!(
            FunnelStage::Converted.actions(),
            ["meeting_booked", "converted"]
        );
        assert_eq!(FunnelStage::of_action("opened"), Some(FunnelStage::Opened));
        assert_eq!(FunnelStage::of_action("complained"), None);
        assert_eq!(FunnelStage::of_action("nonsense"), None);
        let counted: usize = FunnelStage::ALL.iter().map(|s| s.actions().len()).sum();
        let with_stage = ActivityAction::ALL
            .iter()
            .filter(|a| a.stage().is_some())
            .count();
        assert_eq!(counted, with_stage);
    }

    #[test]
    fn percentages_round_to_hundredths_and_cap_at_100() {
        assert_eq!(percent(1, 3), 33.33);
        assert_eq!(percent(2, 3), 66.67);
        assert_eq!(percent(1, 8), 12.5);
        assert_eq!(percent(0, 0), 0.0);
        assert_eq!(percent(5, 0), 0.0);
        assert_eq!(percent(7, 5), 100.0);
        assert_eq!(percent(1, 200_000), 0.0);
        assert_eq!(percent(1, 20_000), 0.01);
    }

    #[test]
    fn ranges_default_to_the_last_30_days_and_refuse_bad_input() {
        let today = d("2026-12-03");
        let r = DateRange::resolve(None, None, today).expect("default");
        assert_eq!((r.start, r.end), (d("2026-11-04"), today));
        assert_eq!(r.days().count(), 30);
        let r = DateRange::resolve(None, Some(d("2026-01-31")), today).expect("end only");
        assert_eq!(r.start, d("2026-01-02"));
        assert_eq!(
            DateRange::resolve(Some(d("2026-02-02")), Some(d("2026-02-01")), today),
            Err(RangeError::Reversed)
        );
        assert_eq!(
            DateRange::resolve(Some(d("2024-12-31")), Some(d("2026-01-01")), today),
            Err(RangeError::TooLong)
        );
    }

    #[test]
    fn bounds_are_local_midnights() {
        let tz = chrono_tz::Australia::Sydney;
        let r = DateRange {
            start: d("2026-12-01"),
            end: d("2026-12-01"),
        };
        let (from, to) = r.bounds(tz);
        // AEDT is UTC+11 in December.
        assert_eq!(from.to_rfc3339(), "2026-11-30T13:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-12-01T13:00:00+00:00");
        // Spring forward in Sao Paulo historically skipped midnight; any tz works.
        let mid = local_midnight(d("2026-10-04"), tz);
        assert_eq!(mid.to_rfc3339(), "2026-10-03T14:00:00+00:00");
    }
}
