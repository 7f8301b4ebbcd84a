//! DataForSEO (SEO facts), with HTTP Basic auth (API login and password).
//!
//! Two calls per domain, made concurrently, both required:
//! - `POST {base}/v3/dataforseo_labs/google/domain_rank_overview/live` with
//!   `[{"target", "location_code": 2036 (Australia), "language_code": "en"}]`:
//!   `tasks[0].result[0].items[0].metrics.organic` gives `etv` (estimated monthly organic
//!   traffic, rounded) and `pos_1 + pos_2_3 + pos_4_10` (keywords in the top 10).
//! - `POST {base}/v3/backlinks/summary/live` with `[{"target", "include_subdomains": true}]`:
//!   `tasks[0].result[0]` gives `rank` (0-1000, the domain rank ALS bands use) and
//!   `backlinks_spam_score` (0-100).
//!
//! DataForSEO answers HTTP 200 with its own status codes: the envelope's and the task's
//! `status_code` must be 20000. Codes 401xx -> Unauthorized, 402xx -> QuotaExhausted, 5xxxx ->
//! Upstream, others -> Rejected; the task code 40102 ("no search results") and an empty
//! result mean "looked up, nothing found" (the facts stay `None`).

use std::fmt;

use agency_domain::SeoFacts;
use async_trait::async_trait;
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::ProviderError;
use crate::http::{Auth, HttpSettings, ProviderHttp};
use crate::provider::Provider;
use crate::seo::{SeoFactsProvider, SeoReport};

/// DataForSEO's production API root.
pub const DATAFORSEO_DEFAULT_BASE_URL: &str = "https://api.dataforseo.com";

/// The Labs domain overview path.
pub const DOMAIN_RANK_OVERVIEW_PATH: &str = "/v3/dataforseo_labs/google/domain_rank_overview/live";

/// The backlinks summary path.
pub const BACKLINKS_SUMMARY_PATH: &str = "/v3/backlinks/summary/live";

/// DataForSEO's location code for Australia.
pub const LOCATION_AUSTRALIA: u32 = 2036;

/// The success status code in envelopes and tasks.
const OK: u32 = 20000;

/// The task code for "no search results".
const NO_RESULTS: u32 = 40102;

/// The DataForSEO adapter.
pub struct DataForSeo {
    http: ProviderHttp,
    login: String,
    password: SecretString,
    location_code: u32,
    language_code: String,
}

impl fmt::Debug for DataForSeo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataForSeo")
            .field("http", &self.http)
            .field("login", &self.login)
            .field("password", &"[redacted]")
            .field("location_code", &self.location_code)
            .field("language_code", &self.language_code)
            .finish()
    }
}

impl DataForSeo {
    /// A DataForSEO client at `base_url`, looking domains up in Australia, English.
    pub fn new(
        login: &str,
        password: SecretString,
        base_url: &str,
        settings: &HttpSettings,
    ) -> Result<Self, ProviderError> {
        Ok(DataForSeo {
            http: ProviderHttp::new(Provider::DataForSeo, base_url, settings)?,
            login: login.to_owned(),
            password,
            location_code: LOCATION_AUSTRALIA,
            language_code: "en".to_owned(),
        })
    }

    /// Another market for the Labs overview (e.g. 2840 United States, "en").
    pub fn with_market(mut self, location_code: u32, language_code: &str) -> Self {
        self.location_code = location_code;
        self.language_code = language_code.to_owned();
        self
    }

    /// The underlying HTTP client.
    pub fn http(&self) -> &ProviderHttp {
        &self.http
    }

    fn auth(&self) -> Auth<'_> {
        Auth::Basic {
            login: &self.login,
            password: &self.password,
        }
    }

    /// Posts one task and returns its first result, or `None` when there is none.
    async fn first_result<B, R>(&self, path: &str, task: &B) -> Result<Option<R>, ProviderError>
    where
        B: Serialize + Sync,
        R: DeserializeOwned,
    {
        let url = self.http.endpoint(path)?;
        let envelope: Envelope<R> = self.http.post_json(&url, self.auth(), &[task]).await?;
        check_status(envelope.status_code, envelope.status_message.as_deref())?;
        let Some(task) = envelope.tasks.unwrap_or_default().into_iter().next() else {
            return Err(invalid("the response has no task"));
        };
        if task.status_code == NO_RESULTS {
            return Ok(None);
        }
        check_status(task.status_code, task.status_message.as_deref())?;
        Ok(task.result.unwrap_or_default().into_iter().flatten().next())
    }
}

