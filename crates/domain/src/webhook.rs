//! Received webhooks: the providers that send them and the states of an inbox row.

use crate::enum_macro::text_enum;

text_enum! {
    /// A provider whose webhooks we receive.
    pub enum WebhookProvider {
        /// SMS in and SMS status callbacks.
        Twilio => "twilio",
        /// Email events (Svix-signed) and inbound email.
        Resend => "resend",
        /// Voice call events and tool calls.
        Vapi => "vapi",
    }
}

text_enum! {
    /// The state of a received webhook event.
    pub enum WebhookStatus {
        /// Stored, its processing job queued.
        Pending => "pending",
        /// Applied.
        Processed => "processed",
        /// Processing failed for good (see its last error).
        Failed => "failed",
        /// The body could not be read; kept for inspection, never processed.
        Rejected => "rejected",
        /// Nothing to apply (an event type we do not act on, or no tenant owns it).
        Ignored => "ignored",
    }
}
