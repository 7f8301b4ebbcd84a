//! [`Services`]: everything a use-case or a job handler reaches outside its own arguments (the
//! pool, the cache, the provider adapters, the clock and the engine's settings), built once
//! per binary and handed to both the API state and the job context. No process-global state:
//! a binary that did not build a provider cannot reach one.

use std::sync::Arc;

use agency_cache::FallbackCache;
use agency_providers::EnrichmentProviders;
use agency_providers::outbound_webhooks::{HttpWebhookSender, WebhookSender};
use agency_providers::website::{
    AddressPolicy, HttpWebsiteReader, ReaderLimits, SandboxWebsiteReader, WebsiteReader,
};
use agency_store::PgPool;
use chrono::{DateTime, Utc};

use crate::ai::AiGate;
use crate::outreach::OutreachEnv;
use crate::pipeline::Waterfall;
use crate::resources::ResourceVerifier;
use crate::single_flight::SingleFlight;

/// The explicit dependencies of the engine. Cheap to clone (every part is shared).
#[derive(Clone)]
pub struct Services {
    /// The query pool (may be a transaction pooler: no session state).
    pub pool: PgPool,
    /// Cache, counters and rate limits (Redis or the PostgreSQL fallback).
    pub cache: Arc<FallbackCache>,
    /// The outbound provider adapters.
    pub providers: Arc<Providers>,
    /// What "now" is.
    pub clock: Clock,
    /// Engine-wide settings.
    pub settings: Arc<EngineSettings>,
    /// Concurrent cache misses of the same lead count share one `count(*)`.
    pub lead_counts: Arc<SingleFlight<i64>>,
}

