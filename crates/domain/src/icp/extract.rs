//! The deterministic ICP extractor: keyword tables over the pages' text (services pages and
//! portfolio pages weigh more), page structure (headings, logo alt texts), JSON-LD organisation
//! data, Australian addresses and phone area codes. Pure: same pages and clock, same profile.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Utc};
use regex::Regex;
use rust_decimal::Decimal;

use super::site::{PageKind, SiteSnapshot, WebPage};
use super::tables::{
    CITIES, DIFFERENTIATOR_WORDS, GENERIC_HEADINGS, INDUSTRIES, NATIONAL, PAIN_TRIGGERS,
    REVENUE_BY_SIZE, SERVICES, SIZE_PHRASES, SIZE_RANGES, STATES, TITLE_MENTIONS, TITLES_BY_SIZE,
    state_of_area_code,
};
use super::{ExtractionMethod, IcpProfile};
use crate::scoring::Weights;

/// Most entries kept in each list.
pub const MAX_LIST: usize = 8;
/// Customer sizes assumed when the site names none (the typical agency customer).
const DEFAULT_SIZES: &[&str] = &["11-50", "51-200"];
/// The highest confidence a profile extracted without AI gets.
pub const MAX_DETERMINISTIC_CONFIDENCE: Decimal = Decimal::from_parts(70, 0, 0, false, 2);

