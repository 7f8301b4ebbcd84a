//! `agency-worker`: parses configuration and runs the worker.

use std::sync::Arc;

use agency_runtime::{Shutdown, config, telemetry};
use agency_worker::WorkerConfig;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cfg: WorkerConfig = config::load();
    let _telemetry = telemetry::init(
        "agency-worker",
        &cfg.common.telemetry,
        cfg.common.environment,
    );
    // Provider settings are checked before anything connects (production refuses sandboxes
    // without ALLOW_SANDBOX_IN_PRODUCTION=true).
    if let Err(e) = cfg.validate_providers() {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
    let pool = config::exit_on_config_error(cfg.common.database.pool("agency-worker"));
    let cache = Arc::new(config::exit_on_config_error(
        cfg.common.redis.cache(pool.clone()),
    ));
    let services = match agency_worker::build_services(&cfg, pool, cache) {
        Ok(services) => services,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    agency_worker::run(cfg, services, Shutdown::on_signals()).await
}
