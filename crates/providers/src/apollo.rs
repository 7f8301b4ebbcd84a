//! Apollo.io people enrichment (the waterfall's primary provider).
//!
//! `POST {base}/api/v1/people/match` with the key in `X-Api-Key` and a JSON body
//! (`email`, `first_name`, `last_name`, `organization_name`, `domain`, `linkedin_url`,
//! `reveal_personal_emails`). The answer is `{"person": {...}}`, or `{"person": null}` / HTTP 404
//! when Apollo has no match (both `Ok(None)`).
//!
//! Mapping: `email_status` `verified` -> Verified; `extrapolated`/`guessed`/`likely`/
//! `unverified`/`catch_all` -> Unverified; `invalid`/`bounced` -> Invalid; anything else
//! (`unavailable`, null) -> Unknown. The unrevealed-email placeholder
//! (`email_not_unlocked@domain.com`) is treated as no email. The phone is the first
//! `phone_numbers[].sanitized_number` (else `raw_number`); the employment start date is the
//! `employment_history` entry with `current: true`. People-match does not say whether the
//! company is hiring, so `is_hiring` is `None` (Apollo's job-postings endpoint is a separate
//! credit-spending call, not made here).
//!
//! Apollo gives no confidence, so it is derived: 0.80 for a match on the email we sent;
//! +0.15 verified email, -0.10 unknown status, -0.30 invalid; -0.20 when Apollo's revealed
//! email differs from ours; -0.15 when neither a title nor an organisation came back.

use std::fmt;

use async_trait::async_trait;
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::dates::parse_loose_date;
use crate::error::ProviderError;
use crate::http::{Auth, HttpSettings, ProviderHttp};
use crate::mapping::{lowercase, non_empty};
use crate::person::{
    EmailStatus, EnrichedPerson, Organization, PersonEnricher, PersonQuery, clamp_confidence,
};
use crate::provider::Provider;

/// Apollo's production API root.
pub const APOLLO_DEFAULT_BASE_URL: &str = "https://api.apollo.io";

/// The people-match path under the base URL.
pub const APOLLO_PEOPLE_MATCH_PATH: &str = "/api/v1/people/match";

/// The placeholder Apollo returns instead of an email it has not revealed.
const UNREVEALED_EMAIL: &str = "email_not_unlocked@domain.com";

/// The Apollo adapter.
pub struct Apollo {
    http: ProviderHttp,
    api_key: SecretString,
    reveal_personal_emails: bool,
}

impl fmt::Debug for Apollo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Apollo")
            .field("http", &self.http)
            .field("api_key", &"[redacted]")
            .field("reveal_personal_emails", &self.reveal_personal_emails)
            .finish()
    }
}

impl Apollo {
    /// An Apollo client at `base_url` (use [`APOLLO_DEFAULT_BASE_URL`] in production).
    pub fn new(
        api_key: SecretString,
        base_url: &str,
        settings: &HttpSettings,
    ) -> Result<Self, ProviderError> {
        Ok(Apollo {
            http: ProviderHttp::new(Provider::Apollo, base_url, settings)?,
            api_key,
            reveal_personal_emails: true,
        })
    }

    /// Whether to ask Apollo to reveal personal emails (default true; costs credits).
    pub fn with_reveal_personal_emails(mut self, reveal: bool) -> Self {
        self.reveal_personal_emails = reveal;
        self
    }

    /// The underlying HTTP client (breaker state, base URL).
    pub fn http(&self) -> &ProviderHttp {
        &self.http
    }
}

#[derive(Debug, Serialize)]
struct MatchRequest<'a> {
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    linkedin_url: Option<&'a str>,
    reveal_personal_emails: bool,
}

#[derive(Debug, Deserialize)]
struct MatchResponse {
    #[serde(default)]
    person: Option<ApolloPerson>,
}

#[derive(Debug, Deserialize)]
struct ApolloPerson {
    first_name: Option<String>,
    last_name: Option<String>,
    title: Option<String>,
    email: Option<String>,
    email_status: Option<String>,
    linkedin_url: Option<String>,
    personal_emails: Option<Vec<String>>,
    phone_numbers: Option<Vec<ApolloPhone>>,
    employment_history: Option<Vec<ApolloEmployment>>,
    organization: Option<ApolloOrganization>,
}

