//! The API's configuration, read from the environment (and `.env`), and the validated
//! [`ApiSettings`] the router runs with.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use agency_domain::{Aud, PlanPrices};
use agency_engine::admin::AdminSettings;
use agency_engine::clients::NewClientPolicy;
use agency_engine::inbound::receive::{WebhookSecrets, WebhooksConfig};
use agency_engine::outreach::Links;
use agency_runtime::{AlertArgs, CommonArgs, ConfigError, Environment, PublicLinksArgs};
use clap::Parser;
use secrecy::{ExposeSecret, SecretString};

/// Configuration of `agency-api`; `--help` lists every variable.
#[derive(Debug, Clone, Parser)]
#[command(name = "agency-api", about = "Agency OS HTTP API", version)]
pub struct ApiConfig {
    /// Address to listen on.
    #[arg(
        long = "host",
        env = "HOST",
        value_name = "HOST",
        default_value = "0.0.0.0"
    )]
    pub host: IpAddr,
    /// Port to listen on.
    #[arg(
        long = "port",
        env = "PORT",
        value_name = "PORT",
        default_value_t = 8080
    )]
    pub port: u16,
    /// Supabase JWT secret for HS256 access tokens (this or SUPABASE_JWKS_URL is required).
    #[arg(
        long = "supabase-jwt-secret",
        env = "SUPABASE_JWT_SECRET",
        value_name = "SUPABASE_JWT_SECRET",
        hide_env_values = true
    )]
    pub supabase_jwt_secret: Option<SecretString>,
    /// Supabase JWKS URL for RS256/ES256 access tokens (this or SUPABASE_JWT_SECRET is required).
    #[arg(
        long = "supabase-jwks-url",
        env = "SUPABASE_JWKS_URL",
        value_name = "SUPABASE_JWKS_URL"
    )]
    pub supabase_jwks_url: Option<String>,
    /// Origins allowed by CORS: a comma-separated list, or `*` for any (no credentials).
    #[arg(
        long = "cors-allowed-origins",
        env = "CORS_ALLOWED_ORIGINS",
        value_name = "CORS_ALLOWED_ORIGINS",
        default_value = ""
    )]
    pub cors_allowed_origins: String,
    /// Requests each user may make per minute (0 disables the limit).
    #[arg(
        long = "rate-limit-per-minute",
        env = "RATE_LIMIT_PER_MINUTE",
        value_name = "RATE_LIMIT_PER_MINUTE",
        default_value_t = 60
    )]
    pub rate_limit_per_minute: u64,
    /// Largest JSON request body, in bytes.
    #[arg(long = "max-body-bytes", env = "MAX_BODY_BYTES", value_name = "MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Largest CSV import body, in bytes.
    #[arg(long = "import-max-bytes", env = "IMPORT_MAX_BYTES", value_name = "IMPORT_MAX_BYTES", default_value_t = 50 * 1024 * 1024)]
    pub import_max_bytes: usize,
    /// Seconds a request may take before it is answered with 503.
    #[arg(
        long = "request-timeout-secs",
        env = "REQUEST_TIMEOUT_SECS",
        value_name = "REQUEST_TIMEOUT_SECS",
        default_value_t = 30
    )]
    pub request_timeout_secs: u64,
    /// Seconds the CSV import route may take before it is answered with 503 (it is exempt
    /// from REQUEST_TIMEOUT_SECS).
    #[arg(
        long = "import-timeout-secs",
        env = "IMPORT_TIMEOUT_SECS",
        value_name = "IMPORT_TIMEOUT_SECS",
        default_value_t = 300
    )]
    pub import_timeout_secs: u64,
    /// Seconds a signed-in user's row is remembered in-process (skipping its upsert); a
    /// change to `is_platform_admin` takes effect within this time. 0 disables it.
    #[arg(
        long = "user-cache-ttl-secs",
        env = "USER_CACHE_TTL_SECS",
        value_name = "USER_CACHE_TTL_SECS",
        default_value_t = 60
    )]
    pub user_cache_ttl_secs: u64,
    /// Group-commit verified provider webhooks (several per transaction; each request is still
    /// answered only after its event is committed). `false`: one transaction per webhook.
    #[arg(
        long = "webhook-group-commit",
        env = "WEBHOOK_GROUP_COMMIT",
        value_name = "WEBHOOK_GROUP_COMMIT",
        default_value_t = true,
        action = clap::ArgAction::Set
    )]
    pub webhook_group_commit: bool,
    /// Writer tasks of the webhook group commit (batch statements in flight at once; 1 suits a
    /// database on the same host, 2-4 one a millisecond or more away).
    #[arg(
        long = "webhook-writers",
        env = "WEBHOOK_WRITERS",
        value_name = "WEBHOOK_WRITERS",
        default_value_t = agency_engine::inbound::inbox::DEFAULT_WRITERS as u16,
        value_parser = clap::value_parser!(u16).range(1..=64)
    )]
    pub webhook_writers: u16,
    /// Lead credits a new client starts with (it is a trial; tier changes are an operator's
    /// action). At most the ignition tier's monthly credits.
    #[arg(
        long = "trial-lead-credits",
        env = "TRIAL_LEAD_CREDITS",
        value_name = "TRIAL_LEAD_CREDITS",
        default_value_t = 50
    )]
    pub trial_lead_credits: u32,
    /// Clients one user may create in any 24 hours.
    #[arg(
        long = "clients-per-user-per-day",
        env = "CLIENTS_PER_USER_PER_DAY",
        value_name = "CLIENTS_PER_USER_PER_DAY",
        default_value_t = 3
    )]
    pub clients_per_user_per_day: u32,
    /// Provider webhook secrets and the public base URL.
    #[command(flatten)]
    pub webhooks: WebhooksConfig,
    /// Keys sealing clients' own provider credentials (`CREDENTIALS_KEYS`).
    #[command(flatten)]
    pub credentials: agency_engine::twilio_accounts::CredentialsConfig,
    /// Proof of ownership of sending resources.
    #[command(flatten)]
    pub verification: VerificationArgs,
    /// Shared settings: database, Redis, telemetry.
    /// Admin console: plan prices and alert thresholds.
    #[command(flatten)]
    pub admin: AdminArgs,
    #[command(flatten)]
    pub common: CommonArgs,
    /// Public URL and unsubscribe-link key (`PUBLIC_BASE_URL`, `UNSUBSCRIBE_SECRET`).
    #[command(flatten)]
    pub links: PublicLinksArgs,
}

