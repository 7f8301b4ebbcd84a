//! `ProvidersConfig`: the enrichment providers' settings from the environment (clap `Args`
//! with `env`, flattened into each binary's config) and the set of adapters they build: the
//! real adapter when its key is set, the sandbox otherwise (or always with
//! `PROVIDERS_SANDBOX=true`). Production refuses any sandbox unless the caller passes the
//! explicit opt-in (`ALLOW_SANDBOX_IN_PRODUCTION`).

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use clap::Args;
use secrecy::{ExposeSecret, SecretString};

use crate::apify::{APIFY_DEFAULT_BASE_URL, Apify};
use crate::apollo::{APOLLO_DEFAULT_BASE_URL, Apollo};
use crate::claude::AiConfig;
use crate::clay::{CLAY_DEFAULT_BASE_URL, Clay};
use crate::dataforseo::{DATAFORSEO_DEFAULT_BASE_URL, DataForSeo};
use crate::error::ProviderError;
use crate::http::HttpSettings;
use crate::person::PersonEnricher;
use crate::provider::Provider;
use crate::sandbox::{SandboxPersonEnricher, SandboxSeo};
use crate::seo::SeoFactsProvider;

/// The variable that allows sandbox providers in production (read by the binary's config).
pub const ALLOW_SANDBOX_VAR: &str = "ALLOW_SANDBOX_IN_PRODUCTION";

/// Apify's synchronous actor runs take longer than a plain API call.
const APIFY_MIN_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// A provider setting that cannot be used; the message names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProvidersConfigError {
    /// A variable is required by another one that is set.
    #[error("{var} is not set: {hint}")]
    Missing {
        /// The environment variable.
        var: &'static str,
        /// Why it is needed.
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
    /// Production would run sandbox providers without the explicit opt-in.
    #[error(
        "production refuses sandbox enrichment providers: set {} (or {ALLOW_SANDBOX_VAR}=true to accept sandbox data)",
        vars.join(", ")
    )]
    SandboxInProduction {
        /// The variables that would avoid the sandbox (keys to set, or `PROVIDERS_SANDBOX`).
        vars: Vec<&'static str>,
    },
    /// The AI settings are unusable.
    #[error(transparent)]
    Ai(#[from] crate::claude::AiConfigError),
}

fn parse_secret(value: &str) -> Result<SecretString, String> {
    if value.trim().is_empty() {
        return Err("must not be empty".into());
    }
    Ok(SecretString::from(value.trim().to_owned()))
}

/// Enrichment and SEO provider settings.
#[derive(Debug, Clone, Args)]
pub struct ProvidersConfig {
    /// Apollo API key (primary enrichment); unset -> sandbox.
    #[arg(long = "apollo-api-key", env = "APOLLO_API_KEY", value_name = "APOLLO_API_KEY", value_parser = parse_secret, hide_env_values = true)]
    pub apollo_api_key: Option<SecretString>,
    /// Apollo API root (point tests and staging at a fake).
    #[arg(long = "apollo-base-url", env = "APOLLO_BASE_URL", value_name = "APOLLO_BASE_URL", default_value = APOLLO_DEFAULT_BASE_URL)]
    pub apollo_base_url: String,
    /// Apify API token (secondary enrichment); unset -> sandbox.
    #[arg(long = "apify-api-token", env = "APIFY_API_TOKEN", value_name = "APIFY_API_TOKEN", value_parser = parse_secret, hide_env_values = true)]
    pub apify_api_token: Option<SecretString>,
    /// Apify actor to run, `user/actor-name` (required with APIFY_API_TOKEN).
    #[arg(
        long = "apify-actor-id",
        env = "APIFY_ACTOR_ID",
        value_name = "APIFY_ACTOR_ID"
    )]
    pub apify_actor_id: Option<String>,
    /// Apify API root.
    #[arg(long = "apify-base-url", env = "APIFY_BASE_URL", value_name = "APIFY_BASE_URL", default_value = APIFY_DEFAULT_BASE_URL)]
    pub apify_base_url: String,
    /// Clay enrichment endpoint key (fallback enrichment); unset -> sandbox.
    #[arg(long = "clay-api-key", env = "CLAY_API_KEY", value_name = "CLAY_API_KEY", value_parser = parse_secret, hide_env_values = true)]
    pub clay_api_key: Option<SecretString>,
    /// Root of the Clay-side HTTP enrichment endpoint (`POST {root}/v1/enrich/person`).
    #[arg(long = "clay-base-url", env = "CLAY_BASE_URL", value_name = "CLAY_BASE_URL", default_value = CLAY_DEFAULT_BASE_URL)]
    pub clay_base_url: String,
    /// DataForSEO API login (SEO facts); unset -> sandbox.
    #[arg(
        long = "dataforseo-login",
        env = "DATAFORSEO_LOGIN",
        value_name = "DATAFORSEO_LOGIN"
    )]
    pub dataforseo_login: Option<String>,
    /// DataForSEO API password (required with DATAFORSEO_LOGIN).
    #[arg(long = "dataforseo-password", env = "DATAFORSEO_PASSWORD", value_name = "DATAFORSEO_PASSWORD", value_parser = parse_secret, hide_env_values = true)]
    pub dataforseo_password: Option<SecretString>,
    /// DataForSEO API root.
    #[arg(long = "dataforseo-base-url", env = "DATAFORSEO_BASE_URL", value_name = "DATAFORSEO_BASE_URL", default_value = DATAFORSEO_DEFAULT_BASE_URL)]
    pub dataforseo_base_url: String,
    /// Use the sandbox for every enrichment provider even when keys are set.
    #[arg(long = "providers-sandbox", env = "PROVIDERS_SANDBOX", value_name = "PROVIDERS_SANDBOX", default_value_t = false, action = clap::ArgAction::Set)]
    pub force_sandbox: bool,
    /// Claude: key, models per purpose, prices and caps.
    #[command(flatten)]
    pub ai: AiConfig,
}

