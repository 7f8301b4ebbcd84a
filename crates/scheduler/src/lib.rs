//! The Agency OS cron scheduler: enqueues scheduled jobs. `main.rs` only parses configuration and calls [`run`].

pub mod config;

use std::sync::Arc;

use agency_cache::FallbackCache;
use agency_runtime::Shutdown;
use agency_runtime::health::{self, Readiness};
use sqlx::PgPool;

pub use config::SchedulerConfig;

/// Runs the scheduler until `shutdown`: health and metrics on `METRICS_PORT`.
pub async fn run(
    cfg: SchedulerConfig,
    pool: PgPool,
    cache: Arc<FallbackCache>,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let readiness = Readiness::new("agency-scheduler", pool, cache);
    health::serve(cfg.metrics_addr(), readiness, shutdown).await
}
