//! Sandbox enrichers: plausible, deterministic data derived from a SHA-256 of the input, for
//! development, demos and tests without provider keys.
//!
//! The person's facts (title, company size, industry, ...) depend only on the email, so every
//! sandbox slot describes the same person; whether a slot finds the person, and how sure it
//! is, depends on the slot too (about 12% not found, 15% below the 0.70 threshold), so the
//! waterfall's fallbacks are exercised. Titles, industries and sizes vary enough to reach every
//! ALS tier. Dates are relative to an `anchor` day fixed at construction: the same input and
//! anchor always give the same answer.

use agency_domain::SeoFacts;
use async_trait::async_trait;
use chrono::{Days, NaiveDate};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::error::ProviderError;
use crate::person::{EmailStatus, EnrichedPerson, Organization, PersonEnricher, PersonQuery};
use crate::provider::Provider;
use crate::seo::{SeoFactsProvider, SeoReport};

/// Titles across every authority band, including junk titles.
const TITLES: &[&str] = &[
    "Founder & CEO",
    "Managing Director",
    "Owner",
    "VP of Marketing",
    "Chief Operating Officer",
    "Head of Growth",
    "Marketing Director",
    "Senior Manager, Digital",
    "Marketing Manager",
    "Team Lead, Sales",
    "Account Executive",
    "Sales Coordinator",
    "Executive Assistant",
    "Marketing Intern",
];

const INDUSTRIES: &[&str] = &[
    "Marketing & Advertising",
    "Construction",
    "Health, Wellness & Fitness",
    "Legal Services",
    "Accounting",
    "Real Estate",
    "Hospitality",
    "Retail",
    "Information Technology & Services",
    "Financial Services",
];

const SIZES: &[u32] = &[3, 8, 12, 25, 40, 48, 75, 150, 400, 1200];

const OTHER_COUNTRIES: &[&str] = &["New Zealand", "United States", "United Kingdom"];

const FIRST_NAMES: &[&str] = &[
    "Olivia",
    "Jack",
    "Charlotte",
    "Noah",
    "Mia",
    "William",
    "Amelia",
    "Oliver",
    "Isla",
    "Lucas",
];

const LAST_NAMES: &[&str] = &[
    "Smith", "Nguyen", "Williams", "Brown", "Wilson", "Taylor", "Anderson", "Martin", "Lee",
    "Walker",
];

fn digest(parts: &[&str]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hasher.finalize().into()
}

fn pick<T>(items: &[T], byte: u8) -> &T {
    &items[usize::from(byte) % items.len()]
}

