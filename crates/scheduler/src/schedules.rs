//! The schedules of SPEC section 7 and the tick arithmetic: cron expressions read in
//! local wall-clock time (`Australia/Sydney` by default), resolved to instants with daylight
//! saving handled (a tick in the spring-forward gap fires when the gap ends; a tick in the
//! repeated autumn hour fires once, at its first occurrence).

use std::str::FromStr;

use agency_engine::jobs::handlers;
use agency_engine::jobs::payload::{
    CheckAlerts, Cleanup, CreditReset, EnrichmentSweep, LearnPatterns, OutreachSweep,
    PatternBackfill, RefreshReport, ReplyRecovery, ScheduledTick,
};
use agency_engine::jobs::{EnqueueError, EnqueueOptions, JobKind, JobPayload, enqueue_on};
use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use sqlx::PgConnection;

/// What a schedule enqueues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `enrichment_sweep`.
    EnrichmentSweep,
    /// `outreach_sweep`.
    OutreachSweep,
    /// `reply_recovery`.
    ReplyRecovery,
    /// `refresh_report` for every client.
    DailyMetrics,
    /// `credit_reset`.
    CreditReset,
    /// `learn_patterns` for every client.
    LearnPatterns,
    /// `pattern_backfill`.
    PatternBackfill,
    /// `cleanup` with the default retention.
    Cleanup,
    /// `check_alerts` (the system's own alerts).
    CheckAlerts,
}

impl Target {
    /// The job kind this target enqueues.
    pub const fn kind(self) -> JobKind {
        match self {
            Target::EnrichmentSweep => JobKind::EnrichmentSweep,
            Target::OutreachSweep => JobKind::OutreachSweep,
            Target::ReplyRecovery => JobKind::ReplyRecovery,
            Target::DailyMetrics => JobKind::RefreshReport,
            Target::CreditReset => JobKind::CreditReset,
            Target::LearnPatterns => JobKind::LearnPatterns,
            Target::PatternBackfill => JobKind::PatternBackfill,
            Target::Cleanup => JobKind::Cleanup,
            Target::CheckAlerts => JobKind::CheckAlerts,
        }
    }
}

/// A named cron schedule (six fields: sec min hour day-of-month month day-of-week).
#[derive(Debug, Clone)]
pub struct ScheduleDef {
    /// Stable name: the key in `schedule_runs`.
    pub name: String,
    /// The cron expression, in local wall-clock time.
    pub cron: cron::Schedule,
    /// The job it enqueues.
    pub target: Target,
}

impl ScheduleDef {
    /// A schedule from a cron expression.
    pub fn new(name: &str, cron: &str, target: Target) -> Result<Self, cron::error::Error> {
        Ok(Self {
            name: name.to_owned(),
            cron: cron::Schedule::from_str(cron)?,
            target,
        })
    }

    /// The latest tick at or before `now`, as an instant, read in `tz`.
    pub fn latest_tick(&self, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        // Walk the cron in naive local time (expressed as UTC so the cron crate does no zone
        // arithmetic of its own), then resolve the naive tick in `tz`.
        let local = now.with_timezone(&tz).naive_local().with_nanosecond(0)?;
        let bound = Utc.from_utc_datetime(&(local + Duration::seconds(1)));
        let mut iter = self.cron.after(&bound);
        // Skip naive ticks whose resolved instant is still in the future (the repeated hour).
        for _ in 0..4 {
            let naive = iter.next_back()?.naive_utc();
            let at = resolve(naive, tz)?;
            if at <= now {
                return Some(at);
            }
        }
        None
    }
}

/// The instant of a local wall-clock time: the earlier one when it occurs twice, the end of the
/// gap when it does not occur.
pub fn resolve(naive: NaiveDateTime, tz: Tz) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(a, b) => Some(a.min(b).with_timezone(&Utc)),
        LocalResult::None => {
            // In a spring-forward gap: the first minute after it.
            (1..=4).find_map(|h| {
                tz.from_local_datetime(&(naive + Duration::minutes(30 * h)))
                    .earliest()
                    .map(|t| {
                        let t = t.with_timezone(&Utc);
                        // Round down to the gap's end (a whole hour or half hour).
                        t - Duration::minutes(i64::from(t.minute() % 30))
                    })
            })
        }
    }
}