#[derive(Debug, Deserialize)]
struct ApolloPhone {
    sanitized_number: Option<String>,
    raw_number: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ApolloEmployment {
    current: Option<bool>,
    start_date: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ApolloOrganization {
    name: Option<String>,
    primary_domain: Option<String>,
    industry: Option<String>,
    estimated_num_employees: Option<u64>,
    country: Option<String>,
    founded_year: Option<i32>,
    latest_funding_round_date: Option<String>,
}

fn email_status(value: Option<&str>) -> EmailStatus {
    match value.map(str::to_ascii_lowercase).as_deref() {
        Some("verified") => EmailStatus::Verified,
        Some(
            "extrapolated" | "guessed" | "likely" | "likely to engage" | "unverified" | "catch_all",
        ) => EmailStatus::Unverified,
        Some("invalid" | "bounced") => EmailStatus::Invalid,
        _ => EmailStatus::Unknown,
    }
}

fn map_person(query: &PersonQuery, p: ApolloPerson) -> EnrichedPerson {
    let email = lowercase(p.email).filter(|e| e != UNREVEALED_EMAIL);
    let status = email_status(p.email_status.as_deref());
    let phone = p
        .phone_numbers
        .unwrap_or_default()
        .into_iter()
        .find_map(|n| non_empty(n.sanitized_number).or_else(|| non_empty(n.raw_number)));
    let employment_start_date = p
        .employment_history
        .unwrap_or_default()
        .into_iter()
        .find(|e| e.current == Some(true))
        .and_then(|e| e.start_date)
        .and_then(|d| parse_loose_date(&d));
    let organization = p.organization.map(|o| Organization {
        name: non_empty(o.name),
        domain: lowercase(o.primary_domain),
        industry: non_empty(o.industry),
        employee_count: o
            .estimated_num_employees
            .and_then(|n| u32::try_from(n).ok()),
        country: non_empty(o.country),
        founded_year: o.founded_year,
        is_hiring: None,
        latest_funding_date: o
            .latest_funding_round_date
            .as_deref()
            .and_then(parse_loose_date),
    });
    let title = non_empty(p.title);

    let mut confidence = Decimal::new(80, 2);
    confidence += match status {
        EmailStatus::Verified => Decimal::new(15, 2),
        EmailStatus::Unverified => Decimal::ZERO,
        EmailStatus::Unknown => Decimal::new(-10, 2),
        EmailStatus::Invalid => Decimal::new(-30, 2),
    };
    if email.as_deref().is_some_and(|e| e != query.email.as_str()) {
        confidence -= Decimal::new(20, 2);
    }
    if title.is_none() && organization.is_none() {
        confidence -= Decimal::new(15, 2);
    }

    EnrichedPerson {
        first_name: non_empty(p.first_name),
        last_name: non_empty(p.last_name),
        title,
        email,
        email_status: status,
        phone,
        linkedin_url: non_empty(p.linkedin_url),
        personal_email: p
            .personal_emails
            .unwrap_or_default()
            .into_iter()
            .find_map(|e| lowercase(Some(e))),
        employment_start_date,
        organization,
        confidence: clamp_confidence(confidence),
        source: Provider::Apollo,
        sandbox: false,
    }
}

#[async_trait]
impl PersonEnricher for Apollo {
    fn provider(&self) -> Provider {
        Provider::Apollo
    }

    fn is_sandbox(&self) -> bool {
        false
    }

    #[tracing::instrument(skip_all, fields(provider = "apollo"))]
    async fn enrich_person(
        &self,
        query: &PersonQuery,
    ) -> Result<Option<EnrichedPerson>, ProviderError> {
        let url = self.http.endpoint(APOLLO_PEOPLE_MATCH_PATH)?;
        let body = MatchRequest {
            email: query.email.as_str(),
            first_name: query.first_name.as_deref(),
            last_name: query.last_name.as_deref(),
            organization_name: query.company.as_deref(),
            domain: query.company_domain(),
            linkedin_url: query.linkedin_url.as_deref(),
            reveal_personal_emails: self.reveal_personal_emails,
        };
        let response: Option<MatchResponse> = self
            .http
            .post_json_optional(&url, Auth::Header("X-Api-Key", &self.api_key), &body)
            .await?;
        Ok(response
            .and_then(|r| r.person)
            .map(|p| map_person(query, p)))
    }
}
