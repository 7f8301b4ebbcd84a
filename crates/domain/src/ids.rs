//! Newtype identifiers over UUIDs, one per entity, so ids of different kinds never mix.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! id_type {
    ($( $(#[$meta:meta])* $name:ident ),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
        pub struct $name(pub Uuid);

        impl $name {
            /// A new time-ordered (v7) id.
            pub fn new_v7() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID.
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The wrapped UUID.
            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// Unwraps into the UUID.
            pub const fn into_uuid(self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s.trim()).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                Self(uuid)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Uuid {
                id.0
            }
        }
    )+};
}

id_type!(
    /// A client (tenant).
    ClientId,
    /// A user (the JWT `sub`).
    UserId,
    /// A membership of a user in a client.
    MembershipId,
    /// A campaign.
    CampaignId,
    /// A step of a campaign's sequence.
    SequenceStepId,
    /// A lead.
    LeadId,
    /// An activity (append-only event on a lead).
    ActivityId,
    /// A planned send (`outreach_sends` row).
    OutreachSendId,
    /// An inbound reply.
    ReplyId,
    /// A meeting.
    MeetingId,
    /// A sending resource (email domain, number, LinkedIn seat).
    ResourceId,
    /// A global suppression entry.
    SuppressionId,
    /// A received webhook event (inbox row).
    WebhookEventId,
    /// An outbound webhook endpoint.
    WebhookEndpointId,
    /// An outbound webhook delivery attempt.
    WebhookDeliveryId,
    /// An AI usage ledger row.
    AiUsageId,
    /// An audit log row.
    AuditLogId,
    /// An onboarding (website analysis) job.
    OnboardingJobId,
    /// An admin alert.
    AlertId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_parse_and_serde_round_trip() {
        let id = LeadId::new_v7();
        let text = id.to_string();
        assert_eq!(text.parse::<LeadId>().ok(), Some(id));
        let json = serde_json::to_string(&id).unwrap_or_default();
        assert_eq!(json, format!("\"{text}\""));
        let back: LeadId = serde_json::from_str(&json).unwrap_or(LeadId(Uuid::nil()));
        assert_eq!(back, id);
    }

    #[test]
    fn v7_ids_sort_by_time() {
        let a = ClientId::new_v7();
        let b = ClientId::new_v7();
        assert!(a < b);
    }

    #[test]
    fn rejects_garbage() {
        assert!("not-a-uuid".parse::<UserId>().is_err());
    }
}
