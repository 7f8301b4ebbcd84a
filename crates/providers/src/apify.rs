//! Apify (the waterfall's secondary provider): runs a configured actor synchronously and maps
//! the first LinkedIn-profile-style dataset item.
//!
//! `POST {base}/v2/acts/{actorId}/run-sync-get-dataset-items` with the input as JSON; the
//! answer is the run's dataset as a JSON array. The token goes in `Authorization: Bearer`
//! (which Apify accepts as well as `?token=`), so it never appears in a URL or a log line.
//! An actor id `user/actor` is sent as `user~actor`, as Apify's URLs require.
//!
//! Input sent: `profileUrls` (the LinkedIn URL, when known), `email`, `firstName`, `lastName`,
//! `companyName`, `companyDomain`; the actor reads the fields it knows.
//! Item fields read (the first present wins): name `firstName`/`lastName` (else split
//! `fullName`), title `jobTitle`/`title`/`headline`, `linkedinUrl`/`profileUrl`/`url`, `email`,
//! `personalEmail`, phone `mobileNumber`/`phone`, `companyName`, `companyWebsite`,
//! `companyIndustry`/`industry`, size `companyEmployeesCount`/`companySize` (a number, or a
//! range like `"11-50"` read as its midpoint), country `addressCountryOnly`/`country`/
//! `companyCountry`, start `jobStartedOn`/`jobStartDate`, `companyFoundedIn`, `isHiring`.
//! An empty array, or items carrying only an `error`, mean no match (`Ok(None)`).
//!
//! Confidence: 0.60 for a returned profile; +0.25 when its LinkedIn URL equals the one we
//! sent; +0.20 when its email equals ours; +0.05 when its company domain equals ours; at most
//! 0.95. Scraped emails are `Unverified` when they equal ours, else `Unknown`.

use std::fmt;

use async_trait::async_trait;
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::dates::parse_loose_date;
use crate::error::ProviderError;
use crate::http::{Auth, HttpSettings, ProviderHttp};
use crate::mapping::lowercase;
use crate::person::{
    EmailStatus, EnrichedPerson, Organization, PersonEnricher, PersonQuery, clamp_confidence,
};
use crate::provider::Provider;

/// Apify's production API root.
pub const APIFY_DEFAULT_BASE_URL: &str = "https://api.apify.com";

/// The Apify adapter.
pub struct Apify {
    http: ProviderHttp,
    token: SecretString,
    actor_id: String,
}

impl fmt::Debug for Apify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Apify")
            .field("http", &self.http)
            .field("token", &"[redacted]")
            .field("actor_id", &self.actor_id)
            .finish()
    }
}

impl Apify {
    /// An Apify client running `actor_id` (`user/actor`, `user~actor` or an id).
    pub fn new(
        token: SecretString,
        actor_id: &str,
        base_url: &str,
        settings: &HttpSettings,
    ) -> Result<Self, ProviderError> {
        let actor_id = actor_id.trim().replace('/', "~");
        let valid = !actor_id.is_empty()
            && actor_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "~-_.".contains(c));
        if !valid {
            return Err(ProviderError::Misconfigured {
                provider: Provider::Apify,
                reason: "APIFY_ACTOR_ID must look like `user/actor-name` or an actor id".into(),
            });
        }
        Ok(Apify {
            http: ProviderHttp::new(Provider::Apify, base_url, settings)?,
            token,
            actor_id,
        })
    }

    /// The actor id as used in URLs (`user~actor`).
    pub fn actor_id(&self) -> &str {
        &self.actor_id
    }

    /// The underlying HTTP client.
    pub fn http(&self) -> &ProviderHttp {
        &self.http
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ActorInput<'a> {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    profile_urls: Vec<&'a str>,
    email: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    company_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    company_domain: Option<String>,
}

fn text(item: &Map<String, Value>, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match item.get(*k) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    })
}

fn number(item: &Map<String, Value>, keys: &[&str]) -> Option<u64> {
    keys.iter().find_map(|k| match item.get(*k) {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => parse_size(s),
        _ => None,
    })
}

/// `"42"` -> 42, `"11-50"` -> 30, `"10,001+"` -> 10001, `"51 - 200 employees"` -> 125.
fn parse_size(text: &str) -> Option<u64> {
    let nums: Vec<u64> = text
        .replace(',', "")
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    match nums.as_slice() {
        [n] => Some(*n),
        [lo, hi, ..] => Some((lo + hi) / 2),
        [] => None,
    }
}

/// A URL reduced for comparison: no scheme, `www.`, trailing slash or case.
fn url_key(url: &str) -> String {
    let lower = url.trim().to_ascii_lowercase();
    let no_scheme = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .unwrap_or(&lower);
    let no_www = no_scheme.strip_prefix("www.").unwrap_or(no_scheme);
    no_www.trim_end_matches('/').to_owned()
}

/// A bare domain from a website URL.
fn website_domain(url: &str) -> Option<String> {
    let key = url_key(url);
    let host = key.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| host.to_owned())
}

