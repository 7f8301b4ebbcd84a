//! Configuration shared by the binaries. Each binary owns one `clap::Parser` struct that
//! flattens these groups; every field reads an environment variable (after `.env` is loaded),
//! `--help` lists them all, and a bad or missing value stops the process with a message that
//! names the variable.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use agency_store::{PoolSettings, PoolerMode};
use clap::{Args, Parser, ValueEnum};
use secrecy::{ExposeSecret, SecretString};

/// A configuration value that cannot be used; the message names the variable.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is unset or empty.
    #[error("{var} is not set: {hint}")]
    Missing {
        /// The environment variable.
        var: &'static str,
        /// What to set it to.
        hint: &'static str,
    },
    /// A variable is set to something unusable.
    #[error("{var} is invalid: {reason}")]
    Invalid {
        /// The environment variable.
        var: &'static str,
        /// Why.
        reason: String,
    },
}

/// Where the process runs: production refuses unsafe defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Environment {
    /// Local development and tests: sandbox providers allowed.
    #[default]
    Development,
    /// Production: sandbox providers only with an explicit opt-in.
    Production,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    /// One JSON object per line (the default, for log shippers).
    #[default]
    Json,
    /// Human-readable lines for a terminal.
    Pretty,
}

fn parse_secret(value: &str) -> Result<SecretString, String> {
    if value.trim().is_empty() {
        return Err("must not be empty".into());
    }
    Ok(SecretString::from(value.to_owned()))
}

fn parse_postgres_url(value: &str) -> Result<SecretString, String> {
    let url = url::Url::parse(value).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return Err(format!(
            "expected a postgres:// URL, got scheme '{}'",
            url.scheme()
        ));
    }
    Ok(SecretString::from(value.to_owned()))
}

fn parse_redis_url(value: &str) -> Result<SecretString, String> {
    let url = url::Url::parse(value).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "redis" | "rediss" | "redis+unix" | "unix") {
        return Err(format!(
            "expected a redis:// URL, got scheme '{}'",
            url.scheme()
        ));
    }
    Ok(SecretString::from(value.to_owned()))
}

/// PostgreSQL connection settings.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// PostgreSQL URL for queries; may be a transaction pooler (port 6543 in production).
    #[arg(long = "database-url", env = "DATABASE_URL", value_name = "DATABASE_URL", value_parser = parse_postgres_url, hide_env_values = true)]
    pub database_url: Option<SecretString>,
    /// Direct (session) PostgreSQL URL for migrations and LISTEN; defaults to DATABASE_URL.
    #[arg(long = "database-direct-url", env = "DATABASE_DIRECT_URL", value_name = "DATABASE_DIRECT_URL", value_parser = parse_postgres_url, hide_env_values = true)]
    pub database_direct_url: Option<SecretString>,
    /// Connections each process keeps in its pool.
    #[arg(long = "database-pool-size", env = "DATABASE_POOL_SIZE", value_name = "DATABASE_POOL_SIZE", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=500))]
    pub pool_size: u32,
    /// Extra connections the pool may open under load.
    #[arg(long = "database-max-overflow", env = "DATABASE_MAX_OVERFLOW", value_name = "DATABASE_MAX_OVERFLOW", default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=500))]
    pub max_overflow: u32,
    /// Set when DATABASE_URL is a transaction pooler: disables the prepared-statement cache.
    #[arg(long = "database-transaction-pooler", env = "DATABASE_TRANSACTION_POOLER", value_name = "DATABASE_TRANSACTION_POOLER", default_value_t = false, action = clap::ArgAction::Set)]
    pub transaction_pooler: bool,
}

impl DatabaseArgs {
    /// The query URL, or an error naming `DATABASE_URL`.
    pub fn url(&self) -> Result<&str, ConfigError> {
        self.database_url
            .as_ref()
            .map(|s| s.expose_secret())
            .ok_or(ConfigError::Missing {
                var: "DATABASE_URL",
                hint: "set it to a postgres:// URL (see .env.example)",
            })
    }

    /// The session URL for migrations and LISTEN: `DATABASE_DIRECT_URL`, else `DATABASE_URL`.
    pub fn direct_url(&self) -> Result<&str, ConfigError> {
        match &self.database_direct_url {
            Some(url) => Ok(url.expose_secret()),
            None => self.url(),
        }
    }

    /// True when a separate session URL was configured.
    pub fn has_direct_url(&self) -> bool {
        self.database_direct_url.is_some()
    }

