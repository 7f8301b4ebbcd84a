//! The enrichment waterfall (SPEC 3.5): cache first (`enrichment:{domain}:{sha256(email)}`,
//! 90 days, used only if the entry still has the required fields), then the primary (Apollo),
//! the secondary (Apify) and the fallback (Clay) provider in order; an answer is accepted at
//! confidence >= 0.70. The fallback may serve at most 15% of a batch ([`FallbackBudget`]).
//!
//! A provider error does not stop the waterfall: the next provider is asked. When nothing is
//! accepted and some provider failed transiently, the report says so and the caller retries.

use std::time::Duration;

use agency_cache::{Cache, CacheJsonExt};
use agency_providers::{EnrichedPerson, EnrichmentProviders, PersonQuery, Provider};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::UseCaseError;

/// Lowest accepted confidence (inclusive).
pub const ACCEPT_CONFIDENCE: Decimal = Decimal::from_parts(70, 0, 0, false, 2);
/// The fallback provider may serve at most this share of a batch, in percent (rounded down).
pub const FALLBACK_SHARE_PERCENT: u32 = 15;
/// How long an enrichment stays cached.
pub const ENRICHMENT_TTL: Duration = Duration::from_secs(90 * 24 * 60 * 60);
/// How long SEO facts for a domain stay cached.
pub const SEO_TTL: Duration = Duration::from_secs(30 * 24 * 60 * 60);
/// Layout version of [`CachedEnrichment`]; entries of another version are ignored.
pub const CACHE_FORMAT: u32 = 1;

/// The logical cache key of an enrichment (the cache adds `v1:`): the company domain and the
/// SHA-256 of the lowercased email, so no address is readable in Redis.
pub fn enrichment_cache_key(domain: &str, email: &str) -> String {
    let digest = Sha256::digest(email.trim().to_ascii_lowercase().as_bytes());
    format!(
        "enrichment:{}:{}",
        domain.trim().to_ascii_lowercase(),
        hex::encode(digest)
    )
}

/// The logical cache key of a domain's SEO facts.
pub fn seo_cache_key(domain: &str) -> String {
    format!("seo:{}", domain.trim().to_ascii_lowercase())
}

/// An accepted enrichment as cached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedEnrichment {
    /// [`CACHE_FORMAT`] when written.
    pub format: u32,
    /// The accepted answer.
    pub person: EnrichedPerson,
    /// When it was accepted.
    pub cached_at: DateTime<Utc>,
}

impl CachedEnrichment {
    /// Soft validation: the current layout, an acceptable confidence, and the facts scoring
    /// needs (a title or an organisation). Anything else is a miss.
    pub fn is_usable(&self) -> bool {
        self.format == CACHE_FORMAT
            && self.person.confidence >= ACCEPT_CONFIDENCE
            && (self.person.title.is_some() || self.person.organization.is_some())
    }
}

/// Reads a usable cached enrichment; a missing, undecodable or stale entry is `None`. A cache
/// failure is logged and treated as a miss (the providers still answer).
pub async fn cached(cache: &dyn Cache, key: &str) -> Option<CachedEnrichment> {
    match cache.get_json::<CachedEnrichment>(key).await {
        Ok(Some(entry)) if entry.is_usable() => Some(entry),
        Ok(_) => None,
        Err(e) => {
            tracing::warn!(error = %e, "enrichment cache read failed; asking providers");
            None
        }
    }
}

/// Stores an accepted enrichment for [`ENRICHMENT_TTL`]; failures are logged, not returned.
pub async fn store_cached(
    cache: &dyn Cache,
    key: &str,
    person: &EnrichedPerson,
    now: DateTime<Utc>,
) {
    let entry = CachedEnrichment {
        format: CACHE_FORMAT,
        person: person.clone(),
        cached_at: now,
    };
    if let Err(e) = cache.set_json(key, &entry, ENRICHMENT_TTL).await {
        tracing::warn!(error = %e, "enrichment cache write failed");
    }
}

/// Decides whether the fallback provider may serve one more lead.
#[async_trait]
pub trait FallbackGate: Send {
    /// Takes one fallback slot; `false` when the cap is reached.
    async fn try_take(&mut self) -> Result<bool, UseCaseError>;
}

/// The fallback cap of one batch: `floor(batch_size * 15 / 100)` fallback calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FallbackBudget {
    allowed: u32,
    used: u32,
}

impl FallbackBudget {
    /// The budget of a batch of `batch_size` leads.
    pub fn for_batch(batch_size: u32) -> Self {
        FallbackBudget {
            allowed: fallback_allowance(batch_size),
            used: 0,
        }
    }

    /// Fallback calls allowed in the batch.
    pub fn allowed(&self) -> u32 {
        self.allowed
    }

    /// Fallback calls made so far.
    pub fn used(&self) -> u32 {
        self.used
    }
}

/// Fallback calls allowed for `batch_size` leads (15%, rounded down).
pub fn fallback_allowance(batch_size: u32) -> u32 {
    batch_size.saturating_mul(FALLBACK_SHARE_PERCENT) / 100
}

