//! [`AiSettings`]: what the gate needs from configuration (models per purpose, output caps,
//! prices, USD->AUD rate, platform cap, reservation timeout, counter names), built from
//! [`agency_providers::AiConfig`].

use std::time::Duration;

use agency_domain::ModelPrice;
use agency_domain::ai::{AiPurpose, price_for};
use agency_providers::{AiConfig, AiConfigError};
use chrono_tz::Tz;
use rust_decimal::Decimal;

/// The platform cap's days: Australia/Sydney (the schedules' zone).
pub const PLATFORM_TIMEZONE: Tz = chrono_tz::Australia::Sydney;

/// Input tokens Anthropic adds to a request that forces a tool (the tool-use system prompt),
/// counted in every structured call's estimate.
pub const TOOL_OVERHEAD_TOKENS: u64 = 350;

/// The money counter of a client's daily spend (`v1:ai_spend:{client}:{day}`).
pub fn client_counter(client_id: agency_domain::ClientId) -> String {
    format!("ai_spend:{client_id}")
}

/// The gate's settings.
#[derive(Debug, Clone)]
pub struct AiSettings {
    /// Model per purpose.
    pub models: Vec<(AiPurpose, String)>,
    /// Price table (model id or prefix -> USD per MTok).
    pub prices: Vec<(String, ModelPrice)>,
    /// USD -> AUD.
    pub usd_to_aud: Decimal,
    /// Platform-wide daily cap (AUD).
    pub platform_daily_cap_aud: Decimal,
    /// After this long an unsettled reservation is given back.
    pub reservation_timeout: Duration,
    /// Name of the platform's money counter (`ai_spend:platform`; tests use their own).
    pub platform_counter: String,
    /// How long an open circuit fails calls without looking at the counters.
    pub circuit_recheck: Duration,
}

impl AiSettings {
    /// Settings from the AI configuration (validated: every purpose's model is priced).
    pub fn from_config(cfg: &AiConfig) -> Result<Self, AiConfigError> {
        cfg.validate(false, true)?;
        Ok(AiSettings {
            models: AiPurpose::ALL
                .iter()
                .map(|p| (*p, cfg.model_for(*p).to_owned()))
                .collect(),
            prices: cfg.price_table()?,
            usd_to_aud: cfg.usd_to_aud,
            platform_daily_cap_aud: cfg.platform_daily_cap_aud,
            reservation_timeout: Duration::from_secs(cfg.ai_reservation_timeout_secs),
            platform_counter: "ai_spend:platform".to_owned(),
            circuit_recheck: Duration::from_secs(60),
        })
    }

    /// The model of `purpose`.
    pub fn model(&self, purpose: AiPurpose) -> &str {
        self.models
            .iter()
            .find(|(p, _)| *p == purpose)
            .map_or("", |(_, m)| m.as_str())
    }

    /// The price of `model`; an unknown model is charged at the dearest price in the table
    /// (the safe side for a budget).
    pub fn price(&self, model: &str) -> ModelPrice {
        price_for(&self.prices, model).copied().unwrap_or_else(|| {
            self.prices
                .iter()
                .map(|(_, p)| *p)
                .max_by_key(|p| p.output_usd_per_mtok)
                .unwrap_or(ModelPrice {
                    input_usd_per_mtok: Decimal::from(15),
                    output_usd_per_mtok: Decimal::from(75),
                })
        })
    }
}

impl Default for AiSettings {
    /// The documented defaults (no configuration).
    fn default() -> Self {
        // The default configuration always validates.
        Self::from_config(&AiConfig::default()).unwrap_or_else(|_| AiSettings {
            models: Vec::new(),
            prices: Vec::new(),
            usd_to_aud: Decimal::new(155, 2),
            platform_daily_cap_aud: Decimal::from(500),
            reservation_timeout: Duration::from_secs(600),
            platform_counter: "ai_spend:platform".to_owned(),
            circuit_recheck: Duration::from_secs(60),
        })
    }
}

/// Output cap (max_tokens) of each purpose.
pub const fn output_cap(purpose: AiPurpose) -> u32 {
    match purpose {
        AiPurpose::ClassifyReply => 400,
        AiPurpose::WriteMessage => 1_200,
        AiPurpose::ExtractIcp => 1_500,
    }
}
