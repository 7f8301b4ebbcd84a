//! Table-driven tests for every ALS rule and threshold, plus proptest properties.

use chrono::{Days, Months, NaiveDate};
use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 6, 15).unwrap_or_default()
}

fn ctx() -> ScoringContext {
    ScoringContext {
        campaign_industries: vec!["Marketing Services".into()],
        icp_industries: vec!["Legal".into()],
        competitor_domains: vec!["rival.com.au".into()],
        today: today(),
    }
}

fn base() -> ScoringInput {
    ScoringInput::default()
}

fn seo(
    rank: Option<u32>,
    traffic: Option<u64>,
    top10: Option<u32>,
    spam: Option<u8>,
) -> Option<SeoFacts> {
    Some(SeoFacts {
        domain_rank: rank,
        organic_traffic: traffic,
        top10_keywords: top10,
        spam_score: spam,
    })
}

fn best_lead() -> ScoringInput {
    ScoringInput {
        email_present: true,
        email_verified: true,
        phone_present: true,
        linkedin_present: true,
        personal_email_known: true,
        title: Some("Founder & CEO".into()),
        industry: Some("marketing services".into()),
        employee_count: Some(20),
        country: Some("Australia".into()),
        domain: Some("acme.com.au".into()),
        seo: seo(Some(800), Some(5000), Some(12), Some(3)),
        employment_start_date: today().checked_sub_days(Days::new(30)),
        is_hiring: true,
        latest_funding_date: today().checked_sub_days(Days::new(90)),
        ..ScoringInput::default()
    }
}

#[test]
fn empty_lead_scores_only_the_risk_base() {
    let s = score(&base(), &ctx(), &Weights::default());
    assert_eq!(
        s.components,
        Components {
            risk: 15,
            ..Components::default()
        }
    );
    assert_eq!(s.score, 15);
    assert_eq!(s.tier, Tier::Dead);
    assert!(s.channels.is_empty());
}

#[test]
fn best_lead_scores_100_and_is_hot() {
    let s = score(&best_lead(), &ctx(), &Weights::default());
    assert_eq!(
        s.components,
        Components {
            data_quality: 20,
            authority: 25,
            company_fit: 25,
            timing: 15,
            risk: 15
        }
    );
    assert_eq!(s.score, 100);
    assert_eq!(s.tier, Tier::Hot);
    assert_eq!(s.channels, Tier::Hot.channels());
    assert_eq!(s.weights, Weights::default());
}

#[test]
fn data_quality_rules() {
    // (email_present, email_verified, phone, linkedin, personal) -> points
    let cases = [
        ((false, false, false, false, false), 0),
        ((true, false, false, false, false), 4),
        ((true, true, false, false, false), 8),
        ((false, true, false, false, false), 8),
        ((false, false, true, false, false), 6),
        ((false, false, false, true, false), 4),
        ((false, false, false, false, true), 2),
        ((true, true, true, true, true), 20),
        ((true, false, true, true, true), 16),
    ];
    for ((present, verified, phone, linkedin, personal), want) in cases {
        let input = ScoringInput {
            email_present: present,
            email_verified: verified,
            phone_present: phone,
            linkedin_present: linkedin,
            personal_email_known: personal,
            ..base()
        };
        assert_eq!(
            data_quality(&input),
            want,
            "{present} {verified} {phone} {linkedin} {personal}"
        );
    }
}

#[test]
fn authority_through_score() {
    let cases = [
        ("Director", 15),
        ("Coordinator", 3),
        ("Vice President", 18),
        ("Chief Executive Officer", 22),
        ("Managing Director", 25),
        ("Sales Lead", 7),
    ];
    for (title, want) in cases {
        let input = ScoringInput {
            title: Some(title.into()),
            ..base()
        };
        assert_eq!(
            score(&input, &ctx(), &Weights::default())
                .components
                .authority,
            want,
            "{title}"
        );
    }
}

