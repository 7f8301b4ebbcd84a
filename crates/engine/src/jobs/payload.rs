//! Typed job payloads, one struct per kind, stored as JSON in `apalis.jobs.job`.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::kind::JobKind;

/// A job's arguments: serialisable and tied to exactly one kind.
pub trait JobPayload: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The kind this payload belongs to.
    const KIND: JobKind;

    /// The tenant the job works for, when it has one (logged on the job's span).
    fn client_id(&self) -> Option<Uuid> {
        None
    }
}

macro_rules! client_job {
    ($ty:ident, $kind:ident) => {
        impl JobPayload for $ty {
            const KIND: JobKind = JobKind::$kind;
            fn client_id(&self) -> Option<Uuid> {
                Some(self.client_id)
            }
        }
    };
}

macro_rules! platform_job {
    ($ty:ident, $kind:ident) => {
        impl JobPayload for $ty {
            const KIND: JobKind = JobKind::$kind;
        }
    };
}

/// Process a stored inbound webhook event (`webhook_events.id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessWebhookEvent {
    /// The `webhook_events` row.
    pub event_id: Uuid,
}
platform_job!(ProcessWebhookEvent, ProcessWebhookEvent);

/// Enrich one lead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrichLead {
    /// The tenant.
    pub client_id: Uuid,
    /// The lead.
    pub lead_id: Uuid,
}
client_job!(EnrichLead, EnrichLead);

/// Score a batch of leads of one client.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreLeads {
    /// The tenant.
    pub client_id: Uuid,
    /// The leads to (re)score.
    pub lead_ids: Vec<Uuid>,
}
client_job!(ScoreLeads, ScoreLeads);

/// Allocate one lead to its first-touch channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AllocateLead {
    /// The tenant.
    pub client_id: Uuid,
    /// The lead.
    pub lead_id: Uuid,
}
client_job!(AllocateLead, AllocateLead);

/// Rescore and allocate a campaign's leads, fanned out as `score_leads` batches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RescoreCampaign {
    /// The tenant.
    pub client_id: Uuid,
    /// The campaign.
    pub campaign_id: Uuid,
    /// Only the leads waiting for allocation (capacity, resource or send window).
    #[serde(default)]
    pub only_waiting: bool,
}
client_job!(RescoreCampaign, RescoreCampaign);

/// Send one planned outreach step (`outreach_sends.id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendOutreach {
    /// The tenant.
    pub client_id: Uuid,
    /// The `outreach_sends` row.
    pub send_id: Uuid,
}
client_job!(SendOutreach, SendOutreach);

/// Play a sandboxed send's provider webhooks back (the development sandbox loop).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxFeedback {
    /// The tenant.
    pub client_id: Uuid,
    /// The `outreach_sends` row the sandbox took.
    pub send_id: Uuid,
}
client_job!(SandboxFeedback, SandboxFeedback);

/// Classify one inbound reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClassifyReply {
    /// The tenant.
    pub client_id: Uuid,
    /// The `replies` row.
    pub reply_id: Uuid,
}
client_job!(ClassifyReply, ClassifyReply);

/// Deliver one outbound webhook (`webhook_deliveries.id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliverWebhook {
    /// The tenant.
    pub client_id: Uuid,
    /// The delivery row.
    pub delivery_id: Uuid,
}
client_job!(DeliverWebhook, DeliverWebhook);

/// Refresh report aggregates for one client, or for all when `client_id` is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshReport {
    /// One tenant, or all.
    pub client_id: Option<Uuid>,
    /// The schedule tick that asked for it, if any.
    pub tick: Option<DateTime<Utc>>,
}
impl JobPayload for RefreshReport {
    const KIND: JobKind = JobKind::RefreshReport;
    fn client_id(&self) -> Option<Uuid> {
        self.client_id
    }
}

/// Learn patterns for one client, or for all when `client_id` is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnPatterns {
    /// One tenant, or all.
    pub client_id: Option<Uuid>,
    /// The schedule tick that asked for it, if any.
    pub tick: Option<DateTime<Utc>>,
}
impl JobPayload for LearnPatterns {
    const KIND: JobKind = JobKind::LearnPatterns;
    fn client_id(&self) -> Option<Uuid> {
        self.client_id
    }
}

/// The payload of a job a schedule enqueues: which tick fired it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledTick {
    /// The schedule's name.
    pub schedule: String,
    /// The tick (UTC instant of the schedule's local time).
    pub tick: DateTime<Utc>,
}

macro_rules! tick_job {
    ($(#[$doc:meta])* $ty:ident, $kind:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
        pub struct $ty(pub ScheduledTick);
        platform_job!($ty, $kind);
    };
}

tick_job!(
    /// Pattern backfill (04:00 daily).
    PatternBackfill,
    PatternBackfill
);
tick_job!(
    /// Enrichment sweep (02:00 daily).
    EnrichmentSweep,
    EnrichmentSweep
);
tick_job!(
    /// Outreach sweep (hourly 08:00-18:00 Mon-Fri).
    OutreachSweep,
    OutreachSweep
);
tick_job!(
    /// Reply recovery (every 6 hours).
    ReplyRecovery,
    ReplyRecovery
);
tick_job!(
    /// Alert checks (every minute; see `admin::check_alerts_job`).
    CheckAlerts,
    CheckAlerts
);
tick_job!(
    /// Credit reset check (hourly; resets clients whose reset date passed).
    CreditReset,
    CreditReset
);

/// Retention clean-up; the defaults are the retention periods.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cleanup {
    /// Finished (`Done`) jobs older than this many days are deleted.
    pub done_jobs_days: i32,
    /// Processed or ignored webhook events older than this many days are deleted.
    pub webhook_events_days: i32,
    /// Idempotency records and schedule runs older than this many days are deleted.
    pub bookkeeping_days: i32,
    /// Finished outbound webhook deliveries (and their attempt logs) older than this many days
    /// are deleted.
    #[serde(default = "default_delivery_logs_days")]
    pub delivery_logs_days: i32,
}

fn default_delivery_logs_days() -> i32 {
    30
}

impl Default for Cleanup {
    fn default() -> Self {
        Self {
            done_jobs_days: 7,
            webhook_events_days: 30,
            bookkeeping_days: 90,
            delivery_logs_days: default_delivery_logs_days(),
        }
    }
}
platform_job!(Cleanup, Cleanup);

/// Read a client's website and extract its ICP (`onboarding_jobs.id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalyzeWebsite {
    /// The tenant.
    pub client_id: Uuid,
    /// The `onboarding_jobs` row.
    pub onboarding_job_id: Uuid,
}
client_job!(AnalyzeWebsite, AnalyzeWebsite);
