//! Clay (the waterfall's fallback, at most 15% of a batch: the engine enforces the cap).
//!
//! Clay's real API is table based: rows are pushed into a table through its webhook and the
//! enrichment columns run asynchronously, sending results on through an HTTP API column. There
//! is no public synchronous "enrich this person" call. This adapter therefore targets a
//! synchronous HTTP enrichment endpoint that is set up on the Clay side (an HTTP API
//! integration, or a small relay in front of a Clay table) and reached at `CLAY_BASE_URL`:
//!
//! `POST {base}/v1/enrich/person`, `Authorization: Bearer {CLAY_API_KEY}`, JSON body
//! `{"email", "first_name", "last_name", "company_name", "domain", "linkedin_url"}`.
//! Answer: `{"found": true, "confidence": 0.82, "person": {"first_name", "last_name", "title",
//! "email", "email_status", "phone", "linkedin_url", "personal_email", "employment_start_date",
//! "organization": {"name", "domain", "industry", "employee_count", "country", "founded_year",
//! "is_hiring", "latest_funding_date"}}}`. `found: false`, `person: null` or HTTP 404 mean no
//! match. Without a `confidence`, a verified email gives 0.75 and anything else 0.60.

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

/// The default root; a real deployment sets `CLAY_BASE_URL` to its configured endpoint.
pub const CLAY_DEFAULT_BASE_URL: &str = "https://api.clay.com";

/// The enrichment path under the base URL.
pub const CLAY_ENRICH_PATH: &str = "/v1/enrich/person";

/// The Clay adapter.
pub struct Clay {
    http: ProviderHttp,
    api_key: SecretString,
}

impl fmt::Debug for Clay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Clay")
            .field("http", &self.http)
            .field("api_key", &"[redacted]")
            .finish()
    }
}

impl Clay {
    /// A Clay client at `base_url`.
    pub fn new(
        api_key: SecretString,
        base_url: &str,
        settings: &HttpSettings,
    ) -> Result<Self, ProviderError> {
        Ok(Clay {
            http: ProviderHttp::new(Provider::Clay, base_url, settings)?,
            api_key,
        })
    }

    /// The underlying HTTP client.
    pub fn http(&self) -> &ProviderHttp {
        &self.http
    }
}

#[derive(Debug, Serialize)]
struct EnrichRequest<'a> {
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    company_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    linkedin_url: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
struct EnrichResponse {
    found: Option<bool>,
    confidence: Option<Decimal>,
    person: Option<ClayPerson>,
}

#[derive(Debug, Deserialize)]
struct ClayPerson {
    first_name: Option<String>,
    last_name: Option<String>,
    title: Option<String>,
    email: Option<String>,
    email_status: Option<String>,
    phone: Option<String>,
    linkedin_url: Option<String>,
    personal_email: Option<String>,
    employment_start_date: Option<String>,
    organization: Option<ClayOrganization>,
}

#[derive(Debug, Deserialize)]
struct ClayOrganization {
    name: Option<String>,
    domain: Option<String>,
    industry: Option<String>,
    employee_count: Option<u32>,
    country: Option<String>,
    founded_year: Option<i32>,
    is_hiring: Option<bool>,
    latest_funding_date: Option<String>,
}

fn email_status(value: Option<&str>) -> EmailStatus {
    match value.map(str::to_ascii_lowercase).as_deref() {
        Some("verified" | "valid" | "deliverable") => EmailStatus::Verified,
        Some("unverified" | "risky" | "catch_all" | "accept_all" | "guessed") => {
            EmailStatus::Unverified
        }
        Some("invalid" | "undeliverable" | "bounced") => EmailStatus::Invalid,
        _ => EmailStatus::Unknown,
    }
}

fn map_person(confidence: Option<Decimal>, p: ClayPerson) -> EnrichedPerson {
    let status = email_status(p.email_status.as_deref());
    let confidence = confidence.unwrap_or(if status.is_verified() {
        Decimal::new(75, 2)
    } else {
        Decimal::new(60, 2)
    });
    EnrichedPerson {
        first_name: non_empty(p.first_name),
        last_name: non_empty(p.last_name),
        title: non_empty(p.title),
        email: lowercase(p.email),
        email_status: status,
        phone: non_empty(p.phone),
        linkedin_url: non_empty(p.linkedin_url),
        personal_email: lowercase(p.personal_email),
        employment_start_date: p
            .employment_start_date
            .as_deref()
            .and_then(parse_loose_date),
        organization: p.organization.map(|o| Organization {
            name: non_empty(o.name),
            domain: lowercase(o.domain),
            industry: non_empty(o.industry),
            employee_count: o.employee_count,
            country: non_empty(o.country),
            founded_year: o.founded_year,
            is_hiring: o.is_hiring,
            latest_funding_date: o.latest_funding_date.as_deref().and_then(parse_loose_date),
        }),
        confidence: clamp_confidence(confidence),
        source: Provider::Clay,
        sandbox: false,
    }
}

#[async_trait]
impl PersonEnricher for Clay {
    fn provider(&self) -> Provider {
        Provider::Clay
    }

    fn is_sandbox(&self) -> bool {
        false
    }

    #[tracing::instrument(skip_all, fields(provider = "clay"))]
    async fn enrich_person(
        &self,
        query: &PersonQuery,
    ) -> Result<Option<EnrichedPerson>, ProviderError> {
        let url = self.http.endpoint(CLAY_ENRICH_PATH)?;
        let body = EnrichRequest {
            email: query.email.as_str(),
            first_name: query.first_name.as_deref(),
            last_name: query.last_name.as_deref(),
            company_name: query.company.as_deref(),
            domain: query.company_domain(),
            linkedin_url: query.linkedin_url.as_deref(),
        };
        let response: Option<EnrichResponse> = self
            .http
            .post_json_optional(&url, Auth::Bearer(&self.api_key), &body)
            .await?;
        let Some(response) = response else {
            return Ok(None);
        };
        if response.found == Some(false) {
            return Ok(None);
        }
        Ok(response.person.map(|p| map_person(response.confidence, p)))
    }
}
