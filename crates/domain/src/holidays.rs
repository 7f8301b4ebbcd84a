//! Australian public holidays, for the SMS and voice send window: the national holidays (with
//! their substitute days) and the fixed-rule holidays of each state and territory, computed
//! for any year (Easter by the Gregorian computus).
//!
//! National: New Year's Day and Australia Day (a weekend date moves to the Monday), Good Friday,
//! Easter Monday, Anzac Day (no weekday substitute, except WA and the ACT whose Sunday Anzac
//! Day moves to Monday), Christmas Day and Boxing Day (Saturday Christmas -> Monday 27 and
//! Tuesday 28; Sunday Christmas -> Tuesday 27; Saturday Boxing Day -> Monday 28).
//! States (weekday rules only: sends happen on weekdays): King's Birthday (second Monday of
//! June; Queensland first Monday of October; WA last Monday of September), Labour Day (NSW,
//! ACT, SA first Monday of October; VIC second Monday of March; QLD and NT first Monday of May
//! (NT May Day); WA first Monday of March; TAS Eight Hours Day second Monday of March), Canberra
//! Day (ACT, second Monday of March), Reconciliation Day (ACT, the Monday on or after 27 May),
//! Adelaide Cup (SA, second Monday of March), Melbourne Cup (VIC, first Tuesday of November),
//! Western Australia Day (first Monday of June), Picnic Day (NT, first Monday of August).
//! Holidays proclaimed year by year (the AFL Grand Final eve, regional show days) are not
//! included.

use chrono::{Datelike, Days, NaiveDate, Weekday};
use chrono_tz::Tz;

/// An Australian state or territory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuState {
    /// New South Wales.
    Nsw,
    /// Victoria.
    Vic,
    /// Queensland.
    Qld,
    /// South Australia.
    Sa,
    /// Western Australia.
    Wa,
    /// Tasmania.
    Tas,
    /// Australian Capital Territory.
    Act,
    /// Northern Territory.
    Nt,
}

/// The state whose holidays apply in a timezone (`Australia/Sydney` -> NSW, ...); `None`
/// outside Australia.
pub fn state_for_timezone(tz: Tz) -> Option<AuState> {
    let name = tz.name();
    let city = name.strip_prefix("Australia/")?;
    Some(match city {
        "Sydney" | "NSW" | "Broken_Hill" | "Yancowinna" | "Lord_Howe" | "LHI" => AuState::Nsw,
        "Canberra" | "ACT" => AuState::Act,
        "Melbourne" | "Victoria" => AuState::Vic,
        "Brisbane" | "Queensland" | "Lindeman" => AuState::Qld,
        "Adelaide" | "South" => AuState::Sa,
        "Perth" | "West" | "Eucla" => AuState::Wa,
        "Hobart" | "Tasmania" | "Currie" => AuState::Tas,
        "Darwin" | "North" => AuState::Nt,
        _ => return None,
    })
}

/// Easter Sunday of `year` (anonymous Gregorian algorithm).
pub fn easter_sunday(year: i32) -> Option<NaiveDate> {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)
}

/// The `n`th (1-based) `weekday` of a month.
fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n)
}

/// The last `weekday` of a month.
fn last_weekday(year: i32, month: u32, weekday: Weekday) -> Option<NaiveDate> {
    (1..=5)
        .rev()
        .find_map(|n| nth_weekday(year, month, weekday, n))
}

fn ymd(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
}

/// A weekend date's Monday; a weekday stays.
fn monday_if_weekend(date: NaiveDate) -> NaiveDate {
    match date.weekday() {
        Weekday::Sat => date + Days::new(2),
        Weekday::Sun => date + Days::new(1),
        _ => date,
    }
}

fn offset(date: Option<NaiveDate>, days: i64) -> Option<NaiveDate> {
    date.and_then(|d| d.checked_add_signed(chrono::Duration::days(days)))
}

/// Every public holiday (as observed on a weekday or not) of `year` in `state` (`None`: the
/// national ones only).
pub fn public_holidays(year: i32, state: Option<AuState>) -> Vec<NaiveDate> {
    use Weekday::{Mon, Tue};
    let easter = easter_sunday(year);
    let mut days: Vec<Option<NaiveDate>> = vec![
        ymd(year, 1, 1).map(monday_if_weekend),
        ymd(year, 1, 26).map(monday_if_weekend),
        offset(easter, -2),
        offset(easter, 1),
        ymd(year, 4, 25),
        ymd(year, 12, 25),
        ymd(year, 12, 26),
    ];
    if let Some(christmas) = ymd(year, 12, 25) {
        match christmas.weekday() {
            Weekday::Sat => days.extend([ymd(year, 12, 27), ymd(year, 12, 28)]),
            Weekday::Sun => days.push(ymd(year, 12, 27)),
            Weekday::Fri => days.push(ymd(year, 12, 28)),
            _ => {}
        }
    }
    let Some(state) = state else {
        return days.into_iter().flatten().collect();
    };
    let anzac = ymd(year, 4, 25);
    if matches!(state, AuState::Wa | AuState::Act)
        && anzac.is_some_and(|d| d.weekday() == Weekday::Sun)
    {
        days.push(offset(anzac, 1));
    }
    let kings_birthday = match state {
        AuState::Qld => nth_weekday(year, 10, Mon, 1),
        AuState::Wa => last_weekday(year, 9, Mon),
        _ => nth_weekday(year, 6, Mon, 2),
    };
    days.push(kings_birthday);
    match state {
        AuState::Nsw => days.push(nth_weekday(year, 10, Mon, 1)),
        AuState::Act => days.extend([
            nth_weekday(year, 10, Mon, 1),
            nth_weekday(year, 3, Mon, 2),
            ymd(year, 5, 27).map(|d| {
                let ahead = (7 - d.weekday().num_days_from_monday()) % 7;
                d + Days::new(u64::from(ahead))
            }),
        ]),
        AuState::Sa => days.extend([nth_weekday(year, 10, Mon, 1), nth_weekday(year, 3, Mon, 2)]),
        AuState::Vic => days.extend([nth_weekday(year, 3, Mon, 2), nth_weekday(year, 11, Tue, 1)]),
        AuState::Qld => days.push(nth_weekday(year, 5, Mon, 1)),
        AuState::Nt => days.extend([nth_weekday(year, 5, Mon, 1), nth_weekday(year, 8, Mon, 1)]),
        AuState::Wa => days.extend([nth_weekday(year, 3, Mon, 1), nth_weekday(year, 6, Mon, 1)]),
        AuState::Tas => days.push(nth_weekday(year, 3, Mon, 2)),
    }
    days.into_iter().flatten().collect()
}

