//! The plain facts ALS scoring reads: per lead (`ScoringInput`) and per campaign (`ScoringContext`).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// SEO facts for the lead's company domain. `ScoringInput::seo == None` means "not looked up".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeoFacts {
    /// Domain rank; `None` or 0 when the lookup found none.
    pub domain_rank: Option<u32>,
    /// Monthly organic traffic; `None` or 0 when none.
    pub organic_traffic: Option<u64>,
    /// Keywords ranking in the top 10.
    pub top10_keywords: Option<u32>,
    /// Spam score, 0-100.
    pub spam_score: Option<u8>,
}

/// Everything known about one lead that the score depends on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoringInput {
    /// A work email is known.
    pub email_present: bool,
    /// The email was verified deliverable (implies present).
    pub email_verified: bool,
    /// A phone number is known.
    pub phone_present: bool,
    /// A LinkedIn profile URL is known.
    pub linkedin_present: bool,
    /// A personal email is known.
    pub personal_email_known: bool,
    /// Job title, as written.
    pub title: Option<String>,
    /// The organisation's industry.
    pub industry: Option<String>,
    /// The organisation's head count.
    pub employee_count: Option<u32>,
    /// The organisation's country (name or ISO code).
    pub country: Option<String>,
    /// The company's domain (compared with the client's competitor domains).
    pub domain: Option<String>,
    /// SEO facts; `None` when SEO was not looked up.
    pub seo: Option<SeoFacts>,
    /// When the lead started in their current role.
    pub employment_start_date: Option<NaiveDate>,
    /// The organisation is hiring.
    pub is_hiring: bool,
    /// The organisation's latest funding date.
    pub latest_funding_date: Option<NaiveDate>,
    /// An email to this lead bounced before.
    pub bounced_before: bool,
    /// The lead's domain is known to be a competitor's (in addition to the context list).
    pub is_competitor_domain: bool,
    /// The lead unsubscribed: always Dead.
    pub unsubscribed: bool,
    /// The lead's address is globally suppressed: always Dead.
    pub suppressed: bool,
}

/// Facts shared by every lead scored for one campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoringContext {
    /// The campaign's target industries (used when non-empty).
    pub campaign_industries: Vec<String>,
    /// The client's ICP industries (used when the campaign has none).
    pub icp_industries: Vec<String>,
    /// The client's competitor domains.
    pub competitor_domains: Vec<String>,
    /// The day scoring happens (for "in role under 6 months", "funded in 12 months").
    pub today: NaiveDate,
}

impl ScoringContext {
    /// A context with no industries and no competitors.
    pub fn new(today: NaiveDate) -> Self {
        ScoringContext {
            campaign_industries: Vec::new(),
            icp_industries: Vec::new(),
            competitor_domains: Vec::new(),
            today,
        }
    }

    /// The industries a lead must match: the campaign's, else the client's ICP.
    pub fn target_industries(&self) -> &[String] {
        if self.campaign_industries.is_empty() {
            &self.icp_industries
        } else {
            &self.campaign_industries
        }
    }
}
