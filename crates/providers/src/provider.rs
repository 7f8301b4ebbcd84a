//! `Provider`: the closed set of outbound providers (enrichment, SEO, AI and outreach), with
//! their stable names.

use std::fmt;

use serde::{Deserialize, Serialize};

/// An outbound provider: enrichment, SEO data, AI, or an outreach channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// Apollo.io people enrichment (primary).
    Apollo,
    /// Apify actor runs, e.g. a LinkedIn profile scraper (secondary).
    Apify,
    /// Clay enrichment endpoint (fallback, capped per batch).
    Clay,
    /// DataForSEO Labs and Backlinks (SEO facts).
    DataForSeo,
    /// Anthropic's Messages API (Claude).
    Anthropic,
    /// Resend (email).
    Resend,
    /// Twilio Messages (SMS).
    Twilio,
    /// Vapi (outbound voice calls).
    Vapi,
    /// The DNS-over-HTTPS resolver (domain verification).
    Dns,
}

impl Provider {
    /// The stable lowercase name stored in `leads.enrichment_source` and used in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Apollo => "apollo",
            Provider::Apify => "apify",
            Provider::Clay => "clay",
            Provider::DataForSeo => "dataforseo",
            Provider::Anthropic => "anthropic",
            Provider::Resend => "resend",
            Provider::Twilio => "twilio",
            Provider::Vapi => "vapi",
            Provider::Dns => "dns",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
