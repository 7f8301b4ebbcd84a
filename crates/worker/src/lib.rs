//! The Agency OS background worker: runs queued jobs. `main.rs` only parses configuration and calls [`run`].

pub mod config;

use std::sync::Arc;

use agency_cache::FallbackCache;
use agency_runtime::Shutdown;
use agency_runtime::health::{self, Readiness};
use sqlx::PgPool;

pub use config::WorkerConfig;

/// Runs the worker until `shutdown`: health and metrics on `METRICS_PORT`.
pub async fn run(
    cfg: WorkerConfig,
    pool: PgPool,
    cache: Arc<FallbackCache>,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let readiness = Readiness::new("agency-worker", pool, cache);
    health::serve(cfg.metrics_addr(), readiness, shutdown).await
}