    /// Pool settings for the query pool of `service`.
    pub fn pool_settings(&self, service: &str) -> PoolSettings {
        PoolSettings {
            min_connections: 0,
            max_connections: self.pool_size + self.max_overflow,
            acquire_timeout: Duration::from_secs(5),
            pooler: if self.transaction_pooler {
                PoolerMode::Transaction
            } else {
                PoolerMode::Session
            },
            application_name: service.to_owned(),
        }
    }

    /// Pool settings for a small session pool (migrations, LISTEN).
    pub fn direct_pool_settings(&self, service: &str) -> PoolSettings {
        PoolSettings {
            min_connections: 0,
            max_connections: 2,
            acquire_timeout: Duration::from_secs(5),
            pooler: PoolerMode::Session,
            application_name: format!("{service}-direct"),
        }
    }

    /// Opens the query pool lazily (readiness reports a database that is down).
    pub fn pool(&self, service: &str) -> Result<sqlx::PgPool, ConfigError> {
        agency_store::connect_lazy(self.url()?, &self.pool_settings(service)).map_err(|e| {
            ConfigError::Invalid {
                var: "DATABASE_URL",
                reason: e.to_string(),
            }
        })
    }
}

/// Redis settings.
#[derive(Debug, Clone, Args)]
pub struct RedisArgs {
    /// Redis URL for cache, rate limits and AI-spend counters; unset: PostgreSQL fallback.
    #[arg(long = "redis-url", env = "REDIS_URL", value_name = "REDIS_URL", value_parser = parse_redis_url, hide_env_values = true)]
    pub redis_url: Option<SecretString>,
}

impl RedisArgs {
    /// The URL, if configured.
    pub fn url(&self) -> Option<&str> {
        self.redis_url.as_ref().map(|s| s.expose_secret())
    }

    /// The cache: Redis when configured, with the PostgreSQL fallback.
    pub fn cache(&self, pool: sqlx::PgPool) -> Result<agency_cache::FallbackCache, ConfigError> {
        agency_cache::FallbackCache::new(self.url(), pool).map_err(|e| ConfigError::Invalid {
            var: "REDIS_URL",
            reason: e.to_string(),
        })
    }
}

/// Logging and error reporting.
#[derive(Debug, Clone, Args)]
pub struct TelemetryArgs {
    /// Log filter (tracing-subscriber EnvFilter syntax).
    #[arg(
        long = "log-level",
        env = "RUST_LOG",
        value_name = "RUST_LOG",
        default_value = "info,sqlx=warn,tower_http=info"
    )]
    pub log_filter: String,
    /// Log format: json or pretty.
    #[arg(long = "log-format", env = "LOG_FORMAT", value_name = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Json)]
    pub log_format: LogFormat,
    /// Sentry DSN; errors and panics are reported when set.
    #[arg(long = "sentry-dsn", env = "SENTRY_DSN", value_name = "SENTRY_DSN", value_parser = parse_secret, hide_env_values = true)]
    pub sentry_dsn: Option<SecretString>,
    /// Fraction of traces sent to Sentry (0.0-1.0).
    #[arg(long = "sentry-traces-sample-rate", env = "SENTRY_TRACES_SAMPLE_RATE", value_name = "SENTRY_TRACES_SAMPLE_RATE", default_value_t = 0.0, value_parser = parse_fraction)]
    pub sentry_traces_sample_rate: f32,
}

fn parse_fraction(value: &str) -> Result<f32, String> {
    let v: f32 = value
        .parse()
        .map_err(|_| format!("'{value}' is not a number"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is outside 0.0-1.0"))
    }
}

/// Thresholds of the system's own alerts: the API's status page and the worker's periodic
/// `check_alerts` job read the same variables.
#[derive(Debug, Clone, Args)]
pub struct AlertArgs {
    /// Dead-letter jobs at or above this raise an alert.
    #[arg(
        long = "alert-dead-letter-threshold",
        env = "ALERT_DEAD_LETTER_THRESHOLD",
        value_name = "ALERT_DEAD_LETTER_THRESHOLD",
        default_value_t = 10
    )]
    pub alert_dead_letter_threshold: i64,
    /// Minutes without any schedule firing before the scheduler counts as silent.
    #[arg(
        long = "alert-scheduler-silent-minutes",
        env = "ALERT_SCHEDULER_SILENT_MINUTES",
        value_name = "ALERT_SCHEDULER_SILENT_MINUTES",
        default_value_t = 90
    )]
    pub alert_scheduler_silent_minutes: i64,
    /// Minutes the oldest due job of a lane may wait before the queue counts as degraded.
    #[arg(
        long = "alert-queue-stale-minutes",
        env = "ALERT_QUEUE_STALE_MINUTES",
        value_name = "ALERT_QUEUE_STALE_MINUTES",
        default_value_t = 5
    )]
    pub alert_queue_stale_minutes: i64,
}