#[test]
fn industry_matches_campaign_else_icp() {
    let with = |industry: &str, c: &ScoringContext| {
        company_fit(
            &ScoringInput {
                industry: Some(industry.into()),
                ..base()
            },
            c,
        )
    };
    assert_eq!(with("Marketing Services", &ctx()), 10);
    assert_eq!(with("  MARKETING   services ", &ctx()), 10);
    assert_eq!(
        with("Legal", &ctx()),
        0,
        "campaign industries take precedence over the ICP"
    );
    let icp_only = ScoringContext {
        campaign_industries: vec![],
        ..ctx()
    };
    assert_eq!(with("legal", &icp_only), 10);
    assert_eq!(with("Marketing", &icp_only), 0);
    assert_eq!(
        with(
            "",
            &ScoringContext {
                campaign_industries: vec!["".into()],
                ..ctx()
            }
        ),
        0
    );
}

#[test]
fn employee_band_edges() {
    for (count, want) in [(0, 0), (4, 0), (5, 5), (50, 5), (51, 0), (10_000, 0)] {
        let input = ScoringInput {
            employee_count: Some(count),
            ..base()
        };
        assert_eq!(company_fit(&input, &ctx()), want, "{count}");
    }
    assert_eq!(company_fit(&base(), &ctx()), 0);
}

#[test]
fn country_australia() {
    for (country, want) in [
        ("Australia", 5),
        ("AU", 5),
        ("aus", 5),
        (" australia ", 5),
        ("New Zealand", 0),
        ("Austria", 0),
    ] {
        let input = ScoringInput {
            country: Some(country.into()),
            ..base()
        };
        assert_eq!(company_fit(&input, &ctx()), want, "{country}");
    }
}

#[test]
fn seo_fit_edges() {
    // Each lookup alone: fit points from SEO.
    let rank = [(150, 0), (151, 1), (500, 1), (501, 2)];
    for (r, want) in rank {
        let input = ScoringInput {
            seo: seo(Some(r), None, None, None),
            ..base()
        };
        assert_eq!(company_fit(&input, &ctx()), want, "rank {r}");
    }
    let traffic = [(200, 0), (201, 1), (1000, 1), (1001, 2)];
    for (t, want) in traffic {
        let input = ScoringInput {
            seo: seo(None, Some(t), None, None),
            ..base()
        };
        assert_eq!(company_fit(&input, &ctx()), want, "traffic {t}");
    }
    for (k, want) in [(0, 0), (1, 1), (40, 1)] {
        let input = ScoringInput {
            seo: seo(None, None, Some(k), None),
            ..base()
        };
        assert_eq!(company_fit(&input, &ctx()), want, "top10 {k}");
    }
}

#[test]
fn company_fit_is_clamped_to_25() {
    let input = ScoringInput {
        industry: Some("Marketing Services".into()),
        employee_count: Some(10),
        country: Some("AU".into()),
        seo: seo(Some(900), Some(9000), Some(3), None),
        ..base()
    };
    assert_eq!(company_fit(&input, &ctx()), 25);
}

#[test]
fn timing_edges() {
    let t = today();
    let six_months_ago = t.checked_sub_months(Months::new(6)).unwrap_or(t);
    let year_ago = t.checked_sub_months(Months::new(12)).unwrap_or(t);
    let day = Days::new(1);
    let cases = [
        (
            Some(six_months_ago),
            0,
            "exactly 6 months in role is not under 6 months",
        ),
        (
            six_months_ago.checked_add_days(day),
            6,
            "a day under 6 months",
        ),
        (
            six_months_ago.checked_sub_days(day),
            0,
            "a day over 6 months",
        ),
        (Some(t), 6, "started today"),
        (None, 0, "unknown start"),
    ];
    for (start, want, why) in cases {
        let input = ScoringInput {
            employment_start_date: start,
            ..base()
        };
        assert_eq!(timing(&input, t), want, "{why}");
    }
    let cases = [
        (Some(year_ago), 4, "exactly 12 months ago counts"),
        (year_ago.checked_add_days(day), 4, "inside 12 months"),
        (year_ago.checked_sub_days(day), 0, "a day over 12 months"),
        (None, 0, "never funded"),
    ];
    for (funded, want, why) in cases {
        let input = ScoringInput {
            latest_funding_date: funded,
            ..base()
        };
        assert_eq!(timing(&input, t), want, "{why}");
    }
    assert_eq!(
        timing(
            &ScoringInput {
                is_hiring: true,
                ..base()
            },
            t
        ),
        5
    );
}

