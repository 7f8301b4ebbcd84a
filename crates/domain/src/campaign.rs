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

/// A status change the transition table forbids (the API answers 409 with its sentence).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("{}", self.sentence())]
pub struct IllegalTransition {
    /// The current status.
    pub from: CampaignStatus,
    /// The requested status.
    pub to: CampaignStatus,
}

impl IllegalTransition {
    /// Why the change is refused, as a sentence the dashboard can show as it is.
    pub fn sentence(&self) -> String {
        use CampaignStatus::*;
        match (self.from, self.to) {
            (from, to) if from == to => format!("This campaign is already {to}."),
            (Completed, _) => {
                "This campaign is completed, so its status can no longer change.".to_owned()
            }
            (_, Draft) => "A campaign that has started cannot go back to draft.".to_owned(),
            (Draft, Paused) => {
                "This campaign has not started yet, so it cannot be paused. Activate it first."
                    .to_owned()
            }
            (Draft, Completed) => {
                "This campaign has not started yet, so it cannot be completed. Activate it first."
                    .to_owned()
            }
            (from, to) => format!("A {from} campaign cannot become {to}."),
        }
    }
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
        assert_eq!(
            err,
            "This campaign has not started yet, so it cannot be paused. Activate it first."
        );
        for from in CampaignStatus::ALL {
            for to in CampaignStatus::ALL {
                if let Err(e) = from.transition(*to) {
                    let s = e.to_string();
                    assert!(
                        s.starts_with(|c: char| c.is_ascii_uppercase()) && s.ends_with('.'),
                        "{s}"
                    );
                }
            }
        }
        assert_eq!(
            Active.transition(Active).err().map(|e| e.to_string()),
            Some("This campaign is already active.".to_owned())
        );
    }
}
