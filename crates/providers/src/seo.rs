//! SEO facts for a company domain: the `SeoFactsProvider` trait (DataForSEO and the sandbox)
//! and its answer, `SeoReport`, carrying the domain crate's `SeoFacts` that ALS reads.

use std::fmt;

use agency_domain::SeoFacts;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::ProviderError;
use crate::provider::Provider;

/// The SEO facts found for one domain. All-`None` facts mean "looked up, nothing found",
/// which ALS treats differently from "not looked up".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeoReport {
    /// The domain looked up.
    pub domain: String,
    /// Domain rank (0-1000 scale), organic traffic, top-10 keywords, spam score.
    pub facts: SeoFacts,
    /// The provider that answered (or that the sandbox stands in for).
    pub source: Provider,
    /// True when the answer came from a sandbox.
    pub sandbox: bool,
}

/// Looks up SEO facts for a company domain.
#[async_trait]
pub trait SeoFactsProvider: Send + Sync + fmt::Debug {
    /// The provider this is (or, for a sandbox, stands in for).
    fn provider(&self) -> Provider;

    /// True for a sandbox that returns generated data.
    fn is_sandbox(&self) -> bool;

    /// The facts for `domain` (a bare domain such as `acme.com.au`).
    async fn seo_facts(&self, domain: &str) -> Result<SeoReport, ProviderError>;
}
