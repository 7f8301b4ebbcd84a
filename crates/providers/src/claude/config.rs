//! `AiConfig`: the Claude settings from the environment (clap `Args` with `env`, flattened into
//! [`crate::ProvidersConfig`]): key and API root, the model per purpose and its output cap, the
//! per-model price table, the USD->AUD rate, the platform's daily cap and the reservation
//! timeout; and the model it builds (Anthropic with a key, the sandbox twin without one or with
//! `AI_SANDBOX=true`; production refuses the sandbox without the explicit opt-in).

use std::sync::Arc;
use std::time::Duration;

use agency_domain::ModelPrice;
use agency_domain::ai::{AiPurpose, price_for};
use clap::Args;
use rust_decimal::Decimal;
use secrecy::SecretString;

use super::LanguageModel;
use super::anthropic::{ANTHROPIC_DEFAULT_BASE_URL, Anthropic};
use super::sandbox::SandboxClaude;
use crate::http::HttpSettings;

/// List prices in USD per million tokens (input, output), by model id prefix; `AI_MODEL_PRICES`
/// overrides or extends them.
pub const DEFAULT_PRICES: &[(&str, u32, u32)] = &[
    ("claude-haiku-4-5", 1, 5),
    ("claude-sonnet-4-5", 3, 15),
    ("claude-sonnet-4", 3, 15),
    ("claude-opus-4-5", 5, 25),
    ("claude-opus-4-1", 15, 75),
    ("claude-opus-4", 15, 75),
];

/// An AI setting that cannot be used; the message names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AiConfigError {
    /// A variable is set to something unusable.
    #[error("{var} is invalid: {reason}")]
    Invalid {
        /// The environment variable.
        var: &'static str,
        /// Why.
        reason: String,
    },
    /// Production would run the sandbox model without the explicit opt-in.
    #[error(
        "production refuses the sandbox AI model: set ANTHROPIC_API_KEY (or ALLOW_SANDBOX_IN_PRODUCTION=true)"
    )]
    SandboxInProduction,
}

fn parse_secret(value: &str) -> Result<SecretString, String> {
    if value.trim().is_empty() {
        return Err("must not be empty".into());
    }
    Ok(SecretString::from(value.trim().to_owned()))
}

fn parse_positive_decimal(value: &str) -> Result<Decimal, String> {
    let d: Decimal = value.trim().parse().map_err(|e| format!("{e}"))?;
    if d <= Decimal::ZERO {
        return Err("must be greater than zero".into());
    }
    Ok(d)
}

/// Claude settings.
#[derive(Debug, Clone, Args)]
pub struct AiConfig {
    /// Anthropic API key; unset -> the sandbox model.
    #[arg(long = "anthropic-api-key", env = "ANTHROPIC_API_KEY", value_name = "ANTHROPIC_API_KEY", value_parser = parse_secret, hide_env_values = true)]
    pub anthropic_api_key: Option<SecretString>,
    /// Anthropic API root (point tests and staging at a fake).
    #[arg(long = "anthropic-base-url", env = "ANTHROPIC_BASE_URL", value_name = "ANTHROPIC_BASE_URL", default_value = ANTHROPIC_DEFAULT_BASE_URL)]
    pub anthropic_base_url: String,
    /// Use the sandbox model even when a key is set.
    #[arg(long = "ai-sandbox", env = "AI_SANDBOX", value_name = "AI_SANDBOX", default_value_t = false, action = clap::ArgAction::Set)]
    pub ai_sandbox: bool,
    /// Model for reply classification.
    #[arg(
        long = "ai-model-classify",
        env = "AI_MODEL_CLASSIFY",
        value_name = "AI_MODEL_CLASSIFY",
        default_value = "claude-haiku-4-5"
    )]
    pub model_classify: String,
    /// Model for message writing.
    #[arg(
        long = "ai-model-write",
        env = "AI_MODEL_WRITE",
        value_name = "AI_MODEL_WRITE",
        default_value = "claude-sonnet-4-5"
    )]
    pub model_write: String,
    /// Model for ICP extraction.
    #[arg(
        long = "ai-model-extract",
        env = "AI_MODEL_EXTRACT",
        value_name = "AI_MODEL_EXTRACT",
        default_value = "claude-sonnet-4-5"
    )]
    pub model_extract: String,
    /// Extra or overriding prices, `model=input/output` USD per million tokens, comma separated.
    #[arg(
        long = "ai-model-prices",
        env = "AI_MODEL_PRICES",
        value_name = "AI_MODEL_PRICES",
        default_value = ""
    )]
    pub model_prices: String,
    /// USD -> AUD conversion rate applied to the USD prices.
    #[arg(long = "ai-usd-to-aud", env = "AI_USD_TO_AUD", value_name = "AI_USD_TO_AUD", default_value = "1.55", value_parser = parse_positive_decimal)]
    pub usd_to_aud: Decimal,
    /// Platform-wide AI spend cap per day (AUD, days in Australia/Sydney).
    #[arg(long = "ai-platform-daily-cap-aud", env = "AI_PLATFORM_DAILY_CAP_AUD", value_name = "AI_PLATFORM_DAILY_CAP_AUD", default_value = "500", value_parser = parse_positive_decimal)]
    pub platform_daily_cap_aud: Decimal,
    /// Time allowed for one Claude request, in seconds.
    #[arg(long = "ai-request-timeout-secs", env = "AI_REQUEST_TIMEOUT_SECS", value_name = "AI_REQUEST_TIMEOUT_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub ai_request_timeout_secs: u64,
    /// A reservation not settled after this many seconds (its process died) is released.
    #[arg(long = "ai-reservation-timeout-secs", env = "AI_RESERVATION_TIMEOUT_SECS", value_name = "AI_RESERVATION_TIMEOUT_SECS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub ai_reservation_timeout_secs: u64,
}

