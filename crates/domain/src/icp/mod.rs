//! The ideal customer profile (ICP) of an agency, read from its website: what was read
//! ([`site`]), the profile's shape ([`IcpProfile`]), the eight steps of a website analysis and
//! its states ([`AnalysisStep`], [`AnalysisStatus`]), and the deterministic extractor
//! ([`extract_icp`]) that fills the profile from the pages without any AI.

mod extract;
pub mod site;
mod tables;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::enum_macro::text_enum;
use crate::scoring::Weights;

pub use extract::{
    MAX_DETERMINISTIC_CONFIDENCE, MAX_LIST, extract_icp, revenue_bounds, revenue_ranges, size_range,
};

/// Employee ranges of customers, smallest first (`icp_company_sizes` holds these).
pub const COMPANY_SIZES: &[&str] = tables::SIZE_RANGES;
pub use site::{Heading, Organization, PageKind, PostalAddress, SiteSnapshot, WebPage};

text_enum! {
    /// Where a website analysis is.
    pub enum AnalysisStatus {
        /// Queued, not started.
        Pending => "pending",
        /// Reading the site or extracting.
        Running => "running",
        /// The profile is ready.
        Completed => "completed",
        /// Ended with an error message (can be started again).
        Failed => "failed",
    }
}

text_enum! {
    /// Why a website is analysed.
    pub enum AnalysisPurpose {
        /// The first screen: the profile is shown for confirmation.
        Onboarding => "onboarding",
        /// `POST /clients/{id}/icp/reanalyze`: the profile is written to the client when done.
        Reanalysis => "reanalysis",
    }
}

text_enum! {
    /// The eight steps of a website analysis, in order.
    pub enum AnalysisStep {
        /// Reading the home page and the pages that matter.
        FetchingWebsite => "fetching_website",
        /// Services offered.
        ExtractingServices => "extracting_services",
        /// Portfolio and client brands.
        AnalyzingPortfolio => "analyzing_portfolio",
        /// Value proposition, taglines, differentiators.
        ExtractingValueProposition => "extracting_value_proposition",
        /// Target industries.
        IdentifyingIndustries => "identifying_industries",
        /// Decision makers' titles.
        IdentifyingTitles => "identifying_titles",
        /// Pain points and buying signals.
        IdentifyingPainPoints => "identifying_pain_points",
        /// Suggested ALS weights.
        CalculatingAlsWeights => "calculating_als_weights",
    }
}

impl AnalysisStep {
    /// Steps in total.
    pub const COUNT: usize = 8;

    /// 1-based position.
    pub fn number(self) -> usize {
        Self::ALL.iter().position(|s| *s == self).unwrap_or(0) + 1
    }

    /// The overall progress (0-100) once this step is done.
    pub fn percent_when_done(self) -> f64 {
        progress_percent(self.number())
    }

    /// A label for people.
    pub const fn label(self) -> &'static str {
        match self {
            AnalysisStep::FetchingWebsite => "Reading your website",
            AnalysisStep::ExtractingServices => "Identifying your services",
            AnalysisStep::AnalyzingPortfolio => "Analysing your portfolio",
            AnalysisStep::ExtractingValueProposition => "Understanding your value proposition",
            AnalysisStep::IdentifyingIndustries => "Finding the industries you serve",
            AnalysisStep::IdentifyingTitles => "Finding the decision makers you sell to",
            AnalysisStep::IdentifyingPainPoints => "Listing your customers' pain points",
            AnalysisStep::CalculatingAlsWeights => "Calculating lead scoring weights",
        }
    }
}

/// Progress (0-100, one decimal) after `completed` of the eight steps.
pub fn progress_percent(completed: usize) -> f64 {
    let done = completed.min(AnalysisStep::COUNT) as f64;
    (done * 1000.0 / AnalysisStep::COUNT as f64).round() / 10.0
}

/// How a profile was extracted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtractionMethod {
    /// Keyword tables and page structure, no AI.
    Deterministic,
    /// A language model through the AI gate.
    Ai,
}

/// The profile an analysis produces (the shape of `GET /onboarding/result/{job_id}`). Every
/// list is present (empty when nothing was found).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IcpProfile {
    /// The agency's name.
    pub company_name: String,
    /// The site analysed.
    pub website_url: String,
    /// What the agency does.
    pub company_description: Option<String>,
    /// Services offered, most prominent first.
    #[serde(default)]
    pub services_offered: Vec<String>,
    /// The broad categories of those services.
    #[serde(default)]
    pub primary_service_categories: Vec<String>,
    /// The main promise to customers.
    pub value_proposition: Option<String>,
    /// Taglines.
    #[serde(default)]
    pub taglines: Vec<String>,
    /// What sets the agency apart.
    #[serde(default)]
    pub differentiators: Vec<String>,
    /// People in the agency.
    pub team_size: Option<u32>,
    /// `1-10`, `11-50`, `51-200`, `201-500` or `500+`.
    pub size_range: Option<String>,
    /// Years since founding.
    pub years_in_business: Option<u32>,
    /// Companies in the portfolio (case studies, client logos).
    #[serde(default)]
    pub portfolio_companies: Vec<String>,
    /// Brands shown as clients.
    #[serde(default)]
    pub notable_brands: Vec<String>,
    /// Industries of the ideal customers.
    #[serde(default)]
    pub icp_industries: Vec<String>,
    /// Their sizes (employee ranges).
    #[serde(default)]
    pub icp_company_sizes: Vec<String>,
    /// Their yearly revenue ranges (AUD).
    #[serde(default)]
    pub icp_revenue_ranges: Vec<String>,
    /// Where they are.
    #[serde(default)]
    pub icp_locations: Vec<String>,
    /// Decision makers' titles.
    #[serde(default)]
    pub icp_titles: Vec<String>,
    /// Their problems the agency solves.
    #[serde(default)]
    pub icp_pain_points: Vec<String>,
    /// Signs a company is ready to buy.
    #[serde(default)]
    pub icp_signals: Vec<String>,
    /// Suggested ALS component weights (sum to 1).
    pub als_weights: Weights,
    /// One sentence describing the ideal customer.
    pub pattern_description: String,
    /// 0-1.
    #[serde(with = "crate::money::decimal_number")]
    pub confidence: Decimal,
    /// How it was extracted.
    pub extraction_method: ExtractionMethod,
    /// When it was extracted.
    pub extracted_at: DateTime<Utc>,
    /// When the agency confirmed it (`None` until then).
    pub confirmed_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_steps_progress_in_equal_parts() {
        assert_eq!(AnalysisStep::ALL.len(), AnalysisStep::COUNT);
        assert_eq!(AnalysisStep::FetchingWebsite.number(), 1);
        assert_eq!(AnalysisStep::CalculatingAlsWeights.number(), 8);
        assert_eq!(progress_percent(0), 0.0);
        assert_eq!(AnalysisStep::FetchingWebsite.percent_when_done(), 12.5);
        assert_eq!(AnalysisStep::IdentifyingTitles.percent_when_done(), 75.0);
        assert_eq!(progress_percent(8), 100.0);
        assert_eq!(progress_percent(9), 100.0);
    }
}
