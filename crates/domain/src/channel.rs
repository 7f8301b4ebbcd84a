//! Outreach channels.

use crate::enum_macro::text_enum;

text_enum! {
    /// A channel a lead can be contacted through.
    #[derive(PartialOrd, Ord)]
    pub enum Channel {
        /// Email.
        Email => "email",
        /// SMS.
        Sms => "sms",
        /// LinkedIn.
        Linkedin => "linkedin",
        /// Voice (AI calls).
        Voice => "voice",
        /// Direct mail.
        Mail => "mail",
    }
}

impl Channel {
    /// SMS and voice are checked against the Do Not Call Register and business hours.
    pub const fn is_phone(self) -> bool {
        matches!(self, Channel::Sms | Channel::Voice)
    }
}