#[test]
fn risk_rules() {
    let cases: Vec<(&str, ScoringInput, u8)> = vec![
        ("clean", base(), 15),
        (
            "bounced",
            ScoringInput {
                bounced_before: true,
                ..base()
            },
            7,
        ),
        (
            "competitor flag",
            ScoringInput {
                is_competitor_domain: true,
                ..base()
            },
            5,
        ),
        (
            "competitor domain",
            ScoringInput {
                domain: Some("rival.com.au".into()),
                ..base()
            },
            5,
        ),
        (
            "competitor url",
            ScoringInput {
                domain: Some("https://www.Rival.com.au/x".into()),
                ..base()
            },
            5,
        ),
        (
            "competitor subdomain",
            ScoringInput {
                domain: Some("shop.rival.com.au".into()),
                ..base()
            },
            5,
        ),
        (
            "not a competitor",
            ScoringInput {
                domain: Some("notrival.com.au".into()),
                ..base()
            },
            15,
        ),
        (
            "junk title",
            ScoringInput {
                title: Some("Executive Assistant".into()),
                ..base()
            },
            10,
        ),
        (
            "junk coordinator",
            ScoringInput {
                title: Some("Marketing Coordinator".into()),
                ..base()
            },
            10,
        ),
        (
            "internal is not intern",
            ScoringInput {
                title: Some("Internal Auditor".into()),
                ..base()
            },
            15,
        ),
        (
            "seo not looked up",
            ScoringInput {
                seo: None,
                ..base()
            },
            15,
        ),
        (
            "seo looked up, nothing found",
            ScoringInput {
                seo: seo(None, None, None, None),
                ..base()
            },
            7,
        ),
        (
            "rank 0 is no rank",
            ScoringInput {
                seo: seo(Some(0), Some(10), None, None),
                ..base()
            },
            10,
        ),
        (
            "no traffic",
            ScoringInput {
                seo: seo(Some(10), Some(0), None, None),
                ..base()
            },
            12,
        ),
        (
            "spam 50 is fine",
            ScoringInput {
                seo: seo(Some(10), Some(10), None, Some(50)),
                ..base()
            },
            15,
        ),
        (
            "spam 51",
            ScoringInput {
                seo: seo(Some(10), Some(10), None, Some(51)),
                ..base()
            },
            12,
        ),
        (
            "everything: clamped at 0",
            ScoringInput {
                bounced_before: true,
                is_competitor_domain: true,
                title: Some("Intern".into()),
                seo: seo(None, None, None, Some(99)),
                ..base()
            },
            0,
        ),
    ];
    for (why, input, want) in cases {
        assert_eq!(risk(&input, &ctx()), want, "{why}");
    }
}

#[test]
fn default_weights_score_is_the_plain_sum_at_tier_edges() {
    // Component sets summing to each tier edge.
    let cases = [
        (19, Tier::Dead),
        (20, Tier::Cold),
        (34, Tier::Cold),
        (35, Tier::Cool),
        (59, Tier::Cool),
        (60, Tier::Warm),
        (84, Tier::Warm),
        (85, Tier::Hot),
    ];
    for (sum, tier) in cases {
        let mut left = sum;
        let mut take = |max: u8| {
            let v = left.min(max);
            left -= v;
            v
        };
        let c = Components {
            authority: take(25),
            company_fit: take(25),
            data_quality: take(20),
            timing: take(15),
            risk: take(15),
        };
        let s = weighted_score(&c, &Weights::default());
        assert_eq!(u32::from(s), c.sum(), "sum {sum}");
        assert_eq!(Tier::from_score(s), tier, "sum {sum}");
    }
}

