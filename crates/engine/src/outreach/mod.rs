//! Outreach: the product's send loop. [`send`] sends one planned step exactly once (claim and
//! just-in-time check in one transaction, provider call with an idempotency key, record);
//! [`plan`] plans a lead's first touch and next steps from its sequence; [`content`] renders
//! messages and adds what the law asks of them; [`links`] signs the unsubscribe links;
//! [`unsubscribe`] applies one; [`sweep`] is the hourly safety net that plans and enqueues
//! anything due; [`sandbox`] lists what the sandbox providers took. Provider adapters come
//! from `agency-providers` through [`OutreachEnv`]. [`approvals`] holds co-pilot drafts and
//! manual sends; [`jobs`] the `send_outreach` and `outreach_sweep` handlers.

pub mod approvals;
pub mod content;
pub mod jobs;
pub mod links;
pub mod plan;
pub mod sandbox;
pub mod sandbox_loop;
pub mod send;
pub mod sweep;
pub mod unsubscribe;
pub mod writer;

use agency_providers::OutreachProviders;

pub use links::Links;
pub use send::{SendOutcome, run_send, run_send_with_ai};
pub use writer::AiWriter;

/// What the send path needs beyond the database: the senders and our public links.
#[derive(Debug, Clone)]
pub struct OutreachEnv {
    /// Email, SMS and voice senders (real or sandbox).
    pub providers: OutreachProviders,
    /// Unsubscribe and callback links.
    pub links: Links,
}

impl OutreachEnv {
    /// Every channel through the sandbox, links on `http://localhost:8080` signed with the
    /// development secret (tests and development).
    pub fn sandbox() -> Self {
        OutreachEnv {
            providers: OutreachProviders::sandbox(),
            links: Links::configured("http://localhost:8080", None),
        }
    }
}
