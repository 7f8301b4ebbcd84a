//! The stored records use-cases answer with (the store's row types), named here so callers
//! (the API) reach them through the engine and never depend on the store or the database
//! driver: the engine is the only door to storage.

pub use agency_store::StoreError;
pub use agency_store::activities::Activity;
pub use agency_store::audit::AuditEntry;
pub use agency_store::campaigns::{Campaign, SequenceStep};
pub use agency_store::leads::Lead;
pub use agency_store::meetings::Meeting;
pub use agency_store::onboarding_jobs::OnboardingJob;
pub use agency_store::outreach::SandboxMessage;
pub use agency_store::outreach_approvals::Approval;
pub use agency_store::replies::Reply;
pub use agency_store::sending_resources::SendingResource;
pub use agency_store::webhook_deliveries::Delivery;
pub use agency_store::webhook_endpoints::Endpoint;
pub use agency_store::webhook_events::WebhookEvent;