/// The admin console's plan price table (MRR) and alert thresholds.
#[derive(Debug, Clone, clap::Args)]
pub struct AdminArgs {
    /// Monthly price of the Ignition plan, AUD.
    #[arg(
        long = "plan-price-ignition-aud",
        env = "PLAN_PRICE_IGNITION_AUD",
        value_name = "PLAN_PRICE_IGNITION_AUD",
        default_value = "2500"
    )]
    pub plan_price_ignition_aud: rust_decimal::Decimal,
    /// Monthly price of the Velocity plan, AUD.
    #[arg(
        long = "plan-price-velocity-aud",
        env = "PLAN_PRICE_VELOCITY_AUD",
        value_name = "PLAN_PRICE_VELOCITY_AUD",
        default_value = "5000"
    )]
    pub plan_price_velocity_aud: rust_decimal::Decimal,
    /// Monthly price of the Dominance plan, AUD.
    #[arg(
        long = "plan-price-dominance-aud",
        env = "PLAN_PRICE_DOMINANCE_AUD",
        value_name = "PLAN_PRICE_DOMINANCE_AUD",
        default_value = "7500"
    )]
    pub plan_price_dominance_aud: rust_decimal::Decimal,
    /// Thresholds of the system's alerts (shared with the worker's `check_alerts` job).
    #[command(flatten)]
    pub alerts: AlertArgs,
}

