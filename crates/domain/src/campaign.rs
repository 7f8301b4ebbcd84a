//! Campaign lifecycle: the status set and its transition table (completed is read-only).

use thiserror::Error;

use crate::enum_macro::text_enum;

text_enum! {
    /// A campaign's lifecycle state.
    pub enum CampaignStatus {
        /// Being set up; sends nothing.
        Draft => "draft",
        /// Sending.
        Active => "active",
        /// Temporarily not sending.
        Paused => "paused",
        /// Finished; read-only.
        Completed => "completed",
    }
}

/// A status change the transition table forbids (the API answers 409).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("a campaign cannot go from {from} to {to}")]
pub struct IllegalTransition {
    /// The current status.
    pub from: CampaignStatus,
    /// The requested status.
    pub to: CampaignStatus,
}

impl CampaignStatus {
    /// True when `self -> to` is in the table: draft->active, active->paused|completed,
    /// paused->active|completed.
    pub const fn can_transition_to(self, to: CampaignStatus) -> bool {
        use CampaignStatus::*;
        matches!(
            (self, to),
            (Draft, Active)
                | (Active, Paused)
                | (Active, Completed)
                | (Paused, Active)
                | (Paused, Completed)
        )
    }

    /// The new status, or the illegal transition.
    pub fn transition(self, to: CampaignStatus) -> Result<CampaignStatus, IllegalTransition> {
        if self.can_transition_to(to) {
            Ok(to)
        } else {
            Err(IllegalTransition { from: self, to })
        }
    }

    /// A completed campaign accepts no edits.
    pub const fn is_read_only(self) -> bool {
        matches!(self, CampaignStatus::Completed)
    }

    /// Only an active campaign sends.
    pub const fn is_sending(self) -> bool {
        matches!(self, CampaignStatus::Active)
    }
}

#[cfg(test)]
mod tests {
    use super::CampaignStatus::{self, *};

    #[test]
    fn transition_table_is_exact() {
        let allowed = [
            (Draft, Active),
            (Active, Paused),
            (Active, Completed),
            (Paused, Active),
            (Paused, Completed),
        ];
        for from in CampaignStatus::ALL {
            for to in CampaignStatus::ALL {
                let expected = allowed.contains(&(*from, *to));
                assert_eq!(from.transition(*to).is_ok(), expected, "{from} -> {to}");
            }
        }
    }

    #[test]
    fn completed_is_read_only_and_terminal() {
        assert!(Completed.is_read_only());
        assert!(!Active.is_read_only());
        for to in CampaignStatus::ALL {
            assert!(Completed.transition(*to).is_err());
        }
        let err = Draft
            .transition(Paused)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert_eq!(err, "a campaign cannot go from draft to paused");
    }
}
