//! The Agency OS cron scheduler: enqueues the jobs of SPEC section 7's schedules
//! ([`schedules`]) in `Australia/Sydney` time. Single-fire with any number of schedulers: each
//! tick is recorded in `schedule_runs (schedule, tick)` in the same transaction as its job, and
//! `ON CONFLICT DO NOTHING` lets exactly one scheduler win. After downtime only the latest
//! missed tick of a schedule fires (once), if within the catch-up window. `main.rs` only parses
//! configuration and calls [`run`].

pub mod config;
pub mod schedules;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use agency_cache::FallbackCache;
use agency_engine::jobs::enqueue::new_job_id;
use agency_runtime::Shutdown;
use agency_runtime::health::{self, Readiness};
use agency_store::schedule_runs;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sqlx::PgPool;

pub use config::SchedulerConfig;
pub use schedules::{ScheduleDef, Target, default_schedules, disabled_schedules, spec_schedules};

/// A tick this scheduler fired.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    /// The schedule.
    pub schedule: String,
    /// The tick.
    pub tick: DateTime<Utc>,
    /// The job enqueued.
    pub job_id: String,
}

/// Firing failed.
#[derive(Debug, thiserror::Error)]
pub enum FireError {
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A statement failed.
    #[error(transparent)]
    Store(#[from] agency_store::StoreError),
    /// The job could not be enqueued.
    #[error(transparent)]
    Enqueue(#[from] agency_engine::jobs::EnqueueError),
}

/// Fires due ticks of a set of schedules.
#[derive(Debug)]
pub struct Scheduler {
    pool: PgPool,
    schedules: Vec<ScheduleDef>,
    tz: Tz,
    catch_up: chrono::Duration,
    name: String,
    /// Latest tick per schedule already settled (fired here or found fired): skips the database.
    settled: HashMap<String, DateTime<Utc>>,
    /// Ticks another scheduler had fired first (for tests and logs).
    pub lost_races: u64,
}

impl Scheduler {
    /// A scheduler for `schedules` read in `tz`.
    pub fn new(
        pool: PgPool,
        schedules: Vec<ScheduleDef>,
        tz: Tz,
        catch_up: chrono::Duration,
        name: String,
    ) -> Self {
        Self {
            pool,
            schedules,
            tz,
            catch_up,
            name,
            settled: HashMap::new(),
            lost_races: 0,
        }
    }

    /// Fires the latest due tick of each schedule unless it fired already (here or in
    /// another scheduler) or is older than the catch-up window.
    pub async fn fire_due(&mut self, now: DateTime<Utc>) -> Result<Vec<Fired>, FireError> {
        let mut fired = Vec::new();
        for i in 0..self.schedules.len() {
            let def = &self.schedules[i];
            let Some(tick) = def.latest_tick(now, self.tz) else {
                continue;
            };
            if self.settled.get(&def.name) == Some(&tick) {
                continue;
            }
            if now - tick > self.catch_up {
                tracing::debug!(schedule = %def.name, %tick, "latest tick is past the catch-up window; skipped");
                self.settled.insert(def.name.clone(), tick);
                continue;
            }
            let (name, target) = (def.name.clone(), def.target);
            match self.fire(&name, target, tick).await? {
                Some(job_id) => {
                    tracing::info!(schedule = %name, %tick, %job_id, late_s = (now - tick).num_seconds(), "schedule fired");
                    fired.push(Fired {
                        schedule: name.clone(),
                        tick,
                        job_id,
                    });
                }
                None => self.lost_races += 1,
            }
            self.settled.insert(name, tick);
        }
        Ok(fired)
    }

    /// Records the tick and enqueues its job in one transaction; `None` when it fired before.
    async fn fire(
        &self,
        schedule: &str,
        target: Target,
        tick: DateTime<Utc>,
    ) -> Result<Option<String>, FireError> {
        let job_id = new_job_id();
        let mut tx = self.pool.begin().await?;
        if !schedule_runs::record(&mut tx, schedule, tick, &job_id, &self.name).await? {
            tx.rollback().await?;
            return Ok(None);
        }
        schedules::enqueue_target(&mut tx, target, schedule, tick, &job_id).await?;
        tx.commit().await?;
        Ok(Some(job_id))
    }

    /// Checks every `interval` until `shutdown`; database errors are logged and retried.
    pub async fn run_loop(mut self, interval: Duration, shutdown: Shutdown) {
        loop {
            if let Err(e) = self.fire_due(Utc::now()).await {
                tracing::warn!(error = %e, "firing schedules failed; retrying next check");
            }
            tokio::select! {
                () = tokio::time::sleep(interval) => {},
                () = shutdown.wait() => return,
            }
        }
    }
}

/// Runs the scheduler until `shutdown`: the schedules, and health and metrics on `METRICS_PORT`.
pub async fn run(
    cfg: SchedulerConfig,
    pool: PgPool,
    cache: Arc<FallbackCache>,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let readiness = Readiness::new("agency-scheduler", pool.clone(), cache);
    let enabled = default_schedules();
    for def in disabled_schedules() {
        tracing::warn!(
            schedule = %def.name,
            kind = %def.target.kind(),
            "schedule disabled: its work is not built in this release (no handler registered)"
        );
    }
    tracing::info!(
        schedules = ?enabled.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
        "enabled schedules"
    );
    let scheduler = Scheduler::new(
        pool,
        enabled,
        cfg.timezone,
        chrono::Duration::hours(i64::from(cfg.catch_up_hours)),
        cfg.scheduler_name(),
    );
    tracing::info!(timezone = %cfg.timezone, "scheduler started");
    let interval = Duration::from_millis(cfg.check_interval_ms);
    let (served, ()) = tokio::join!(
        health::serve(cfg.metrics.addr(), readiness, shutdown.clone()),
        scheduler.run_loop(interval, shutdown.clone()),
    );
    served
}