impl AlertArgs {
    /// Every threshold must be positive.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (var, n) in [
            (
                "ALERT_DEAD_LETTER_THRESHOLD",
                self.alert_dead_letter_threshold,
            ),
            (
                "ALERT_SCHEDULER_SILENT_MINUTES",
                self.alert_scheduler_silent_minutes,
            ),
            ("ALERT_QUEUE_STALE_MINUTES", self.alert_queue_stale_minutes),
        ] {
            if n <= 0 {
                return Err(ConfigError::Invalid {
                    var,
                    reason: "must be positive".into(),
                });
            }
        }
        Ok(())
    }
}

/// Our public address and the key of the links we put in messages (the API verifies what the
/// worker signs, so both read the same variables).
#[derive(Debug, Clone, Args)]
pub struct PublicLinksArgs {
    /// The public URL of the API, as providers and recipients reach it (unsubscribe links,
    /// provider status callbacks).
    #[arg(
        long = "public-base-url",
        env = "PUBLIC_BASE_URL",
        value_name = "PUBLIC_BASE_URL",
        default_value = "http://localhost:8080"
    )]
    pub public_base_url: String,
    /// Key that signs unsubscribe links (required in production; rotating it breaks the links
    /// already sent, so keep it stable).
    #[arg(long = "unsubscribe-secret", env = "UNSUBSCRIBE_SECRET", value_name = "UNSUBSCRIBE_SECRET", value_parser = parse_secret, hide_env_values = true)]
    pub unsubscribe_secret: Option<SecretString>,
}

impl PublicLinksArgs {
    /// The validated base URL (no trailing slash) and signing secret; `None` (the development
    /// key) only outside production.
    pub fn resolve(
        &self,
        environment: Environment,
    ) -> Result<(String, Option<SecretString>), ConfigError> {
        let url =
            url::Url::parse(self.public_base_url.trim()).map_err(|e| ConfigError::Invalid {
                var: "PUBLIC_BASE_URL",
                reason: format!("not a URL ({e})"),
            })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ConfigError::Invalid {
                var: "PUBLIC_BASE_URL",
                reason: format!("expected an http(s) URL, got scheme '{}'", url.scheme()),
            });
        }
        let secret = match (&self.unsubscribe_secret, environment) {
            (Some(secret), _) => Some(secret.clone()),
            (None, Environment::Development) => None,
            (None, Environment::Production) => {
                return Err(ConfigError::Missing {
                    var: "UNSUBSCRIBE_SECRET",
                    hint: "set a long random secret to sign unsubscribe links",
                });
            }
        };
        Ok((url.as_str().trim_end_matches('/').to_owned(), secret))
    }
}

/// The groups every service binary reads.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    /// Deployment environment: development or production.
    #[arg(long = "agency-env", env = "AGENCY_ENV", value_name = "AGENCY_ENV", value_enum, default_value_t = Environment::Development)]
    pub environment: Environment,
    /// PostgreSQL.
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Redis.
    #[command(flatten)]
    pub redis: RedisArgs,
    /// Logging and Sentry.
    #[command(flatten)]
    pub telemetry: TelemetryArgs,
}

/// The health and metrics server of a background binary (`/healthz`, `/readyz`, `/metrics`);
/// `DEFAULT_PORT` is that binary's default `METRICS_PORT`, shown by `--help`.
#[derive(Debug, Clone, Args)]
pub struct MetricsArgs<const DEFAULT_PORT: u16> {
    /// Address of the health and metrics server.
    #[arg(
        long = "metrics-host",
        env = "METRICS_HOST",
        value_name = "METRICS_HOST",
        default_value = "0.0.0.0"
    )]
    pub metrics_host: IpAddr,
    /// Port of the health and metrics server (`/healthz`, `/readyz`, `/metrics`).
    #[arg(
        long = "metrics-port",
        env = "METRICS_PORT",
        value_name = "METRICS_PORT",
        default_value_t = DEFAULT_PORT
    )]
    pub metrics_port: u16,
}

impl<const DEFAULT_PORT: u16> MetricsArgs<DEFAULT_PORT> {
    /// The health server's socket address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.metrics_host, self.metrics_port)
    }
}

