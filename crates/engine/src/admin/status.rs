//! System status for platform admins: each service checked now with its latency (API,
//! database, cache, queue lanes with dead letters, scheduler, provider circuits), the worst of
//! them as `overall`; the conditions that need a human (dead letters over the threshold, a
//! silent scheduler, an open provider circuit) are raised as alerts on the way, by the same
//! checks the periodic `check_alerts` job runs ([`check_alerts`]).

use std::time::Instant;

use agency_cache::FallbackCache;
use agency_domain::AlertSeverity;
use agency_store::PgPool;
use agency_store::admin as store;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use utoipa::ToSchema;

use super::AdminSettings;
use super::alerts::{RaiseAlert, raise_alert};
use super::circuits::{alert_open_circuits, providers_status};
use crate::jobs::queue;
use crate::usecase::UseCaseError;

/// `healthy`, `degraded` or `down`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Working.
    Healthy,
    /// Working with a problem.
    Degraded,
    /// Not working.
    Down,
}

/// One service's state.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ServiceStatus {
    /// `api`, `database`, `redis`, `queue`, `scheduler` or `providers`.
    pub name: String,
    /// Its state.
    pub status: Health,
    /// How long the check took, in milliseconds.
    pub latency_ms: f64,
    /// What was found.
    pub message: String,
    /// The numbers behind it.
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
}

/// The platform's state.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SystemStatus {
    /// The worst service state.
    pub overall: Health,
    /// Every service.
    pub services: Vec<ServiceStatus>,
    /// When checked.
    pub checked_at: DateTime<Utc>,
}

fn ms(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 100_000.0).round() / 100.0
}

pub(crate) fn service(
    name: &str,
    status: Health,
    started: Instant,
    message: String,
    details: serde_json::Value,
) -> ServiceStatus {
    ServiceStatus {
        name: name.to_owned(),
        status,
        latency_ms: ms(started),
        message,
        details,
    }
}

/// Checks every service now and raises the alerts the findings call for.
pub async fn system_status(
    pool: &PgPool,
    cache: &FallbackCache,
    settings: &AdminSettings,
    now: DateTime<Utc>,
) -> Result<SystemStatus, UseCaseError> {
    let api = service(
        "api",
        Health::Healthy,
        Instant::now(),
        "serving requests".into(),
        json!({}),
    );
    let started = Instant::now();
    let db_ok = agency_store::health::ping(pool).await;
    let database = match &db_ok {
        Ok(_) => service(
            "database",
            Health::Healthy,
            started,
            "PostgreSQL answers".into(),
            json!({}),
        ),
        Err(e) => service(
            "database",
            Health::Down,
            started,
            format!("PostgreSQL failed: {e}"),
            json!({}),
        ),
    };
    let started = Instant::now();
    let redis = match cache.check().await {
        Ok(s) if s.degraded => service(
            "redis",
            Health::Degraded,
            started,
            format!("PostgreSQL fallback in use: {}", s.detail),
            json!({"backend": format!("{:?}", s.backend).to_lowercase(), "fallback": true}),
        ),
        Ok(s) => service(
            "redis",
            Health::Healthy,
            started,
            s.detail.clone(),
            json!({"backend": format!("{:?}", s.backend).to_lowercase(), "fallback": false}),
        ),
        Err(e) => service(
            "redis",
            Health::Down,
            started,
            format!("cache failed: {e}"),
            json!({}),
        ),
    };
    let mut services = vec![api, database, redis];
    if db_ok.is_ok() {
        services.push(queue_status(pool, settings, now).await?);
        services.push(scheduler_status(pool, settings, now).await?);
        services.push(providers_status(pool).await?);
    }
    let overall = services
        .iter()
        .map(|s| s.status)
        .max()
        .unwrap_or(Health::Healthy);
    Ok(SystemStatus {
        overall,
        services,
        checked_at: now,
    })
}

