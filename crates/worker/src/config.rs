//! The worker's configuration, read from the environment (and `.env`).

use std::time::Duration;

use agency_engine::jobs::Lane;
use agency_providers::{
    OutreachConfig, ProvidersConfig, ProvidersConfigError, WebhookSenderConfig, WebsiteReaderConfig,
};
use agency_runtime::config::Environment;
use agency_runtime::{AlertArgs, CommonArgs, MetricsArgs, PublicLinksArgs};
use clap::{Args, Parser};

/// Configuration of `agency-worker`; `--help` lists every variable.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "agency-worker",
    about = "Agency OS background worker: runs queued jobs",
    version
)]
pub struct WorkerConfig {
    /// Health and metrics server (`METRICS_HOST`, `METRICS_PORT`, default port 9091).
    #[command(flatten)]
    pub metrics: MetricsArgs<9091>,
    /// Job queue settings.
    #[command(flatten)]
    pub queue: QueueArgs,
    /// Enrichment and SEO providers (a provider without its key runs as a sandbox).
    #[command(flatten)]
    pub providers: ProvidersConfig,
    /// The website reader of onboarding (limits, sandbox, private addresses in development).
    #[command(flatten)]
    pub website: WebsiteReaderConfig,
    /// Accept sandbox enrichment providers in production (otherwise the worker refuses to start).
    #[arg(long = "allow-sandbox-in-production", env = "ALLOW_SANDBOX_IN_PRODUCTION", value_name = "ALLOW_SANDBOX_IN_PRODUCTION", default_value_t = false, action = clap::ArgAction::Set)]
    pub allow_sandbox_in_production: bool,
    /// Shared settings: database, Redis, telemetry.
    #[command(flatten)]
    pub common: CommonArgs,
    /// Email (Resend), SMS (Twilio) and voice (Vapi) senders (a channel without its key runs
    /// as the sandbox).
    #[command(flatten)]
    pub outreach: OutreachConfig,
    /// Public URL and unsubscribe-link key (`PUBLIC_BASE_URL`, `UNSUBSCRIBE_SECRET`).
    #[command(flatten)]
    pub links: PublicLinksArgs,
    /// Outbound webhooks to clients' endpoints (timeout; private addresses in development).
    #[command(flatten)]
    pub outbound_webhooks: WebhookSenderConfig,
    /// Keys opening clients' own provider credentials (`CREDENTIALS_KEYS`).
    #[command(flatten)]
    pub credentials: agency_providers::CredentialsConfig,
    /// Thresholds of the `check_alerts` job (the API's status page reads the same variables).
    #[command(flatten)]
    pub alerts: AlertArgs,
}

/// Job-queue settings of a worker process.
#[derive(Debug, Clone, Args)]
pub struct QueueArgs {
    /// This process's worker name (unique per process); default host-pid-random.
    #[arg(long = "worker-name", env = "WORKER_NAME", value_name = "WORKER_NAME")]
    pub worker_name: Option<String>,
    /// Worker tasks on the critical lane (webhook events).
    #[arg(long = "worker-critical-concurrency", env = "WORKER_CRITICAL_CONCURRENCY", value_name = "WORKER_CRITICAL_CONCURRENCY", default_value_t = 4, value_parser = clap::value_parser!(u32).range(0..=256))]
    pub critical_concurrency: u32,
    /// Worker tasks on the default lane (outreach, replies).
    #[arg(long = "worker-default-concurrency", env = "WORKER_DEFAULT_CONCURRENCY", value_name = "WORKER_DEFAULT_CONCURRENCY", default_value_t = 4, value_parser = clap::value_parser!(u32).range(0..=256))]
    pub default_concurrency: u32,
    /// Worker tasks on the bulk lane (enrichment, scoring, maintenance).
    #[arg(long = "worker-bulk-concurrency", env = "WORKER_BULK_CONCURRENCY", value_name = "WORKER_BULK_CONCURRENCY", default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=256))]
    pub bulk_concurrency: u32,
    /// Jobs the bulk lane claims ahead into its local buffer (critical and default lanes buffer
    /// as many as they have tasks).
    #[arg(long = "worker-bulk-batch", env = "WORKER_BULK_BATCH", value_name = "WORKER_BULK_BATCH", default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub bulk_batch: u32,
    /// How often an idle task polls for due jobs, in milliseconds (LISTEN wakes it sooner).
    #[arg(long = "worker-poll-interval-ms", env = "WORKER_POLL_INTERVAL_MS", value_name = "WORKER_POLL_INTERVAL_MS", default_value_t = 250, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub poll_interval_ms: u64,
    /// How often running jobs' leases are extended, in seconds.
    #[arg(long = "worker-heartbeat-secs", env = "WORKER_HEARTBEAT_SECS", value_name = "WORKER_HEARTBEAT_SECS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub heartbeat_secs: u64,
    /// A running job whose lease was not extended for this long is put back (its worker died).
    #[arg(long = "worker-lease-secs", env = "WORKER_LEASE_SECS", value_name = "WORKER_LEASE_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(2..=86_400))]
    pub lease_secs: u64,
    /// Use LISTEN on DATABASE_DIRECT_URL (when set) to wake idle tasks at once.
    #[arg(long = "worker-listen", env = "WORKER_LISTEN", value_name = "WORKER_LISTEN", default_value_t = true, action = clap::ArgAction::Set)]
    pub listen: bool,
}