fn u16_at(h: &[u8; 32], i: usize) -> u16 {
    u16::from_be_bytes([h[i], h[i + 1]])
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `"acme-plumbing.com.au"` -> `"Acme Plumbing"`.
fn company_name_from_domain(domain: &str) -> String {
    let label = domain.split('.').next().unwrap_or(domain);
    label
        .split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(capitalise)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A sandbox standing in for one enrichment provider slot.
#[derive(Debug, Clone)]
pub struct SandboxPersonEnricher {
    imitates: Provider,
    anchor: NaiveDate,
}

impl SandboxPersonEnricher {
    /// A sandbox for `imitates`'s slot, with dates relative to `anchor`.
    pub fn new(imitates: Provider, anchor: NaiveDate) -> Self {
        SandboxPersonEnricher { imitates, anchor }
    }

    /// The generated answer for `query` (what `enrich_person` returns).
    pub fn generate(&self, query: &PersonQuery) -> Option<EnrichedPerson> {
        let email = query.email.as_str();
        let slot = digest(&[self.imitates.as_str(), email]);
        let roll = slot[0] % 100;
        if roll < 12 {
            return None;
        }
        let confidence = if roll < 27 {
            Decimal::new(40 + i64::from(slot[1] % 30), 2)
        } else {
            Decimal::new(72 + i64::from(slot[1] % 26), 2)
        };

        let p = digest(&["person", email]);
        let (first_name, last_name) = self.names(query, &p);
        let domain = query.company_domain();
        let company = query
            .company
            .clone()
            .or_else(|| domain.as_deref().map(company_name_from_domain));
        let email_status = match p[5] % 20 {
            0 => EmailStatus::Invalid,
            1..=11 => EmailStatus::Verified,
            12..=16 => EmailStatus::Unverified,
            _ => EmailStatus::Unknown,
        };
        let slug = format!(
            "{}-{}-{:02x}{:02x}",
            first_name.to_ascii_lowercase(),
            last_name.to_ascii_lowercase(),
            p[18],
            p[19]
        );
        let country = if p[4] % 10 < 7 {
            "Australia"
        } else {
            pick(OTHER_COUNTRIES, p[4])
        };
        Some(EnrichedPerson {
            title: Some((*pick(TITLES, p[1])).to_owned()),
            email: Some(email.to_owned()),
            email_status,
            phone: (p[6] % 10 < 6).then(|| {
                format!(
                    "+614{:08}",
                    u32::from_be_bytes([p[7], p[8], p[9], p[10]]) % 100_000_000
                )
            }),
            linkedin_url: (p[11] % 10 < 7).then(|| format!("https://www.linkedin.com/in/{slug}")),
            personal_email: (p[12] % 10 < 3).then(|| {
                format!(
                    "{}.{}{}@gmail.com",
                    first_name.to_ascii_lowercase(),
                    last_name.to_ascii_lowercase(),
                    p[20] % 100
                )
            }),
            employment_start_date: self
                .anchor
                .checked_sub_days(Days::new(u64::from(p[13]) * 8)),
            organization: Some(Organization {
                name: company,
                domain,
                industry: Some((*pick(INDUSTRIES, p[2])).to_owned()),
                employee_count: Some(*pick(SIZES, p[3])),
                country: Some(country.to_owned()),
                founded_year: Some(1985 + i32::from(p[17] % 38)),
                is_hiring: Some(p[14].is_multiple_of(3)),
                latest_funding_date: p[15].is_multiple_of(4).then(|| {
                    self.anchor
                        .checked_sub_days(Days::new(u64::from(p[16]) * 3))
                        .unwrap_or(self.anchor)
                }),
            }),
            first_name: Some(first_name),
            last_name: Some(last_name),
            confidence,
            source: self.imitates,
            sandbox: true,
        })
    }

    /// The query's names, else `first.last@` from the email, else names picked by hash.
    fn names(&self, query: &PersonQuery, p: &[u8; 32]) -> (String, String) {
        let local = query.email.local_part();
        let from_email = local
            .split_once(['.', '_'])
            .filter(|(a, b)| {
                a.len() > 1
                    && b.len() > 1
                    && a.chars().all(|c| c.is_ascii_alphabetic())
                    && b.chars().all(|c| c.is_ascii_alphabetic())
            })
            .map(|(a, b)| (capitalise(a), capitalise(b)));
        let first = query
            .first_name
            .clone()
            .or_else(|| from_email.as_ref().map(|(f, _)| f.clone()))
            .unwrap_or_else(|| (*pick(FIRST_NAMES, p[21])).to_owned());
        let last = query
            .last_name
            .clone()
            .or_else(|| from_email.as_ref().map(|(_, l)| l.clone()))
            .unwrap_or_else(|| (*pick(LAST_NAMES, p[22])).to_owned());
        (first, last)
    }
}

#[async_trait]
impl PersonEnricher for SandboxPersonEnricher {
    fn provider(&self) -> Provider {
        self.imitates
    }

    fn is_sandbox(&self) -> bool {
        true
    }

    async fn enrich_person(
        &self,
        query: &PersonQuery,
    ) -> Result<Option<EnrichedPerson>, ProviderError> {
        Ok(self.generate(query))
    }
}

/// A sandbox standing in for DataForSEO.
#[derive(Debug, Clone, Default)]
pub struct SandboxSeo;

impl SandboxSeo {
    /// A sandbox SEO provider.
    pub fn new() -> Self {
        SandboxSeo
    }

    /// The generated facts for `domain` (what `seo_facts` returns); about 10% of domains have
    /// none, about 20% of the rest no organic traffic.
    pub fn generate(&self, domain: &str) -> SeoReport {
        let domain = domain.trim().to_ascii_lowercase();
        let h = digest(&["seo", &domain]);
        let facts = if h[0].is_multiple_of(10) {
            SeoFacts::default()
        } else {
            SeoFacts {
                domain_rank: Some(u32::from(u16_at(&h, 1) % 800)),
                organic_traffic: Some(if h[3].is_multiple_of(5) {
                    0
                } else {
                    u64::from(u16_at(&h, 4) % 5000)
                }),
                top10_keywords: Some(u32::from(h[6] % 60)),
                spam_score: Some(h[7] % 80),
            }
        };
        SeoReport {
            domain,
            facts,
            source: Provider::DataForSeo,
            sandbox: true,
        }
    }
}

#[async_trait]
impl SeoFactsProvider for SandboxSeo {
    fn provider(&self) -> Provider {
        Provider::DataForSeo
    }

    fn is_sandbox(&self) -> bool {
        true
    }

    async fn seo_facts(&self, domain: &str) -> Result<SeoReport, ProviderError> {
        Ok(self.generate(domain))
    }
}