static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b([A-Z][a-zA-Z]+(?: [A-Z][a-zA-Z]+){0,2}),? (NSW|VIC|QLD|WA|SA|TAS|ACT|NT),? (\d{4})\b",
    )
    .expect("address regex")
});
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+61[\s-]?\(?0?|\(0|\b0)([2378])\)?[\s-]?\d{4}[\s-]?\d{4}\b")
        .expect("phone regex")
});
static TEAM_OF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bteam of (\d{1,4})\b|\b(\d{1,4})\+? (?:strong )?(?:team members|people|staff|specialists|experts|marketers|employees|creatives)\b")
        .expect("team regex")
});
static FOUNDED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(?:since|founded in|established in|est\.?|founded)\s+((?:19|20)\d{2})\b")
        .expect("founded regex")
});
static YEARS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(\d{1,3})\+? years (?:of experience|in business|experience)\b")
        .expect("years regex")
});
static PERSON_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[A-Z][a-z]+(?:[ '-][A-Z][a-z]+){1,2}$").expect("name regex"));

/// Fills an [`IcpProfile`] from the pages read, without AI. Lists are empty where nothing was
/// found; customer sizes fall back to the typical agency customer; `confidence` reflects how
/// much was found and never exceeds 0.7.
pub fn extract_icp(site: &SiteSnapshot, now: DateTime<Utc>) -> IcpProfile {
    let text = SiteText::new(site);
    let company_name = company_name(site);
    let services = ranked_services(&text);
    let service_names: Vec<String> = services.iter().map(|s| s.name.to_owned()).collect();
    let categories = dedup(services.iter().map(|s| s.category.to_owned()));
    let portfolio = portfolio_companies(site, &company_name);
    let notable_brands = logo_brands(site, &company_name);
    let industries = ranked_industries(&text);
    let (sizes, sizes_found) = customer_sizes(&text);
    let locations = locations(site, &text);
    let titles = titles(&text, &industries, &sizes);
    let pain_points = pain_points(site, &services);
    let signals: Vec<String> = dedup(
        services
            .iter()
            .map(|s| s.signal.to_owned())
            .chain(std::iter::once("Hiring for marketing roles".to_owned())),
    )
    .into_iter()
    .take(5)
    .collect();
    let team_size = team_size(site);
    let years_in_business = years_in_business(site, now);
    let industry_names: Vec<String> = industries.iter().map(|i| i.name.to_owned()).collect();
    let als_weights = suggested_weights(industry_names.len(), &sizes);
    let value_proposition = value_proposition(site);
    let company_description = company_description(site);

    let found = [
        company_description.is_some(),
        value_proposition.is_some(),
        !service_names.is_empty(),
        !industry_names.is_empty(),
        !locations.is_empty(),
        sizes_found,
        team_size.is_some() || years_in_business.is_some(),
        !portfolio.is_empty() || !notable_brands.is_empty(),
    ];
    let filled = found.iter().filter(|f| **f).count() as i64;
    let confidence = (Decimal::new(20, 2)
        + Decimal::new(50, 2) * Decimal::from(filled) / Decimal::from(found.len() as i64))
    .round_dp(2)
    .min(MAX_DETERMINISTIC_CONFIDENCE);

    let pattern_description = pattern_description(
        &company_name,
        &service_names,
        &industry_names,
        &locations,
        &titles,
        &sizes,
    );
    IcpProfile {
        company_name,
        website_url: site.website_url.clone(),
        company_description,
        services_offered: service_names,
        primary_service_categories: categories,
        value_proposition,
        taglines: taglines(site),
        differentiators: differentiators(site),
        team_size,
        size_range: team_size.map(|n| size_range(n).to_owned()),
        years_in_business,
        portfolio_companies: portfolio,
        notable_brands,
        icp_industries: industry_names,
        icp_revenue_ranges: revenue_ranges(&sizes),
        icp_company_sizes: sizes,
        icp_locations: locations,
        icp_titles: titles,
        icp_pain_points: pain_points,
        icp_signals: signals,
        als_weights,
        pattern_description,
        confidence,
        extraction_method: ExtractionMethod::Deterministic,
        extracted_at: now,
        confirmed_at: None,
    }
}

/// The typical yearly revenue labels (AUD, e.g. `$2M-$10M`) of the employee ranges `sizes`,
/// in the order given; unknown ranges are skipped.
pub fn revenue_ranges(sizes: &[String]) -> Vec<String> {
    sizes
        .iter()
        .filter_map(|s| {
            REVENUE_BY_SIZE
                .iter()
                .find(|r| r.0 == s)
                .map(|r| r.1.to_owned())
        })
        .collect()
}

/// The yearly revenue range (AUD) that the employee ranges `sizes` usually have: the lowest
/// low and the highest high (`None` when open-ended or unknown).
pub fn revenue_bounds(sizes: &[String]) -> (Option<Decimal>, Option<Decimal>) {
    let rows: Vec<_> = REVENUE_BY_SIZE
        .iter()
        .filter(|r| sizes.iter().any(|s| s == r.0))
        .collect();
    if rows.is_empty() {
        return (None, None);
    }
    let low = rows.iter().map(|r| r.2).min().map(Decimal::from);
    let high = if rows.iter().any(|r| r.3.is_none()) {
        None
    } else {
        rows.iter().filter_map(|r| r.3).max().map(Decimal::from)
    };
    (low, high)
}

/// The site's text, lower-cased, by weight: services/work pages count more.
struct SiteText {
    /// (weight, lower-cased text) per page.
    pages: Vec<(usize, PageKind, String)>,
}

impl SiteText {
    fn new(site: &SiteSnapshot) -> Self {
        let pages = site
            .pages
            .iter()
            .map(|p| {
                let mut all = String::new();
                for part in [&p.title, &p.meta_description].into_iter().flatten() {
                    all.push_str(part);
                    all.push('\n');
                }
                for h in &p.headings {
                    all.push_str(&h.text);
                    all.push('\n');
                }
                all.push_str(&p.text);
                all.push('\n');
                all.push_str(&p.image_alts.join("\n"));
                (1, p.kind, all.to_lowercase())
            })
            .collect();
        Self { pages }
    }

    /// Weighted occurrences of any of `keywords`, where pages of `heavy` kinds count `factor`.
    fn score(&self, keywords: &[&str], heavy: &[PageKind], factor: usize) -> usize {
        self.pages
            .iter()
            .map(|(w, kind, text)| {
                let hits: usize = keywords.iter().map(|k| occurrences(text, k)).sum();
                hits * if heavy.contains(kind) { factor } else { *w }
            })
            .sum()
    }

    fn mentions(&self, phrase: &str) -> bool {
        self.pages
            .iter()
            .any(|(_, _, t)| occurrences(t, phrase) > 0)
    }
}

/// Occurrences of `needle` (lower case) in `haystack` starting at a word boundary; short
/// needles (4 characters or fewer) must end at one too (an `s` plural allowed).
fn occurrences(haystack: &str, needle: &str) -> usize {
    let short = needle.chars().count() <= 4;
    haystack
        .match_indices(needle)
        .filter(|(i, _)| {
            let before_ok = haystack[..*i]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric());
            let rest = &haystack[i + needle.len()..];
            let mut after = rest.chars();
            let after_ok = !short
                || match after.next() {
                    None => true,
                    Some('s') => after.next().is_none_or(|c| !c.is_alphanumeric()),
                    Some(c) => !c.is_alphanumeric(),
                };
            before_ok && after_ok
        })
        .count()
}

fn dedup(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let item = item.trim().to_owned();
        if !item.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(&item)) {
            out.push(item);
        }
    }
    out
}