impl std::fmt::Debug for Services {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Services")
            .field("clock", &self.clock)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Services {
    /// Services over `pool` and `cache` with `providers` (built from configuration by the
    /// binary) and `settings`, on the system clock.
    pub fn new(
        pool: PgPool,
        cache: Arc<FallbackCache>,
        providers: Providers,
        settings: EngineSettings,
    ) -> Self {
        Self {
            pool,
            cache,
            providers: Arc::new(providers),
            clock: Clock::System,
            settings: Arc::new(settings),
            lead_counts: Arc::default(),
        }
    }

    /// Services whose every provider is a sandbox twin (tests, `agencyctl dev`, and the API,
    /// which calls no provider). Production binaries build [`Providers`] from configuration.
    pub fn with_sandbox_providers(pool: PgPool, cache: Arc<FallbackCache>) -> Self {
        let providers = Providers::sandbox(Utc::now());
        Self::new(pool, cache, providers, EngineSettings::default())
    }

    /// The same services on another clock (tests that pin time).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The same services with other settings.
    pub fn with_settings(mut self, settings: EngineSettings) -> Self {
        self.settings = Arc::new(settings);
        self
    }

    /// Now, by [`Self::clock`].
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// The provider adapters, one field per capability. Each is real or a sandbox twin, as the
/// binary's configuration chose ([`agency_providers::ProvidersConfig`]).
pub struct Providers {
    /// The enrichment waterfall (Apollo -> Apify -> Clay, DataForSEO).
    pub enrichment: Waterfall,
    /// The one door to Claude (spend gate over the configured model).
    pub ai: Arc<AiGate>,
    /// The website reader of onboarding (the real one reads public addresses only unless
    /// configured otherwise; see `agency_providers::WebsiteReaderConfig`).
    pub website: Arc<dyn WebsiteReader>,
    /// The email, SMS and voice senders and the public links messages carry.
    pub outreach: OutreachEnv,
    /// The sender of outbound webhooks to clients' endpoints (public addresses only unless
    /// configured otherwise; see `agency_providers::WebhookSenderConfig`).
    pub webhooks: Arc<dyn WebhookSender>,
    /// What proves a client owns a sending resource (DNS, Twilio).
    pub verification: ResourceVerifier,
}

/// Seconds one outbound webhook request may take by default.
const WEBHOOK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

impl Providers {
    /// Providers over the configured enrichment adapters. The AI gate is the sandbox until
    /// [`Providers::with_ai`] sets the configured one; the website reader is the real one on
    /// its default limits and public addresses only (replace it with [`Self::with_website`]).
    pub fn new(enrichment: EnrichmentProviders) -> Self {
        let website = HttpWebsiteReader::new(AddressPolicy::PUBLIC_ONLY, ReaderLimits::default())
            .expect("the website reader's HTTP client builds");
        let webhooks = HttpWebhookSender::new(AddressPolicy::PUBLIC_ONLY, WEBHOOK_TIMEOUT)
            .expect("the webhook sender's HTTP client builds");
        Self {
            enrichment: Waterfall::new(enrichment),
            ai: Arc::new(AiGate::sandbox()),
            website: Arc::new(website),
            outreach: OutreachEnv::sandbox(),
            webhooks: Arc::new(webhooks),
            verification: ResourceVerifier::sandbox(),
        }
    }

    /// The same providers proving resource ownership with `verifier`.
    pub fn with_verification(mut self, verifier: ResourceVerifier) -> Self {
        self.verification = verifier;
        self
    }

    /// The same providers sending outbound webhooks with `sender`.
    pub fn with_webhooks(mut self, sender: Arc<dyn WebhookSender>) -> Self {
        self.webhooks = sender;
        self
    }

    /// The same providers sending through `outreach` (the worker's configured senders; without
    /// it every channel is the sandbox twin, which records messages and sends nothing).
    pub fn with_outreach(mut self, outreach: OutreachEnv) -> Self {
        self.outreach = outreach;
        self
    }

    /// The same providers with `ai` as the AI gate (built from `AiConfig` by the binary).
    pub fn with_ai(mut self, ai: AiGate) -> Self {
        self.ai = Arc::new(ai);
        self
    }

    /// Sandbox twins of every provider, their made-up data anchored on `now`'s date. Outbound
    /// webhooks are really sent, to any address (development and tests post to local
    /// receivers); production builds its sender from configuration.
    pub fn sandbox(now: DateTime<Utc>) -> Self {
        let webhooks = HttpWebhookSender::new(
            AddressPolicy {
                allow_private: true,
            },
            WEBHOOK_TIMEOUT,
        )
        .expect("the webhook sender's HTTP client builds");
        Self::new(EnrichmentProviders::sandbox(now.date_naive()))
            .with_website(Arc::new(SandboxWebsiteReader))
            .with_webhooks(Arc::new(webhooks))
    }

    /// The same providers reading websites with `reader`.
    pub fn with_website(mut self, reader: Arc<dyn WebsiteReader>) -> Self {
        self.website = reader;
        self
    }
}

/// The source of "now": the system clock, or a fixed instant for tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    /// `Utc::now()`.
    #[default]
    System,
    /// Always this instant.
    Fixed(DateTime<Utc>),
}

impl Clock {
    /// The current instant.
    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(at) => *at,
        }
    }
}

/// Settings the engine's use-cases read (the binaries fill them from their configuration).
#[derive(Debug, Clone, Default)]
pub struct EngineSettings {
    /// True in production: no sandbox fallbacks, no private-address exceptions.
    pub production: bool,
    /// Development's sandbox loop: a message the sandbox sender took comes back as the
    /// provider's webhooks (`outreach::sandbox_loop`). Off unless a binary turns it on.
    pub sandbox_feedback: bool,
    /// The keys sealing clients' own provider credentials (none: clients cannot store them).
    pub credentials: agency_providers::CredentialKeys,
    /// Whether new sending resources need proof of ownership (`RESOURCE_VERIFICATION`).
    pub resource_verification: crate::resources::ResourceVerification,
    /// Alert thresholds (and plan prices) of the admin console, for the worker's
    /// `check_alerts` job.
    pub admin: crate::admin::AdminSettings,
}