impl AdminArgs {
    /// The validated admin settings.
    pub fn settings(&self) -> Result<AdminSettings, ConfigError> {
        for (var, price) in [
            ("PLAN_PRICE_IGNITION_AUD", self.plan_price_ignition_aud),
            ("PLAN_PRICE_VELOCITY_AUD", self.plan_price_velocity_aud),
            ("PLAN_PRICE_DOMINANCE_AUD", self.plan_price_dominance_aud),
        ] {
            if price.is_sign_negative() {
                return Err(ConfigError::Invalid {
                    var,
                    reason: "must not be negative".into(),
                });
            }
        }
        self.alerts.validate()?;
        Ok(AdminSettings {
            prices: PlanPrices {
                ignition: Aud(self.plan_price_ignition_aud),
                velocity: Aud(self.plan_price_velocity_aud),
                dominance: Aud(self.plan_price_dominance_aud),
            },
            dead_letter_threshold: self.alerts.alert_dead_letter_threshold,
            scheduler_silent_after: chrono::TimeDelta::minutes(
                self.alerts.alert_scheduler_silent_minutes,
            ),
            queue_stale_after: chrono::TimeDelta::minutes(self.alerts.alert_queue_stale_minutes),
        })
    }
}

impl ApiConfig {
    /// The socket address to bind.
    pub fn listen_addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }

    /// Validates the configuration into the settings the router runs with.
    pub fn settings(&self) -> Result<ApiSettings, ConfigError> {
        let jwt_secret = self
            .supabase_jwt_secret
            .as_ref()
            .filter(|s| !s.expose_secret().trim().is_empty())
            .cloned();
        if let Some(secret) = &jwt_secret
            && secret.expose_secret().len() < MIN_JWT_SECRET_BYTES
        {
            return Err(ConfigError::Invalid {
                var: "SUPABASE_JWT_SECRET",
                reason: format!(
                    "must be at least {MIN_JWT_SECRET_BYTES} bytes (got {}); use the project's JWT secret from Supabase",
                    secret.expose_secret().len()
                ),
            });
        }
        let jwks_url = match self.supabase_jwks_url.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(raw) => Some(jwks_url(raw)?),
        };
        if jwt_secret.is_none() && jwks_url.is_none() {
            return Err(ConfigError::Missing {
                var: "SUPABASE_JWT_SECRET",
                hint: "set SUPABASE_JWT_SECRET (HS256) and/or SUPABASE_JWKS_URL (RS256/ES256) so access tokens can be verified",
            });
        }
        let cors = CorsOrigins::parse(&self.cors_allowed_origins)?;
        if self.max_body_bytes == 0 {
            return Err(ConfigError::Invalid {
                var: "MAX_BODY_BYTES",
                reason: "must be positive".into(),
            });
        }
        if self.import_max_bytes < self.max_body_bytes {
            return Err(ConfigError::Invalid {
                var: "IMPORT_MAX_BYTES",
                reason: "must be at least MAX_BODY_BYTES".into(),
            });
        }
        if self.request_timeout_secs == 0 {
            return Err(ConfigError::Invalid {
                var: "REQUEST_TIMEOUT_SECS",
                reason: "must be positive".into(),
            });
        }
        if self.import_timeout_secs == 0 {
            return Err(ConfigError::Invalid {
                var: "IMPORT_TIMEOUT_SECS",
                reason: "must be positive".into(),
            });
        }
        let trial_cap = agency_domain::ClientTier::Ignition.monthly_credits();
        if self.trial_lead_credits > trial_cap {
            return Err(ConfigError::Invalid {
                var: "TRIAL_LEAD_CREDITS",
                reason: format!(
                    "must be at most {trial_cap} (the ignition tier's monthly credits)"
                ),
            });
        }
        if self.clients_per_user_per_day == 0 {
            return Err(ConfigError::Invalid {
                var: "CLIENTS_PER_USER_PER_DAY",
                reason: "must be positive".into(),
            });
        }
        let webhooks = self.webhooks.secrets().map_err(|e| ConfigError::Invalid {
            var: e.var,
            reason: e.reason,
        })?;
        Ok(ApiSettings {
            webhooks,
            auth: AuthSettings {
                jwt_secret,
                jwks_url,
                leeway_secs: 30,
                jwks_ttl: Duration::from_secs(600),
                jwks_min_refresh_interval: Duration::from_secs(5),
            },
            cors,
            rate_limit_per_minute: self.rate_limit_per_minute,
            max_body_bytes: self.max_body_bytes,
            import_max_bytes: self.import_max_bytes,
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            import_timeout: Duration::from_secs(self.import_timeout_secs),
            user_cache_ttl: Duration::from_secs(self.user_cache_ttl_secs),
            webhook_group_commit: self.webhook_group_commit,
            webhook_writers: usize::from(self.webhook_writers),
            new_clients: NewClientPolicy {
                trial_credits: self.trial_lead_credits,
                per_user_per_day: self.clients_per_user_per_day,
            },
            admin: self.admin.settings()?,
            links: {
                let (base, secret) = self.links.resolve(self.common.environment)?;
                Links::configured(&base, secret)
            },
        })
    }
}

