//! The periodic alert checks (`check_alerts`, the every-minute `alert_checks` schedule): runs
//! [`check_alerts`] so that dead letters over the threshold, a silent scheduler and open
//! provider circuits raise their alerts without anyone reading the status page. Each run also
//! queues a watchdog run a few minutes ahead (at most one per five-minute slot), so the checks
//! go on, and report the scheduler silent, when the scheduler itself has stopped.

use chrono::{DateTime, Duration, DurationRound, Utc};

use super::status::check_alerts;
use crate::jobs::payload::{CheckAlerts, ScheduledTick};
use crate::jobs::{EnqueueError, EnqueueOptions, JobContext, JobError, enqueue};

/// The schedule name of the watchdog runs.
pub const WATCHDOG: &str = "alert_checks_watchdog";
/// How far ahead a watchdog run is queued (and the width of its deduplication slot).
pub const WATCHDOG_AFTER: Duration = Duration::minutes(5);

/// The slot of the watchdog run queued at `now`: the next five-minute boundary at least
/// [`WATCHDOG_AFTER`] ahead.
pub fn watchdog_slot(now: DateTime<Utc>) -> DateTime<Utc> {
    let ahead = now + WATCHDOG_AFTER;
    ahead
        .duration_trunc(WATCHDOG_AFTER)
        .map(|t| if t < ahead { t + WATCHDOG_AFTER } else { t })
        .unwrap_or(ahead)
}

/// Runs the checks, then makes sure a watchdog run is queued.
pub async fn check_alerts_job(ctx: JobContext, job: CheckAlerts) -> Result<(), JobError> {
    let now = ctx.services.clock.now();
    let pool = &ctx.services.pool;
    let found = check_alerts(pool, &ctx.services.settings.admin, now)
        .await
        .map_err(JobError::retryable)?;
    tracing::info!(schedule = %job.0.schedule, dead_letters = found.dead_letters,
        scheduler_silent = found.scheduler_silent, open_circuits = found.open_circuits,
        "alert checks ran");
    let slot = watchdog_slot(now);
    let watchdog = CheckAlerts(ScheduledTick {
        schedule: WATCHDOG.to_owned(),
        tick: slot,
    });
    let queued = enqueue(
        pool,
        &watchdog,
        EnqueueOptions {
            run_at: Some(slot),
            idempotency_key: Some(format!("{WATCHDOG}:{}", slot.timestamp())),
            ..EnqueueOptions::default()
        },
    )
    .await;
    match queued {
        Ok(_) | Err(EnqueueError::Duplicate { .. }) => Ok(()),
        Err(e) => Err(JobError::retryable(e)),
    }
}
