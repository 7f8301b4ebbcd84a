//! The report routes over HTTP against a seeded tenant: every number is recomputed here from
//! the raw rows the test wrote (its own funnel table, its own local-date arithmetic for a
//! UTC+8 client) and compared with the answer; plus defaults, validation and tenancy (a
//! client the caller is not a member of is 404, on every way of naming it).

use std::collections::{BTreeMap, HashSet};

use agency_domain::{ClientId, Role};
use agency_testkit::{TestApp, TestUser, assert_envelope};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

/// The funnel as the contract reads it, written out independently of the domain crate.
const STAGES: &[(&str, &[&str])] = &[
    ("sent", &["sent", "call_initiated", "connection_requested"]),
    (
        "delivered",
        &["delivered", "call_answered", "connection_accepted"],
    ),
    ("opened", &["opened"]),
    ("clicked", &["clicked"]),
    ("replied", &["replied"]),
    ("bounced", &["bounced", "failed", "returned"]),
    ("converted", &["meeting_booked", "converted"]),
];
const ACTIONS: &[&str] = &[
    "sent",
    "sent",
    "sent",
    "call_initiated",
    "connection_requested",
    "delivered",
    "delivered",
    "call_answered",
    "connection_accepted",
    "opened",
    "opened",
    "clicked",
    "replied",
    "replied",
    "bounced",
    "failed",
    "returned",
    "meeting_booked",
    "converted",
    "complained",
    "no_answer",
];
const CHANNELS: &[&str] = &["email", "sms", "linkedin", "voice", "mail"];
const TZ_OFFSET_HOURS: i64 = 8; // Australia/Perth, no daylight saving.

fn stage_of(action: &str) -> Option<&'static str> {
    STAGES
        .iter()
        .find(|(_, actions)| actions.contains(&action))
        .map(|(s, _)| *s)
}

fn local_date(at: DateTime<Utc>) -> NaiveDate {
    local_date_in(at, TZ_OFFSET_HOURS)
}

fn local_date_in(at: DateTime<Utc>, offset_hours: i64) -> NaiveDate {
    (at + Duration::hours(offset_hours)).date_naive()
}

fn rate(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (100.0 * part as f64 / whole as f64).min(100.0)
    }
}

fn assert_rate(got: &Value, part: usize, whole: usize, what: &str) {
    let got = got
        .as_f64()
        .unwrap_or_else(|| panic!("{what} is not a number: {got}"));
    let want = rate(part, whole);
    assert!(
        (got - want).abs() <= 0.005 + 1e-9,
        "{what}: got {got}, want {want}"
    );
}

/// A tiny deterministic generator.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

#[derive(Debug, Clone)]
struct Act {
    campaign: Option<Uuid>,
    lead: Uuid,
    channel: &'static str,
    action: &'static str,
    at: DateTime<Utc>,
}

struct Seeded {
    client: ClientId,
    viewer: TestUser,
    campaigns: Vec<(Uuid, &'static str, &'static str)>,
    deleted_campaign: Uuid,
    leads: Vec<(Uuid, Option<Uuid>, Option<&'static str>)>,
    deleted_lead: Uuid,
    acts: Vec<Act>,
}

async fn insert_campaign(app: &TestApp, client: ClientId, name: &str, status: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO campaigns (client_id, name, status) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(client.into_uuid())
    .bind(name)
    .bind(status)
    .fetch_one(&app.pool)
    .await
    .expect("campaign")
}

async fn insert_lead(
    app: &TestApp,
    client: ClientId,
    campaign: Option<Uuid>,
    tier: Option<&str>,
) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO leads (client_id, campaign_id, email, als_tier, als_score)
         VALUES ($1, $2, $3, $4, CASE WHEN $4::text IS NULL THEN NULL ELSE 50 END) RETURNING id",
    )
    .bind(client.into_uuid())
    .bind(campaign)
    .bind(format!("l-{}@example.com", Uuid::now_v7().simple()))
    .bind(tier)
    .fetch_one(&app.pool)
    .await
    .expect("lead")
}

