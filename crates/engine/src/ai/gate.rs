//! [`AiGate`]: the one door to Claude. Before a call it reserves an estimate (the prompt's
//! token estimate, plus the tool-use overhead, at the input price; the purpose's output cap
//! at the output price) against the client's daily budget and the platform's daily cap in the
//! cache's exact money counters; after it, settles the billed cost (`usage` x price x
//! USD->AUD); every call has an `ai_usage` ledger row.
//!
//! Reservation is add-then-check: the estimate is added to the counter and taken back at once
//! when the new total passes the cap, so concurrent callers can never hold more than the cap
//! between them; the only overshoot is a settled cost above its estimate. Reservations whose
//! process died are given back after the reservation timeout ([`AiGate::release_stale`], also
//! tried when a reservation is refused). A refusal opens the circuit for that counter's day:
//! calls fail fast ([`AiError::BudgetExhausted`]) and re-check the counters every
//! `circuit_recheck`; the opening is logged as a warning and sent to Sentry once; the next
//! day closes it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use agency_cache::keys::local_day;
use agency_cache::{Cache, CacheError};
use agency_domain::ClientId;
use agency_domain::ai::{AiPurpose, estimate_tokens};
use agency_providers::{AiAnswer, AiRequest, LanguageModel, ProviderError, StopReason, ToolSpec};
use agency_store::{PgPool, StoreError, ai_usage};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::settings::{
    AiSettings, PLATFORM_TIMEZONE, TOOL_OVERHEAD_TOKENS, client_counter, output_cap,
};

/// Which cap refused a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetScope {
    /// The client's `daily_ai_budget_aud`.
    Client,
    /// The platform's daily cap.
    Platform,
}

impl std::fmt::Display for BudgetScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BudgetScope::Client => "the client's daily AI budget",
            BudgetScope::Platform => "the platform's daily AI cap",
        })
    }
}

/// Why an AI call gave no usable answer; every caller falls back on any of them.
#[derive(Debug, thiserror::Error)]
pub enum AiError {
    /// A cap is reached: the circuit is open until the day ends.
    #[error("AI budget exhausted: {0}")]
    BudgetExhausted(BudgetScope),
    /// The provider call failed (after its retries).
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// The model declined to answer (`stop_reason: refusal`); the usage was still billed.
    #[error("the model refused to answer")]
    Refused,
    /// The answer hit the output cap and is cut.
    #[error("the answer was cut at the output cap")]
    Truncated,
    /// The answer is not what was asked for (schema, length, placeholders, links).
    #[error("invalid AI output: {0}")]
    InvalidOutput(String),
    /// The spend counters failed.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// The ledger or the client's budget could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What to ask: a system prompt, the user turn and, for a structured answer, the tool whose
/// arguments are the answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    /// System prompt.
    pub system: String,
    /// User turn.
    pub user: String,
    /// Forced tool (structured answer), or free text.
    pub tool: Option<ToolSpec>,
}

/// An estimate held in the counters for one call.
#[derive(Debug, Clone, PartialEq)]
pub struct Reservation {
    /// The `ai_usage` row.
    pub id: Uuid,
    /// The paying client.
    pub client_id: ClientId,
    /// The client's timezone (its counter's days).
    pub timezone: Tz,
    /// The instant the counters' days are taken from.
    pub at: DateTime<Utc>,
    /// The AUD held.
    pub estimate_aud: Decimal,
}

/// An open circuit: the counter's day it belongs to, and when to look at the counter again.
#[derive(Debug, Clone, Copy)]
struct Circuit {
    day: NaiveDate,
    recheck_at: Instant,
}

/// Rows given back per [`AiGate::release_stale`] batch.
const STALE_BATCH: i64 = 500;

/// The gate. One per process, shared (`Arc`).
pub struct AiGate {
    model: Arc<dyn LanguageModel>,
    settings: AiSettings,
    circuits: Mutex<HashMap<String, Circuit>>,
}

