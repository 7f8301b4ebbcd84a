//! The platform-admin console: alerts (raise, list, acknowledge), system status (API,
//! database, cache, queue lanes, dead letters, scheduler, provider circuits), platform stats
//! and revenue (MRR from the plan price table), the client list with its health score and one
//! client's detail, the activity feed across clients, the daily metrics job (`refresh_report`)
//! that snapshots every client's plan for growth and churn, the worker's publisher of provider
//! circuit changes and the periodic alert checks (`check_alerts`). Documented in `docs/admin.md`.

mod alert_job;
pub mod alerts;
mod circuits;
mod clients;
mod feed;
mod metrics_job;
mod stats;
mod status;

pub use alert_job::{WATCHDOG, WATCHDOG_AFTER, check_alerts_job, watchdog_slot};
pub use alerts::{Alert, RaiseAlert, acknowledge_alert, list_alerts, raise_alert};
pub use circuits::{
    CIRCUIT_OPEN_ALERT, CircuitPublisher, providers_status, publish as publish_circuit,
};
pub use clients::{
    AdminCampaign, AdminClient, AdminClientDetail, AdminClientQuery, PlanChange, TeamMember,
    change_plan, client_detail, clients_page,
};
pub use feed::{FEED_DEFAULT, FEED_MAX, FeedItem, activity_feed};
pub use metrics_job::{refresh_report, register};
pub use stats::{PlatformStats, Revenue, platform_stats, revenue};
pub use status::{AlertChecks, ServiceStatus, SystemStatus, check_alerts, system_status};

use agency_domain::PlanPrices;
use chrono::TimeDelta;

/// Thresholds and prices of the admin console (from the API's configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminSettings {
    /// Monthly plan prices (MRR).
    pub prices: PlanPrices,
    /// Dead-letter jobs at or above this raise a `dead_letters` alert (and degrade the queue).
    pub dead_letter_threshold: i64,
    /// No schedule fired for this long: a `scheduler_silent` alert, scheduler degraded.
    pub scheduler_silent_after: TimeDelta,
    /// A lane whose oldest due job waited this long is degraded.
    pub queue_stale_after: TimeDelta,
}

impl Default for AdminSettings {
    /// Default prices, 10 dead letters, 90 minutes of scheduler silence (the credit reset
    /// fires hourly), 5 minutes of queue wait.
    fn default() -> Self {
        Self {
            prices: PlanPrices::default(),
            dead_letter_threshold: 10,
            scheduler_silent_after: TimeDelta::minutes(90),
            queue_stale_after: TimeDelta::minutes(5),
        }
    }
}

/// The platform's timezone for "today" and "this month" (the scheduler's).
pub const PLATFORM_TZ: chrono_tz::Tz = agency_domain::hours::DEFAULT_TIMEZONE;
