//! The hourly outreach safety net (`outreach_sweep`, 08:00-18:00 Mon-Fri Sydney): plans the
//! first touch of allocated leads that are due and have none, and enqueues every due send
//! (scheduled or approved, `due_at` passed) whose job for that time is not queued. Both are
//! found through indexes (`leads.next_action_at`, `outreach_sends` due), a batch at a time, and
//! locked `SKIP LOCKED` so sweeps in parallel split the work.

use agency_store::PgPool;
use agency_store::outreach as store;
use chrono::{DateTime, Utc};

use super::plan::plan_first_touch;
use super::send::enqueue_send;
use crate::jobs::JobError;

/// Rows handled per statement.
pub const SWEEP_BATCH: i64 = 500;

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepSummary {
    /// First touches planned.
    pub planned: u64,
    /// Due sends enqueued.
    pub enqueued: u64,
}

/// Runs the sweep at `now` (see the module doc).
pub async fn sweep(pool: &PgPool, now: DateTime<Utc>) -> Result<SweepSummary, JobError> {
    let mut summary = SweepSummary::default();
    loop {
        let mut tx = pool.begin().await?;
        let leads = store::leads_awaiting_first_touch(&mut tx, now, SWEEP_BATCH)
            .await
            .map_err(JobError::retryable)?;
        let mut planned_any = false;
        for (client, campaign, lead, due) in &leads {
            if plan_first_touch(&mut tx, *client, *campaign, *lead, (*due).max(now))
                .await?
                .is_some()
            {
                summary.planned += 1;
                planned_any = true;
            }
        }
        tx.commit().await?;
        if (leads.len() as i64) < SWEEP_BATCH || !planned_any {
            break;
        }
    }
    let mut tx = pool.begin().await?;
    let due = store::due(&mut tx, now, 5 * SWEEP_BATCH)
        .await
        .map_err(JobError::retryable)?;
    for (client, send, at) in due {
        if enqueue_send(&mut tx, client, send, at).await? {
            summary.enqueued += 1;
        }
    }
    tx.commit().await?;
    Ok(summary)
}