#[test]
fn score_is_exact_where_floats_would_floor_wrongly() {
    // 0.3 * 5 / 15 * 100 is exactly 10; in f64 (0.3*5)/15*100 = 9.999999999999998.
    let weights = Weights {
        data_quality: dec!(0.2),
        authority: dec!(0.2),
        company_fit: dec!(0.2),
        timing: dec!(0.3),
        risk: dec!(0.1),
    };
    let c = Components {
        timing: 5,
        ..Components::default()
    };
    assert_eq!(weighted_score(&c, &weights), 10);
    // Default weights: 13 stays 13 for every split of 13 points.
    for dq in 0..=13u8 {
        let c = Components {
            data_quality: dq,
            timing: (13 - dq).min(15),
            ..Components::default()
        };
        assert_eq!(weighted_score(&c, &Weights::default()), 13);
    }
    let learned = Weights {
        data_quality: dec!(0.1),
        authority: dec!(0.4),
        company_fit: dec!(0.2),
        timing: dec!(0.2),
        risk: dec!(0.1),
    };
    let c = Components {
        data_quality: 10,
        authority: 25,
        company_fit: 5,
        timing: 3,
        risk: 15,
    };
    assert_eq!(weighted_score(&c, &learned), 63);
    // 1/3 of a point is floored: 0.2 * 1/15 * 100 = 1.333...
    let c = Components {
        timing: 1,
        ..Components::default()
    };
    assert_eq!(weighted_score(&c, &learned), 1);
}

#[test]
fn score_is_clamped() {
    let heavy = Weights {
        data_quality: dec!(5),
        authority: dec!(5),
        company_fit: dec!(5),
        timing: dec!(5),
        risk: dec!(5),
    };
    let c = Components {
        data_quality: 20,
        authority: 25,
        company_fit: 25,
        timing: 15,
        risk: 15,
    };
    assert_eq!(weighted_score(&c, &heavy), 100);
    let negative = Weights {
        risk: dec!(-3),
        ..Weights::default()
    };
    assert_eq!(
        weighted_score(
            &Components {
                risk: 15,
                ..Components::default()
            },
            &negative
        ),
        0
    );
    let huge = Weights {
        risk: Decimal::MAX,
        ..Weights::default()
    };
    assert_eq!(weighted_score(&c, &huge), 100);
}

#[test]
fn unsubscribed_or_suppressed_is_dead_whatever_the_points() {
    for (unsubscribed, suppressed) in [(true, false), (false, true), (true, true)] {
        let input = ScoringInput {
            unsubscribed,
            suppressed,
            ..best_lead()
        };
        let s = score(&input, &ctx(), &Weights::default());
        assert_eq!(s.score, 100);
        assert_eq!(s.tier, Tier::Dead);
        assert!(s.channels.is_empty());
    }
}

#[test]
fn batch_matches_single() {
    let inputs = vec![
        base(),
        best_lead(),
        ScoringInput {
            title: Some("VP".into()),
            ..best_lead()
        },
    ];
    let batch = score_batch(&inputs, &ctx(), &Weights::default());
    let single: Vec<_> = inputs
        .iter()
        .map(|i| score(i, &ctx(), &Weights::default()))
        .collect();
    assert_eq!(batch, single);
}

// ---------- properties ----------

fn arb_seo() -> impl Strategy<Value = Option<SeoFacts>> {
    proptest::option::of(
        (
            proptest::option::of(0u32..2000),
            proptest::option::of(0u64..5000),
            proptest::option::of(0u32..5),
            proptest::option::of(0u8..=100),
        )
            .prop_map(|(r, t, k, s)| SeoFacts {
                domain_rank: r,
                organic_traffic: t,
                top10_keywords: k,
                spam_score: s,
            }),
    )
}