/// Shortest `SUPABASE_JWT_SECRET` accepted (HS256 needs a key at least as long as its hash).
pub const MIN_JWT_SECRET_BYTES: usize = 32;

/// Validates `SUPABASE_JWKS_URL`: https, or plain http only to this machine (localhost,
/// 127.0.0.1, ::1), where a local JWKS server runs in development.
fn jwks_url(raw: &str) -> Result<String, ConfigError> {
    let invalid = |reason: String| ConfigError::Invalid {
        var: "SUPABASE_JWKS_URL",
        reason,
    };
    let url = url::Url::parse(raw).map_err(|e| invalid(format!("not a URL ({e})")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(invalid(
                "must be an https URL (plain http only to localhost or 127.0.0.1)".into(),
            ));
        }
        other => {
            return Err(invalid(format!(
                "expected an https URL, got scheme '{other}'"
            )));
        }
    }
    if url.host().is_none() {
        return Err(invalid("has no host".into()));
    }
    Ok(url.to_string())
}

/// How sending resources are verified (`RESOURCE_VERIFICATION`, the DNS resolver, and the
/// platform's Twilio account for numbers of clients without their own).
#[derive(Debug, Clone, clap::Args)]
pub struct VerificationArgs {
    /// `auto` (a new resource is verified at once) or `required` (proof by DNS TXT or Twilio);
    /// default: `auto` in development, `required` in production.
    #[arg(
        long = "resource-verification",
        env = "RESOURCE_VERIFICATION",
        value_name = "RESOURCE_VERIFICATION"
    )]
    pub resource_verification: Option<String>,
    /// DNS-over-HTTPS JSON endpoint for TXT lookups.
    #[arg(
        long = "dns-resolver-url",
        env = "DNS_RESOLVER_URL",
        value_name = "DNS_RESOLVER_URL",
        default_value = agency_engine::resources::DOH_DEFAULT_URL
    )]
    pub dns_resolver_url: String,
    /// The platform's Twilio account SID (numbers are checked in it).
    #[arg(
        id = "verification_twilio_account_sid",
        long = "verification-twilio-account-sid",
        env = "TWILIO_ACCOUNT_SID",
        value_name = "TWILIO_ACCOUNT_SID"
    )]
    pub twilio_account_sid: Option<String>,
    /// Twilio API root.
    #[arg(
        id = "verification_twilio_base_url",
        long = "verification-twilio-base-url",
        env = "TWILIO_BASE_URL",
        value_name = "TWILIO_BASE_URL",
        default_value = agency_engine::resources::TWILIO_DEFAULT_BASE_URL
    )]
    pub twilio_base_url: String,
}