fn ranked_services(text: &SiteText) -> Vec<&'static super::tables::Service> {
    let mut scored: Vec<(usize, usize)> = SERVICES
        .iter()
        .enumerate()
        .map(|(i, s)| (i, text.score(s.keywords, &[PageKind::Services], 3)))
        .filter(|(_, score)| *score >= 2)
        .collect();
    scored.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    scored
        .into_iter()
        .take(MAX_LIST)
        .map(|(i, _)| &SERVICES[i])
        .collect()
}

fn ranked_industries(text: &SiteText) -> Vec<&'static super::tables::Industry> {
    let mut scored: Vec<(usize, usize)> = INDUSTRIES
        .iter()
        .enumerate()
        .map(|(i, ind)| (i, text.score(ind.keywords, &[PageKind::Work], 2)))
        .filter(|(_, score)| *score >= 2)
        .collect();
    scored.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    scored
        .into_iter()
        .take(6)
        .map(|(i, _)| &INDUSTRIES[i])
        .collect()
}

/// Customer sizes named on the site (smallest first), or the default; and whether any was named.
fn customer_sizes(text: &SiteText) -> (Vec<String>, bool) {
    let named: Vec<&str> = SIZE_PHRASES
        .iter()
        .filter(|(phrases, _)| phrases.iter().any(|p| text.mentions(p)))
        .flat_map(|(_, ranges)| ranges.iter().copied())
        .collect();
    let found = !named.is_empty();
    let chosen = if found { named } else { DEFAULT_SIZES.to_vec() };
    let sizes = SIZE_RANGES
        .iter()
        .filter(|r| chosen.contains(r))
        .map(|r| (*r).to_owned())
        .collect();
    (sizes, found)
}

/// The employee range (`1-10` ... `500+`) of a team of `team` people.
pub fn size_range(team: u32) -> &'static str {
    match team {
        0..=10 => "1-10",
        11..=50 => "11-50",
        51..=200 => "51-200",
        201..=500 => "201-500",
        _ => "500+",
    }
}

fn city_state(city: &str) -> Option<&'static str> {
    CITIES
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(city))
        .map(|(_, s)| *s)
}

/// Places served: JSON-LD addresses and areas, addresses in the text, cities and states named,
/// phone area codes; then "Australia" when any of it is Australian.
fn locations(site: &SiteSnapshot, text: &SiteText) -> Vec<String> {
    let mut places: Vec<String> = Vec::new();
    let mut states: Vec<&str> = Vec::new();
    let mut australian = false;
    for org in site.organizations() {
        for a in &org.addresses {
            if let Some(city) = a.locality.as_deref() {
                let state = a.region.as_deref().or_else(|| city_state(city));
                places.push(match state {
                    Some(s) => format!("{city}, {s}"),
                    None => city.to_owned(),
                });
            }
            australian |= a
                .country
                .as_deref()
                .is_some_and(|c| matches!(c.to_ascii_uppercase().as_str(), "AU" | "AUSTRALIA"));
        }
        places.extend(org.area_served.iter().cloned());
    }
    let raw: String = site
        .pages
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    for cap in ADDRESS.captures_iter(&raw) {
        let locality = cap[1].to_owned();
        let state = cap[2].to_owned();
        places.push(format!("{locality}, {state}"));
        australian = true;
    }
    for (city, state) in CITIES {
        if Regex::new(&format!(r"\b{city}\b")).is_ok_and(|re| re.is_match(&raw)) {
            places.push(format!("{city}, {state}"));
            australian = true;
        }
    }
    for (name, abbr) in STATES {
        if Regex::new(&format!(r"\b{name}\b")).is_ok_and(|re| re.is_match(&raw)) {
            states.push(abbr);
        }
    }
    for cap in PHONE.captures_iter(&raw) {
        australian = true;
        if let Some(state) = cap[1].chars().next().and_then(state_of_area_code) {
            states.push(state);
        }
    }
    if NATIONAL.iter().any(|p| text.mentions(p)) {
        australian = true;
    }
    // Normalise "Surry Hills, NSW" style entries: a known city keeps the city, others stay.
    let mut places = dedup(places);
    for state in states {
        let covered = places.iter().any(|p| p.ends_with(&format!(", {state}")));
        if !covered {
            let name = STATES
                .iter()
                .find(|(_, a)| *a == state)
                .map_or(state, |(n, _)| n);
            places.push(name.to_owned());
        }
        australian = true;
    }
    let mut places = dedup(places);
    places.truncate(MAX_LIST - 1);
    if australian && !places.iter().any(|p| p == "Australia") {
        places.push("Australia".to_owned());
    }
    places
}