fn arb_title() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop::sample::select(vec![
        "",
        "CEO",
        "Founder",
        "VP Sales",
        "Chief of Staff",
        "Director",
        "Head of IT",
        "Senior Manager",
        "Manager",
        "Team Lead",
        "Engineer",
        "Marketing Coordinator",
        "Intern",
        "Executive Assistant to the CEO",
    ]))
    .prop_map(|t| t.map(str::to_owned))
}

fn arb_date() -> impl Strategy<Value = Option<NaiveDate>> {
    proptest::option::of((-900i64..30).prop_map(|offset| {
        let t = today();
        if offset < 0 {
            t.checked_sub_days(Days::new(offset.unsigned_abs()))
                .unwrap_or(t)
        } else {
            t.checked_add_days(Days::new(offset.unsigned_abs()))
                .unwrap_or(t)
        }
    }))
}

prop_compose! {
    fn arb_input()(
        flags in proptest::collection::vec(any::<bool>(), 11),
        title in arb_title(),
        industry in proptest::option::of(prop::sample::select(vec!["Marketing Services", "Legal", "Mining"])),
        employee_count in proptest::option::of(0u32..200),
        country in proptest::option::of(prop::sample::select(vec!["Australia", "AU", "NZ"])),
        domain in proptest::option::of(prop::sample::select(vec!["acme.com", "rival.com.au", "x.rival.com.au"])),
        seo in arb_seo(),
        start in arb_date(),
        funded in arb_date(),
    ) -> ScoringInput {
        ScoringInput {
            email_present: flags[0],
            email_verified: flags[1],
            phone_present: flags[2],
            linkedin_present: flags[3],
            personal_email_known: flags[4],
            title,
            industry: industry.map(str::to_owned),
            employee_count,
            country: country.map(str::to_owned),
            domain: domain.map(str::to_owned),
            seo,
            employment_start_date: start,
            is_hiring: flags[5],
            latest_funding_date: funded,
            bounced_before: flags[6],
            is_competitor_domain: flags[7],
            unsubscribed: flags[8],
            suppressed: flags[9] && flags[10],
        }
    }
}

prop_compose! {
    /// Non-negative weights (not necessarily summing to 1).
    fn arb_weights()(w in proptest::collection::vec(0i64..=1000, 5)) -> Weights {
        Weights {
            data_quality: Decimal::new(w[0], 3),
            authority: Decimal::new(w[1], 3),
            company_fit: Decimal::new(w[2], 3),
            timing: Decimal::new(w[3], 3),
            risk: Decimal::new(w[4], 3),
        }
    }
}

prop_compose! {
    /// Any weights at all, including negative and large ones.
    fn arb_any_weights()(w in proptest::collection::vec(-5_000_000i64..=5_000_000, 5)) -> Weights {
        Weights {
            data_quality: Decimal::new(w[0], 5),
            authority: Decimal::new(w[1], 5),
            company_fit: Decimal::new(w[2], 5),
            timing: Decimal::new(w[3], 5),
            risk: Decimal::new(w[4], 5),
        }
    }
}

type Setter = fn(&mut ScoringInput);

