//! Agency OS outbound provider adapters. Owns the HTTP foundation every adapter uses
//! (`http`: timeouts, retries with backoff and `Retry-After`, circuit breaker, secret-safe
//! auth), the enrichment traits (`PersonEnricher`, `SeoFactsProvider`), the Apollo, Apify,
//! Clay and DataForSEO adapters, the Claude adapter (`claude`), their deterministic sandboxes, and `ProvidersConfig`, which
//! builds the set from the environment. The enrichment waterfall itself lives in the engine.

pub mod apify;
pub mod apollo;
pub mod claude;
pub mod clay;
pub mod config;
pub mod dataforseo;
mod dates;
pub mod error;
pub mod http;
mod mapping;
pub mod person;
pub mod provider;
pub mod sandbox;
pub mod seo;
pub mod webhooks;

pub use apify::Apify;
pub use apollo::Apollo;
pub use claude::{
    AiAnswer, AiConfig, AiConfigError, AiRequest, Anthropic, LanguageModel, SandboxClaude,
    StopReason, ToolSpec, Usage,
};
pub use clay::Clay;
pub use config::{ALLOW_SANDBOX_VAR, EnrichmentProviders, ProvidersConfig, ProvidersConfigError};
pub use dataforseo::DataForSeo;
pub use error::ProviderError;
pub use http::{Auth, BreakerSettings, HttpSettings, ProviderHttp, RetryPolicy};
pub use person::{EmailStatus, EnrichedPerson, Organization, PersonEnricher, PersonQuery};
pub use provider::Provider;
pub use sandbox::{SandboxPersonEnricher, SandboxSeo};
pub use seo::{SeoFactsProvider, SeoReport};
