//! The Agency OS background worker: runs queued jobs ([`runner`]) with the configured
//! enrichment providers ([`install_providers`]) and serves health and metrics. `main.rs` only
//! parses configuration and calls [`run`].

pub mod config;
pub mod runner;

use std::sync::Arc;
use std::time::Duration;

use agency_cache::FallbackCache;
use agency_engine::jobs::handlers;
use agency_engine::outreach::{Links, OutreachEnv};
use agency_providers::{EnrichmentProviders, HttpSettings, ProvidersConfigError};
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

/// Validates the provider settings ([`WorkerConfig::validate_providers`]) and builds the
/// adapters (real where a key is set, sandbox otherwise), logging which are sandboxed.
pub fn build_providers(cfg: &WorkerConfig) -> Result<EnrichmentProviders, ProvidersConfigError> {
    cfg.validate_providers()?;
    let providers = cfg
        .providers
        .build(&HttpSettings::default(), chrono::Utc::now().date_naive())?;
    let sandboxed: Vec<String> = cfg
        .providers
        .sandboxed()
        .into_iter()
        .map(|(provider, var)| format!("{provider} (set {var})"))
        .collect();
    if sandboxed.is_empty() {
        tracing::info!("every enrichment provider is real");
    } else {
        tracing::warn!(
            sandboxed = ?sandboxed,
            environment = ?cfg.common.environment,
            "enrichment providers running as sandboxes (made-up data)"
        );
    }
    Ok(providers)
}

/// Builds the providers and installs them for this process's `enrich_lead` jobs; a process
/// that installed them before keeps the first set (logged).
pub fn install_providers(cfg: &WorkerConfig) -> Result<(), ProvidersConfigError> {
    let providers = build_providers(cfg)?;
    if !agency_engine::pipeline::install_providers(providers) {
        tracing::warn!("enrichment providers were installed before in this process; keeping them");
    }
    Ok(())
}

/// The email, SMS and voice senders and public links `send_outreach` runs with.
pub fn outreach_env(cfg: &WorkerConfig) -> anyhow::Result<OutreachEnv> {
    cfg.validate_providers()
        .map_err(|e| anyhow::anyhow!("provider configuration: {e}"))?;
    let providers = cfg
        .outreach
        .build(&HttpSettings::default())
        .map_err(|e| anyhow::anyhow!("outreach provider configuration: {e}"))?;
    let (base, secret) = cfg
        .links
        .resolve(cfg.common.environment)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(OutreachEnv {
        providers,
        links: Links::new(&base, secret),
    })
}

/// Runs the worker until `shutdown`: the job runner, and health and metrics on `METRICS_PORT`.
/// Stops at once, naming the variable, when the provider settings are unusable (e.g.
/// production with a sandbox provider and no `ALLOW_SANDBOX_IN_PRODUCTION=true`).
pub async fn run(
    cfg: WorkerConfig,
    pool: PgPool,
    cache: Arc<FallbackCache>,
    shutdown: Shutdown,
) -> anyhow::Result<()> {
    install_providers(&cfg).map_err(|e| anyhow::anyhow!("provider configuration: {e}"))?;
    let outreach = outreach_env(&cfg)?;
    let mut registry = handlers::registry();
    agency_engine::outreach::jobs::register_sender(&mut registry, Arc::new(outreach));
    let readiness = Readiness::new("agency-worker", pool.clone(), cache.clone());
    let runner = Runner::new(pool, cache, registry, runner_settings(&cfg));
    let (served, ran) = tokio::join!(
        health::serve(cfg.metrics.addr(), readiness, shutdown.clone()),
        runner.run(shutdown.clone()),
    );
    served.and(ran)
}
