//! Client (tenant) settings as closed sets: plan tier, subscription status, permission mode.

use crate::enum_macro::text_enum;

text_enum! {
    /// The client's plan.
    pub enum ClientTier {
        /// 1,250 lead credits a month.
        Ignition => "ignition",
        /// 2,250 lead credits a month.
        Velocity => "velocity",
        /// 4,500 lead credits a month.
        Dominance => "dominance",
    }
}

impl ClientTier {
    /// Lead credits granted each month.
    pub const fn monthly_credits(self) -> u32 {
        match self {
            ClientTier::Ignition => 1_250,
            ClientTier::Velocity => 2_250,
            ClientTier::Dominance => 4_500,
        }
    }
}

text_enum! {
    /// The client's billing state.
    pub enum SubscriptionStatus {
        /// Trial period: may send.
        Trialing => "trialing",
        /// Paid and current: may send.
        Active => "active",
        /// Payment failed: may not send.
        PastDue => "past_due",
        /// Ended: may not send.
        Cancelled => "cancelled",
        /// Paused by the client: may not send.
        Paused => "paused",
    }
}

impl SubscriptionStatus {
    /// Only `active` and `trialing` clients may send.
    pub const fn allows_sending(self) -> bool {
        matches!(
            self,
            SubscriptionStatus::Active | SubscriptionStatus::Trialing
        )
    }
}

text_enum! {
    /// How much the system may do without a human.
    pub enum PermissionMode {
        /// Sends on its own.
        Autopilot => "autopilot",
        /// Drafts that a member approves before they go.
        CoPilot => "co_pilot",
        /// Sends only what a user triggers.
        Manual => "manual",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credits_by_tier() {
        assert_eq!(ClientTier::Ignition.monthly_credits(), 1250);
        assert_eq!(ClientTier::Velocity.monthly_credits(), 2250);
        assert_eq!(ClientTier::Dominance.monthly_credits(), 4500);
    }

    #[test]
    fn sending_statuses() {
        let allowed: Vec<_> = SubscriptionStatus::ALL
            .iter()
            .filter(|s| s.allows_sending())
            .collect();
        assert_eq!(
            allowed,
            [&SubscriptionStatus::Trialing, &SubscriptionStatus::Active]
        );
    }

    #[test]
    fn spellings() {
        assert_eq!(PermissionMode::CoPilot.as_str(), "co_pilot");
        assert_eq!(
            "past_due".parse::<SubscriptionStatus>().ok(),
            Some(SubscriptionStatus::PastDue)
        );
        assert_eq!(
            serde_json::to_string(&PermissionMode::CoPilot).unwrap_or_default(),
            "\"co_pilot\""
        );
        let err = "gold"
            .parse::<ClientTier>()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("ignition, velocity, dominance"), "{err}");
    }
}
