//! The lead pipeline: from a raw lead to an enriched, scored and allocated lead with its next
//! action planned. [`waterfall`] (cache, Apollo -> Apify -> Clay, threshold, fallback cap),
//! [`enrich`] (one lead: credits, SEO facts, storing), [`scoring`] (ALS over stored leads in
//! batches with the client's weights), [`allocation`] (first-touch channel, resource under the
//! daily caps, business hours), [`send_check`] (just-in-time validation for every send path),
//! [`call_slots`] (at most 5 concurrent voice calls per client; for the voice sender, unused by
//! any send path yet) and [`jobs`] (handlers, fan-out,
//! transactional enqueue of new leads).

pub mod allocation;
pub mod call_slots;
pub mod enrich;
pub mod jobs;
pub mod requests;
pub mod scoring;
pub mod send_check;
pub mod waterfall;

pub use allocation::{AllocationSummary, allocate_leads};
pub use call_slots::{CallRef, CallSlotGrant, acquire_call_slot, release_call_slot};
pub use enrich::{EnrichOutcome, enrich_lead};
pub use jobs::{enqueue_campaign_rescore, enqueue_new_leads};
pub use scoring::{ScoreSummary, rescore_lead, score_and_allocate, score_leads, weights_for};
pub use send_check::check_send;
pub use waterfall::{FallbackBudget, Waterfall, WaterfallReport};
