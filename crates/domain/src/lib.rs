//! Agency OS domain: ids, closed sets, normalisation, ALS scoring, allocation policy, business
//! hours, just-in-time send validation, the keyword intent classifier, SMS segments and money.
//! Pure: no IO, no async, no database.

#![warn(missing_docs)]

mod enum_macro;

pub mod ai;
pub mod allocation;
pub mod calendar;
pub mod campaign;
pub mod channel;
pub mod classifier;
pub mod client;
pub mod email;
pub mod generated;
pub mod holidays;
pub mod hours;
pub mod icp;
pub mod ids;
pub mod intent;
pub mod lead;
pub mod linkedin;
pub mod money;
pub mod outbound_webhook;
pub mod outreach;
pub mod phone;
pub mod platform;
pub mod policy;
pub mod records;
pub mod report;
pub mod resource;
pub mod rfc3339;
pub mod role;
pub mod scoring;
pub mod send_check;
pub mod sequence;
pub mod sms;
pub mod suppression;
pub mod text;
pub mod tier;
pub mod web_domain;
pub mod webhook;

pub use ai::{AiPurpose, AiUsageStatus, ModelPrice};
pub use allocation::{AllocationError, ChannelAllocation, RawAllocation};
pub use campaign::{CampaignStatus, IllegalTransition};
pub use channel::Channel;
pub use classifier::{classify_keywords, extract_return_date};
pub use client::{ClientTier, PermissionMode, SubscriptionStatus};
pub use email::{Email, EmailError};
pub use enum_macro::ParseEnumError;
pub use holidays::{AuState, is_public_holiday};
pub use hours::{lead_timezone, next_send_window, timezone_for_phone};
pub use ids::*;
pub use intent::{CallOutcome, Intent};
pub use lead::LeadStatus;
pub use linkedin::{LinkedinUrlError, parse_linkedin_url};
pub use money::Aud;
pub use outbound_webhook::{DeliveryStatus, EndpointStatus, EventType};
pub use outreach::{SMS_OPT_OUT, SendOrigin, SendStatus};
pub use phone::{Phone, PhoneError};
pub use platform::{AlertSeverity, HealthInputs, PlanPrices, change_percent, health_score};
pub use policy::{first_touch_channel, lead_channels};
pub use records::{ActivityAction, MeetingSource, MeetingStatus, MeetingType};
pub use report::{DateRange, FunnelStage, RangeError, percent};
pub use resource::{
    MAX_CONCURRENT_CALLS_PER_CLIENT, ResourceKind, ResourceUsage, daily_cap, pick_resource,
};
pub use role::Role;
pub use scoring::{
    AlsScore, Components, LearnedWeights, ScoringContext, ScoringInput, SeoFacts, Weights,
    WeightsError, choose_weights, score, score_batch,
};
pub use send_check::{SendBlocked, SendSnapshot, validate_send};
pub use sms::is_single_gsm7_segment;
pub use suppression::SuppressionReason;
pub use tier::Tier;
pub use web_domain::{DomainError, normalise_domain};
pub use webhook::{WebhookProvider, WebhookStatus};
