//! Sandbox determinism and spread: same input -> same output; enough variety to reach every
//! ALS tier, with misses and low-confidence answers for the waterfall's fallbacks.

mod common;

use agency_domain::{ScoringContext, ScoringInput, Tier, Weights, score};
use agency_providers::{
    EnrichedPerson, PersonEnricher, Provider, SandboxPersonEnricher, SandboxSeo, SeoFactsProvider,
};
use chrono::NaiveDate;
use common::query;
use rust_decimal_macros::dec;

fn anchor() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 1).expect("date")
}

fn emails(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("lead{i}@company{}.com.au", i % 37))
        .collect()
}

#[tokio::test]
async fn the_same_input_gives_the_same_answer() {
    let a = SandboxPersonEnricher::new(Provider::Apollo, anchor());
    let b = SandboxPersonEnricher::new(Provider::Apollo, anchor());
    for email in emails(50) {
        let q = query(&email);
        assert_eq!(a.enrich_person(&q).await, b.enrich_person(&q).await);
    }
    let seo = SandboxSeo::new();
    assert_eq!(
        seo.seo_facts("harbourplumbing.com.au").await,
        seo.seo_facts("HarbourPlumbing.com.au").await
    );
}

#[test]
fn slots_differ_in_hits_but_describe_the_same_person() {
    let primary = SandboxPersonEnricher::new(Provider::Apollo, anchor());
    let secondary = SandboxPersonEnricher::new(Provider::Apify, anchor());
    let mut primary_missed_secondary_found = 0;
    for email in emails(300) {
        let q = query(&email);
        match (primary.generate(&q), secondary.generate(&q)) {
            (None, Some(_)) => primary_missed_secondary_found += 1,
            (Some(a), Some(b)) => {
                assert_eq!(a.title, b.title);
                assert_eq!(a.organization, b.organization);
                assert_eq!(a.source, Provider::Apollo);
                assert_eq!(b.source, Provider::Apify);
                assert!(a.sandbox && b.sandbox);
                assert_eq!(a.source_label(), "sandbox:apollo");
            }
            _ => {}
        }
    }
    assert!(
        primary_missed_secondary_found > 5,
        "{primary_missed_secondary_found}"
    );
}

#[test]
fn answers_include_misses_low_confidence_and_accepted_results() {
    let sandbox = SandboxPersonEnricher::new(Provider::Apollo, anchor());
    let answers: Vec<Option<EnrichedPerson>> = emails(400)
        .iter()
        .map(|e| sandbox.generate(&query(e)))
        .collect();
    let misses = answers.iter().filter(|a| a.is_none()).count();
    let low = answers
        .iter()
        .flatten()
        .filter(|p| p.confidence < dec!(0.70))
        .count();
    let accepted = answers
        .iter()
        .flatten()
        .filter(|p| p.confidence >= dec!(0.70))
        .count();
    assert!((20..=80).contains(&misses), "misses {misses}");
    assert!((30..=100).contains(&low), "low {low}");
    assert!(accepted > 250, "accepted {accepted}");
    for p in answers.iter().flatten() {
        assert!(p.confidence >= dec!(0) && p.confidence <= dec!(1));
    }
}

#[test]
fn sandbox_leads_reach_every_als_tier() {
    let sandbox = SandboxPersonEnricher::new(Provider::Apollo, anchor());
    let seo = SandboxSeo::new();
    let mut ctx = ScoringContext::new(anchor());
    ctx.icp_industries = vec!["Construction".into(), "Marketing & Advertising".into()];
    let mut tiers = Vec::new();
    for email in emails(600) {
        let Some(p) = sandbox.generate(&query(&email)) else {
            continue;
        };
        let org = p.organization.clone().unwrap_or_default();
        let input = ScoringInput {
            email_present: true,
            email_verified: p.email_verified(),
            phone_present: p.phone.is_some(),
            linkedin_present: p.linkedin_url.is_some(),
            personal_email_known: p.personal_email.is_some(),
            title: p.title.clone(),
            industry: org.industry.clone(),
            employee_count: org.employee_count,
            country: org.country.clone(),
            domain: org.domain.clone(),
            seo: org.domain.as_deref().map(|d| seo.generate(d).facts),
            employment_start_date: p.employment_start_date,
            is_hiring: org.is_hiring.unwrap_or(false),
            latest_funding_date: org.latest_funding_date,
            ..ScoringInput::default()
        };
        let tier = score(&input, &ctx, &Weights::default()).tier;
        if !tiers.contains(&tier) {
            tiers.push(tier);
        }
    }
    for tier in [Tier::Hot, Tier::Warm, Tier::Cool, Tier::Cold] {
        assert!(tiers.contains(&tier), "no {tier:?} lead in {tiers:?}");
    }
}

#[test]
fn names_come_from_the_query_or_the_email() {
    let sandbox = SandboxPersonEnricher::new(Provider::Clay, anchor());
    let found = emails(100)
        .into_iter()
        .map(|e| e.replace("lead", "jane.doe"))
        .find_map(|e| sandbox.generate(&query(&e)))
        .expect("some hit");
    assert!(found.first_name.is_some() && found.last_name.is_some());

    let hit = (0..100)
        .map(|i| format!("mary.jones{i}@acme-plumbing.com.au"))
        .find_map(|e| {
            let mut q = query(&e);
            q.first_name = Some("Mary".into());
            q.last_name = Some("Jones".into());
            sandbox.generate(&q)
        })
        .expect("some hit");
    assert_eq!(hit.first_name.as_deref(), Some("Mary"));
    assert_eq!(hit.last_name.as_deref(), Some("Jones"));
    let org = hit.organization.expect("org");
    assert_eq!(org.domain.as_deref(), Some("acme-plumbing.com.au"));
    assert_eq!(org.name.as_deref(), Some("Acme Plumbing"));
}

#[test]
fn sandbox_seo_has_found_and_empty_domains() {
    let seo = SandboxSeo::new();
    let reports: Vec<_> = (0..200)
        .map(|i| seo.generate(&format!("site{i}.com.au")))
        .collect();
    let empty = reports
        .iter()
        .filter(|r| r.facts.domain_rank.is_none())
        .count();
    assert!((5..=40).contains(&empty), "empty {empty}");
    assert!(
        reports
            .iter()
            .any(|r| r.facts.domain_rank.is_some_and(|d| d > 500))
    );
    assert!(reports.iter().any(|r| r.facts.organic_traffic == Some(0)));
    assert!(
        reports
            .iter()
            .all(|r| r.facts.spam_score.is_none_or(|s| s <= 100))
    );
    assert!(
        reports
            .iter()
            .all(|r| r.sandbox && r.source == Provider::DataForSeo)
    );
}