/// Loads `.env` (when present; real environment variables win) and parses `T`, exiting with
/// clap's message (which names the variable) on a bad value.
pub fn load<T: Parser>() -> T {
    load_dotenv();
    T::parse()
}

/// Loads `.env` from the working directory or a parent, if there is one. A malformed file stops
/// the process with the line at fault.
pub fn load_dotenv() {
    match dotenvy::dotenv() {
        Ok(_) => {}
        Err(e) if e.not_found() => {}
        Err(e) => {
            eprintln!("error: .env could not be read: {e}");
            std::process::exit(2);
        }
    }
}

/// Stops the process with a configuration error naming the variable.
pub fn exit_on_config_error<T>(result: Result<T, ConfigError>) -> T {
    match result {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[derive(Debug, Parser)]
    struct Probe {
        #[command(flatten)]
        common: CommonArgs,
    }

    fn parse(args: &[&str]) -> Result<Probe, String> {
        let mut argv = vec!["probe"];
        argv.extend_from_slice(args);
        Probe::try_parse_from(argv).map_err(|e| e.to_string())
    }

    #[test]
    fn a_bad_database_url_names_the_variable() {
        let err = parse(&["--database-url", "mysql://x"]).unwrap_err();
        assert!(err.contains("DATABASE_URL"), "{err}");
        assert!(err.contains("expected a postgres:// URL"), "{err}");
    }

    #[test]
    fn a_bad_pool_size_names_the_variable() {
        let err = parse(&["--database-pool-size", "lots"]).unwrap_err();
        assert!(err.contains("DATABASE_POOL_SIZE"), "{err}");
    }

    #[test]
    fn a_bad_environment_lists_the_choices() {
        let err = parse(&["--agency-env", "staging"]).unwrap_err();
        assert!(err.contains("AGENCY_ENV"), "{err}");
        assert!(err.contains("production"), "{err}");
    }

    #[test]
    fn a_missing_database_url_is_reported_by_name() {
        // Built directly: the test environment itself sets DATABASE_URL.
        let database = DatabaseArgs {
            database_url: None,
            database_direct_url: None,
            pool_size: 5,
            max_overflow: 10,
            transaction_pooler: false,
        };
        let err = database.url().unwrap_err().to_string();
        assert!(err.starts_with("DATABASE_URL is not set"), "{err}");
        assert!(database.direct_url().is_err());
    }

    #[test]
    fn the_direct_url_defaults_to_the_query_url_and_pool_size_adds_overflow() {
        let probe = parse(&["--database-url", "postgres://a@h/db"]).unwrap();
        assert_eq!(
            probe.common.database.direct_url().unwrap(),
            "postgres://a@h/db"
        );
        assert!(!probe.common.database.has_direct_url());
        assert_eq!(probe.common.database.pool_settings("t").max_connections, 15);
        let probe = parse(&[
            "--database-url",
            "postgres://a@h:6543/db",
            "--database-direct-url",
            "postgres://a@h:5432/db",
        ])
        .unwrap();
        assert_eq!(
            probe.common.database.direct_url().unwrap(),
            "postgres://a@h:5432/db"
        );
    }

    #[test]
    fn a_bad_redis_url_names_the_variable() {
        let err = parse(&["--redis-url", "http://x"]).unwrap_err();
        assert!(err.contains("REDIS_URL"), "{err}");
    }

    #[derive(Debug, Parser)]
    struct MetricsProbe {
        #[command(flatten)]
        metrics: MetricsArgs<9123>,
    }

    #[test]
    fn the_metrics_port_defaults_per_binary_and_help_names_the_variables() {
        let probe = MetricsProbe::try_parse_from(["probe"]).unwrap();
        assert_eq!(probe.metrics.addr().port(), 9123);
        let probe = MetricsProbe::try_parse_from([
            "probe",
            "--metrics-host",
            "127.0.0.1",
            "--metrics-port",
            "7000",
        ])
        .unwrap();
        assert_eq!(probe.metrics.addr().to_string(), "127.0.0.1:7000");
        let help = MetricsProbe::command().render_help().to_string();
        assert!(help.contains("METRICS_HOST"), "{help}");
        assert!(help.contains("METRICS_PORT"), "{help}");
        assert!(help.contains("9123"), "{help}");
    }

    #[test]
    fn a_sample_rate_out_of_range_is_refused() {
        let err = parse(&["--sentry-traces-sample-rate", "2"]).unwrap_err();
        assert!(err.contains("SENTRY_TRACES_SAMPLE_RATE"), "{err}");
    }
}
