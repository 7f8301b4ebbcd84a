//! Reply intents and voice-call outcomes, with what each one triggers.

use crate::enum_macro::text_enum;

text_enum! {
    /// What an inbound reply means.
    pub enum Intent {
        /// Wants a meeting: propose one, notify the client at once.
        MeetingRequest => "meeting_request",
        /// Positive: continue the sequence.
        Interested => "interested",
        /// Needs a human answer: queue it, notify at once.
        Question => "question",
        /// Declined: pause the lead.
        NotInterested => "not_interested",
        /// Opt-out: unsubscribe, suppress, cancel pending sends.
        Unsubscribe => "unsubscribe",
        /// Away: pause until the return date (else 7 days).
        OutOfOffice => "out_of_office",
        /// Automatic response: ignore.
        AutoReply => "auto_reply",
    }
}

/// Days an out-of-office lead is paused when no return date is found.
pub const OUT_OF_OFFICE_DEFAULT_PAUSE_DAYS: u32 = 7;

impl Intent {
    /// Meeting requests and questions notify the client immediately.
    pub const fn notifies_immediately(self) -> bool {
        matches!(self, Intent::MeetingRequest | Intent::Question)
    }
}

text_enum! {
    /// How a voice call ended, as the engine acts on it.
    pub enum CallOutcome {
        /// A meeting was booked during the call.
        MeetingBooked => "meeting_booked",
        /// The lead asked to be called back: schedule a voice send.
        CallbackRequested => "callback_requested",
        /// Declined: pause the lead.
        NotInterested => "not_interested",
        /// Left a voicemail: retry later.
        Voicemail => "voicemail",
        /// Nobody answered: retry later.
        NoAnswer => "no_answer",
        /// Anything else (failed, busy, hung up early).
        Other => "other",
    }
}

/// Further attempts after a voicemail or no answer, each on a later day.
pub const MAX_CALL_RETRIES: u32 = 2;

impl CallOutcome {
    /// Voicemail and no answer are retried (up to [`MAX_CALL_RETRIES`] more times).
    pub const fn is_retryable(self) -> bool {
        matches!(self, CallOutcome::Voicemail | CallOutcome::NoAnswer)
    }
}