fn titles(
    text: &SiteText,
    industries: &[&super::tables::Industry],
    sizes: &[String],
) -> Vec<String> {
    let mentioned = TITLE_MENTIONS
        .iter()
        .filter(|(phrase, _)| text.mentions(phrase))
        .map(|(_, title)| (*title).to_owned());
    let by_size = TITLES_BY_SIZE
        .iter()
        .filter(|(size, _)| sizes.iter().any(|s| s == size))
        .flat_map(|(_, titles)| titles.iter().map(|t| (*t).to_owned()));
    let by_industry = industries
        .iter()
        .take(3)
        .flat_map(|i| i.titles.iter().map(|t| (*t).to_owned()));
    let mut out = dedup(mentioned.chain(by_size).chain(by_industry));
    out.truncate(MAX_LIST);
    out
}

/// Sentences of readable text (split at . ! ? and line ends), trimmed.
fn sentences(page: &WebPage) -> impl Iterator<Item = &str> {
    page.text
        .split(['.', '!', '?', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn pain_points(site: &SiteSnapshot, services: &[&super::tables::Service]) -> Vec<String> {
    let mut stated = Vec::new();
    for page in &site.pages {
        for sentence in sentences(page) {
            let lower = sentence.to_lowercase();
            for trigger in PAIN_TRIGGERS {
                if let Some(i) = lower.find(trigger) {
                    let rest = sentence[i + trigger.len()..].trim();
                    if (3..=120).contains(&rest.len()) {
                        let mut chars = rest.chars();
                        let first = chars.next().map(|c| c.to_uppercase().collect::<String>());
                        stated.push(format!("{}{}", first.unwrap_or_default(), chars.as_str()));
                    }
                }
            }
        }
    }
    let mut out = dedup(
        stated
            .into_iter()
            .take(3)
            .chain(services.iter().map(|s| s.pain_point.to_owned())),
    );
    out.truncate(6);
    out
}

fn is_generic_heading(text: &str) -> bool {
    let lower = text.trim().trim_end_matches(['.', '!', ':']).to_lowercase();
    GENERIC_HEADINGS.contains(&lower.as_str())
}

/// A company name from a case-study heading: the part before a separator, if short.
fn heading_company(heading: &str) -> Option<String> {
    let name = heading
        .split([':', '|', '–', '—'])
        .next()
        .unwrap_or(heading)
        .split(" - ")
        .next()
        .unwrap_or(heading)
        .trim();
    let words = name.split_whitespace().count();
    ((1..=5).contains(&words) && !is_generic_heading(name) && name.len() <= 60)
        .then(|| name.to_owned())
}

fn logo_brands(site: &SiteSnapshot, own_name: &str) -> Vec<String> {
    let brands = site
        .pages
        .iter()
        .flat_map(|p| p.image_alts.iter())
        .filter_map(|alt| {
            let lower = alt.to_lowercase();
            if !lower.contains("logo") {
                return None;
            }
            let name = alt
                .split_whitespace()
                .filter(|w| {
                    !matches!(
                        w.to_lowercase().as_str(),
                        "logo" | "logo." | "client" | "the"
                    )
                })
                .collect::<Vec<_>>()
                .join(" ");
            let name = name.trim_matches(|c: char| !c.is_alphanumeric()).to_owned();
            (!name.is_empty()
                && !name.eq_ignore_ascii_case(own_name)
                && name.split_whitespace().count() <= 5)
                .then_some(name)
        });
    let mut out = dedup(brands);
    out.truncate(12);
    out
}

fn portfolio_companies(site: &SiteSnapshot, own_name: &str) -> Vec<String> {
    let from_work = site
        .pages_of(PageKind::Work)
        .flat_map(|p| p.headings.iter().filter(|h| h.level >= 2))
        .filter_map(|h| heading_company(&h.text));
    let mut out: Vec<String> = dedup(from_work.chain(logo_brands(site, own_name)))
        .into_iter()
        .filter(|n| !n.eq_ignore_ascii_case(own_name))
        .collect();
    out.truncate(12);
    out
}

fn first_org_field(
    site: &SiteSnapshot,
    field: impl Fn(&super::Organization) -> Option<&String>,
) -> Option<String> {
    site.organizations()
        .find_map(|o| field(o).cloned())
        .filter(|s| !s.trim().is_empty())
}

fn company_name(site: &SiteSnapshot) -> String {
    if let Some(name) = first_org_field(site, |o| o.name.as_ref()) {
        return name;
    }
    if let Some(name) = site.pages.iter().find_map(|p| p.site_name.clone()) {
        return name;
    }
    let label = url_label(&site.website_url);
    if let Some(title) = site.home().and_then(|h| h.title.as_deref()) {
        let parts: Vec<&str> = title
            .split(['|', '–', '—', ':'])
            .flat_map(|p| p.split(" - "))
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        let squashed = |s: &str| s.to_lowercase().replace([' ', '-', '&'], "");
        if let Some(p) = parts
            .iter()
            .find(|p| !label.is_empty() && squashed(p).contains(&label))
        {
            return (*p).to_owned();
        }
        if let Some(p) = parts.first() {
            return (*p).to_owned();
        }
    }
    let mut chars = label.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_else(|| site.website_url.clone())
}

/// The registrable-looking label of a URL's host: `https://www.brightside.com.au` -> `brightside`.
fn url_label(url: &str) -> String {
    let host = url
        .split("://")
        .nth(1)
        .unwrap_or(url)
        .split(['/', ':', '?', '#'])
        .next()
        .unwrap_or_default()
        .trim_start_matches("www.");
    host.split('.').next().unwrap_or_default().to_lowercase()
}

fn company_description(site: &SiteSnapshot) -> Option<String> {
    first_org_field(site, |o| o.description.as_ref())
        .or_else(|| {
            site.pages_of(PageKind::About)
                .find_map(|p| p.meta_description.clone())
        })
        .or_else(|| site.home().and_then(|h| h.meta_description.clone()))
        .or_else(|| {
            site.pages_of(PageKind::About)
                .chain(site.home())
                .flat_map(|p| p.text.lines())
                .map(str::trim)
                .find(|l| l.split_whitespace().count() >= 12)
                .map(str::to_owned)
        })
}

fn value_proposition(site: &SiteSnapshot) -> Option<String> {
    let home = site.home()?;
    let helps = home.headings.iter().map(|h| h.text.as_str()).find(|t| {
        let lower = t.to_lowercase();
        lower.contains("we help") || lower.starts_with("helping ")
    });
    helps
        .map(str::to_owned)
        .or_else(|| home.headings_at(1).next().map(str::to_owned))
        .or_else(|| home.meta_description.clone())
}

fn taglines(site: &SiteSnapshot) -> Vec<String> {
    let slogan = first_org_field(site, |o| o.slogan.as_ref());
    let home_lines = site.home().into_iter().flat_map(|h| {
        h.headings_at(1)
            .chain(h.headings_at(2).take(1))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    });
    let mut out: Vec<String> = dedup(slogan.into_iter().chain(home_lines))
        .into_iter()
        .filter(|t| t.split_whitespace().count() <= 14 && !is_generic_heading(t))
        .collect();
    out.truncate(3);
    out
}

fn differentiators(site: &SiteSnapshot) -> Vec<String> {
    let found = site.pages.iter().flat_map(sentences).filter(|s| {
        let lower = s.to_lowercase();
        (20..=160).contains(&s.len()) && DIFFERENTIATOR_WORDS.iter().any(|w| lower.contains(w))
    });
    let mut out = dedup(found.map(str::to_owned));
    out.truncate(5);
    out
}

/// The agency's size: JSON-LD, a "team of N" sentence, or the people named on its team page.
fn team_size(site: &SiteSnapshot) -> Option<u32> {
    if let Some(n) = site.organizations().find_map(|o| o.employees) {
        return Some(n);
    }
    let stated = site.pages.iter().find_map(|p| {
        TEAM_OF.captures_iter(&p.text).find_map(|c| {
            c.get(1)
                .or_else(|| c.get(2))
                .and_then(|m| m.as_str().parse::<u32>().ok())
                .filter(|n| *n > 0)
        })
    });
    stated.or_else(|| {
        let people = site
            .pages
            .iter()
            .filter(|p| matches!(p.kind, PageKind::Team | PageKind::About))
            .flat_map(|p| p.headings.iter().filter(|h| h.level >= 2))
            .filter(|h| PERSON_NAME.is_match(h.text.trim()))
            .map(|h| h.text.trim().to_owned());
        let n = dedup(people).len();
        (n >= 2).then_some(n as u32)
    })
}

fn years_in_business(site: &SiteSnapshot, now: DateTime<Utc>) -> Option<u32> {
    let this_year = now.year();
    let since = |year: i32| u32::try_from(this_year - year).ok().filter(|y| *y <= 150);
    if let Some(y) = site.organizations().find_map(|o| o.founding_year) {
        return since(y);
    }
    let founded = site.pages.iter().find_map(|p| {
        FOUNDED
            .captures(&p.text)
            .and_then(|c| c[1].parse::<i32>().ok())
    });
    if let Some(y) = founded.filter(|y| *y <= this_year) {
        return since(y);
    }
    site.pages
        .iter()
        .find_map(|p| {
            YEARS
                .captures(&p.text)
                .and_then(|c| c[1].parse::<u32>().ok())
        })
        .filter(|y| (1..=150).contains(y))
}

/// Suggested ALS weights: the defaults, with company fit up when the site names the industries
/// it serves, authority up for large customers (more decision layers) and timing up for small
/// ones (they buy when a need appears); normalised to sum to exactly 1 (two decimals).
fn suggested_weights(industries: usize, sizes: &[String]) -> Weights {
    let base = Weights::default();
    let step = Decimal::new(5, 2);
    let mut w = [
        base.data_quality,
        base.authority,
        base.company_fit,
        base.timing,
        base.risk,
    ];
    if industries >= 1 {
        w[2] += step;
    }
    if sizes.iter().any(|s| s == "201-500" || s == "500+") {
        w[1] += step;
    }
    if sizes.iter().any(|s| s == "1-10") {
        w[3] += step;
    }
    Weights::normalised(w).unwrap_or(base)
}

fn join_words(items: &[String], n: usize) -> String {
    let items: Vec<&str> = items.iter().take(n).map(String::as_str).collect();
    match items.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn pattern_description(
    company: &str,
    services: &[String],
    industries: &[String],
    locations: &[String],
    titles: &[String],
    sizes: &[String],
) -> String {
    let size_words = match (
        sizes.first().map(String::as_str),
        sizes.last().map(String::as_str),
    ) {
        (Some(lo), Some(hi)) if lo == hi => format!("{lo} employee"),
        (Some(lo), Some(hi)) => format!(
            "{}-{} employee",
            lo.split('-').next().unwrap_or(lo),
            hi.rsplit('-').next().unwrap_or(hi)
        ),
        _ => String::new(),
    };
    let who = if industries.is_empty() {
        format!("{size_words} businesses").trim().to_owned()
    } else {
        format!("{size_words} businesses in {}", join_words(industries, 3))
            .trim()
            .to_owned()
    };
    let mut sentence = format!("{company} is a fit for {who}");
    if !locations.is_empty() {
        sentence.push_str(&format!(" based in {}", join_words(locations, 3)));
    }
    if !services.is_empty() {
        sentence.push_str(&format!(
            " that need {}",
            join_words(services, 3).to_lowercase()
        ));
    }
    if !titles.is_empty() {
        sentence.push_str(&format!(
            "; the buyer is usually the {}",
            join_words(titles, 2)
        ));
    }
    sentence.push('.');
    sentence
}