impl Default for ProvidersConfig {
    /// No keys, production base URLs: every provider is a sandbox.
    fn default() -> Self {
        ProvidersConfig {
            apollo_api_key: None,
            apollo_base_url: APOLLO_DEFAULT_BASE_URL.to_owned(),
            apify_api_token: None,
            apify_actor_id: None,
            apify_base_url: APIFY_DEFAULT_BASE_URL.to_owned(),
            clay_api_key: None,
            clay_base_url: CLAY_DEFAULT_BASE_URL.to_owned(),
            dataforseo_login: None,
            dataforseo_password: None,
            dataforseo_base_url: DATAFORSEO_DEFAULT_BASE_URL.to_owned(),
            force_sandbox: false,
            ai: AiConfig::default(),
        }
    }
}

fn check_url(var: &'static str, value: &str) -> Result<(), ProvidersConfigError> {
    let url = url::Url::parse(value).map_err(|e| ProvidersConfigError::Invalid {
        var,
        reason: format!("not a URL ({e})"),
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(ProvidersConfigError::Invalid {
            var,
            reason: format!("expected an http(s) URL, got scheme '{}'", url.scheme()),
        });
    }
    Ok(())
}

fn non_blank(value: Option<&str>) -> Option<&str> {
    value.map(str::trim).filter(|v| !v.is_empty())
}

impl ProvidersConfig {
    fn apify_actor(&self) -> Option<&str> {
        non_blank(self.apify_actor_id.as_deref())
    }

    fn dataforseo_login(&self) -> Option<&str> {
        non_blank(self.dataforseo_login.as_deref())
    }

    /// The providers that will run as sandboxes, each with the variable that would make it
    /// real (all of them, with `PROVIDERS_SANDBOX`, when sandboxing is forced).
    pub fn sandboxed(&self) -> Vec<(Provider, &'static str)> {
        let all = [
            (
                Provider::Apollo,
                "APOLLO_API_KEY",
                self.apollo_api_key.is_some(),
            ),
            (
                Provider::Apify,
                "APIFY_API_TOKEN",
                self.apify_api_token.is_some(),
            ),
            (Provider::Clay, "CLAY_API_KEY", self.clay_api_key.is_some()),
            (
                Provider::DataForSeo,
                "DATAFORSEO_LOGIN",
                self.dataforseo_login().is_some() && self.dataforseo_password.is_some(),
            ),
        ];
        all.into_iter()
            .filter(|(_, _, configured)| self.force_sandbox || !configured)
            .map(|(p, var, _)| {
                (
                    p,
                    if self.force_sandbox {
                        "PROVIDERS_SANDBOX"
                    } else {
                        var
                    },
                )
            })
            .collect()
    }

    /// Cross-field checks, and production's refusal of sandboxes without `allow_sandbox`
    /// (the value of `ALLOW_SANDBOX_IN_PRODUCTION`).
    pub fn validate(
        &self,
        environment_is_production: bool,
        allow_sandbox: bool,
    ) -> Result<(), ProvidersConfigError> {
        check_url("APOLLO_BASE_URL", &self.apollo_base_url)?;
        check_url("APIFY_BASE_URL", &self.apify_base_url)?;
        check_url("CLAY_BASE_URL", &self.clay_base_url)?;
        check_url("DATAFORSEO_BASE_URL", &self.dataforseo_base_url)?;
        if self.apify_api_token.is_some() && self.apify_actor().is_none() {
            return Err(ProvidersConfigError::Missing {
                var: "APIFY_ACTOR_ID",
                hint: "APIFY_API_TOKEN is set: name the actor to run (user/actor-name)",
            });
        }
        if let Some(actor) = self.apify_actor()
            && !actor
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "~/-_.".contains(c))
        {
            return Err(ProvidersConfigError::Invalid {
                var: "APIFY_ACTOR_ID",
                reason: "expected user/actor-name or an actor id".into(),
            });
        }
        match (self.dataforseo_login(), &self.dataforseo_password) {
            (Some(_), None) => {
                return Err(ProvidersConfigError::Missing {
                    var: "DATAFORSEO_PASSWORD",
                    hint: "DATAFORSEO_LOGIN is set: set the API password too",
                });
            }
            (None, Some(_)) => {
                return Err(ProvidersConfigError::Missing {
                    var: "DATAFORSEO_LOGIN",
                    hint: "DATAFORSEO_PASSWORD is set: set the API login too",
                });
            }
            _ => {}
        }
        if environment_is_production && !allow_sandbox {
            let mut vars: Vec<&'static str> =
                self.sandboxed().into_iter().map(|(_, v)| v).collect();
            vars.dedup();
            if !vars.is_empty() {
                return Err(ProvidersConfigError::SandboxInProduction { vars });
            }
        }
        Ok(())
    }

    /// Builds the adapters with `settings`; sandboxes date their facts from `anchor` (today).
    pub fn build(
        &self,
        settings: &HttpSettings,
        anchor: NaiveDate,
    ) -> Result<EnrichmentProviders, ProvidersConfigError> {
        self.validate(false, true)?;
        let invalid = |var: &'static str| {
            move |e: ProviderError| ProvidersConfigError::Invalid {
                var,
                reason: e.to_string(),
            }
        };
        let sandbox = |p: Provider| -> Arc<dyn PersonEnricher> {
            Arc::new(SandboxPersonEnricher::new(p, anchor))
        };
        let real = !self.force_sandbox;

        let primary: Arc<dyn PersonEnricher> = match (&self.apollo_api_key, real) {
            (Some(key), true) => Arc::new(
                Apollo::new(key.clone(), &self.apollo_base_url, settings)
                    .map_err(invalid("APOLLO_BASE_URL"))?,
            ),
            _ => sandbox(Provider::Apollo),
        };
        let secondary: Arc<dyn PersonEnricher> =
            match (&self.apify_api_token, self.apify_actor(), real) {
                (Some(token), Some(actor), true) => {
                    let mut apify_settings = *settings;
                    apify_settings.request_timeout = apify_settings
                        .request_timeout
                        .max(APIFY_MIN_REQUEST_TIMEOUT);
                    Arc::new(
                        Apify::new(token.clone(), actor, &self.apify_base_url, &apify_settings)
                            .map_err(invalid("APIFY_ACTOR_ID"))?,
                    )
                }
                _ => sandbox(Provider::Apify),
            };
        let fallback: Arc<dyn PersonEnricher> = match (&self.clay_api_key, real) {
            (Some(key), true) => Arc::new(
                Clay::new(key.clone(), &self.clay_base_url, settings)
                    .map_err(invalid("CLAY_BASE_URL"))?,
            ),
            _ => sandbox(Provider::Clay),
        };
        let seo: Arc<dyn SeoFactsProvider> =
            match (self.dataforseo_login(), &self.dataforseo_password, real) {
                (Some(login), Some(password), true) => Arc::new(
                    DataForSeo::new(
                        login,
                        SecretString::from(password.expose_secret().to_owned()),
                        &self.dataforseo_base_url,
                        settings,
                    )
                    .map_err(invalid("DATAFORSEO_BASE_URL"))?,
                ),
                _ => Arc::new(SandboxSeo::new()),
            };
        let built = EnrichmentProviders {
            primary,
            secondary,
            fallback,
            seo,
        };
        for enricher in built.enrichers() {
            tracing::info!(
                provider = %enricher.provider(),
                sandbox = enricher.is_sandbox(),
                "enrichment provider configured"
            );
        }
        tracing::info!(
            provider = "dataforseo",
            sandbox = built.seo.is_sandbox(),
            "SEO provider configured"
        );
        Ok(built)
    }
}

