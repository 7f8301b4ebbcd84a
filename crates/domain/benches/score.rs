//! Scores (and allocates) 100,000 varied leads: the SPEC target is 100k in under 30 s on 2 cores.

use std::hint::black_box;

use agency_domain::scoring::{ScoringContext, ScoringInput, SeoFacts, Weights, score_batch};
use agency_domain::{ChannelAllocation, LeadId, first_touch_channel, lead_channels};
use chrono::{Days, NaiveDate};
use criterion::{Criterion, criterion_group, criterion_main};
use uuid::Uuid;

const LEADS: usize = 100_000;
const TITLES: &[&str] = &[
    "CEO",
    "Co-Founder",
    "VP of Marketing",
    "Chief Revenue Officer",
    "Director of Sales",
    "Head of Growth",
    "Senior Manager, Partnerships",
    "Marketing Manager",
    "Team Lead",
    "Software Engineer",
    "Marketing Coordinator",
    "Executive Assistant",
    "",
];
const INDUSTRIES: &[&str] = &[
    "Marketing Services",
    "Legal",
    "Construction",
    "Health Care",
    "Retail",
];
const COUNTRIES: &[&str] = &["Australia", "AU", "New Zealand", "United States"];

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn flag(&mut self) -> bool {
        self.next() & 1 == 1
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[usize::try_from(self.below(items.len() as u64)).unwrap_or(0)]
    }
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 15).unwrap_or_default()
}

fn leads() -> Vec<ScoringInput> {
    let mut r = Lcg(42);
    (0..LEADS)
        .map(|i| {
            let days_ago = |r: &mut Lcg| today().checked_sub_days(Days::new(r.below(900)));
            ScoringInput {
                email_present: r.flag(),
                email_verified: r.flag(),
                phone_present: r.flag(),
                linkedin_present: r.flag(),
                personal_email_known: r.flag(),
                title: Some(r.pick(TITLES).to_owned()),
                industry: Some(r.pick(INDUSTRIES).to_owned()),
                employee_count: Some(u32::try_from(r.below(500)).unwrap_or(0)),
                country: Some(r.pick(COUNTRIES).to_owned()),
                domain: Some(format!("company{i}.com.au")),
                seo: r.flag().then(|| SeoFacts {
                    domain_rank: Some(u32::try_from(r.below(1000)).unwrap_or(0)),
                    organic_traffic: Some(r.below(3000)),
                    top10_keywords: Some(u32::try_from(r.below(5)).unwrap_or(0)),
                    spam_score: Some(u8::try_from(r.below(100)).unwrap_or(0)),
                }),
                employment_start_date: days_ago(&mut r),
                is_hiring: r.flag(),
                latest_funding_date: if r.flag() { days_ago(&mut r) } else { None },
                bounced_before: r.below(20) == 0,
                is_competitor_domain: false,
                unsubscribed: r.below(50) == 0,
                suppressed: false,
            }
        })
        .collect()
}

fn ctx() -> ScoringContext {
    ScoringContext {
        campaign_industries: vec!["Marketing Services".into(), "Legal".into()],
        icp_industries: vec![],
        competitor_domains: vec!["rival.com.au".into(), "othershop.com".into()],
        today: today(),
    }
}

fn bench(c: &mut Criterion) {
    let inputs = leads();
    let ctx = ctx();
    let weights = Weights::default();
    let allocation = ChannelAllocation::default();
    let ids: Vec<LeadId> = (0..LEADS as u128)
        .map(|n| LeadId::from_uuid(Uuid::from_u128(n << 64 | n)))
        .collect();

    let mut group = c.benchmark_group("als");
    group.sample_size(10);
    group.bench_function("score_batch_100k", |b| {
        b.iter(|| score_batch(black_box(&inputs), black_box(&ctx), black_box(&weights)))
    });
    group.bench_function("score_and_allocate_100k", |b| {
        b.iter(|| {
            let scores = score_batch(black_box(&inputs), &ctx, &weights);
            scores
                .iter()
                .zip(&ids)
                .filter_map(|(s, id)| {
                    first_touch_channel(*id, &allocation, &lead_channels(s.tier, &allocation))
                })
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