fn map_item(query: &PersonQuery, item: &Map<String, Value>) -> EnrichedPerson {
    let (mut first_name, mut last_name) = (text(item, &["firstName"]), text(item, &["lastName"]));
    if first_name.is_none()
        && let Some(full) = text(item, &["fullName", "name"])
    {
        let mut parts = full.splitn(2, ' ');
        first_name = parts.next().map(str::to_owned);
        last_name = last_name.or_else(|| parts.next().map(str::to_owned));
    }
    let email = lowercase(text(item, &["email"]));
    let email_matches = email.as_deref() == Some(query.email.as_str());
    let linkedin_url = text(item, &["linkedinUrl", "profileUrl", "url"]);
    let linkedin_matches = match (&query.linkedin_url, &linkedin_url) {
        (Some(ours), Some(theirs)) => url_key(ours) == url_key(theirs),
        _ => false,
    };
    let company_domain =
        text(item, &["companyWebsite", "companyDomain"]).and_then(|w| website_domain(&w));
    let domain_matches = match (query.company_domain(), &company_domain) {
        (Some(ours), Some(theirs)) => ours == *theirs,
        _ => false,
    };
    let company_name = text(item, &["companyName"]);
    let organization = if company_name.is_some() || company_domain.is_some() {
        Some(Organization {
            name: company_name,
            domain: company_domain,
            industry: text(item, &["companyIndustry", "industry"]),
            employee_count: number(item, &["companyEmployeesCount", "companySize"])
                .and_then(|n| u32::try_from(n).ok()),
            country: text(item, &["addressCountryOnly", "country", "companyCountry"]),
            founded_year: number(item, &["companyFoundedIn"]).and_then(|y| i32::try_from(y).ok()),
            is_hiring: item.get("isHiring").and_then(Value::as_bool),
            latest_funding_date: None,
        })
    } else {
        None
    };

    let mut confidence = Decimal::new(60, 2);
    if linkedin_matches {
        confidence += Decimal::new(25, 2);
    }
    if email_matches {
        confidence += Decimal::new(20, 2);
    }
    if domain_matches {
        confidence += Decimal::new(5, 2);
    }

    EnrichedPerson {
        first_name,
        last_name,
        title: text(item, &["jobTitle", "title", "headline"]),
        email,
        email_status: if email_matches {
            EmailStatus::Unverified
        } else {
            EmailStatus::Unknown
        },
        phone: text(item, &["mobileNumber", "phone"]),
        linkedin_url,
        personal_email: lowercase(text(item, &["personalEmail"])),
        employment_start_date: text(item, &["jobStartedOn", "jobStartDate"])
            .and_then(|d| parse_loose_date(&d)),
        organization,
        confidence: clamp_confidence(confidence.min(Decimal::new(95, 2))),
        source: Provider::Apify,
        sandbox: false,
    }
}

/// True for an item that is a profile, not an error record.
fn is_profile(item: &Map<String, Value>) -> bool {
    let has_error = item.get("error").is_some_and(|e| !e.is_null());
    let has_identity = [
        "firstName",
        "fullName",
        "name",
        "linkedinUrl",
        "profileUrl",
        "url",
    ]
    .iter()
    .any(|k| item.get(*k).is_some_and(|v| v.is_string()));
    !has_error && has_identity
}

#[async_trait]
impl PersonEnricher for Apify {
    fn provider(&self) -> Provider {
        Provider::Apify
    }

    fn is_sandbox(&self) -> bool {
        false
    }

    #[tracing::instrument(skip_all, fields(provider = "apify"))]
    async fn enrich_person(
        &self,
        query: &PersonQuery,
    ) -> Result<Option<EnrichedPerson>, ProviderError> {
        let url = self.http.endpoint(&format!(
            "/v2/acts/{}/run-sync-get-dataset-items",
            self.actor_id
        ))?;
        let input = ActorInput {
            profile_urls: query.linkedin_url.as_deref().into_iter().collect(),
            email: query.email.as_str(),
            first_name: query.first_name.as_deref(),
            last_name: query.last_name.as_deref(),
            company_name: query.company.as_deref(),
            company_domain: query.company_domain(),
        };
        let items: Vec<Map<String, Value>> = self
            .http
            .post_json_optional(&url, Auth::Bearer(&self.token), &input)
            .await?
            // Apify answers 404 for an unknown actor: a setup error, not "no such person".
            .ok_or_else(|| ProviderError::Misconfigured {
                provider: Provider::Apify,
                reason: format!("actor `{}` not found", self.actor_id),
            })?;
        Ok(items
            .iter()
            .find(|item| is_profile(item))
            .map(|item| map_item(query, item)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_urls() {
        assert_eq!(parse_size("42"), Some(42));
        assert_eq!(parse_size("11-50"), Some(30));
        assert_eq!(parse_size("10,001+"), Some(10_001));
        assert_eq!(parse_size("n/a"), None);
        assert_eq!(
            url_key("https://www.LinkedIn.com/in/jane-doe/"),
            "linkedin.com/in/jane-doe"
        );
        assert_eq!(
            website_domain("https://www.acme.com.au/about"),
            Some("acme.com.au".to_owned())
        );
    }
}
