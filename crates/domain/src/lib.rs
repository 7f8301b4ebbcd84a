//! Agency OS domain: ids, closed sets, normalisation, ALS scoring, allocation policy, business
//! hours, just-in-time send validation, the keyword intent classifier, SMS segments and money.
//! Pure: no IO, no async, no database.

mod enum_macro;

pub mod allocation;
pub mod campaign;
pub mod channel;
pub mod client;
pub mod email;
pub mod ids;
pub mod intent;
pub mod lead;
pub mod money;
pub mod phone;
pub mod records;
pub mod role;
pub mod scoring;
pub mod suppression;
pub mod text;
pub mod tier;
pub mod web_domain;

pub use allocation::{AllocationError, ChannelAllocation, RawAllocation};
pub use campaign::{CampaignStatus, IllegalTransition};
pub use channel::Channel;
pub use client::{ClientTier, PermissionMode, SubscriptionStatus};
pub use email::{Email, EmailError};
pub use enum_macro::ParseEnumError;
pub use ids::*;
pub use intent::{CallOutcome, Intent};
pub use lead::LeadStatus;
pub use money::Aud;
pub use phone::{Phone, PhoneError};
pub use records::{ActivityAction, MeetingSource, MeetingStatus, MeetingType};
pub use role::Role;
pub use scoring::{
    AlsScore, Components, LearnedWeights, ScoringContext, ScoringInput, SeoFacts, Weights, WeightsError,
    choose_weights, score, score_batch,
};
pub use suppression::SuppressionReason;
pub use tier::Tier;
pub use web_domain::{DomainError, normalise_domain};
