//! Outbound webhooks to clients' own systems (SPEC 6): endpoints and their secrets
//! ([`endpoints`]: create, change, delete, rotate, test, the delivery log), the outbox
//! ([`emit`]: [`emit_event`] writes one delivery per subscribed endpoint and its
//! `deliver_webhook` job in the caller's transaction) and the delivery itself ([`jobs`]:
//! signed per the Standard Webhooks spec, retried on SPEC 6's schedule, every attempt
//! logged; an endpoint failing for 5 days, or answering 410 Gone, is disabled with an admin
//! alert). Design notes: `docs/webhooks-outbound.md`.

pub mod emit;
pub mod endpoints;
pub mod jobs;

pub use emit::emit_event;

use crate::jobs::Registry;

/// Registers the outbound webhook job handler: `deliver_webhook`.
pub fn register(registry: &mut Registry) {
    registry.register(jobs::deliver_webhook);
}