async fn insert_activity(app: &TestApp, client: ClientId, a: &Act) {
    sqlx::query(
        "INSERT INTO activities (client_id, campaign_id, lead_id, channel, action, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(client.into_uuid())
    .bind(a.campaign)
    .bind(a.lead)
    .bind(a.channel)
    .bind(a.action)
    .bind(a.at)
    .execute(&app.pool)
    .await
    .expect("activity");
}

fn day(s: &str) -> NaiveDate {
    s.parse().expect("date")
}

/// A client in Perth with three live campaigns, a deleted one, 40 leads (some unscored, one
/// deleted, some without a campaign) and 600 activities over January 2026; plus another
/// client with its own rows that must never count.
async fn seed(app: &TestApp) -> Seeded {
    let client = app.create_client("Perth Plumbing").await;
    sqlx::query("UPDATE clients SET timezone = 'Australia/Perth' WHERE id = $1")
        .bind(client.into_uuid())
        .execute(&app.pool)
        .await
        .expect("tz");
    let viewer = app.user_with_role(client, Role::Viewer).await;
    let mut campaigns = Vec::new();
    for (name, status) in [
        ("Spring", "active"),
        ("Summer", "paused"),
        ("Autumn", "active"),
    ] {
        campaigns.push((
            insert_campaign(app, client, name, status).await,
            name,
            status,
        ));
    }
    let deleted_campaign = insert_campaign(app, client, "Gone", "active").await;
    sqlx::query("UPDATE campaigns SET deleted_at = now() WHERE id = $1")
        .bind(deleted_campaign)
        .execute(&app.pool)
        .await
        .expect("delete campaign");
    let tiers = [
        Some("hot"),
        Some("warm"),
        Some("cool"),
        Some("cold"),
        Some("dead"),
        None,
    ];
    let mut rng = Lcg(42);
    let mut leads = Vec::new();
    for i in 0..40 {
        let campaign = if i % 7 == 6 {
            None
        } else {
            Some(campaigns[rng.next(3)].0)
        };
        let tier = tiers[rng.next(tiers.len())];
        leads.push((
            insert_lead(app, client, campaign, tier).await,
            campaign,
            tier,
        ));
    }
    let deleted_lead = insert_lead(app, client, Some(campaigns[0].0), Some("hot")).await;
    sqlx::query("UPDATE leads SET deleted_at = now() WHERE id = $1")
        .bind(deleted_lead)
        .execute(&app.pool)
        .await
        .expect("delete lead");
    let start = Utc
        .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
        .single()
        .expect("start");
    let mut acts = Vec::new();
    for _ in 0..600 {
        let (lead, campaign, _) = leads[rng.next(leads.len())];
        let a = Act {
            campaign,
            lead,
            channel: CHANNELS[rng.next(CHANNELS.len())],
            action: ACTIONS[rng.next(ACTIONS.len())],
            at: start + Duration::minutes(rng.next(25 * 24 * 60) as i64),
        };
        insert_activity(app, client, &a).await;
        acts.push(a);
    }
    // Boundary rows: just inside and just outside 2026-01-05..2026-01-20 in Perth.
    for (at, action) in [
        ("2026-01-04T15:59:59Z", "replied"),
        ("2026-01-04T16:00:00Z", "replied"),
        ("2026-01-20T15:59:59Z", "sent"),
        ("2026-01-20T16:00:00Z", "sent"),
    ] {
        let a = Act {
            campaign: Some(campaigns[0].0),
            lead: leads[0].0,
            channel: "email",
            action,
            at: at.parse().expect("ts"),
        };
        insert_activity(app, client, &a).await;
        acts.push(a);
    }
    // The deleted lead's history still counts as activity.
    let a = Act {
        campaign: Some(campaigns[0].0),
        lead: deleted_lead,
        channel: "sms",
        action: "sent",
        at: "2026-01-10T03:00:00Z".parse().expect("ts"),
    };
    insert_activity(app, client, &a).await;
    acts.push(a);

    // Another client's rows.
    let other = app.create_client("Other").await;
    let oc = insert_campaign(app, other, "Theirs", "active").await;
    let ol = insert_lead(app, other, Some(oc), Some("hot")).await;
    for action in ["sent", "replied", "meeting_booked"] {
        let a = Act {
            campaign: Some(oc),
            lead: ol,
            channel: "email",
            action,
            at: "2026-01-10T03:00:00Z".parse().expect("ts"),
        };
        insert_activity(app, other, &a).await;
    }
    Seeded {
        client,
        viewer,
        campaigns,
        deleted_campaign,
        leads,
        deleted_lead,
        acts,
    }
}

async fn get_json(app: &TestApp, user: &TestUser, path: &str) -> Value {
    let res = app.send_as(user, Method::GET, path).await;
    let status = res.status();
    let body: Value = res.json().await.expect("json");
    assert_eq!(status, 200, "{path}: {body}");
    body
}

fn in_range<'a>(acts: &'a [Act], from: &str, to: &str) -> Vec<&'a Act> {
    in_range_in(acts, from, to, TZ_OFFSET_HOURS)
}

fn in_range_in<'a>(acts: &'a [Act], from: &str, to: &str, offset_hours: i64) -> Vec<&'a Act> {
    let (from, to) = (day(from), day(to));
    acts.iter()
        .filter(|a| (from..=to).contains(&local_date_in(a.at, offset_hours)))
        .collect()
}