const POSITIVE_SIGNALS: &[(&str, Setter)] = &[
    ("email_present", |i| i.email_present = true),
    ("email_verified", |i| i.email_verified = true),
    ("phone", |i| i.phone_present = true),
    ("linkedin", |i| i.linkedin_present = true),
    ("personal_email", |i| i.personal_email_known = true),
    ("hiring", |i| i.is_hiring = true),
    ("industry", |i| {
        i.industry = Some("Marketing Services".into())
    }),
    ("country", |i| i.country = Some("Australia".into())),
    ("new in role", |i| i.employment_start_date = Some(today())),
    ("funded", |i| i.latest_funding_date = Some(today())),
    ("not bounced", |i| i.bounced_before = false),
    ("not competitor", |i| {
        i.is_competitor_domain = false;
        i.domain = Some("acme.com".into());
    }),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn score_always_in_range(input in arb_input(), weights in arb_any_weights()) {
        let s = score(&input, &ctx(), &weights);
        prop_assert!(s.score <= 100);
        let c = s.components;
        prop_assert!(c.data_quality <= 20 && c.authority <= 25 && c.company_fit <= 25 && c.timing <= 15 && c.risk <= 15);
    }

    #[test]
    fn deterministic(input in arb_input(), weights in arb_weights()) {
        prop_assert_eq!(score(&input, &ctx(), &weights), score(&input.clone(), &ctx(), &weights));
    }

    #[test]
    fn default_weights_give_the_plain_sum(input in arb_input()) {
        let s = score(&input, &ctx(), &Weights::default());
        prop_assert_eq!(u32::from(s.score), s.components.sum().min(100));
        if !input.unsubscribed && !input.suppressed {
            prop_assert_eq!(s.tier, Tier::from_score(s.score));
        } else {
            prop_assert_eq!(s.tier, Tier::Dead);
        }
    }

    #[test]
    fn exact_for_every_component_split(
        c in (0u8..=20, 0u8..=25, 0u8..=25, 0u8..=15, 0u8..=15),
        weights in arb_weights(),
    ) {
        let components = Components { data_quality: c.0, authority: c.1, company_fit: c.2, timing: c.3, risk: c.4 };
        prop_assert_eq!(u32::from(weighted_score(&components, &Weights::default())), components.sum());
        // Against an exact rational computation in integers (weights are thousandths).
        let w = |d: Decimal| d.mantissa() * 10i128.pow(3 - d.scale());
        let numerator = w(weights.data_quality) * i128::from(c.0) * 1500
            + w(weights.authority) * i128::from(c.1) * 1200
            + w(weights.company_fit) * i128::from(c.2) * 1200
            + w(weights.timing) * i128::from(c.3) * 2000
            + w(weights.risk) * i128::from(c.4) * 2000;
        let expected = (numerator / (300 * 1000)).clamp(0, 100);
        prop_assert_eq!(i128::from(weighted_score(&components, &weights)), expected);
    }

    #[test]
    fn monotone_in_each_positive_signal(input in arb_input(), weights in arb_weights(), which in 0..POSITIVE_SIGNALS.len()) {
        let (name, set) = POSITIVE_SIGNALS[which];
        let mut better = input.clone();
        set(&mut better);
        let before = score(&input, &ctx(), &weights).score;
        let after = score(&better, &ctx(), &weights).score;
        prop_assert!(after >= before, "{} lowered the score {} -> {}", name, before, after);
    }

    #[test]
    fn monotone_in_seo_numbers(input in arb_input(), weights in arb_weights(), bump in 1u32..2000) {
        let Some(facts) = input.seo.clone() else { return Ok(()); };
        let before = score(&input, &ctx(), &weights).score;
        let mut more = input.clone();
        more.seo = Some(SeoFacts {
            domain_rank: Some(facts.domain_rank.unwrap_or(0) + bump),
            organic_traffic: Some(facts.organic_traffic.unwrap_or(0) + u64::from(bump)),
            top10_keywords: Some(facts.top10_keywords.unwrap_or(0) + 1),
            spam_score: facts.spam_score,
        });
        prop_assert!(score(&more, &ctx(), &weights).score >= before);
    }

    #[test]
    fn monotone_in_tier(input in arb_input()) {
        // A higher score never yields a tier with fewer channels.
        let s = score(&input, &ctx(), &Weights::default());
        let lower = Tier::from_score(s.score.saturating_sub(1));
        prop_assert!(lower.channels().len() <= Tier::from_score(s.score).channels().len());
    }
}
