//! Platform-admin rules: the plan price table and what a client pays per month (MRR), the
//! client health score (0-100), period-over-period change, and alert severities.

use rust_decimal::Decimal;

use crate::client::{ClientTier, SubscriptionStatus};
use crate::enum_macro::text_enum;
use crate::money::Aud;

/// Monthly price of each plan, AUD (configured; see `.env.example`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlanPrices {
    /// Ignition.
    pub ignition: Aud,
    /// Velocity.
    pub velocity: Aud,
    /// Dominance.
    pub dominance: Aud,
}

impl Default for PlanPrices {
    /// 2,500 / 5,000 / 7,500 AUD a month.
    fn default() -> Self {
        Self {
            ignition: Aud(Decimal::new(2_500, 0)),
            velocity: Aud(Decimal::new(5_000, 0)),
            dominance: Aud(Decimal::new(7_500, 0)),
        }
    }
}

impl PlanPrices {
    /// The plan's list price.
    pub const fn price(&self, tier: ClientTier) -> Aud {
        match tier {
            ClientTier::Ignition => self.ignition,
            ClientTier::Velocity => self.velocity,
            ClientTier::Dominance => self.dominance,
        }
    }

    /// What the client contributes to MRR: its plan price while `active` or `past_due`
    /// (billed, payment pending), nothing while `trialing`, `paused` or `cancelled`.
    pub const fn mrr(&self, tier: ClientTier, status: SubscriptionStatus) -> Aud {
        if is_paying(status) {
            self.price(tier)
        } else {
            Aud(Decimal::ZERO)
        }
    }
}

/// `active` and `past_due` subscriptions are billed.
pub const fn is_paying(status: SubscriptionStatus) -> bool {
    matches!(
        status,
        SubscriptionStatus::Active | SubscriptionStatus::PastDue
    )
}

/// Signed change from `before` to `now` in percent, two decimals; 0 when `before` is 0 (no
/// base to compare with).
pub fn change_percent(now: Decimal, before: Decimal) -> f64 {
    if before.is_zero() {
        return 0.0;
    }
    let pct = ((now - before) * Decimal::ONE_HUNDRED / before).round_dp(2);
    pct.try_into().unwrap_or(0.0)
}

/// What the health score reads about a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthInputs {
    /// Billing state.
    pub status: SubscriptionStatus,
    /// Days since its latest activity (`None`: never).
    pub days_since_activity: Option<i64>,
    /// Campaigns with status `active`.
    pub active_campaigns: i64,
    /// Distinct leads contacted in the last 30 days.
    pub contacted_30d: i64,
    /// Distinct leads that replied in the last 30 days.
    pub replied_30d: i64,
    /// Lead credits left.
    pub credits_remaining: i64,
}

/// The client health score, 0-100, the sum of:
/// - subscription: active 30, trialing 20, past_due 5, paused or cancelled 0;
/// - recency: an activity in the last 7 days 25, in the last 30 days 10, else 0;
/// - campaigns: at least one active campaign 20;
/// - replies: reply rate over the last 30 days (distinct leads replied / contacted) of 5 % or
///   more 15, above 0 % 8, else 0;
/// - credits: any lead credits left 10.
pub fn health_score(h: &HealthInputs) -> u8 {
    let subscription = match h.status {
        SubscriptionStatus::Active => 30,
        SubscriptionStatus::Trialing => 20,
        SubscriptionStatus::PastDue => 5,
        SubscriptionStatus::Paused | SubscriptionStatus::Cancelled => 0,
    };
    let recency = match h.days_since_activity {
        Some(d) if d <= 7 => 25,
        Some(d) if d <= 30 => 10,
        _ => 0,
    };
    let campaigns = if h.active_campaigns > 0 { 20 } else { 0 };
    let replies = if h.contacted_30d > 0 && h.replied_30d * 20 >= h.contacted_30d {
        15
    } else if h.contacted_30d > 0 && h.replied_30d > 0 {
        8
    } else {
        0
    };
    let credits = if h.credits_remaining > 0 { 10 } else { 0 };
    subscription + recency + campaigns + replies + credits
}

text_enum! {
    /// How urgent an alert is.
    pub enum AlertSeverity {
        /// Needs action now.
        Critical => "critical",
        /// Needs attention.
        Warning => "warning",
        /// For information.
        Info => "info",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mrr_counts_billed_subscriptions_only() {
        let p = PlanPrices::default();
        assert_eq!(
            p.mrr(ClientTier::Velocity, SubscriptionStatus::Active),
            Aud(Decimal::new(5_000, 0))
        );
        assert_eq!(
            p.mrr(ClientTier::Dominance, SubscriptionStatus::PastDue),
            Aud(Decimal::new(7_500, 0))
        );
        for s in [
            SubscriptionStatus::Trialing,
            SubscriptionStatus::Paused,
            SubscriptionStatus::Cancelled,
        ] {
            assert_eq!(p.mrr(ClientTier::Ignition, s), Aud(Decimal::ZERO));
        }
    }

    #[test]
    fn change_is_signed_and_zero_without_a_base() {
        assert_eq!(
            change_percent(Decimal::new(150, 0), Decimal::new(100, 0)),
            50.0
        );
        assert_eq!(
            change_percent(Decimal::new(2, 0), Decimal::new(3, 0)),
            -33.33
        );
        assert_eq!(change_percent(Decimal::new(5, 0), Decimal::ZERO), 0.0);
    }

    #[test]
    fn health_score_adds_its_parts() {
        let best = HealthInputs {
            status: SubscriptionStatus::Active,
            days_since_activity: Some(0),
            active_campaigns: 2,
            contacted_30d: 100,
            replied_30d: 5,
            credits_remaining: 10,
        };
        assert_eq!(health_score(&best), 100);
        let weak = HealthInputs {
            status: SubscriptionStatus::PastDue,
            days_since_activity: Some(20),
            active_campaigns: 0,
            contacted_30d: 100,
            replied_30d: 4,
            credits_remaining: 0,
        };
        assert_eq!(health_score(&weak), 5 + 10 + 8);
        let dead = HealthInputs {
            status: SubscriptionStatus::Cancelled,
            days_since_activity: None,
            active_campaigns: 0,
            contacted_30d: 0,
            replied_30d: 0,
            credits_remaining: 0,
        };
        assert_eq!(health_score(&dead), 0);
    }
}