/// Every schedule of SPEC section 7 (and the minutely alert checks), whether or not this build
/// has the work behind it.
pub fn spec_schedules() -> Vec<ScheduleDef> {
    let defs = [
        ("enrichment", "0 0 2 * * *", Target::EnrichmentSweep),
        ("outreach", "0 0 8-18 * * Mon-Fri", Target::OutreachSweep),
        ("reply_recovery", "0 0 0/6 * * *", Target::ReplyRecovery),
        ("daily_metrics", "0 0 0 * * *", Target::DailyMetrics),
        ("credit_reset", "0 5 * * * *", Target::CreditReset),
        ("pattern_learning", "0 0 3 * * Sun", Target::LearnPatterns),
        ("pattern_backfill", "0 0 4 * * *", Target::PatternBackfill),
        ("retention_cleanup", "0 30 1 * * *", Target::Cleanup),
        // Not in SPEC 7: the alert checks of the admin console (issue 12), every minute.
        ("alert_checks", "0 * * * * *", Target::CheckAlerts),
    ];
    defs.iter()
        .filter_map(|(name, cron, target)| ScheduleDef::new(name, cron, *target).ok())
        .collect()
}

/// The schedules of SPEC section 7 whose job kind has a handler in this build's worker
/// registry (`agency_engine::jobs::handlers::registry`): the set the scheduler runs. A
/// schedule whose work is not built is left out instead of piling up `Pending` jobs.
pub fn default_schedules() -> Vec<ScheduleDef> {
    split_schedules().0
}

/// The schedules of SPEC section 7 left out because no handler exists for their kind yet.
pub fn disabled_schedules() -> Vec<ScheduleDef> {
    split_schedules().1
}

fn split_schedules() -> (Vec<ScheduleDef>, Vec<ScheduleDef>) {
    let registry = handlers::registry();
    spec_schedules()
        .into_iter()
        .partition(|def| registry.handles(def.target.kind()))
}

async fn push<J: JobPayload>(
    conn: &mut PgConnection,
    payload: &J,
    id: &str,
) -> Result<String, EnqueueError> {
    enqueue_on(
        conn,
        payload,
        EnqueueOptions {
            id: Some(id.to_owned()),
            ..EnqueueOptions::default()
        },
    )
    .await
}