fn invalid(reason: &str) -> ProviderError {
    ProviderError::InvalidResponse {
        provider: Provider::DataForSeo,
        reason: reason.to_owned(),
    }
}

fn check_status(code: u32, message: Option<&str>) -> Result<(), ProviderError> {
    let provider = Provider::DataForSeo;
    match code {
        OK => Ok(()),
        40100..=40199 => Err(ProviderError::Unauthorized {
            provider,
            status: 0,
        }),
        40200..=40299 => Err(ProviderError::QuotaExhausted { provider }),
        50000..=59999 => Err(ProviderError::Upstream {
            provider,
            status: 0,
            attempts: 1,
        }),
        _ => Err(ProviderError::Rejected {
            provider,
            status: 0,
            message: format!("{code}: {}", message.unwrap_or(""))
                .chars()
                .take(200)
                .collect(),
        }),
    }
}

#[derive(Debug, Deserialize)]
struct Envelope<R> {
    status_code: u32,
    status_message: Option<String>,
    tasks: Option<Vec<Task<R>>>,
}

#[derive(Debug, Deserialize)]
struct Task<R> {
    status_code: u32,
    status_message: Option<String>,
    // Each result entry may be null.
    result: Option<Vec<Option<R>>>,
}

#[derive(Debug, Serialize)]
struct OverviewTask<'a> {
    target: &'a str,
    location_code: u32,
    language_code: &'a str,
}

#[derive(Debug, Deserialize)]
struct OverviewResult {
    items: Option<Vec<OverviewItem>>,
}

#[derive(Debug, Deserialize)]
struct OverviewItem {
    metrics: Option<Metrics>,
}

#[derive(Debug, Deserialize)]
struct Metrics {
    organic: Option<OrganicMetrics>,
}

#[derive(Debug, Deserialize)]
struct OrganicMetrics {
    pos_1: Option<u64>,
    pos_2_3: Option<u64>,
    pos_4_10: Option<u64>,
    etv: Option<f64>,
}

#[derive(Debug, Serialize)]
struct BacklinksTask<'a> {
    target: &'a str,
    include_subdomains: bool,
}

#[derive(Debug, Deserialize)]
struct BacklinksSummary {
    rank: Option<u64>,
    backlinks_spam_score: Option<u64>,
}

/// Estimated traffic (a float) as whole visits; negative or non-finite values are dropped.
fn traffic(etv: f64) -> Option<u64> {
    if etv.is_finite() && etv >= 0.0 {
        // Rounds to the nearest visit; `as` saturates at u64::MAX.
        Some(etv.round() as u64)
    } else {
        None
    }
}

#[async_trait]
impl SeoFactsProvider for DataForSeo {
    fn provider(&self) -> Provider {
        Provider::DataForSeo
    }

    fn is_sandbox(&self) -> bool {
        false
    }

    #[tracing::instrument(skip_all, fields(provider = "dataforseo"))]
    async fn seo_facts(&self, domain: &str) -> Result<SeoReport, ProviderError> {
        let overview_task = OverviewTask {
            target: domain,
            location_code: self.location_code,
            language_code: &self.language_code,
        };
        let backlinks_task = BacklinksTask {
            target: domain,
            include_subdomains: true,
        };
        let (overview, backlinks) = tokio::join!(
            self.first_result::<_, OverviewResult>(DOMAIN_RANK_OVERVIEW_PATH, &overview_task),
            self.first_result::<_, BacklinksSummary>(BACKLINKS_SUMMARY_PATH, &backlinks_task),
        );
        let organic = overview?
            .and_then(|r| r.items)
            .and_then(|items| items.into_iter().next())
            .and_then(|item| item.metrics)
            .and_then(|m| m.organic);
        let backlinks = backlinks?;

        let top10 = organic
            .as_ref()
            .map(|o| o.pos_1.unwrap_or(0) + o.pos_2_3.unwrap_or(0) + o.pos_4_10.unwrap_or(0));
        let facts = SeoFacts {
            domain_rank: backlinks
                .as_ref()
                .and_then(|b| b.rank)
                .map(|r| u32::try_from(r).unwrap_or(u32::MAX)),
            organic_traffic: organic.as_ref().and_then(|o| o.etv).and_then(traffic),
            top10_keywords: top10.map(|n| u32::try_from(n).unwrap_or(u32::MAX)),
            spam_score: backlinks
                .as_ref()
                .and_then(|b| b.backlinks_spam_score)
                .map(|s| u8::try_from(s.min(100)).unwrap_or(100)),
        };
        Ok(SeoReport {
            domain: domain.to_owned(),
            facts,
            source: Provider::DataForSeo,
            sandbox: false,
        })
    }
}
