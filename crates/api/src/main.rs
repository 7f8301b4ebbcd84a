//! `agency-api`: parses configuration and serves the HTTP API.

use std::sync::Arc;

use agency_api::{ApiConfig, AppState};
use agency_runtime::{Shutdown, config, telemetry};

/// mimalloc instead of glibc's allocator: a lead page allocates and frees hundreds of small
/// strings and a ~40 KB answer per request, and glibc's consolidation and chunk unlinking
/// were about a tenth of the API's CPU on that route (docs/benchmarks.md, issue 14).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cfg: ApiConfig = config::load();
    let _telemetry = telemetry::init("agency-api", &cfg.common.telemetry, cfg.common.environment);
    let pool = config::exit_on_config_error(cfg.common.database.pool("agency-api"));
    let cache = Arc::new(config::exit_on_config_error(
        cfg.common.redis.cache(pool.clone()),
    ));
    let settings = config::exit_on_config_error(cfg.settings());
    // No route calls a provider (sends, enrichment and analysis run in the worker, whose
    // Services are built from its provider configuration), so the API's providers are the
    // sandbox twins.
    // The engine's settings still know the environment (production requires https webhook
    // endpoints on public addresses).
    let credentials = config::exit_on_config_error(cfg.credential_keys());
    let verifier = config::exit_on_config_error(cfg.resource_verifier(&credentials));
    let settings_env = agency_engine::EngineSettings {
        production: cfg.common.environment == config::Environment::Production,
        credentials,
        resource_verification: config::exit_on_config_error(cfg.resource_verification()),
        ..agency_engine::EngineSettings::default()
    };
    let mut services =
        agency_engine::Services::with_sandbox_providers(pool, cache).with_settings(settings_env);
    // Proof of resource ownership is the one provider call the API makes (DNS, Twilio).
    services.providers = std::sync::Arc::new(
        agency_engine::Providers::sandbox(chrono::Utc::now()).with_verification(verifier),
    );
    let state = AppState::new(services, settings);
    agency_api::serve(cfg.listen_addr(), state, Shutdown::on_signals(), |_| {}).await
}