impl std::fmt::Debug for AiGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AiGate")
            .field("model", &self.model)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AiGate {
    /// A gate over `model` with `settings`.
    pub fn new(model: Arc<dyn LanguageModel>, settings: AiSettings) -> Self {
        Self {
            model,
            settings,
            circuits: Mutex::new(HashMap::new()),
        }
    }

    /// A gate over the sandbox model with the default settings.
    pub fn sandbox() -> Self {
        Self::new(
            Arc::new(agency_providers::SandboxClaude::new()),
            AiSettings::default(),
        )
    }

    /// The settings.
    pub fn settings(&self) -> &AiSettings {
        &self.settings
    }

    /// True when the model is the sandbox twin.
    pub fn is_sandbox(&self) -> bool {
        self.model.is_sandbox()
    }

    /// The request for `prompt` under `purpose` (its model and output cap).
    pub fn request(&self, purpose: AiPurpose, prompt: &Prompt) -> AiRequest {
        AiRequest {
            model: self.settings.model(purpose).to_owned(),
            system: prompt.system.clone(),
            user: prompt.user.clone(),
            max_tokens: output_cap(purpose),
            temperature: Some(if purpose == AiPurpose::ClassifyReply {
                0.0
            } else {
                0.7
            }),
            tool: prompt.tool.clone(),
        }
    }

    /// The most `request` can cost: estimated input plus the whole output cap, in AUD.
    pub fn estimate(&self, request: &AiRequest) -> Decimal {
        let mut input = estimate_tokens(&request.system) + estimate_tokens(&request.user);
        if let Some(tool) = &request.tool {
            input += TOOL_OVERHEAD_TOKENS
                + estimate_tokens(&tool.name)
                + estimate_tokens(&tool.description)
                + estimate_tokens(&tool.input_schema.to_string());
        }
        self.settings.price(&request.model).cost_aud(
            input,
            u64::from(request.max_tokens),
            self.settings.usd_to_aud,
        )
    }

    /// Calls the model for `client_id` under `purpose`: reserve, call, settle. A refusal or a
    /// cut structured answer is settled (it was billed) and then reported as an error.
    pub async fn call(
        &self,
        pool: &PgPool,
        cache: &dyn Cache,
        client_id: ClientId,
        purpose: AiPurpose,
        prompt: &Prompt,
        now: DateTime<Utc>,
    ) -> Result<AiAnswer, AiError> {
        let request = self.request(purpose, prompt);
        let estimate = self.estimate(&request);
        let reservation = self
            .reserve(
                pool,
                cache,
                client_id,
                purpose,
                &request.model,
                estimate,
                now,
            )
            .await?;
        let answer = match self.model.complete(&request).await {
            Ok(answer) => answer,
            Err(e) => {
                self.release(pool, cache, &reservation).await?;
                return Err(e.into());
            }
        };
        self.settle(pool, cache, &reservation, &answer).await?;
        match answer.stop_reason {
            StopReason::Refusal => Err(AiError::Refused),
            StopReason::MaxTokens => Err(AiError::Truncated),
            _ => Ok(answer),
        }
    }

    /// Calls the model with a forced tool and returns the tool's arguments.
    pub async fn call_tool(
        &self,
        pool: &PgPool,
        cache: &dyn Cache,
        client_id: ClientId,
        purpose: AiPurpose,
        prompt: &Prompt,
        now: DateTime<Utc>,
    ) -> Result<serde_json::Value, AiError> {
        let answer = self
            .call(pool, cache, client_id, purpose, prompt, now)
            .await?;
        answer
            .tool_input
            .ok_or_else(|| AiError::InvalidOutput("the model did not call the tool".into()))
    }

    /// Holds `estimate_aud` for one call of `client_id` against its daily budget and the
    /// platform cap, and writes the ledger row. Fails fast while a circuit is open.
    #[allow(clippy::too_many_arguments)]
    pub async fn reserve(
        &self,
        pool: &PgPool,
        cache: &dyn Cache,
        client_id: ClientId,
        purpose: AiPurpose,
        model: &str,
        estimate_aud: Decimal,
        now: DateTime<Utc>,
    ) -> Result<Reservation, AiError> {
        let budget = agency_store::clients::ai_budget(pool, client_id).await?;
        let timezone: Tz = budget.timezone.parse().map_err(|_| {
            StoreError::Database(sqlx::Error::Decode(
                format!("unknown client timezone `{}`", budget.timezone).into(),
            ))
        })?;
        let client_key = client_counter(client_id);
        let platform_key = self.settings.platform_counter.as_str();
        let client_day = local_day(timezone, now);
        let platform_day = local_day(PLATFORM_TIMEZONE, now);
        self.fail_fast(&client_key, client_day, BudgetScope::Client)?;
        self.fail_fast(platform_key, platform_day, BudgetScope::Platform)?;

        let mut released_stale = false;
        loop {
            let refused = self
                .hold(
                    cache,
                    &client_key,
                    timezone,
                    budget.daily_ai_budget_aud,
                    estimate_aud,
                    now,
                )
                .await?;
            let Some(scope) = refused else { break };
            if !released_stale && self.release_stale(pool, cache).await? > 0 {
                released_stale = true;
                continue;
            }
            let (key, day) = match scope {
                BudgetScope::Client => (client_key.as_str(), client_day),
                BudgetScope::Platform => (platform_key, platform_day),
            };
            if self.open(key, day, scope, client_id) {
                // Platform admins see it in the console (one open alert per counter and day).
                let mut alert = crate::admin::RaiseAlert::new(
                    "ai_budget_exhausted",
                    agency_domain::AlertSeverity::Warning,
                    match scope {
                        BudgetScope::Client => "Client AI budget reached",
                        BudgetScope::Platform => "Platform AI cap reached",
                    },
                    format!(
                        "The {scope} for {day} is spent: AI calls fall back to the deterministic \
                         paths until the next day."
                    ),
                )
                .key(format!("ai_budget_exhausted:{key}:{day}"))
                .metadata(serde_json::json!({"counter": key, "day": day}));
                if scope == BudgetScope::Client {
                    alert = alert.client(client_id);
                }
                if let Err(e) = crate::admin::raise_alert(pool, alert).await {
                    tracing::warn!(error = %e, "the AI budget alert could not be raised");
                }
            }
            return Err(AiError::BudgetExhausted(scope));
        }
        self.close(&client_key);
        self.close(platform_key);

        let reservation = Reservation {
            id: Uuid::now_v7(),
            client_id,
            timezone,
            at: now,
            estimate_aud,
        };
        let row = ai_usage::NewReservation {
            id: reservation.id,
            client_id,
            purpose,
            model,
            estimate_aud,
            usage_date: client_day,
            platform_date: platform_day,
            at: now,
        };
        if let Err(e) = ai_usage::insert_reservation(pool, &row).await {
            self.add(cache, &reservation, -estimate_aud).await?;
            return Err(e.into());
        }
        Ok(reservation)
    }

    /// Records the billed cost of `answer` for `reservation` and moves the counters from the
    /// estimate to the cost (or adds the whole cost when the reservation had expired).
    /// Returns the cost in AUD.
    pub async fn settle(
        &self,
        pool: &PgPool,
        cache: &dyn Cache,
        reservation: &Reservation,
        answer: &AiAnswer,
    ) -> Result<Decimal, AiError> {
        let usage = answer.usage;
        let input = usage.billed_input_tokens();
        let cost = self.settings.price(&answer.model).cost_aud(
            input,
            usage.output_tokens,
            self.settings.usd_to_aud,
        );
        let held = ai_usage::settle(
            pool,
            reservation.id,
            &answer.model,
            i64::try_from(input).unwrap_or(i64::MAX),
            i64::try_from(usage.output_tokens).unwrap_or(i64::MAX),
            cost,
        )
        .await?;
        if let Some(held) = held {
            let delta = if held.was_reserved {
                cost - held.estimate_aud
            } else {
                cost
            };
            if !delta.is_zero() {
                self.add(cache, reservation, delta).await?;
            }
        }
        Ok(cost)
    }

    /// Gives back the estimate of a call that failed without usage.
    pub async fn release(
        &self,
        pool: &PgPool,
        cache: &dyn Cache,
        reservation: &Reservation,
    ) -> Result<(), AiError> {
        if let Some(held) = ai_usage::release(pool, reservation.id).await? {
            self.add(cache, reservation, -held.estimate_aud).await?;
        }
        Ok(())
    }

    /// Gives back every reservation older than the reservation timeout (its process died
    /// between reserve and settle); returns how many.
    pub async fn release_stale(&self, pool: &PgPool, cache: &dyn Cache) -> Result<u64, AiError> {
        let timeout =
            i64::try_from(self.settings.reservation_timeout.as_secs()).unwrap_or(i64::MAX);
        let mut released = 0;
        loop {
            let rows = ai_usage::expire_stale(pool, timeout, STALE_BATCH).await?;
            for row in &rows {
                let timezone: Tz = row.timezone.parse().unwrap_or(PLATFORM_TIMEZONE);
                let reservation = Reservation {
                    id: row.id,
                    client_id: row.client_id,
                    timezone,
                    at: row.at,
                    estimate_aud: row.estimate_aud,
                };
                self.add(cache, &reservation, -row.estimate_aud).await?;
                tracing::warn!(
                    client_id = %row.client_id,
                    reservation = %row.id,
                    estimate_aud = %row.estimate_aud,
                    "AI spend reservation expired unsettled: estimate given back"
                );
            }
            released += rows.len() as u64;
            if (rows.len() as i64) < STALE_BATCH {
                return Ok(released);
            }
        }
    }

    /// Adds `amount` to the client's and the platform's counters of the reservation's days.
    async fn add(
        &self,
        cache: &dyn Cache,
        reservation: &Reservation,
        amount: Decimal,
    ) -> Result<(), AiError> {
        cache
            .add_money_daily(
                &client_counter(reservation.client_id),
                amount,
                reservation.timezone,
                reservation.at,
            )
            .await?;
        cache
            .add_money_daily(
                &self.settings.platform_counter,
                amount,
                PLATFORM_TIMEZONE,
                reservation.at,
            )
            .await?;
        Ok(())
    }

    /// Adds the estimate to both counters unless that passes a cap; returns the cap that
    /// refused (with the counters restored) or `None` when the estimate is held.
    async fn hold(
        &self,
        cache: &dyn Cache,
        client_key: &str,
        timezone: Tz,
        budget: Decimal,
        estimate: Decimal,
        now: DateTime<Utc>,
    ) -> Result<Option<BudgetScope>, AiError> {
        let total = cache
            .add_money_daily(client_key, estimate, timezone, now)
            .await?;
        if total > budget {
            cache
                .add_money_daily(client_key, -estimate, timezone, now)
                .await?;
            return Ok(Some(BudgetScope::Client));
        }
        let platform = &self.settings.platform_counter;
        let total = cache
            .add_money_daily(platform, estimate, PLATFORM_TIMEZONE, now)
            .await?;
        if total > self.settings.platform_daily_cap_aud {
            cache
                .add_money_daily(platform, -estimate, PLATFORM_TIMEZONE, now)
                .await?;
            cache
                .add_money_daily(client_key, -estimate, timezone, now)
                .await?;
            return Ok(Some(BudgetScope::Platform));
        }
        Ok(None)
    }

    /// Err while the circuit of `key` is open for `day` and not due for a re-check.
    fn fail_fast(&self, key: &str, day: NaiveDate, scope: BudgetScope) -> Result<(), AiError> {
        let mut circuits = self.circuits.lock().unwrap_or_else(|p| p.into_inner());
        match circuits.get(key) {
            Some(c) if c.day != day => {
                circuits.remove(key);
                tracing::info!(counter = key, "AI budget circuit closed: a new day");
                Ok(())
            }
            Some(c) if Instant::now() < c.recheck_at => Err(AiError::BudgetExhausted(scope)),
            _ => Ok(()),
        }
    }

    /// Opens (or keeps open) the circuit of `key` for `day`; warns and reports to Sentry on
    /// the opening only, and answers whether this was the opening.
    fn open(&self, key: &str, day: NaiveDate, scope: BudgetScope, client_id: ClientId) -> bool {
        let recheck_at = Instant::now() + self.settings.circuit_recheck;
        let mut circuits = self.circuits.lock().unwrap_or_else(|p| p.into_inner());
        let opening = circuits.get(key).is_none_or(|c| c.day != day);
        circuits.insert(key.to_owned(), Circuit { day, recheck_at });
        drop(circuits);
        if opening {
            let message =
                format!("AI circuit open: {scope} is reached for {day}; callers fall back");
            tracing::warn!(counter = key, %client_id, %day, "{message}");
            sentry::capture_message(&message, sentry::Level::Warning);
        }
        opening
    }

    /// Closes the circuit of `key` (a reservation went through).
    fn close(&self, key: &str) {
        let mut circuits = self.circuits.lock().unwrap_or_else(|p| p.into_inner());
        if circuits.remove(key).is_some() {
            tracing::info!(
                counter = key,
                "AI budget circuit closed: spend is under the cap again"
            );
        }
    }

    /// True when the circuit of `key` is open (for tests and readiness).
    pub fn circuit_open(&self, key: &str) -> bool {
        let circuits = self.circuits.lock().unwrap_or_else(|p| p.into_inner());
        circuits.contains_key(key)
    }
}