/// The enrichment waterfall's providers in order, and the SEO provider.
#[derive(Debug, Clone)]
pub struct EnrichmentProviders {
    /// Primary person enricher (Apollo or its sandbox).
    pub primary: Arc<dyn PersonEnricher>,
    /// Secondary person enricher (Apify or its sandbox).
    pub secondary: Arc<dyn PersonEnricher>,
    /// Fallback person enricher (Clay or its sandbox), capped per batch by the engine.
    pub fallback: Arc<dyn PersonEnricher>,
    /// SEO facts (DataForSEO or its sandbox).
    pub seo: Arc<dyn SeoFactsProvider>,
}

impl EnrichmentProviders {
    /// Every provider as a sandbox (development and tests), dating facts from `anchor`.
    pub fn sandbox(anchor: NaiveDate) -> Self {
        EnrichmentProviders {
            primary: Arc::new(SandboxPersonEnricher::new(Provider::Apollo, anchor)),
            secondary: Arc::new(SandboxPersonEnricher::new(Provider::Apify, anchor)),
            fallback: Arc::new(SandboxPersonEnricher::new(Provider::Clay, anchor)),
            seo: Arc::new(SandboxSeo::new()),
        }
    }

    /// The person enrichers in waterfall order: primary, secondary, fallback.
    pub fn enrichers(&self) -> [Arc<dyn PersonEnricher>; 3] {
        [
            Arc::clone(&self.primary),
            Arc::clone(&self.secondary),
            Arc::clone(&self.fallback),
        ]
    }

    /// True when any provider is a sandbox (for readiness reporting).
    pub fn any_sandbox(&self) -> bool {
        self.enrichers().iter().any(|e| e.is_sandbox()) || self.seo.is_sandbox()
    }
}
