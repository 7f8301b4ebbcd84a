//! Person enrichment: the query (`PersonQuery`), the facts ALS scoring needs
//! (`EnrichedPerson`, `Organization`, `EmailStatus`) and the `PersonEnricher` trait that Apollo,
//! Apify, Clay and the sandbox implement.

use std::fmt;

use agency_domain::Email;
use async_trait::async_trait;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::ProviderError;
use crate::provider::Provider;

/// What we know about a lead before enrichment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonQuery {
    /// The lead's (work) email: always known.
    pub email: Email,
    /// First name, when known.
    pub first_name: Option<String>,
    /// Last name, when known.
    pub last_name: Option<String>,
    /// Company name, when known.
    pub company: Option<String>,
    /// Company domain, when known (bare, e.g. `acme.com.au`).
    pub domain: Option<String>,
    /// LinkedIn profile URL, when known.
    pub linkedin_url: Option<String>,
}

impl PersonQuery {
    /// A query with only the email.
    pub fn new(email: Email) -> Self {
        PersonQuery {
            email,
            first_name: None,
            last_name: None,
            company: None,
            domain: None,
            linkedin_url: None,
        }
    }

    /// The company domain: the given one, else the email's domain unless it is free mail.
    pub fn company_domain(&self) -> Option<String> {
        match &self.domain {
            Some(d) if !d.trim().is_empty() => Some(d.trim().to_ascii_lowercase()),
            _ if !self.email.is_free_mail() => Some(self.email.domain().to_owned()),
            _ => None,
        }
    }
}

/// How far the provider trusts the email address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailStatus {
    /// Verified deliverable.
    Verified,
    /// Known but not verified (guessed, extrapolated, catch-all, likely).
    Unverified,
    /// Known to be undeliverable.
    Invalid,
    /// The provider did not say.
    Unknown,
}

impl EmailStatus {
    /// True only for `Verified` (ALS data quality: 8 points, else 4 when present).
    pub fn is_verified(self) -> bool {
        self == EmailStatus::Verified
    }
}

/// The person's current organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    /// Company name.
    pub name: Option<String>,
    /// Primary web domain (bare, lowercase).
    pub domain: Option<String>,
    /// Industry as the provider names it.
    pub industry: Option<String>,
    /// Head count (estimate).
    pub employee_count: Option<u32>,
    /// Country (name or ISO code, as the provider gives it).
    pub country: Option<String>,
    /// Year founded.
    pub founded_year: Option<i32>,
    /// Whether the company is hiring; `None` when the provider does not say.
    pub is_hiring: Option<bool>,
    /// Date of the latest funding round.
    pub latest_funding_date: Option<NaiveDate>,
}

/// One provider's answer about a person: the facts ALS scoring reads, with a confidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrichedPerson {
    /// First name.
    pub first_name: Option<String>,
    /// Last name.
    pub last_name: Option<String>,
    /// Current job title.
    pub title: Option<String>,
    /// The work email the provider holds (may differ from the query's), when revealed.
    pub email: Option<String>,
    /// How far the email is trusted.
    pub email_status: EmailStatus,
    /// A phone number as the provider gives it (normalise to E.164 before storing).
    pub phone: Option<String>,
    /// LinkedIn profile URL.
    pub linkedin_url: Option<String>,
    /// A personal (non-work) email.
    pub personal_email: Option<String>,
    /// When the person started in their current role.
    pub employment_start_date: Option<NaiveDate>,
    /// The current organisation.
    pub organization: Option<Organization>,
    /// How sure the match is, 0..=1 (the waterfall accepts >= 0.70).
    pub confidence: Decimal,
    /// The provider that answered (or that the sandbox stands in for).
    pub source: Provider,
    /// True when the answer came from a sandbox, not the real provider.
    pub sandbox: bool,
}

impl EnrichedPerson {
    /// The label stored in `leads.enrichment_source`: `apollo`, or `sandbox:apollo`.
    pub fn source_label(&self) -> String {
        if self.sandbox {
            format!("sandbox:{}", self.source)
        } else {
            self.source.as_str().to_owned()
        }
    }

    /// True when the email is verified deliverable.
    pub fn email_verified(&self) -> bool {
        self.email_status.is_verified()
    }
}

/// Clamps a confidence to 0..=1 and rounds it to the 3 decimals `numeric(4,3)` stores.
pub fn clamp_confidence(value: Decimal) -> Decimal {
    value.clamp(Decimal::ZERO, Decimal::ONE).round_dp(3)
}

/// Looks up a person at one provider. `Ok(None)` means the provider has no match.
#[async_trait]
pub trait PersonEnricher: Send + Sync + fmt::Debug {
    /// The provider this enricher is (or, for a sandbox, stands in for).
    fn provider(&self) -> Provider;

    /// True for a sandbox that returns generated data.
    fn is_sandbox(&self) -> bool;

    /// Enriches one person; `Ok(None)` when the provider has no match.
    async fn enrich_person(
        &self,
        query: &PersonQuery,
    ) -> Result<Option<EnrichedPerson>, ProviderError>;
}
