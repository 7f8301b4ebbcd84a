//! Lead lifecycle status and which statuses may still be contacted.

use crate::enum_macro::text_enum;

text_enum! {
    /// Where a lead is in its lifecycle.
    pub enum LeadStatus {
        /// Just created or imported.
        New => "new",
        /// Enrichment done.
        Enriched => "enriched",
        /// ALS computed.
        Scored => "scored",
        /// Receiving a sequence.
        InSequence => "in_sequence",
        /// Paused (not interested, out of office, ...).
        Paused => "paused",
        /// Became a customer or booked; no more outreach.
        Converted => "converted",
        /// Asked not to be contacted.
        Unsubscribed => "unsubscribed",
        /// Address bounced.
        Bounced => "bounced",
    }
}

impl LeadStatus {
    /// False for unsubscribed, bounced and converted leads: nothing is ever sent to them.
    pub const fn is_contactable(self) -> bool {
        !matches!(
            self,
            LeadStatus::Unsubscribed | LeadStatus::Bounced | LeadStatus::Converted
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contactable() {
        assert!(LeadStatus::New.is_contactable());
        assert!(LeadStatus::InSequence.is_contactable());
        assert!(!LeadStatus::Unsubscribed.is_contactable());
        assert!(!LeadStatus::Bounced.is_contactable());
        assert!(!LeadStatus::Converted.is_contactable());
        assert_eq!(LeadStatus::InSequence.as_str(), "in_sequence");
    }
}