#[async_trait]
impl FallbackGate for FallbackBudget {
    async fn try_take(&mut self) -> Result<bool, UseCaseError> {
        if self.used < self.allowed {
            self.used += 1;
            Ok(true)
        } else {
            Ok(false)
        }
    }
}

/// What one provider did in a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Attempt {
    /// Answered at or above the threshold.
    Accepted {
        /// Provider.
        provider: Provider,
        /// Its confidence.
        confidence: Decimal,
    },
    /// Answered below the threshold.
    BelowThreshold {
        /// Provider.
        provider: Provider,
        /// Its confidence.
        confidence: Decimal,
    },
    /// Had no match.
    NoMatch {
        /// Provider.
        provider: Provider,
    },
    /// Failed.
    Failed {
        /// Provider.
        provider: Provider,
        /// The error, as text.
        error: String,
        /// Trying later may succeed.
        transient: bool,
    },
    /// Not asked: the fallback cap of the batch is reached.
    Capped {
        /// Provider.
        provider: Provider,
    },
}

/// The result of one waterfall run.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct WaterfallReport {
    /// The accepted answer, if any.
    pub accepted: Option<EnrichedPerson>,
    /// What each provider did, in order.
    pub attempts: Vec<Attempt>,
    /// The best confidence seen (accepted or not).
    pub best_confidence: Option<Decimal>,
}

impl WaterfallReport {
    /// True when nothing was accepted and a provider failed transiently (retry later).
    pub fn should_retry(&self) -> bool {
        self.accepted.is_none()
            && self.attempts.iter().any(|a| {
                matches!(
                    a,
                    Attempt::Failed {
                        transient: true,
                        ..
                    }
                )
            })
    }

    /// The providers asked, in order.
    pub fn asked(&self) -> Vec<Provider> {
        self.attempts
            .iter()
            .filter_map(|a| match a {
                Attempt::Accepted { provider, .. }
                | Attempt::BelowThreshold { provider, .. }
                | Attempt::NoMatch { provider }
                | Attempt::Failed { provider, .. } => Some(*provider),
                Attempt::Capped { .. } => None,
            })
            .collect()
    }
}

/// The provider waterfall.
#[derive(Debug, Clone)]
pub struct Waterfall {
    providers: EnrichmentProviders,
}

impl Waterfall {
    /// A waterfall over `providers` (primary, secondary, fallback; SEO).
    pub fn new(providers: EnrichmentProviders) -> Self {
        Waterfall { providers }
    }

    /// The providers.
    pub fn providers(&self) -> &EnrichmentProviders {
        &self.providers
    }

    /// Asks primary, secondary, then (if `gate` allows) fallback, stopping at the first answer
    /// with confidence >= [`ACCEPT_CONFIDENCE`].
    pub async fn run(
        &self,
        query: &PersonQuery,
        gate: &mut dyn FallbackGate,
    ) -> Result<WaterfallReport, UseCaseError> {
        let mut report = WaterfallReport::default();
        let enrichers = self.providers.enrichers();
        for (index, enricher) in enrichers.iter().enumerate() {
            let provider = enricher.provider();
            if index == enrichers.len() - 1 && !gate.try_take().await? {
                report.attempts.push(Attempt::Capped { provider });
                break;
            }
            match enricher.enrich_person(query).await {
                Ok(Some(person)) => {
                    let confidence = person.confidence;
                    report.best_confidence = Some(
                        report
                            .best_confidence
                            .map_or(confidence, |b| b.max(confidence)),
                    );
                    if confidence >= ACCEPT_CONFIDENCE {
                        report.attempts.push(Attempt::Accepted {
                            provider,
                            confidence,
                        });
                        report.accepted = Some(person);
                        break;
                    }
                    report.attempts.push(Attempt::BelowThreshold {
                        provider,
                        confidence,
                    });
                }
                Ok(None) => report.attempts.push(Attempt::NoMatch { provider }),
                Err(e) => {
                    tracing::warn!(%provider, error = %e, "enrichment provider failed; trying the next");
                    report.attempts.push(Attempt::Failed {
                        provider,
                        error: e.to_string(),
                        transient: e.is_transient(),
                    });
                }
            }
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allowance_is_fifteen_percent_rounded_down() {
        assert_eq!(fallback_allowance(0), 0);
        assert_eq!(fallback_allowance(6), 0);
        assert_eq!(fallback_allowance(7), 1);
        assert_eq!(fallback_allowance(100), 15);
        assert_eq!(fallback_allowance(1_000), 150);
    }

    #[test]
    fn cache_key_hashes_the_lowercased_email() {
        let a = enrichment_cache_key("Acme.com.au", "Jane@Acme.com.au");
        let b = enrichment_cache_key("acme.com.au", "jane@acme.com.au");
        assert_eq!(a, b);
        assert!(a.starts_with("enrichment:acme.com.au:"));
        assert_eq!(a.len(), "enrichment:acme.com.au:".len() + 64);
        assert!(!a.contains("jane"));
    }
}