fn distinct_leads(acts: &[&Act], stage: &str) -> usize {
    acts.iter()
        .filter(|a| stage_of(a.action) == Some(stage))
        .map(|a| a.lead)
        .collect::<HashSet<_>>()
        .len()
}

fn count_stage(acts: &[&Act], stage: &str) -> i64 {
    acts.iter()
        .filter(|a| stage_of(a.action) == Some(stage))
        .count() as i64
}

fn check_channels(perf: &Value, acts: &[&Act]) {
    let perf = perf.as_object().expect("channel_performance object");
    assert_eq!(perf.len(), 5, "every channel present: {perf:?}");
    for ch in CHANNELS {
        let mine: Vec<&Act> = acts.iter().copied().filter(|a| a.channel == *ch).collect();
        let p = &perf[*ch];
        let sent = count_stage(&mine, "sent");
        for stage in [
            "sent",
            "delivered",
            "opened",
            "clicked",
            "replied",
            "bounced",
        ] {
            assert_eq!(p[stage], count_stage(&mine, stage), "{ch}.{stage}");
        }
        for (key, stage) in [
            ("delivery_rate", "delivered"),
            ("open_rate", "opened"),
            ("click_rate", "clicked"),
            ("reply_rate", "replied"),
        ] {
            assert_rate(
                &p[key],
                count_stage(&mine, stage) as usize,
                sent as usize,
                key,
            );
        }
    }
}

#[tokio::test]
async fn the_client_overview_matches_the_raw_rows() {
    let app = TestApp::spawn().await;
    let s = seed(&app).await;
    let body = get_json(
        &app,
        &s.viewer,
        &format!(
            "/api/v1/reports/clients/{}?start_date=2026-01-05&end_date=2026-01-20",
            s.client
        ),
    )
    .await;
    let acts = in_range(&s.acts, "2026-01-05", "2026-01-20");
    assert!(
        acts.len() > 200 && acts.len() < s.acts.len(),
        "{}",
        acts.len()
    );
    assert_eq!(body["client_id"], s.client.to_string());
    assert_eq!(body["client_name"], "Perth Plumbing");
    assert_eq!(body["start_date"], "2026-01-05");
    assert_eq!(body["end_date"], "2026-01-20");
    assert_eq!(body["total_campaigns"], 3);
    assert_eq!(body["active_campaigns"], 2);
    assert_eq!(body["total_leads"], s.leads.len());
    let contacted = distinct_leads(&acts, "sent");
    let replied = distinct_leads(&acts, "replied");
    let converted = distinct_leads(&acts, "converted");
    assert_eq!(body["total_replies"], replied);
    assert_eq!(body["total_conversions"], converted);
    assert_rate(
        &body["overall_reply_rate"],
        replied,
        contacted,
        "overall_reply_rate",
    );
    assert_rate(
        &body["overall_conversion_rate"],
        converted,
        contacted,
        "overall_conversion_rate",
    );

    let rows = body["campaigns"].as_array().expect("campaigns array");
    assert_eq!(rows.len(), 3, "live campaigns only");
    assert!(
        rows.iter()
            .all(|r| r["campaign_id"] != s.deleted_campaign.to_string())
    );
    for (id, name, status) in &s.campaigns {
        let row = rows
            .iter()
            .find(|r| r["campaign_id"] == id.to_string())
            .expect("campaign row");
        let mine: Vec<&Act> = acts
            .iter()
            .copied()
            .filter(|a| a.campaign == Some(*id))
            .collect();
        let leads = s.leads.iter().filter(|l| l.1 == Some(*id)).count();
        let (c, r, v) = (
            distinct_leads(&mine, "sent"),
            distinct_leads(&mine, "replied"),
            distinct_leads(&mine, "converted"),
        );
        assert_eq!(row["campaign_name"], *name);
        assert_eq!(row["status"], *status);
        assert_eq!(row["leads"], leads, "{name} leads");
        assert_eq!(row["replies"], r, "{name} replies");
        assert_eq!(row["conversions"], v, "{name} conversions");
        assert_rate(&row["reply_rate"], r, c, "campaign reply_rate");
        assert_rate(&row["conversion_rate"], v, c, "campaign conversion_rate");
    }
    check_channels(&body["channel_performance"], &acts);
}

#[tokio::test]
async fn the_default_range_is_the_last_30_days_in_the_clients_timezone() {
    let app = TestApp::spawn().await;
    let s = seed(&app).await;
    let body = get_json(
        &app,
        &s.viewer,
        &format!("/api/v1/reports/clients/{}", s.client),
    )
    .await;
    let today = local_date(Utc::now());
    assert_eq!(body["end_date"], today.to_string());
    assert_eq!(body["start_date"], (today - Duration::days(29)).to_string());
    // Nothing seeded is that recent: the activity counts are zero, lead counts are not.
    assert_eq!(body["total_replies"], 0);
    assert_eq!(body["overall_reply_rate"], 0.0);
    assert_eq!(body["total_leads"], s.leads.len());
    assert_eq!(body["channel_performance"]["voice"]["sent"], 0);

    let daily = get_json(
        &app,
        &s.viewer,
        &format!("/api/v1/reports/activity/daily?client_id={}", s.client),
    )
    .await;
    assert_eq!(daily["days"].as_array().map(Vec::len), Some(30));
    assert_eq!(daily["days"][29]["date"], today.to_string());
}