impl ApiConfig {
    /// Whether new resources need proof (a bad `RESOURCE_VERIFICATION` names the variable).
    pub fn resource_verification(
        &self,
    ) -> Result<agency_engine::resources::ResourceVerification, ConfigError> {
        use agency_engine::resources::ResourceVerification;
        match self
            .verification
            .resource_verification
            .as_deref()
            .map(str::trim)
        {
            None | Some("") => Ok(if self.common.environment == Environment::Production {
                ResourceVerification::Required
            } else {
                ResourceVerification::Automatic
            }),
            Some("auto") => Ok(ResourceVerification::Automatic),
            Some("required") => Ok(ResourceVerification::Required),
            Some(other) => Err(ConfigError::Invalid {
                var: "RESOURCE_VERIFICATION",
                reason: format!("expected auto or required, got `{other}`"),
            }),
        }
    }

    /// The verifier: DNS over HTTPS, the platform's Twilio account (when its SID and
    /// `TWILIO_AUTH_TOKEN` are set) and clients' own accounts (opened with `keys`).
    pub fn resource_verifier(
        &self,
        keys: &agency_engine::twilio_accounts::CredentialKeys,
    ) -> Result<agency_engine::resources::ResourceVerifier, ConfigError> {
        agency_engine::resources::ResourceVerifier::configured(
            &self.verification.dns_resolver_url,
            self.verification.twilio_account_sid.as_deref(),
            self.webhooks.twilio_auth_token.as_ref(),
            &self.verification.twilio_base_url,
            keys,
        )
        .map_err(|(var, reason)| ConfigError::Invalid { var, reason })
    }

    /// The validated credentials keys (a bad `CREDENTIALS_KEYS` names the variable).
    pub fn credential_keys(
        &self,
    ) -> Result<agency_engine::twilio_accounts::CredentialKeys, ConfigError> {
        self.credentials.keys().map_err(|e| ConfigError::Invalid {
            var: agency_engine::twilio_accounts::CREDENTIALS_KEYS_VAR,
            reason: e.0,
        })
    }
}

/// How access tokens are verified.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// HS256 secret (redacted in `Debug`).
    pub jwt_secret: Option<SecretString>,
    /// JWKS URL for RS256/ES256.
    pub jwks_url: Option<String>,
    /// Clock leeway for `exp` and `nbf`, seconds.
    pub leeway_secs: u64,
    /// How long fetched keys are trusted before a refetch.
    pub jwks_ttl: Duration,
    /// Least time between two refetches triggered by unknown `kid`s.
    pub jwks_min_refresh_interval: Duration,
}

impl AuthSettings {
    /// HS256 only, with `secret`.
    pub fn hs256(secret: impl Into<String>) -> Self {
        Self {
            jwt_secret: Some(SecretString::from(secret.into())),
            jwks_url: None,
            leeway_secs: 30,
            jwks_ttl: Duration::from_secs(600),
            jwks_min_refresh_interval: Duration::from_secs(5),
        }
    }
}

/// Origins CORS allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// No cross-origin calls.
    None,
    /// Any origin (`*`, without credentials).
    Any,
    /// These exact origins.
    List(Vec<String>),
}

impl CorsOrigins {
    /// Parses `CORS_ALLOWED_ORIGINS`.
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Ok(CorsOrigins::None);
        }
        if raw == "*" {
            return Ok(CorsOrigins::Any);
        }
        let mut origins = Vec::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let url = url::Url::parse(part).map_err(|e| ConfigError::Invalid {
                var: "CORS_ALLOWED_ORIGINS",
                reason: format!(
                    "`{part}` is not an origin ({e}); use e.g. https://app.example.com, or *"
                ),
            })?;
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(ConfigError::Invalid {
                    var: "CORS_ALLOWED_ORIGINS",
                    reason: format!("`{part}` is not an http(s) origin"),
                });
            }
            origins.push(url.origin().ascii_serialization());
        }
        Ok(CorsOrigins::List(origins))
    }
}

