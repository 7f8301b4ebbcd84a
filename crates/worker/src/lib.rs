//! The Agency OS background worker: runs queued jobs ([`runner`]) over the engine's
//! [`Services`] built from configuration ([`build_services`]) and serves health and metrics.
//! `main.rs` only parses configuration and calls [`run`].

pub mod config;
pub mod runner;

use std::sync::Arc;
use std::time::Duration;

use agency_cache::FallbackCache;
use agency_engine::admin::{AdminSettings, CircuitPublisher};
use agency_engine::ai::{AiGate, AiSettings};
use agency_engine::jobs::handlers;
use agency_engine::outreach::{Links, OutreachEnv};
use agency_engine::{EngineSettings, Providers, Services};
use agency_providers::{CircuitWatch, EnrichmentProviders, HttpSettings, ProvidersConfigError};
use agency_runtime::Shutdown;
use agency_runtime::config::Environment;
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
    q.runner_settings(listen_url)
}

impl QueueArgs {
    /// The runner settings these queue arguments describe, LISTENing on `listen_url` if any.
    pub fn runner_settings(&self, listen_url: Option<String>) -> RunnerSettings {
        RunnerSettings {
            worker_name: self.worker_name(),
            lanes: self.lanes(),
            poll_interval: self.poll_interval(),
            heartbeat: Duration::from_secs(self.heartbeat_secs),
            lease: Duration::from_secs(self.lease_secs),
            sample_interval: Duration::from_secs(5),
            listen_url,
        }
    }
}

/// Validates the provider settings ([`WorkerConfig::validate_providers`]) and builds the
/// adapters (real where a key is set, sandbox otherwise), logging which are sandboxed.
pub fn build_providers(
    cfg: &WorkerConfig,
    http: &HttpSettings,
) -> Result<EnrichmentProviders, ProvidersConfigError> {
    cfg.validate_providers()?;
    let providers = cfg.providers.build(http, chrono::Utc::now().date_naive())?;
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

/// The email, SMS and voice senders (real where a key is set, sandbox only where allowed) and
/// the public links `send_outreach` runs with.
pub fn outreach_env(
    cfg: &WorkerConfig,
    http: &HttpSettings,
) -> Result<OutreachEnv, ProvidersConfigError> {
    cfg.validate_providers()?;
    let mut providers = cfg.outreach.build(http)?;
    providers.client_sms = cfg.outreach.client_sms(&cfg.credential_keys()?, http);
    let (base, secret) =
        cfg.links
            .resolve(cfg.common.environment)
            .map_err(|e| ProvidersConfigError::Invalid {
                var: "UNSUBSCRIBE_SECRET",
                reason: e.to_string(),
            })?;
    Ok(OutreachEnv {
        providers,
        links: Links::configured(&base, secret),
    })
}

/// The alert thresholds of the worker's `check_alerts` job (from `ALERT_*`; the prices are
/// the API's business and stay at their defaults here).
pub fn admin_settings(cfg: &WorkerConfig) -> Result<AdminSettings, ProvidersConfigError> {
    let a = &cfg.alerts;
    // `validate` only answers `Invalid`.
    if let Err(agency_runtime::ConfigError::Invalid { var, reason }) = a.validate() {
        return Err(ProvidersConfigError::Invalid { var, reason });
    }
    Ok(AdminSettings {
        dead_letter_threshold: a.alert_dead_letter_threshold,
        scheduler_silent_after: chrono::TimeDelta::minutes(a.alert_scheduler_silent_minutes),
        queue_stale_after: chrono::TimeDelta::minutes(a.alert_queue_stale_minutes),
        ..AdminSettings::default()
    })
}

/// The worker's [`Services`]: `pool` and `cache` with the providers `cfg` configures (real
/// where a key is set, sandbox twins only where allowed; see [`build_providers`]). Every
/// provider client's circuit breaker publishes its changes of state to `provider_circuits`
/// ([`CircuitPublisher`], started on the current runtime).
pub fn build_services(
    cfg: &WorkerConfig,
    pool: PgPool,
    cache: Arc<FallbackCache>,
) -> Result<Services, ProvidersConfigError> {
    let production = cfg.common.environment == Environment::Production;
    cfg.providers
        .ai
        .validate(production, cfg.allow_sandbox_in_production)?;
    let admin = admin_settings(cfg)?;
    let http = HttpSettings {
        circuits: CircuitWatch::new(CircuitPublisher::start(pool.clone())),
        ..HttpSettings::default()
    };
    let model = cfg.providers.ai.build(&http)?;
    let ai = AiGate::new(model, AiSettings::from_config(&cfg.providers.ai)?);
    let providers = Providers::new(build_providers(cfg, &http)?)
        .with_ai(ai)
        .with_website(cfg.website_reader()?)
        .with_outreach(outreach_env(cfg, &http)?)
        .with_webhooks(cfg.webhook_sender()?);
    let settings = EngineSettings {
        production: cfg.common.environment == Environment::Production,
        sandbox_feedback: false,
        credentials: cfg.credential_keys()?,
        admin,
        ..EngineSettings::default()
    };
    Ok(Services::new(pool, cache, providers, settings))
}

/// Runs the worker until `shutdown` over `services` (see [`build_services`]): the job runner,
/// and health and metrics on `METRICS_PORT`.
pub async fn run(cfg: WorkerConfig, services: Services, shutdown: Shutdown) -> anyhow::Result<()> {
    let readiness = Readiness::new(
        "agency-worker",
        services.pool.clone(),
        services.cache.clone(),
    );
    let runner = Runner::new(services, handlers::registry(), runner_settings(&cfg));
    let (served, ran) = tokio::join!(
        health::serve(cfg.metrics.addr(), readiness, shutdown.clone()),
        runner.run(shutdown.clone()),
    );
    served.and(ran)
}