fn check_daily(body: &Value, acts: &[&Act], from: &str, to: &str) {
    check_daily_in(body, acts, from, to, TZ_OFFSET_HOURS);
}

fn check_daily_in(body: &Value, acts: &[&Act], from: &str, to: &str, offset_hours: i64) {
    let days = body["days"].as_array().expect("days");
    let (from, to) = (day(from), day(to));
    assert_eq!(days.len() as i64, (to - from).num_days() + 1);
    let mut per_day: BTreeMap<NaiveDate, Vec<&Act>> = BTreeMap::new();
    for a in acts {
        per_day
            .entry(local_date_in(a.at, offset_hours))
            .or_default()
            .push(a);
    }
    for (i, d) in days.iter().enumerate() {
        let date = from + Duration::days(i as i64);
        assert_eq!(d["date"], date.to_string());
        let mine = per_day.get(&date).cloned().unwrap_or_default();
        for stage in [
            "sent",
            "delivered",
            "opened",
            "clicked",
            "replied",
            "bounced",
        ] {
            assert_eq!(d[stage], count_stage(&mine, stage), "{date} {stage}");
        }
        assert_eq!(
            d["conversions"],
            count_stage(&mine, "converted"),
            "{date} conversions"
        );
    }
    for stage in [
        "sent",
        "delivered",
        "opened",
        "clicked",
        "replied",
        "bounced",
    ] {
        assert_eq!(
            body["totals"][stage],
            count_stage(acts, stage),
            "total {stage}"
        );
    }
}

#[tokio::test]
async fn daily_series_match_the_raw_rows_for_the_client_and_a_campaign() {
    let app = TestApp::spawn().await;
    let s = seed(&app).await;
    let acts = in_range(&s.acts, "2026-01-05", "2026-01-20");
    let body = get_json(
        &app,
        &s.viewer,
        &format!(
            "/api/v1/reports/activity/daily?client_id={}&start_date=2026-01-05&end_date=2026-01-20",
            s.client
        ),
    )
    .await;
    assert_eq!(body["client_id"], s.client.to_string());
    assert!(body["campaign_id"].is_null());
    assert_eq!(body["start_date"], "2026-01-05");
    check_daily(&body, &acts, "2026-01-05", "2026-01-20");

    let camp = s.campaigns[0].0;
    let mine: Vec<&Act> = acts
        .iter()
        .copied()
        .filter(|a| a.campaign == Some(camp))
        .collect();
    for path in [
        format!("/api/v1/reports/campaigns/{camp}/daily?start_date=2026-01-05&end_date=2026-01-20"),
        format!(
            "/api/v1/reports/activity/daily?client_id={}&campaign_id={camp}&start_date=2026-01-05&end_date=2026-01-20",
            s.client
        ),
    ] {
        let body = get_json(&app, &s.viewer, &path).await;
        assert_eq!(body["campaign_id"], camp.to_string());
        check_daily(&body, &mine, "2026-01-05", "2026-01-20");
    }
}

#[tokio::test]
async fn a_campaign_summary_matches_the_raw_rows() {
    let app = TestApp::spawn().await;
    let s = seed(&app).await;
    let (camp, name, status) = s.campaigns[1];
    let body = get_json(
        &app,
        &s.viewer,
        &format!("/api/v1/reports/campaigns/{camp}?start_date=2026-01-01&end_date=2026-01-31"),
    )
    .await;
    let acts: Vec<&Act> = in_range(&s.acts, "2026-01-01", "2026-01-31")
        .into_iter()
        .filter(|a| a.campaign == Some(camp))
        .collect();
    let (c, r, v) = (
        distinct_leads(&acts, "sent"),
        distinct_leads(&acts, "replied"),
        distinct_leads(&acts, "converted"),
    );
    assert_eq!(body["campaign_id"], camp.to_string());
    assert_eq!(body["client_id"], s.client.to_string());
    assert_eq!(body["campaign_name"], name);
    assert_eq!(body["status"], status);
    assert_eq!(
        body["leads"],
        s.leads.iter().filter(|l| l.1 == Some(camp)).count()
    );
    assert_eq!(body["leads_contacted"], c);
    assert_eq!(body["replies"], r);
    assert_eq!(body["conversions"], v);
    assert_rate(&body["reply_rate"], r, c, "reply_rate");
    assert_rate(&body["conversion_rate"], v, c, "conversion_rate");
    check_channels(&body["channel_performance"], &acts);
}

