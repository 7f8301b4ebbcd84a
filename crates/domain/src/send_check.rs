//! Just-in-time validation (SPEC 3.2): the checks run right before every send, as one pure
//! function over a snapshot read in the transaction that claims the `outreach_sends` row.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::campaign::CampaignStatus;
use crate::channel::Channel;
use crate::client::SubscriptionStatus;
use crate::lead::LeadStatus;
use crate::tier::Tier;

/// Everything the checks read, as it is at send time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendSnapshot {
    /// The client's subscription status.
    pub subscription_status: SubscriptionStatus,
    /// The client's remaining lead credits.
    pub credits_remaining: i64,
    /// The campaign's status.
    pub campaign_status: CampaignStatus,
    /// The campaign is soft-deleted.
    pub campaign_deleted: bool,
    /// The lead is soft-deleted.
    pub lead_deleted: bool,
    /// The lead's status.
    pub lead_status: LeadStatus,
    /// The lead's tier (`None` until scored).
    pub lead_tier: Option<Tier>,
    /// The address this send goes to is in global suppression.
    pub address_suppressed: bool,
    /// The channel of this send.
    pub channel: Channel,
    /// The lead's number was checked against the DNCR.
    pub dncr_checked: bool,
    /// The DNCR check found the number registered.
    pub dncr_blocked: bool,
}

/// Why a send is blocked; recorded, and nothing is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SendBlocked {
    /// The subscription is neither active nor trialing.
    #[error("the client's subscription is {status}")]
    SubscriptionInactive {
        /// The status found.
        status: SubscriptionStatus,
    },
    /// No lead credits left.
    #[error("the client has no credits left")]
    NoCredits,
    /// The campaign is deleted.
    #[error("the campaign is deleted")]
    CampaignDeleted,
    /// The campaign is not active.
    #[error("the campaign is {status}, not active")]
    CampaignNotActive {
        /// The status found.
        status: CampaignStatus,
    },
    /// The lead is deleted.
    #[error("the lead is deleted")]
    LeadDeleted,
    /// The lead unsubscribed.
    #[error("the lead unsubscribed")]
    LeadUnsubscribed,
    /// The lead's address bounced.
    #[error("the lead bounced")]
    LeadBounced,
    /// The lead converted.
    #[error("the lead converted")]
    LeadConverted,
    /// The address is in global suppression.
    #[error("the address is globally suppressed")]
    AddressSuppressed,
    /// The number is on the Do Not Call Register.
    #[error("the number is on the Do Not Call Register")]
    DncrBlocked,
    /// The number was not checked against the Do Not Call Register.
    #[error("the number has not been checked against the Do Not Call Register")]
    DncrNotChecked,
    /// The lead has no score yet, so no tier allows anything.
    #[error("the lead has not been scored")]
    LeadNotScored,
    /// The lead's tier does not allow this channel.
    #[error("a {tier} lead may not receive {channel}")]
    ChannelNotAllowed {
        /// The lead's tier.
        tier: Tier,
        /// The channel refused.
        channel: Channel,
    },
}

impl SendBlocked {
    /// A snake_case code to record as the reason.
    pub const fn code(&self) -> &'static str {
        match self {
            SendBlocked::SubscriptionInactive { .. } => "subscription_inactive",
            SendBlocked::NoCredits => "no_credits",
            SendBlocked::CampaignDeleted => "campaign_deleted",
            SendBlocked::CampaignNotActive { .. } => "campaign_not_active",
            SendBlocked::LeadDeleted => "lead_deleted",
            SendBlocked::LeadUnsubscribed => "lead_unsubscribed",
            SendBlocked::LeadBounced => "lead_bounced",
            SendBlocked::LeadConverted => "lead_converted",
            SendBlocked::AddressSuppressed => "address_suppressed",
            SendBlocked::DncrBlocked => "dncr_blocked",
            SendBlocked::DncrNotChecked => "dncr_not_checked",
            SendBlocked::LeadNotScored => "lead_not_scored",
            SendBlocked::ChannelNotAllowed { .. } => "channel_not_allowed",
        }
    }
}

