//! `agency-scheduler`: parses configuration and runs the scheduler.

use std::sync::Arc;

use agency_runtime::{Shutdown, config, telemetry};
use agency_scheduler::SchedulerConfig;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cfg: SchedulerConfig = config::load();
    let _telemetry = telemetry::init(
        "agency-scheduler",
        &cfg.common.telemetry,
        cfg.common.environment,
    );
    let pool = config::exit_on_config_error(cfg.common.database.pool("agency-scheduler"));
    let cache = Arc::new(config::exit_on_config_error(
        cfg.common.redis.cache(pool.clone()),
    ));
    agency_scheduler::run(cfg, pool, cache, Shutdown::on_signals()).await
}