fn check_distribution(body: &Value, leads: &[&(Uuid, Option<Uuid>, Option<&str>)]) {
    let scored: Vec<_> = leads.iter().filter(|l| l.2.is_some()).collect();
    assert_eq!(body["total"], scored.len());
    for tier in ["hot", "warm", "cool", "cold", "dead"] {
        let n = scored.iter().filter(|l| l.2 == Some(tier)).count();
        assert_eq!(body[tier]["count"], n, "{tier}");
        assert_rate(&body[tier]["percentage"], n, scored.len(), tier);
    }
}

#[tokio::test]
async fn the_tier_distribution_counts_live_scored_leads() {
    let app = TestApp::spawn().await;
    let s = seed(&app).await;
    let body = get_json(
        &app,
        &s.viewer,
        &format!("/api/v1/reports/leads/distribution?client_id={}", s.client),
    )
    .await;
    assert_eq!(body["client_id"], s.client.to_string());
    assert!(body["campaign_id"].is_null());
    check_distribution(&body, &s.leads.iter().collect::<Vec<_>>());

    let camp = s.campaigns[2].0;
    let body = get_json(
        &app,
        &s.viewer,
        &format!(
            "/api/v1/reports/leads/distribution?client_id={}&campaign_id={camp}",
            s.client
        ),
    )
    .await;
    assert_eq!(body["campaign_id"], camp.to_string());
    check_distribution(
        &body,
        &s.leads
            .iter()
            .filter(|l| l.1 == Some(camp))
            .collect::<Vec<_>>(),
    );
}

