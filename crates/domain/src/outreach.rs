//! Outreach sends: the states of a planned send (`outreach_sends.status`) and where it came
//! from, with the transitions the send path and approvals use.

use crate::enum_macro::text_enum;

text_enum! {
    /// Where a planned send is in its life.
    pub enum SendStatus {
        /// Planned for `due_at`; not yet checked or sent.
        Scheduled => "scheduled",
        /// A co-pilot draft waiting for a member.
        AwaitingApproval => "awaiting_approval",
        /// A draft a member approved; sent by the next run.
        Approved => "approved",
        /// Checked and claimed; the provider is being called.
        Sending => "sending",
        /// The provider accepted it.
        Sent => "sent",
        /// The just-in-time check refused it (reason recorded).
        Blocked => "blocked",
        /// The provider refused it for good, or the outcome of an interrupted call is unknown.
        Failed => "failed",
        /// Cancelled (the lead unsubscribed, replied, bounced or converted).
        Cancelled => "cancelled",
        /// A member rejected the draft.
        Rejected => "rejected",
    }
}

impl SendStatus {
    /// Still waiting to be sent (cancellable).
    pub const fn is_pending(self) -> bool {
        matches!(
            self,
            SendStatus::Scheduled | SendStatus::AwaitingApproval | SendStatus::Approved
        )
    }

    /// Done for good: nothing will happen to it any more.
    pub const fn is_final(self) -> bool {
        matches!(
            self,
            SendStatus::Sent
                | SendStatus::Blocked
                | SendStatus::Failed
                | SendStatus::Cancelled
                | SendStatus::Rejected
        )
    }
}

text_enum! {
    /// Why a send exists.
    pub enum SendOrigin {
        /// A campaign sequence step.
        Sequence => "sequence",
        /// A member's manual send.
        Manual => "manual",
    }
}

/// The words the first SMS to a number carries (Spam Act: a functional unsubscribe).
pub const SMS_OPT_OUT: &str = "Reply STOP to opt out";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_and_final_split_the_states() {
        for s in SendStatus::ALL {
            assert!(!(s.is_pending() && s.is_final()), "{} is both", s.as_str());
        }
        assert!(SendStatus::Approved.is_pending());
        assert!(!SendStatus::Sending.is_pending() && !SendStatus::Sending.is_final());
        assert_eq!(
            "awaiting_approval".parse::<SendStatus>().ok(),
            Some(SendStatus::AwaitingApproval)
        );
        assert!("queued".parse::<SendStatus>().is_err());
    }
}