impl QueueArgs {
    /// The worker name: configured, else `{host}-{pid}-{random}`.
    pub fn worker_name(&self) -> String {
        if let Some(name) = self.worker_name.as_ref().filter(|n| !n.trim().is_empty()) {
            return name.clone();
        }
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "worker".into());
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        format!("{host}-{}-{}", std::process::id(), &suffix[..8])
    }

    /// (lane, tasks, batch) for every lane.
    pub fn lanes(&self) -> Vec<(Lane, u32, u32)> {
        vec![
            (Lane::Critical, self.critical_concurrency, 1),
            (Lane::Default, self.default_concurrency, 1),
            (Lane::Bulk, self.bulk_concurrency, self.bulk_batch),
        ]
    }

    /// The idle poll interval.
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }
}

impl WorkerConfig {
    /// Checks the provider settings: cross-field rules, and production's refusal of sandbox
    /// providers unless `ALLOW_SANDBOX_IN_PRODUCTION=true` (the error names the variables).
    pub fn validate_providers(&self) -> Result<(), ProvidersConfigError> {
        let production = self.common.environment == Environment::Production;
        self.providers
            .validate(production, self.allow_sandbox_in_production)?;
        self.outreach
            .validate(production, self.allow_sandbox_in_production)
    }

    /// The validated credentials keys (a bad `CREDENTIALS_KEYS` names the variable).
    pub fn credential_keys(
        &self,
    ) -> Result<agency_providers::CredentialKeys, ProvidersConfigError> {
        self.credentials
            .keys()
            .map_err(|e| ProvidersConfigError::Invalid {
                var: agency_providers::sealed::CREDENTIALS_KEYS_VAR,
                reason: e.0,
            })
    }

    /// Builds the outbound webhook sender (production refuses private addresses).
    pub fn webhook_sender(
        &self,
    ) -> Result<std::sync::Arc<dyn agency_providers::WebhookSender>, ProvidersConfigError> {
        self.outbound_webhooks
            .build(self.common.environment == Environment::Production)
    }

    /// Builds the website reader (production refuses private addresses, and the sandbox
    /// without `ALLOW_SANDBOX_IN_PRODUCTION=true`).
    pub fn website_reader(
        &self,
    ) -> Result<std::sync::Arc<dyn agency_providers::WebsiteReader>, ProvidersConfigError> {
        self.website.build(
            self.common.environment == Environment::Production,
            self.allow_sandbox_in_production,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agency_providers::Provider;

    fn parse(args: &[&str]) -> WorkerConfig {
        let mut argv = vec!["agency-worker"];
        argv.extend_from_slice(args);
        WorkerConfig::try_parse_from(argv).expect("config parses")
    }

    #[test]
    fn production_refuses_outbound_webhooks_to_private_addresses() {
        let cfg = parse(&[
            "--agency-env",
            "production",
            "--outbound-webhooks-allow-private-addresses",
            "true",
        ]);
        let err = cfg.webhook_sender().unwrap_err().to_string();
        assert!(
            err.contains("OUTBOUND_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES"),
            "{err}"
        );
        assert!(
            parse(&["--agency-env", "production"])
                .webhook_sender()
                .is_ok()
        );
        assert!(
            parse(&["--outbound-webhooks-allow-private-addresses", "true"])
                .webhook_sender()
                .is_ok()
        );
    }

    #[test]
    fn the_metrics_server_defaults_to_port_9091() {
        assert_eq!(parse(&[]).metrics.addr().port(), 9091);
    }

    #[test]
    fn production_with_sandbox_providers_needs_the_opt_in_and_names_it() {
        let cfg = parse(&["--agency-env", "production", "--providers-sandbox", "true"]);
        let err = cfg.validate_providers().unwrap_err().to_string();
        assert!(err.contains("ALLOW_SANDBOX_IN_PRODUCTION"), "{err}");
        let cfg = parse(&[
            "--agency-env",
            "production",
            "--providers-sandbox",
            "true",
            "--allow-sandbox-in-production",
            "true",
        ]);
        assert!(cfg.allow_sandbox_in_production);
        cfg.validate_providers().expect("opted in");
    }

    #[test]
    fn development_accepts_sandboxes_and_reports_them() {
        let cfg = parse(&["--agency-env", "development", "--providers-sandbox", "true"]);
        cfg.validate_providers().expect("development");
        let sandboxed: Vec<Provider> = cfg
            .providers
            .sandboxed()
            .into_iter()
            .map(|(p, _)| p)
            .collect();
        assert_eq!(sandboxed.len(), 4);
        assert!(sandboxed.contains(&Provider::Apollo));
    }

    #[test]
    fn a_half_configured_provider_names_the_missing_variable() {
        let cfg = parse(&["--apify-api-token", "tok"]);
        let err = cfg.validate_providers().unwrap_err().to_string();
        assert!(err.contains("APIFY_ACTOR_ID"), "{err}");
    }
}