/// Validated settings the router runs with.
#[derive(Debug, Clone)]
pub struct ApiSettings {
    /// Token verification.
    pub auth: AuthSettings,
    /// CORS origins.
    pub cors: CorsOrigins,
    /// Requests per user per minute (0 = unlimited).
    pub rate_limit_per_minute: u64,
    /// Largest JSON body.
    pub max_body_bytes: usize,
    /// Largest CSV import body.
    pub import_max_bytes: usize,
    /// Per-request timeout (every route but the CSV import).
    pub request_timeout: Duration,
    /// Timeout of the CSV import route.
    pub import_timeout: Duration,
    /// How long a signed-in user's row is remembered in-process (zero: not at all).
    pub user_cache_ttl: Duration,
    /// Group-commit verified webhooks (`WEBHOOK_GROUP_COMMIT`).
    pub webhook_group_commit: bool,
    /// Writer tasks of the group commit (`WEBHOOK_WRITERS`).
    pub webhook_writers: usize,
    /// Trial allowance and daily cap of `POST /clients`.
    pub new_clients: NewClientPolicy,
    /// Admin console prices and alert thresholds.
    pub admin: AdminSettings,
    /// Where our public routes live and the key unsubscribe links are signed with.
    pub links: Links,
    /// Provider webhook secrets (a provider without one has its webhooks refused).
    pub webhooks: WebhookSecrets,
}