async fn queue_status(
    pool: &PgPool,
    settings: &AdminSettings,
    now: DateTime<Utc>,
) -> Result<ServiceStatus, UseCaseError> {
    let started = Instant::now();
    let (lanes, dead) = tokio::try_join!(queue::lane_depths(pool), queue::dead_count(pool))?;
    let mut status = Health::Healthy;
    let mut parts = Vec::new();
    let mut lane_details = serde_json::Map::new();
    for l in &lanes {
        let age = l
            .oldest_due
            .map(|t| (now - t).num_milliseconds().max(0) as f64 / 1000.0)
            .unwrap_or(0.0);
        if l.oldest_due
            .is_some_and(|t| now - t > settings.queue_stale_after)
        {
            status = Health::Degraded;
        }
        parts.push(format!(
            "{}: {} waiting (oldest {:.0} s)",
            l.lane, l.depth, age
        ));
        lane_details.insert(
            l.lane.as_str().to_owned(),
            json!({"depth": l.depth, "oldest_age_seconds": age}),
        );
    }
    if alert_dead_letters(pool, settings, dead).await? {
        status = Health::Degraded;
    }
    parts.push(format!("{dead} dead letters"));
    Ok(service(
        "queue",
        status,
        started,
        parts.join("; "),
        json!({"lanes": lane_details, "dead_letters": dead}),
    ))
}

async fn scheduler_status(
    pool: &PgPool,
    settings: &AdminSettings,
    now: DateTime<Utc>,
) -> Result<ServiceStatus, UseCaseError> {
    let started = Instant::now();
    let last = store::scheduler_last_tick(pool).await?;
    let silent = alert_silent_scheduler(pool, settings, last, now).await?;
    let message = match last {
        Some(t) => format!("last schedule fired at {}", t.to_rfc3339()),
        None => "no schedule has fired yet".to_owned(),
    };
    Ok(service(
        "scheduler",
        if silent {
            Health::Degraded
        } else {
            Health::Healthy
        },
        started,
        message,
        json!({"last_tick": last}),
    ))
}

/// Raises the `dead_letters` alert when `dead` reaches the threshold; answers whether it did.
async fn alert_dead_letters(
    pool: &PgPool,
    settings: &AdminSettings,
    dead: i64,
) -> Result<bool, UseCaseError> {
    if dead < settings.dead_letter_threshold {
        return Ok(false);
    }
    raise_alert(
        pool,
        RaiseAlert::new(
            "dead_letters",
            AlertSeverity::Warning,
            "Dead-letter jobs need attention",
            format!(
                "{dead} jobs are in the dead-letter state (threshold {}); inspect and retry them under /admin/jobs/dead.",
                settings.dead_letter_threshold
            ),
        )
        .metadata(json!({"dead_letters": dead, "threshold": settings.dead_letter_threshold})),
    )
    .await?;
    Ok(true)
}

/// Raises the `scheduler_silent` alert when no schedule fired for longer than allowed (`last`:
/// the latest firing); answers whether it did.
async fn alert_silent_scheduler(
    pool: &PgPool,
    settings: &AdminSettings,
    last: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<bool, UseCaseError> {
    let silent = last.is_none_or(|t| now - t > settings.scheduler_silent_after);
    if !silent {
        return Ok(false);
    }
    let minutes = settings.scheduler_silent_after.num_minutes();
    let seen = match last {
        Some(t) => format!("last schedule fired at {}", t.to_rfc3339()),
        None => "no schedule has fired yet".to_owned(),
    };
    raise_alert(
        pool,
        RaiseAlert::new(
            "scheduler_silent",
            AlertSeverity::Critical,
            "The scheduler is silent",
            format!("No schedule has fired for more than {minutes} minutes ({seen}); check the agency-scheduler process."),
        )
        .metadata(json!({"last_tick": last, "silent_after_minutes": minutes})),
    )
    .await?;
    Ok(true)
}

/// What one round of alert checks found (each condition's alert raised or bumped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AlertChecks {
    /// Dead-letter jobs now.
    pub dead_letters: i64,
    /// At or over the threshold.
    pub dead_letters_alerted: bool,
    /// No schedule fired for too long.
    pub scheduler_silent: bool,
    /// Provider circuits open.
    pub open_circuits: usize,
}

/// Runs the checks behind the system's own alerts (dead letters over the threshold, a silent
/// scheduler, open provider circuits) and raises what they find; an open alert of the same
/// condition is bumped, not repeated. The status page runs the same checks when read.
pub async fn check_alerts(
    pool: &PgPool,
    settings: &AdminSettings,
    now: DateTime<Utc>,
) -> Result<AlertChecks, UseCaseError> {
    let dead = queue::dead_count(pool).await?;
    let last = store::scheduler_last_tick(pool).await?;
    let circuits = agency_store::circuits::list(pool).await?;
    Ok(AlertChecks {
        dead_letters: dead,
        dead_letters_alerted: alert_dead_letters(pool, settings, dead).await?,
        scheduler_silent: alert_silent_scheduler(pool, settings, last, now).await?,
        open_circuits: alert_open_circuits(pool, &circuits).await?,
    })
}