/// Enqueues `target`'s job for `tick` with id `job_id` on `conn` (the caller's transaction).
pub async fn enqueue_target(
    conn: &mut PgConnection,
    target: Target,
    schedule: &str,
    tick: DateTime<Utc>,
    job_id: &str,
) -> Result<String, EnqueueError> {
    let t = ScheduledTick {
        schedule: schedule.to_owned(),
        tick,
    };
    match target {
        Target::EnrichmentSweep => push(conn, &EnrichmentSweep(t), job_id).await,
        Target::OutreachSweep => push(conn, &OutreachSweep(t), job_id).await,
        Target::ReplyRecovery => push(conn, &ReplyRecovery(t), job_id).await,
        Target::CreditReset => push(conn, &CreditReset(t), job_id).await,
        Target::CheckAlerts => push(conn, &CheckAlerts(t), job_id).await,
        Target::PatternBackfill => push(conn, &PatternBackfill(t), job_id).await,
        Target::DailyMetrics => {
            let job = RefreshReport {
                client_id: None,
                tick: Some(tick),
            };
            push(conn, &job, job_id).await
        }
        Target::LearnPatterns => {
            let job = LearnPatterns {
                client_id: None,
                tick: Some(tick),
            };
            push(conn, &job, job_id).await
        }
        Target::Cleanup => push(conn, &Cleanup::default(), job_id).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn sydney(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        resolve(
            NaiveDate::from_ymd_opt(y, m, d)
                .unwrap()
                .and_hms_opt(h, min, 0)
                .unwrap(),
            chrono_tz::Australia::Sydney,
        )
        .unwrap()
    }

    fn def(name: &str) -> ScheduleDef {
        spec_schedules()
            .into_iter()
            .find(|d| d.name == name)
            .unwrap()
    }

    const TZ: Tz = chrono_tz::Australia::Sydney;

    #[test]
    fn all_spec_schedules_parse() {
        assert_eq!(spec_schedules().len(), 9);
    }

    #[test]
    fn every_enabled_schedule_has_a_handler_and_the_rest_are_disabled() {
        let registry = handlers::registry();
        let enabled = default_schedules();
        assert!(!enabled.is_empty());
        for def in &enabled {
            assert!(
                registry.handles(def.target.kind()),
                "schedule {} enqueues {} which no handler runs",
                def.name,
                def.target.kind()
            );
        }
        let disabled = disabled_schedules();
        for def in &disabled {
            assert!(
                !registry.handles(def.target.kind()),
                "{} has a handler",
                def.name
            );
        }
        assert_eq!(enabled.len() + disabled.len(), spec_schedules().len());
        let mut names: Vec<&str> = enabled.iter().map(|d| d.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "alert_checks",
                "credit_reset",
                "daily_metrics",
                "enrichment",
                "outreach",
                "retention_cleanup"
            ]
        );
    }

    #[test]
    fn daily_two_am_is_sydney_time_in_summer_and_winter() {
        let enrich = def("enrichment");
        // Winter (AEST, UTC+10): 02:00 local = 16:00 UTC the day before.
        let tick = enrich.latest_tick(sydney(2026, 7, 1, 9, 0), TZ).unwrap();
        assert_eq!(tick, Utc.with_ymd_and_hms(2026, 6, 30, 16, 0, 0).unwrap());
        // Summer (AEDT, UTC+11): 02:00 local = 15:00 UTC the day before.
        let tick = enrich.latest_tick(sydney(2026, 1, 15, 9, 0), TZ).unwrap();
        assert_eq!(tick, Utc.with_ymd_and_hms(2026, 1, 14, 15, 0, 0).unwrap());
    }

    #[test]
    fn a_tick_in_the_spring_forward_gap_fires_when_the_gap_ends() {
        // 2026-10-04: clocks go from 02:00 AEST to 03:00 AEDT; 02:00 does not exist.
        let enrich = def("enrichment");
        let gap_end = Utc.with_ymd_and_hms(2026, 10, 3, 16, 0, 0).unwrap(); // 03:00 AEDT
        assert_eq!(enrich.latest_tick(gap_end, TZ), Some(gap_end));
        // Just before the gap the latest tick is the previous day's.
        let before = gap_end - Duration::seconds(1);
        assert_eq!(
            enrich.latest_tick(before, TZ),
            Some(Utc.with_ymd_and_hms(2026, 10, 2, 16, 0, 0).unwrap())
        );
    }

    #[test]
    fn a_tick_in_the_repeated_autumn_hour_is_one_instant() {
        // 2026-04-05: clocks go from 03:00 AEDT back to 02:00 AEST; 02:xx happens twice.
        let enrich = def("enrichment");
        let first = Utc.with_ymd_and_hms(2026, 4, 4, 15, 0, 0).unwrap(); // 02:00 AEDT
        let second = Utc.with_ymd_and_hms(2026, 4, 4, 16, 0, 0).unwrap(); // 02:00 AEST
        assert_eq!(enrich.latest_tick(first, TZ), Some(first));
        assert_eq!(
            enrich.latest_tick(second + Duration::minutes(30), TZ),
            Some(first)
        );
    }

    #[test]
    fn outreach_is_hourly_in_business_hours_on_weekdays_only() {
        let outreach = def("outreach");
        // Friday 2026-07-03 18:30 -> 18:00 the same day.
        let fri = outreach
            .latest_tick(sydney(2026, 7, 3, 18, 30), TZ)
            .unwrap();
        assert_eq!(fri, sydney(2026, 7, 3, 18, 0));
        // Sunday 12:00 -> still Friday 18:00.
        let sun = outreach.latest_tick(sydney(2026, 7, 5, 12, 0), TZ).unwrap();
        assert_eq!(sun, sydney(2026, 7, 3, 18, 0));
        // Monday 07:59 -> Friday 18:00; Monday 08:00 -> Monday 08:00.
        assert_eq!(
            outreach.latest_tick(sydney(2026, 7, 6, 7, 59), TZ).unwrap(),
            sydney(2026, 7, 3, 18, 0)
        );
        assert_eq!(
            outreach.latest_tick(sydney(2026, 7, 6, 8, 0), TZ).unwrap(),
            sydney(2026, 7, 6, 8, 0)
        );
    }

    #[test]
    fn pattern_learning_is_sunday_three_am() {
        let learn = def("pattern_learning");
        let tick = learn.latest_tick(sydney(2026, 7, 8, 12, 0), TZ).unwrap(); // a Wednesday
        assert_eq!(tick, sydney(2026, 7, 5, 3, 0));
    }
}
