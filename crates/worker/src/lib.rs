//! The Agency OS background worker: runs queued jobs ([`runner`]) and serves health and
//! metrics. `main.rs` only parses configuration and calls [`run`].

pub mod config;
pub mod runner;

use std::sync::Arc;
use std::time::Duration;

use agency_cache::FallbackCache;
use agency_engine::jobs::handlers;
use agency_runtime::Shutdown;
use agency_runtime::health::{self, Readiness};
use sqlx::PgPool;

pub use config::{QueueArgs, WorkerConfig};
pub use runner::{Runner, RunnerSettings};

/// The runner settings `cfg` describes.
pub fn runner_settings(cfg: &WorkerConfig) -> RunnerSettings {
    let q = &cfg.queue;
    let listen_url = (q.listen && cfg.common.database.has_direct_url())
        .then(|| cfg.common.database.direct_url().ok().map(str::to_owned))
        .flatten();
    RunnerSettings {
        worker_name: q.worker_name(),
        lanes: q.lanes(),
        poll_interval: q.poll_interval(),
        heartbeat: Duration::from_secs(q.heartbeat_secs),
        lease: Duration::from_secs(q.lease_secs),
        sample_interval: Duration::from_secs(5),
        listen_url,
    }
}

/// Runs the worker until `shutdown`: the job runner, and health and metrics on `METRICS_PORT`.
pub async fn run(
    cfg: WorkerConfig,
    pool: PgPool,
    cache: Arc<FallbackCache>,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    let readiness = Readiness::new("agency-worker", pool.clone(), cache.clone());
    let runner = Runner::new(pool, cache, handlers::registry(), runner_settings(&cfg));
    let (served, ran) = tokio::join!(
        health::serve(cfg.metrics_addr(), readiness, shutdown.clone()),
        runner.run(shutdown.clone()),
    );
    served.and(ran)
}
