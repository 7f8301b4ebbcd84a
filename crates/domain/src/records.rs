//! Small closed sets of stored records: meeting status/type/source, activity actions.

use crate::enum_macro::text_enum;

text_enum! {
    /// A meeting's state.
    pub enum MeetingStatus {
        /// Booked and upcoming (or past, not yet marked).
        Scheduled => "scheduled",
        /// Happened.
        Completed => "completed",
        /// Cancelled.
        Cancelled => "cancelled",
        /// The lead did not show.
        NoShow => "no_show",
    }
}

text_enum! {
    /// The kind of meeting.
    pub enum MeetingType {
        /// First call.
        Discovery => "discovery",
        /// Product demo.
        Demo => "demo",
        /// Follow-up.
        FollowUp => "follow_up",
    }
}

text_enum! {
    /// Where a meeting came from.
    pub enum MeetingSource {
        /// Booked from a reply.
        Reply => "reply",
        /// Booked during a voice call.
        Voice => "voice",
        /// Created by a user.
        Manual => "manual",
    }
}

text_enum! {
    /// What happened in an activity (the channel says where).
    pub enum ActivityAction {
        /// Message sent.
        Sent => "sent",
        /// Message delivered.
        Delivered => "delivered",
        /// Delivery delayed (email).
        DeliveryDelayed => "delivery_delayed",
        /// Email opened.
        Opened => "opened",
        /// Link clicked.
        Clicked => "clicked",
        /// The lead replied.
        Replied => "replied",
        /// Bounced.
        Bounced => "bounced",
        /// Spam complaint.
        Complained => "complained",
        /// Opted out.
        Unsubscribed => "unsubscribed",
        /// Sending failed (SMS).
        Failed => "failed",
        /// Voice call placed.
        CallInitiated => "call_initiated",
        /// Voice call answered.
        CallAnswered => "call_answered",
        /// Voice call ended.
        CallCompleted => "call_completed",
        /// Voicemail left.
        VoicemailLeft => "voicemail_left",
        /// No answer.
        NoAnswer => "no_answer",
        /// A meeting was booked.
        MeetingBooked => "meeting_booked",
        /// LinkedIn connection request sent.
        ConnectionRequested => "connection_requested",
        /// LinkedIn connection accepted.
        ConnectionAccepted => "connection_accepted",
        /// Mail piece returned to sender.
        Returned => "returned",
        /// Send blocked by just-in-time validation.
        Blocked => "blocked",
        /// The lead became a customer (marked converted).
        Converted => "converted",
    }
}