impl ApiSettings {
    /// Defaults (60/min, 1 MiB, 50 MiB, 30 s, imports 300 s, users remembered 60 s, no CORS)
    /// with the given auth.
    pub fn new(auth: AuthSettings) -> Self {
        Self {
            auth,
            cors: CorsOrigins::None,
            rate_limit_per_minute: 60,
            max_body_bytes: 1024 * 1024,
            import_max_bytes: 50 * 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            import_timeout: Duration::from_secs(300),
            user_cache_ttl: Duration::from_secs(60),
            webhook_group_commit: true,
            webhook_writers: agency_engine::inbound::inbox::DEFAULT_WRITERS,
            new_clients: NewClientPolicy::default(),
            admin: AdminSettings::default(),
            links: Links::configured("http://localhost:8080", None),
            webhooks: WebhookSecrets::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> ApiConfig {
        let mut all = vec!["agency-api"];
        all.extend_from_slice(args);
        ApiConfig::try_parse_from(all).expect("parses")
    }

    #[test]
    fn requires_a_verification_method_and_names_the_variable() {
        let mut cfg = parse(&[]);
        cfg.supabase_jwt_secret = None;
        cfg.supabase_jwks_url = None;
        let err = cfg.settings().expect_err("must fail").to_string();
        assert!(err.contains("SUPABASE_JWT_SECRET"), "{err}");
        cfg.supabase_jwks_url = Some("ftp://x".into());
        let err = cfg.settings().expect_err("must fail").to_string();
        assert!(err.contains("SUPABASE_JWKS_URL"), "{err}");
        cfg.supabase_jwks_url = Some("https://x.supabase.co/auth/v1/.well-known/jwks.json".into());
        assert!(cfg.settings().is_ok());
    }

    #[test]
    fn import_timeout_and_user_memory_have_defaults_and_are_checked() {
        let mut cfg = parse(&["--supabase-jwt-secret", LONG_SECRET]);
        let settings = cfg.settings().expect("valid");
        assert_eq!(settings.request_timeout, Duration::from_secs(30));
        assert_eq!(settings.import_timeout, Duration::from_secs(300));
        assert_eq!(settings.user_cache_ttl, Duration::from_secs(60));
        cfg.user_cache_ttl_secs = 0;
        assert_eq!(
            cfg.settings().expect("0 turns it off").user_cache_ttl,
            Duration::ZERO
        );
        cfg.import_timeout_secs = 0;
        let err = cfg.settings().expect_err("must fail").to_string();
        assert!(err.contains("IMPORT_TIMEOUT_SECS"), "{err}");
    }

    #[test]
    fn trial_credits_and_the_daily_client_cap_are_checked() {
        let mut cfg = parse(&["--supabase-jwt-secret", LONG_SECRET]);
        assert_eq!(
            cfg.settings().expect("valid").new_clients,
            NewClientPolicy {
                trial_credits: 50,
                per_user_per_day: 3
            }
        );
        cfg.trial_lead_credits = 1_251;
        let err = cfg.settings().expect_err("above ignition").to_string();
        assert!(err.contains("TRIAL_LEAD_CREDITS"), "{err}");
        cfg.trial_lead_credits = 10;
        cfg.clients_per_user_per_day = 0;
        let err = cfg.settings().expect_err("zero").to_string();
        assert!(err.contains("CLIENTS_PER_USER_PER_DAY"), "{err}");
    }

    const LONG_SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn a_short_jwt_secret_stops_start_up_naming_the_variable() {
        let mut cfg = parse(&[]);
        cfg.supabase_jwks_url = None;
        cfg.supabase_jwt_secret = Some(SecretString::from("a".repeat(31)));
        let err = cfg.settings().expect_err("31 bytes must fail").to_string();
        assert!(
            err.contains("SUPABASE_JWT_SECRET") && err.contains("32 bytes"),
            "{err}"
        );
        assert!(
            !err.contains(&"a".repeat(31)),
            "the secret is not echoed: {err}"
        );
        cfg.supabase_jwt_secret = Some(SecretString::from(LONG_SECRET.to_owned()));
        assert!(cfg.settings().is_ok());
    }

    #[test]
    fn a_jwks_url_must_be_https_except_on_loopback() {
        let mut cfg = parse(&[]);
        cfg.supabase_jwt_secret = None;
        for bad in [
            "http://x.supabase.co/auth/v1/.well-known/jwks.json",
            "http://10.0.0.5/jwks.json",
            "http://localhost.evil.example/jwks.json",
        ] {
            cfg.supabase_jwks_url = Some(bad.into());
            let err = cfg.settings().expect_err(bad).to_string();
            assert!(
                err.contains("SUPABASE_JWKS_URL") && err.contains("https"),
                "{bad}: {err}"
            );
        }
        for good in [
            "https://x.supabase.co/auth/v1/.well-known/jwks.json",
            "http://localhost:54321/auth/v1/.well-known/jwks.json",
            "http://127.0.0.1:9999/jwks.json",
        ] {
            cfg.supabase_jwks_url = Some(good.into());
            assert!(cfg.settings().is_ok(), "{good}");
        }
    }

    #[test]
    fn the_hs256_secret_never_shows_in_debug() {
        let mut cfg = parse(&[]);
        cfg.supabase_jwt_secret = Some(SecretString::from(LONG_SECRET.to_owned()));
        let settings = cfg.settings().expect("valid");
        let printed = format!("{settings:?} {:?}", AuthSettings::hs256(LONG_SECRET));
        assert!(!printed.contains(LONG_SECRET), "{printed}");
        assert!(printed.contains("jwt_secret"), "{printed}");
    }

    #[test]
    fn cors_origins_parse() {
        assert_eq!(CorsOrigins::parse("").ok(), Some(CorsOrigins::None));
        assert_eq!(CorsOrigins::parse(" * ").ok(), Some(CorsOrigins::Any));
        assert_eq!(
            CorsOrigins::parse("https://a.example.com, http://localhost:3000/").ok(),
            Some(CorsOrigins::List(vec![
                "https://a.example.com".into(),
                "http://localhost:3000".into()
            ]))
        );
        let err = CorsOrigins::parse("not an origin")
            .expect_err("bad")
            .to_string();
        assert!(err.contains("CORS_ALLOWED_ORIGINS"), "{err}");
    }
}
