//! The five raw ALS components (SPEC 3.1), each computed from plain facts and clamped to its range.

use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize};

use super::input::{ScoringContext, ScoringInput, SeoFacts};
use super::title::{authority_points_words, is_junk_title_words};
use crate::text::{same_label, words};
use crate::web_domain::{is_same_or_subdomain, normalise_domain};

/// Maximum of data_quality.
pub const DATA_QUALITY_MAX: u8 = 20;
/// Maximum of authority.
pub const AUTHORITY_MAX: u8 = 25;
/// Maximum of company_fit.
pub const COMPANY_FIT_MAX: u8 = 25;
/// Maximum of timing.
pub const TIMING_MAX: u8 = 15;
/// Maximum of risk (its starting value).
pub const RISK_MAX: u8 = 15;

/// The five raw component points of a lead.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Components {
    /// 0-20: how contactable the lead is.
    pub data_quality: u8,
    /// 0-25: seniority from the title.
    pub authority: u8,
    /// 0-25: how well the company matches the ICP.
    pub company_fit: u8,
    /// 0-15: buying signals now.
    pub timing: u8,
    /// 0-15: 15 minus risk penalties.
    pub risk: u8,
}

impl Components {
    /// The plain sum of the raw points (the default-weight score before clamping to 100).
    pub fn sum(&self) -> u32 {
        u32::from(self.data_quality)
            + u32::from(self.authority)
            + u32::from(self.company_fit)
            + u32::from(self.timing)
            + u32::from(self.risk)
    }
}

fn clamp_points(points: i32, max: u8) -> u8 {
    u8::try_from(points.clamp(0, i32::from(max))).unwrap_or(max)
}

/// Email verified 8 (present but unverified 4); phone 6; LinkedIn 4; personal email 2.
pub fn data_quality(input: &ScoringInput) -> u8 {
    let mut points = 0;
    if input.email_verified {
        points += 8;
    } else if input.email_present {
        points += 4;
    }
    if input.phone_present {
        points += 6;
    }
    if input.linkedin_present {
        points += 4;
    }
    if input.personal_email_known {
        points += 2;
    }
    clamp_points(points, DATA_QUALITY_MAX)
}

fn is_australia(country: &str) -> bool {
    ["australia", "au", "aus"]
        .iter()
        .any(|name| same_label(country, name))
}

/// SEO points: domain rank 151-500 -> 1, 501+ -> 2; traffic 201-1000 -> 1, 1001+ -> 2; any
/// top-10 keyword -> 1.
fn seo_fit(seo: &SeoFacts) -> i32 {
    let rank = match seo.domain_rank.unwrap_or(0) {
        0..=150 => 0,
        151..=500 => 1,
        _ => 2,
    };
    let traffic = match seo.organic_traffic.unwrap_or(0) {
        0..=200 => 0,
        201..=1000 => 1,
        _ => 2,
    };
    let keywords = i32::from(seo.top10_keywords.unwrap_or(0) > 0);
    rank + traffic + keywords
}

/// Industry match 10; 5-50 employees 5; Australia 5; SEO up to 5.
pub fn company_fit(input: &ScoringInput, ctx: &ScoringContext) -> u8 {
    let mut points = 0;
    if let Some(industry) = input.industry.as_deref().filter(|i| !i.trim().is_empty())
        && ctx
            .target_industries()
            .iter()
            .any(|t| same_label(industry, t))
    {
        points += 10;
    }
    if input.employee_count.is_some_and(|n| (5..=50).contains(&n)) {
        points += 5;
    }
    if input.country.as_deref().is_some_and(is_australia) {
        points += 5;
    }
    if let Some(seo) = &input.seo {
        points += seo_fit(seo);
    }
    clamp_points(points, COMPANY_FIT_MAX)
}

/// In role under 6 months 6 (start date after today minus 6 months); hiring 5; funded on or
/// after today minus 12 months 4.
pub fn timing(input: &ScoringInput, today: NaiveDate) -> u8 {
    let mut points = 0;
    if let (Some(start), Some(cutoff)) = (
        input.employment_start_date,
        today.checked_sub_months(Months::new(6)),
    ) && start > cutoff
    {
        points += 6;
    }
    if input.is_hiring {
        points += 5;
    }
    if let (Some(funded), Some(cutoff)) = (
        input.latest_funding_date,
        today.checked_sub_months(Months::new(12)),
    ) && funded >= cutoff
    {
        points += 4;
    }
    clamp_points(points, TIMING_MAX)
}

/// True when the lead is flagged as a competitor or its domain is (a subdomain of) one of the
/// context's competitor domains.
pub fn is_competitor(input: &ScoringInput, ctx: &ScoringContext) -> bool {
    if input.is_competitor_domain {
        return true;
    }
    let Some(domain) = input
        .domain
        .as_deref()
        .and_then(|d| normalise_domain(d).ok())
    else {
        return false;
    };
    ctx.competitor_domains.iter().any(|c| {
        let competitor = normalise_domain(c).unwrap_or_else(|_| c.trim().to_ascii_lowercase());
        is_same_or_subdomain(&domain, &competitor)
    })
}

/// 15, minus: bounced 8, competitor 10, junk title 5; when SEO was looked up: no domain rank 5,
/// no organic traffic 3, spam score over 50 3. Never below 0.
fn risk_with(input: &ScoringInput, ctx: &ScoringContext, junk_title: bool) -> u8 {
    let mut points = i32::from(RISK_MAX);
    if input.bounced_before {
        points -= 8;
    }
    if is_competitor(input, ctx) {
        points -= 10;
    }
    if junk_title {
        points -= 5;
    }
    if let Some(seo) = &input.seo {
        if seo.domain_rank.unwrap_or(0) == 0 {
            points -= 5;
        }
        if seo.organic_traffic.unwrap_or(0) == 0 {
            points -= 3;
        }
        if seo.spam_score.is_some_and(|s| s > 50) {
            points -= 3;
        }
    }
    clamp_points(points, RISK_MAX)
}

/// The risk component.
pub fn risk(input: &ScoringInput, ctx: &ScoringContext) -> u8 {
    let title_words = words(input.title.as_deref().unwrap_or_default());
    risk_with(input, ctx, is_junk_title_words(&title_words))
}

/// All five raw components of a lead.
pub fn components(input: &ScoringInput, ctx: &ScoringContext) -> Components {
    let title_words = words(input.title.as_deref().unwrap_or_default());
    Components {
        data_quality: data_quality(input),
        authority: authority_points_words(&title_words),
        company_fit: company_fit(input, ctx),
        timing: timing(input, ctx.today),
        risk: risk_with(input, ctx, is_junk_title_words(&title_words)),
    }
}
