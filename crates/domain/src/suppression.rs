//! Why an address is in the platform-wide suppression list.

use crate::enum_macro::text_enum;

text_enum! {
    /// The reason an email or phone is globally suppressed.
    pub enum SuppressionReason {
        /// The person opted out.
        Unsubscribe => "unsubscribe",
        /// The address bounced.
        Bounce => "bounce",
        /// A spam complaint.
        Complaint => "complaint",
        /// Added by an operator.
        Manual => "manual",
        /// On the Do Not Call Register.
        Dncr => "dncr",
        /// The person asked to be forgotten; a lead created later with the address is
        /// suppressed at once (see `erased_identities`).
        Erasure => "erasure",
    }
}
