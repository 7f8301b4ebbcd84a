//! Agency OS outbound provider adapters. Owns the HTTP foundation every adapter uses
//! (`http`: timeouts, retries with backoff and `Retry-After`, circuit breaker, secret-safe
//! auth), the enrichment traits (`PersonEnricher`, `SeoFactsProvider`), the Apollo, Apify,
//! Clay and DataForSEO adapters, the Claude adapter (`claude`), their deterministic sandboxes,
//! the website reader for onboarding (`website`: crawl limits, robots.txt, the SSRF guard,
//! HTML parsing), and `ProvidersConfig`, which builds the set from the environment; and the
//! outreach senders (`outreach`: email, SMS, voice) with the Resend, Twilio and Vapi adapters,
//! their sandbox twin and `OutreachConfig`; and the sender of the webhooks we send to
//! clients' systems (`outbound_webhooks`, behind the SSRF guard; signed by
//! `standard_webhooks`). The enrichment waterfall and the send path live in
//! the engine.

pub mod apify;
pub mod apollo;
pub mod claude;
pub mod clay;
pub mod config;
pub mod dataforseo;
mod dates;
pub mod dns;
pub mod error;
pub mod http;
mod mapping;
pub mod outbound_webhooks;
pub mod outreach;
pub mod outreach_config;
pub mod outreach_sandbox;
pub mod person;
pub mod provider;
pub mod resend;
pub mod sandbox;
pub mod sealed;
pub mod seo;
pub mod standard_webhooks;
pub mod twilio;
pub mod vapi;
pub mod webhooks;
pub mod website;

pub use apify::Apify;
pub use apollo::Apollo;
pub use claude::{
    AiAnswer, AiConfig, AiConfigError, AiRequest, Anthropic, LanguageModel, SandboxClaude,
    StopReason, ToolSpec, Usage,
};
pub use clay::Clay;
pub use config::{ALLOW_SANDBOX_VAR, EnrichmentProviders, ProvidersConfig, ProvidersConfigError};
pub use dataforseo::DataForSeo;
pub use error::{ProviderError, UndeliverableReason};
pub use http::{
    Auth, BreakerSettings, CallOptions, CircuitChange, CircuitObserver, CircuitState, CircuitWatch,
    HttpSettings, ProviderHttp, RetryPolicy,
};
pub use outbound_webhooks::{
    HttpWebhookSender, WebhookRequest, WebhookResponse, WebhookSendError, WebhookSender,
    WebhookSenderConfig,
};
pub use outreach::{
    CallMetadata, CallRequest, EmailMessage, EmailSender, ReceivedEmail, SendReceipt, SmsMessage,
    SmsSender, VoiceCaller,
};
pub use outreach_config::{OutreachConfig, OutreachProviders};
pub use outreach_sandbox::{SandboxOutreach, SandboxRecord, sandbox_message_id};
pub use person::{EmailStatus, EnrichedPerson, Organization, PersonEnricher, PersonQuery};
pub use provider::Provider;
pub use resend::Resend;
pub use sandbox::{SandboxPersonEnricher, SandboxSeo};
pub use sealed::{CredentialKeys, CredentialsConfig, SealError, Sealed};
pub use seo::{SeoFactsProvider, SeoReport};
pub use twilio::Twilio;
pub use vapi::Vapi;
pub use website::{
    HttpWebsiteReader, SandboxWebsiteReader, WebsiteError, WebsiteReader, WebsiteReaderConfig,
};