impl Default for AiConfig {
    /// No key (sandbox), the documented defaults.
    fn default() -> Self {
        AiConfig {
            anthropic_api_key: None,
            anthropic_base_url: ANTHROPIC_DEFAULT_BASE_URL.to_owned(),
            ai_sandbox: false,
            model_classify: "claude-haiku-4-5".to_owned(),
            model_write: "claude-sonnet-4-5".to_owned(),
            model_extract: "claude-sonnet-4-5".to_owned(),
            model_prices: String::new(),
            usd_to_aud: Decimal::new(155, 2),
            platform_daily_cap_aud: Decimal::from(500),
            ai_request_timeout_secs: 60,
            ai_reservation_timeout_secs: 600,
        }
    }
}

impl AiConfig {
    /// The model configured for `purpose`.
    pub fn model_for(&self, purpose: AiPurpose) -> &str {
        match purpose {
            AiPurpose::ClassifyReply => &self.model_classify,
            AiPurpose::WriteMessage => &self.model_write,
            AiPurpose::ExtractIcp => &self.model_extract,
        }
    }

    /// True when the built model will be the sandbox.
    pub fn is_sandbox(&self) -> bool {
        self.ai_sandbox || self.anthropic_api_key.is_none()
    }

    /// The price table: [`DEFAULT_PRICES`] with `AI_MODEL_PRICES` entries first (they win).
    pub fn price_table(&self) -> Result<Vec<(String, ModelPrice)>, AiConfigError> {
        let invalid = |reason: String| AiConfigError::Invalid {
            var: "AI_MODEL_PRICES",
            reason,
        };
        let mut table = Vec::new();
        for entry in self
            .model_prices
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            let (model, prices) = entry
                .split_once('=')
                .ok_or_else(|| invalid(format!("`{entry}`: expected model=input/output")))?;
            let (input, output) = prices
                .split_once('/')
                .ok_or_else(|| invalid(format!("`{entry}`: expected model=input/output")))?;
            let parse = |v: &str| {
                v.trim()
                    .parse::<Decimal>()
                    .ok()
                    .filter(|d| *d >= Decimal::ZERO)
                    .ok_or_else(|| invalid(format!("`{entry}`: `{v}` is not a price")))
            };
            table.push((
                model.trim().to_owned(),
                ModelPrice {
                    input_usd_per_mtok: parse(input)?,
                    output_usd_per_mtok: parse(output)?,
                },
            ));
        }
        for (model, input, output) in DEFAULT_PRICES {
            if !table.iter().any(|(m, _)| m == model) {
                table.push((
                    (*model).to_owned(),
                    ModelPrice {
                        input_usd_per_mtok: Decimal::from(*input),
                        output_usd_per_mtok: Decimal::from(*output),
                    },
                ));
            }
        }
        Ok(table)
    }

    /// Checks the URL, the price table (every purpose's model must be priced) and
    /// production's refusal of the sandbox unless `allow_sandbox`.
    pub fn validate(
        &self,
        environment_is_production: bool,
        allow_sandbox: bool,
    ) -> Result<(), AiConfigError> {
        let url =
            url::Url::parse(&self.anthropic_base_url).map_err(|e| AiConfigError::Invalid {
                var: "ANTHROPIC_BASE_URL",
                reason: format!("not a URL ({e})"),
            })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(AiConfigError::Invalid {
                var: "ANTHROPIC_BASE_URL",
                reason: "expected an http(s) URL".into(),
            });
        }
        let table = self.price_table()?;
        for (purpose, var) in [
            (AiPurpose::ClassifyReply, "AI_MODEL_CLASSIFY"),
            (AiPurpose::WriteMessage, "AI_MODEL_WRITE"),
            (AiPurpose::ExtractIcp, "AI_MODEL_EXTRACT"),
        ] {
            let model = self.model_for(purpose);
            if price_for(&table, model).is_none() {
                return Err(AiConfigError::Invalid {
                    var,
                    reason: format!("no price for `{model}`: add it to AI_MODEL_PRICES"),
                });
            }
        }
        if environment_is_production && !allow_sandbox && self.is_sandbox() {
            return Err(AiConfigError::SandboxInProduction);
        }
        Ok(())
    }

    /// Builds the model: Anthropic with the key (timeouts from `settings`, the request
    /// timeout raised to `AI_REQUEST_TIMEOUT_SECS`), else the sandbox.
    pub fn build(&self, settings: &HttpSettings) -> Result<Arc<dyn LanguageModel>, AiConfigError> {
        self.validate(false, true)?;
        let model: Arc<dyn LanguageModel> = match (&self.anthropic_api_key, self.ai_sandbox) {
            (Some(key), false) => {
                let mut settings = *settings;
                settings.request_timeout = Duration::from_secs(self.ai_request_timeout_secs);
                Arc::new(
                    Anthropic::new(key.clone(), &self.anthropic_base_url, &settings).map_err(
                        |e| AiConfigError::Invalid {
                            var: "ANTHROPIC_BASE_URL",
                            reason: e.to_string(),
                        },
                    )?,
                )
            }
            _ => Arc::new(SandboxClaude::new()),
        };
        tracing::info!(
            provider = "anthropic",
            sandbox = model.is_sandbox(),
            "AI model configured"
        );
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn overrides_win_and_defaults_remain() {
        let cfg = AiConfig {
            model_prices: "claude-haiku-4-5=0.8/4, my-model=2/10".into(),
            ..AiConfig::default()
        };
        let table = cfg.price_table().expect("table");
        let haiku = price_for(&table, "claude-haiku-4-5-20251001").expect("priced");
        assert_eq!(haiku.input_usd_per_mtok, dec!(0.8));
        assert_eq!(haiku.output_usd_per_mtok, dec!(4));
        assert_eq!(
            price_for(&table, "claude-sonnet-4-5").map(|p| p.output_usd_per_mtok),
            Some(dec!(15))
        );
        assert!(price_for(&table, "my-model").is_some());
    }

    #[test]
    fn bad_prices_and_unpriced_models_are_refused() {
        let cfg = AiConfig {
            model_prices: "oops".into(),
            ..AiConfig::default()
        };
        assert!(matches!(
            cfg.validate(false, true),
            Err(AiConfigError::Invalid {
                var: "AI_MODEL_PRICES",
                ..
            })
        ));
        let cfg = AiConfig {
            model_write: "gpt-4o".into(),
            ..AiConfig::default()
        };
        assert!(matches!(
            cfg.validate(false, true),
            Err(AiConfigError::Invalid {
                var: "AI_MODEL_WRITE",
                ..
            })
        ));
    }

    #[test]
    fn production_refuses_the_sandbox_without_opt_in() {
        let cfg = AiConfig::default();
        assert_eq!(
            cfg.validate(true, false),
            Err(AiConfigError::SandboxInProduction)
        );
        assert!(cfg.validate(true, true).is_ok());
        let real = AiConfig {
            anthropic_api_key: Some(SecretString::from("sk-ant-test")),
            ..AiConfig::default()
        };
        assert!(real.validate(true, false).is_ok());
    }
}
