//! Inbound: what reaches us from the outside and what it does. Provider webhooks are verified
//! and stored with their job ([`receive`], group-committed by [`inbox`]), applied once by the `process_webhook_event` job
//! ([`process`], per provider [`twilio_events`], [`resend_events`], [`vapi_events`]); Vapi
//! tool calls are answered synchronously ([`vapi_tools`]). Replies and meetings for the
//! dashboard ([`replies`], [`meetings`]).

pub mod inbox;
pub mod meetings;
pub mod process;
pub mod receive;
pub mod replies;
pub mod resend_events;
pub mod twilio_events;
pub mod vapi_call;
pub mod vapi_events;
pub mod vapi_tools;

use crate::jobs::Registry;

/// Registers the inbound job handlers: `process_webhook_event`.
pub fn register(registry: &mut Registry) {
    registry.register(process::process_webhook_event);
}