#[tokio::test]
async fn a_leads_engagement_matches_its_activities() {
    let app = TestApp::spawn().await;
    let s = seed(&app).await;
    let (lead, campaign, tier) = s.leads[0];
    let body = get_json(
        &app,
        &s.viewer,
        &format!("/api/v1/reports/leads/{lead}/engagement"),
    )
    .await;
    let acts: Vec<&Act> = s.acts.iter().filter(|a| a.lead == lead).collect();
    assert!(!acts.is_empty());
    assert_eq!(body["lead_id"], lead.to_string());
    assert_eq!(body["client_id"], s.client.to_string());
    assert_eq!(
        body["campaign_id"],
        campaign
            .map(|c| c.to_string())
            .map_or(Value::Null, Value::from)
    );
    assert_eq!(body["als_tier"], tier.map_or(Value::Null, Value::from));
    for (key, stage) in [
        ("touches", "sent"),
        ("delivered", "delivered"),
        ("opens", "opened"),
        ("clicks", "clicked"),
        ("replies", "replied"),
        ("bounces", "bounced"),
        ("conversions", "converted"),
    ] {
        assert_eq!(body[key], count_stage(&acts, stage), "{key}");
    }
    assert_eq!(body["total_activities"], acts.len());
    let last = acts.iter().map(|a| a.at).max().expect("last");
    let first_touch = acts
        .iter()
        .filter(|a| stage_of(a.action) == Some("sent"))
        .map(|a| a.at)
        .min();
    let ts = |v: &Value| v.as_str().and_then(|t| t.parse::<DateTime<Utc>>().ok());
    assert_eq!(ts(&body["last_activity_at"]), Some(last));
    assert!(
        body["last_activity_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(ts(&body["first_touch_at"]), first_touch);
    for ch in CHANNELS {
        let mine: Vec<&Act> = acts.iter().copied().filter(|a| a.channel == *ch).collect();
        if mine.is_empty() {
            assert!(body["channels"].get(*ch).is_none(), "{ch}");
            continue;
        }
        assert_eq!(body["channels"][*ch]["touches"], count_stage(&mine, "sent"));
        assert_eq!(
            body["channels"][*ch]["replies"],
            count_stage(&mine, "replied")
        );
    }
    // The deleted lead is gone.
    let res = app
        .send_as(
            &s.viewer,
            Method::GET,
            &format!("/api/v1/reports/leads/{}/engagement", s.deleted_lead),
        )
        .await;
    assert_envelope(res, 404, "not_found").await;
}

#[tokio::test]
async fn other_clients_reports_are_404_and_bad_input_is_422() {
    let app = TestApp::spawn().await;
    let s = seed(&app).await;
    let stranger_client = app.create_client("Stranger Co").await;
    let stranger = app.user_with_role(stranger_client, Role::Owner).await;
    let camp = s.campaigns[0].0;
    let lead = s.leads[0].0;
    let c = s.client;
    let paths = [
        format!("/api/v1/reports/clients/{c}"),
        format!("/api/v1/reports/leads/distribution?client_id={c}"),
        format!("/api/v1/reports/activity/daily?client_id={c}"),
        format!("/api/v1/reports/campaigns/{camp}"),
        format!("/api/v1/reports/campaigns/{camp}/daily"),
        format!("/api/v1/reports/leads/{lead}/engagement"),
    ];
    for path in &paths {
        let res = app.send_as(&stranger, Method::GET, path).await;
        assert_envelope(res, 404, "not_found").await;
        let res = app.request(Method::GET, path).send().await.expect("send");
        assert_eq!(res.status(), 401, "{path} without a token");
        let res = app.send_as(&s.viewer, Method::GET, path).await;
        assert_eq!(res.status(), 200, "{path} as a viewer");
    }
    // A member of the stranger client naming their own client with our campaign: 404.
    let res = app
        .send_as(
            &stranger,
            Method::GET,
            &format!(
                "/api/v1/reports/leads/distribution?client_id={stranger_client}&campaign_id={camp}"
            ),
        )
        .await;
    assert_envelope(res, 404, "not_found").await;
    // Unknown ids.
    for path in [
        format!("/api/v1/reports/campaigns/{}", Uuid::now_v7()),
        format!("/api/v1/reports/leads/{}/engagement", Uuid::now_v7()),
        format!("/api/v1/reports/clients/{}", Uuid::now_v7()),
        format!("/api/v1/reports/campaigns/{}", s.deleted_campaign),
    ] {
        let res = app.send_as(&s.viewer, Method::GET, &path).await;
        assert_envelope(res, 404, "not_found").await;
    }
    // Bad ranges and parameters.
    for query in [
        "start_date=2026-02-01&end_date=2026-01-01",
        "start_date=2024-01-01&end_date=2026-01-01",
        "start_date=yesterday",
    ] {
        let res = app
            .send_as(
                &s.viewer,
                Method::GET,
                &format!("/api/v1/reports/clients/{c}?{query}"),
            )
            .await;
        assert_envelope(res, 422, "validation_failed").await;
    }
    let res = app
        .send_as(&s.viewer, Method::GET, "/api/v1/reports/leads/distribution")
        .await;
    let body = assert_envelope(res, 422, "validation_failed").await;
    assert_eq!(body["fields"][0]["path"], "client_id", "{body}");
}

/// The client overview's lead-level figures and one campaign's, against the raw rows.
fn check_lead_figures(body: &Value, acts: &[&Act], what: &str) {
    let contacted = distinct_leads(acts, "sent");
    let replied = distinct_leads(acts, "replied");
    let converted = distinct_leads(acts, "converted");
    assert_eq!(body["total_replies"], replied, "{what}: total_replies");
    assert_eq!(
        body["total_conversions"], converted,
        "{what}: total_conversions"
    );
    assert_rate(
        &body["overall_reply_rate"],
        replied,
        contacted,
        &format!("{what}: overall_reply_rate"),
    );
    assert_rate(
        &body["overall_conversion_rate"],
        converted,
        contacted,
        &format!("{what}: overall_conversion_rate"),
    );
}

/// An activity row as read back: campaign, lead, channel, action, created_at.
type ActRow = (Option<Uuid>, Uuid, String, String, DateTime<Utc>);

/// The client's activities as stored (every writer's), read back for recomputation.
async fn stored_acts(app: &TestApp, client: ClientId) -> Vec<Act> {
    let rows: Vec<ActRow> = sqlx::query_as(
        "SELECT campaign_id, lead_id, channel, action, created_at FROM activities
          WHERE client_id = $1 ORDER BY created_at",
    )
    .bind(client.into_uuid())
    .fetch_all(&app.pool)
    .await
    .expect("activities");
    rows.into_iter()
        .map(|(campaign, lead, channel, action, at)| Act {
            campaign,
            lead,
            channel: CHANNELS
                .iter()
                .copied()
                .find(|c| *c == channel)
                .expect("channel"),
            action: ACTIONS
                .iter()
                .copied()
                .find(|a| *a == action)
                .expect("action"),
            at,
        })
        .collect()
}

fn new_activity(
    campaign: Option<Uuid>,
    lead: Uuid,
    channel: &str,
    action: &str,
) -> agency_store::activities::NewActivity {
    agency_store::activities::NewActivity {
        campaign_id: campaign,
        lead_id: Some(lead),
        channel: channel.into(),
        action: action.into(),
        provider_message_id: None,
        sequence_step: None,
        subject: Some("Hello".into()),
        content_preview: Some("Hi there".into()),
        intent: None,
        metadata: serde_json::json!({}),
        led_to_booking: false,
    }
}

/// Activities written after the aggregates exist, by every kind of writer (one row, many rows
/// in one statement, the store's insert, a webhook event and its replay, two concurrent
/// transactions on the same lead), are reflected at once; a replayed event and an erasure's
/// redaction of the same rows do not count anything twice.
#[tokio::test]
async fn activities_from_every_writer_are_counted_once_in_the_reports() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Perth Writers").await;
    sqlx::query("UPDATE clients SET timezone = 'Australia/Perth' WHERE id = $1")
        .bind(client.into_uuid())
        .execute(&app.pool)
        .await
        .expect("tz");
    let viewer = app.user_with_role(client, Role::Viewer).await;
    let camp = insert_campaign(&app, client, "Writers", "active").await;
    let mut leads = Vec::new();
    for _ in 0..4 {
        leads.push(insert_lead(&app, client, Some(camp), Some("warm")).await);
    }
    let now = Utc::now();
    let today = local_date(now);
    let ago = |days: i64| now - Duration::days(days);

    // One row per statement.
    for (lead, campaign, action, at) in [
        (leads[0], Some(camp), "sent", ago(12)),
        (leads[0], Some(camp), "replied", ago(3)),
        (leads[1], None, "call_initiated", ago(8)),
    ] {
        let a = Act {
            campaign,
            lead,
            channel: "email",
            action,
            at,
        };
        insert_activity(&app, client, &a).await;
    }
    // Many rows in one statement (more than the trigger's per-key path takes: the set-based
    // path), the same lead and stage twice on one day among them.
    sqlx::query(
        "INSERT INTO activities (client_id, campaign_id, lead_id, channel, action, created_at)
         SELECT $1, $2, l, 'sms', a, t
           FROM unnest($3::uuid[], $4::text[], $5::timestamptz[]) AS x(l, a, t)",
    )
    .bind(client.into_uuid())
    .bind(camp)
    .bind(vec![
        leads[1], leads[1], leads[2], leads[2], leads[0], leads[3], leads[3],
    ])
    .bind(vec![
        "sent",
        "sent",
        "sent",
        "meeting_booked",
        "sent",
        "sent",
        "converted",
    ])
    .bind(vec![
        ago(5),
        ago(5),
        ago(20),
        ago(1),
        ago(6),
        ago(15),
        ago(2),
    ])
    .execute(&app.pool)
    .await
    .expect("multi-row insert");
    // The store's writer (now).
    agency_store::activities::insert(
        &app.pool,
        client,
        &new_activity(Some(camp), leads[3], "linkedin", "connection_requested"),
    )
    .await
    .expect("store insert");
    // A provider webhook event, then its replay: recorded once.
    let event = Uuid::now_v7();
    let mut conn = app.pool.acquire().await.expect("conn");
    let first = agency_store::activities::insert_for_event(
        &mut conn,
        client,
        event,
        &new_activity(Some(camp), leads[3], "email", "replied"),
    )
    .await
    .expect("event");
    let replay = agency_store::activities::insert_for_event(
        &mut conn,
        client,
        event,
        &new_activity(Some(camp), leads[3], "email", "replied"),
    )
    .await
    .expect("replay");
    drop(conn);
    assert!(first && !replay, "first {first}, replay {replay}");
    // Two transactions writing the same lead and stage concurrently, on different days, the
    // later day committed first.
    let mut tx1 = app.pool.begin().await.expect("tx1");
    sqlx::query(
        "INSERT INTO activities (client_id, campaign_id, lead_id, channel, action, created_at)
         VALUES ($1, $2, $3, 'voice', 'replied', $4)",
    )
    .bind(client.into_uuid())
    .bind(camp)
    .bind(leads[2])
    .bind(ago(2))
    .execute(&mut *tx1)
    .await
    .expect("tx1 insert");
    let pool = app.pool.clone();
    let (c, l, at) = (client.into_uuid(), leads[2], ago(9));
    let second = tokio::spawn(async move {
        let mut tx2 = pool.begin().await.expect("tx2");
        sqlx::query(
            "INSERT INTO activities (client_id, campaign_id, lead_id, channel, action, created_at)
             VALUES ($1, $2, $3, 'voice', 'replied', $4)",
        )
        .bind(c)
        .bind(camp)
        .bind(l)
        .bind(at)
        .execute(&mut *tx2)
        .await
        .expect("tx2 insert");
        tx2.commit().await.expect("tx2 commit");
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    tx1.commit().await.expect("tx1 commit");
    second.await.expect("tx2 task");

    // An erasure redacts the first lead's activities in place: nothing is counted again.
    let email: String = sqlx::query_scalar("SELECT email FROM leads WHERE id = $1")
        .bind(leads[0])
        .fetch_one(&app.pool)
        .await
        .expect("email");
    let mut tx = app.pool.begin().await.expect("erasure tx");
    agency_store::erasure::erase(&mut tx, Some(&email), None, None)
        .await
        .expect("erase");
    tx.commit().await.expect("erasure commit");

    let acts = stored_acts(&app, client).await;
    assert_eq!(acts.len(), 14, "every write stored once");
    // The same figures from the per-connection stripes, then after the daily fold.
    for folded in [false, true] {
        if folded {
            let striped = "SELECT (SELECT count(*) FROM report_activity_days WHERE client_id = $1 AND stripe <> 0)
                 + (SELECT count(*) FROM report_stage_firsts WHERE client_id = $1 AND stripe <> 0)";
            let before: i64 = sqlx::query_scalar(striped)
                .bind(client.into_uuid())
                .fetch_one(&app.pool)
                .await
                .expect("stripes before");
            let removed = agency_store::reports::fold_stripes(&app.pool, today + Duration::days(1))
                .await
                .expect("fold");
            assert_eq!(removed, before, "the fold removes every striped row");
            let left: i64 = sqlx::query_scalar(striped)
                .bind(client.into_uuid())
                .fetch_one(&app.pool)
                .await
                .expect("stripes left");
            assert_eq!(left, 0, "every stripe folded into stripe 0");
        }
        for (from, to) in [
            (today - Duration::days(29), today),
            (today - Duration::days(9), today),
            (today - Duration::days(6), today - Duration::days(2)),
            (today - Duration::days(2), today - Duration::days(2)),
            (today, today),
        ] {
            let (from, to) = (from.to_string(), to.to_string());
            let what = format!("{from}..{to}");
            let range = in_range(&acts, &from, &to);
            let q = format!("start_date={from}&end_date={to}");
            let body = get_json(
                &app,
                &viewer,
                &format!("/api/v1/reports/clients/{client}?{q}"),
            )
            .await;
            check_lead_figures(&body, &range, &what);
            check_channels(&body["channel_performance"], &range);
            let mine: Vec<&Act> = range
                .iter()
                .copied()
                .filter(|a| a.campaign == Some(camp))
                .collect();
            let summary = get_json(
                &app,
                &viewer,
                &format!("/api/v1/reports/campaigns/{camp}?{q}"),
            )
            .await;
            assert_eq!(
                summary["leads_contacted"],
                distinct_leads(&mine, "sent"),
                "{what}: leads_contacted"
            );
            assert_eq!(
                summary["replies"],
                distinct_leads(&mine, "replied"),
                "{what}"
            );
            assert_eq!(
                summary["conversions"],
                distinct_leads(&mine, "converted"),
                "{what}"
            );
            check_channels(&summary["channel_performance"], &mine);
            let daily = get_json(
                &app,
                &viewer,
                &format!("/api/v1/reports/activity/daily?client_id={client}&{q}"),
            )
            .await;
            check_daily(&daily, &range, &from, &to);
        }
    }
}

/// Changing the client's timezone re-keys its aggregates by the new local days.
#[tokio::test]
async fn a_timezone_change_recounts_the_reports_in_the_new_local_days() {
    let app = TestApp::spawn().await;
    let s = seed(&app).await;
    for (tz, offset) in [("Asia/Tokyo", 9), ("Australia/Perth", 8)] {
        sqlx::query("UPDATE clients SET timezone = $2 WHERE id = $1")
            .bind(s.client.into_uuid())
            .bind(tz)
            .execute(&app.pool)
            .await
            .expect("tz");
        let acts = in_range_in(&s.acts, "2026-01-05", "2026-01-20", offset);
        let q = "start_date=2026-01-05&end_date=2026-01-20";
        let body = get_json(
            &app,
            &s.viewer,
            &format!("/api/v1/reports/clients/{}?{q}", s.client),
        )
        .await;
        check_lead_figures(&body, &acts, tz);
        check_channels(&body["channel_performance"], &acts);
        let daily = get_json(
            &app,
            &s.viewer,
            &format!("/api/v1/reports/activity/daily?client_id={}&{q}", s.client),
        )
        .await;
        check_daily_in(&daily, &acts, "2026-01-05", "2026-01-20", offset);
    }
}

/// The database's lead-level stage of an action (which keeps the aggregates) is the domain's.
#[tokio::test]
async fn the_aggregates_stage_mapping_is_the_domains() {
    use agency_domain::{ActivityAction, FunnelStage};
    let app = TestApp::spawn().await;
    for action in ActivityAction::ALL {
        let want = match FunnelStage::of_action(action.as_str()) {
            Some(FunnelStage::Sent) => Some("contacted"),
            Some(FunnelStage::Replied) => Some("replied"),
            Some(FunnelStage::Converted) => Some("converted"),
            _ => None,
        };
        let got = agency_store::reports::lead_stage_of(&app.pool, action.as_str())
            .await
            .expect("stage");
        assert_eq!(got.as_deref(), want, "{action:?}");
    }
}