/// Runs every check in SPEC order and returns the first that fails.
pub fn validate_send(s: &SendSnapshot) -> Result<(), SendBlocked> {
    if !s.subscription_status.allows_sending() {
        return Err(SendBlocked::SubscriptionInactive {
            status: s.subscription_status,
        });
    }
    if s.credits_remaining <= 0 {
        return Err(SendBlocked::NoCredits);
    }
    if s.campaign_deleted {
        return Err(SendBlocked::CampaignDeleted);
    }
    if !s.campaign_status.is_sending() {
        return Err(SendBlocked::CampaignNotActive {
            status: s.campaign_status,
        });
    }
    if s.lead_deleted {
        return Err(SendBlocked::LeadDeleted);
    }
    match s.lead_status {
        LeadStatus::Unsubscribed => return Err(SendBlocked::LeadUnsubscribed),
        LeadStatus::Bounced => return Err(SendBlocked::LeadBounced),
        LeadStatus::Converted => return Err(SendBlocked::LeadConverted),
        _ => {}
    }
    if s.address_suppressed {
        return Err(SendBlocked::AddressSuppressed);
    }
    if s.channel.is_phone() {
        if s.dncr_blocked {
            return Err(SendBlocked::DncrBlocked);
        }
        if !s.dncr_checked {
            return Err(SendBlocked::DncrNotChecked);
        }
    }
    let tier = s.lead_tier.ok_or(SendBlocked::LeadNotScored)?;
    if !tier.allows(s.channel) {
        return Err(SendBlocked::ChannelNotAllowed {
            tier,
            channel: s.channel,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok_snapshot() -> SendSnapshot {
        SendSnapshot {
            subscription_status: SubscriptionStatus::Active,
            credits_remaining: 10,
            campaign_status: CampaignStatus::Active,
            campaign_deleted: false,
            lead_deleted: false,
            lead_status: LeadStatus::InSequence,
            lead_tier: Some(Tier::Hot),
            address_suppressed: false,
            channel: Channel::Sms,
            dncr_checked: true,
            dncr_blocked: false,
        }
    }

    #[test]
    fn passes_when_everything_is_fine() {
        assert_eq!(validate_send(&ok_snapshot()), Ok(()));
        let trial = SendSnapshot {
            subscription_status: SubscriptionStatus::Trialing,
            ..ok_snapshot()
        };
        assert_eq!(validate_send(&trial), Ok(()));
        // Email needs no DNCR check.
        let email = SendSnapshot {
            channel: Channel::Email,
            dncr_checked: false,
            lead_tier: Some(Tier::Cold),
            ..ok_snapshot()
        };
        assert_eq!(validate_send(&email), Ok(()));
    }

    #[test]
    fn each_failing_condition() {
        let base = ok_snapshot();
        let cases = [
            (
                SendSnapshot {
                    subscription_status: SubscriptionStatus::PastDue,
                    ..base
                },
                SendBlocked::SubscriptionInactive {
                    status: SubscriptionStatus::PastDue,
                },
            ),
            (
                SendSnapshot {
                    subscription_status: SubscriptionStatus::Cancelled,
                    ..base
                },
                SendBlocked::SubscriptionInactive {
                    status: SubscriptionStatus::Cancelled,
                },
            ),
            (
                SendSnapshot {
                    subscription_status: SubscriptionStatus::Paused,
                    ..base
                },
                SendBlocked::SubscriptionInactive {
                    status: SubscriptionStatus::Paused,
                },
            ),
            (
                SendSnapshot {
                    credits_remaining: 0,
                    ..base
                },
                SendBlocked::NoCredits,
            ),
            (
                SendSnapshot {
                    credits_remaining: -3,
                    ..base
                },
                SendBlocked::NoCredits,
            ),
            (
                SendSnapshot {
                    campaign_deleted: true,
                    ..base
                },
                SendBlocked::CampaignDeleted,
            ),
            (
                SendSnapshot {
                    campaign_status: CampaignStatus::Paused,
                    ..base
                },
                SendBlocked::CampaignNotActive {
                    status: CampaignStatus::Paused,
                },
            ),
            (
                SendSnapshot {
                    campaign_status: CampaignStatus::Draft,
                    ..base
                },
                SendBlocked::CampaignNotActive {
                    status: CampaignStatus::Draft,
                },
            ),
            (
                SendSnapshot {
                    campaign_status: CampaignStatus::Completed,
                    ..base
                },
                SendBlocked::CampaignNotActive {
                    status: CampaignStatus::Completed,
                },
            ),
            (
                SendSnapshot {
                    lead_deleted: true,
                    ..base
                },
                SendBlocked::LeadDeleted,
            ),
            (
                SendSnapshot {
                    lead_status: LeadStatus::Unsubscribed,
                    ..base
                },
                SendBlocked::LeadUnsubscribed,
            ),
            (
                SendSnapshot {
                    lead_status: LeadStatus::Bounced,
                    ..base
                },
                SendBlocked::LeadBounced,
            ),
            (
                SendSnapshot {
                    lead_status: LeadStatus::Converted,
                    ..base
                },
                SendBlocked::LeadConverted,
            ),
            (
                SendSnapshot {
                    address_suppressed: true,
                    ..base
                },
                SendBlocked::AddressSuppressed,
            ),
            (
                SendSnapshot {
                    dncr_blocked: true,
                    ..base
                },
                SendBlocked::DncrBlocked,
            ),
            (
                SendSnapshot {
                    dncr_checked: false,
                    ..base
                },
                SendBlocked::DncrNotChecked,
            ),
            (
                SendSnapshot {
                    channel: Channel::Voice,
                    dncr_checked: false,
                    ..base
                },
                SendBlocked::DncrNotChecked,
            ),
            (
                SendSnapshot {
                    lead_tier: None,
                    ..base
                },
                SendBlocked::LeadNotScored,
            ),
            (
                SendSnapshot {
                    lead_tier: Some(Tier::Warm),
                    ..base
                },
                SendBlocked::ChannelNotAllowed {
                    tier: Tier::Warm,
                    channel: Channel::Sms,
                },
            ),
            (
                SendSnapshot {
                    lead_tier: Some(Tier::Dead),
                    channel: Channel::Email,
                    ..base
                },
                SendBlocked::ChannelNotAllowed {
                    tier: Tier::Dead,
                    channel: Channel::Email,
                },
            ),
        ];
        for (snapshot, want) in cases {
            assert_eq!(validate_send(&snapshot), Err(want), "{}", want.code());
        }
    }

    #[test]
    fn reasons_read_well() {
        let e = SendBlocked::ChannelNotAllowed {
            tier: Tier::Cool,
            channel: Channel::Voice,
        };
        assert_eq!(e.to_string(), "a cool lead may not receive voice");
        assert_eq!(e.code(), "channel_not_allowed");
        let json = serde_json::to_string(&SendBlocked::NoCredits).unwrap_or_default();
        assert_eq!(json, r#"{"reason":"no_credits"}"#);
    }
}