/// True when `date` is a national public holiday or one of `state`'s.
pub fn is_public_holiday(date: NaiveDate, state: Option<AuState>) -> bool {
    public_holidays(date.year(), state).contains(&date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn easter_dates_match_the_published_tables() {
        // Published Easter Sundays.
        for (y, m, day) in [
            (2024, 3, 31),
            (2025, 4, 20),
            (2026, 4, 5),
            (2027, 3, 28),
            (2028, 4, 16),
            (2029, 4, 1),
            (2030, 4, 21),
            (2038, 4, 25),
        ] {
            assert_eq!(easter_sunday(y), Some(d(y, m, day)), "{y}");
        }
    }

    #[test]
    fn national_holidays_with_substitute_days() {
        // 2027: Christmas on a Saturday -> Monday 27 and Tuesday 28.
        assert!(is_public_holiday(d(2027, 12, 27), None));
        assert!(is_public_holiday(d(2027, 12, 28), None));
        // 2022: Christmas on a Sunday -> Boxing Day Monday 26, Christmas Tuesday 27.
        assert!(is_public_holiday(d(2022, 12, 26), None));
        assert!(is_public_holiday(d(2022, 12, 27), None));
        // 2026: Boxing Day on a Saturday -> Monday 28.
        assert!(is_public_holiday(d(2026, 12, 28), None));
        // Australia Day 2026 is a Monday; 2025 Sunday -> Monday 27 Jan.
        assert!(is_public_holiday(d(2026, 1, 26), None));
        assert!(is_public_holiday(d(2025, 1, 27), None));
        // New Year 2028 is a Saturday -> Monday 3 Jan.
        assert!(is_public_holiday(d(2028, 1, 3), None));
        // Good Friday and Easter Monday 2026, 2027, 2028.
        for (gf, em) in [
            (d(2026, 4, 3), d(2026, 4, 6)),
            (d(2027, 3, 26), d(2027, 3, 29)),
            (d(2028, 4, 14), d(2028, 4, 17)),
        ] {
            assert!(is_public_holiday(gf, None) && is_public_holiday(em, None));
        }
        // Anzac Day 2029 is a Wednesday.
        assert!(is_public_holiday(d(2029, 4, 25), None));
        // An ordinary Tuesday.
        assert!(!is_public_holiday(d(2026, 12, 8), None));
    }

    #[test]
    fn state_holidays_apply_only_in_their_state() {
        let melbourne_cup_2026 = d(2026, 11, 3);
        assert!(is_public_holiday(melbourne_cup_2026, Some(AuState::Vic)));
        assert!(!is_public_holiday(melbourne_cup_2026, Some(AuState::Nsw)));
        // King's Birthday 2026: NSW 8 June, QLD 5 October, WA 28 September.
        assert!(is_public_holiday(d(2026, 6, 8), Some(AuState::Nsw)));
        assert!(!is_public_holiday(d(2026, 6, 8), Some(AuState::Qld)));
        assert!(is_public_holiday(d(2026, 10, 5), Some(AuState::Qld)));
        assert!(is_public_holiday(d(2026, 9, 28), Some(AuState::Wa)));
        // Labour Day 2027: NSW 4 October, VIC 8 March, QLD 3 May, WA 1 March.
        assert!(is_public_holiday(d(2027, 10, 4), Some(AuState::Nsw)));
        assert!(is_public_holiday(d(2027, 3, 8), Some(AuState::Vic)));
        assert!(is_public_holiday(d(2027, 5, 3), Some(AuState::Qld)));
        assert!(is_public_holiday(d(2027, 3, 1), Some(AuState::Wa)));
        // Reconciliation Day (ACT) 2026: 27 May is a Wednesday -> Monday 1 June.
        assert!(is_public_holiday(d(2026, 6, 1), Some(AuState::Act)));
        // Anzac Day 2027 is a Sunday: Monday 26 April in WA, not in NSW.
        assert!(is_public_holiday(d(2027, 4, 26), Some(AuState::Wa)));
        assert!(!is_public_holiday(d(2027, 4, 26), Some(AuState::Nsw)));
    }

    #[test]
    fn timezones_name_their_state() {
        use chrono_tz::Australia;
        assert_eq!(state_for_timezone(Australia::Sydney), Some(AuState::Nsw));
        assert_eq!(state_for_timezone(Australia::Perth), Some(AuState::Wa));
        assert_eq!(state_for_timezone(Australia::Darwin), Some(AuState::Nt));
        assert_eq!(state_for_timezone(chrono_tz::Europe::London), None);
    }
}
