//! The platform-admin console over HTTP: stats, revenue, client list and detail, activity
//! feed, system status and alerts. Every number is recomputed here from the rows the test
//! wrote (its own price table, health formula and Sydney dates); only platform admins get in.

use std::collections::HashMap;

use agency_domain::{ClientId, Role};
use agency_engine::jobs::test_kinds::Probe;
use agency_engine::jobs::{EnqueueOptions, enqueue};
use agency_testkit::{TestApp, TestUser, assert_envelope};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Australia::Sydney;
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

/// The documented default price table, written out here.
fn price(tier: &str) -> f64 {
    match tier {
        "ignition" => 2500.0,
        "velocity" => 5000.0,
        "dominance" => 7500.0,
        other => panic!("tier {other}"),
    }
}

fn paying(status: &str) -> bool {
    status == "active" || status == "past_due"
}

fn sydney_midnight(day: NaiveDate) -> DateTime<Utc> {
    Sydney
        .from_local_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight"))
        .earliest()
        .expect("local")
        .with_timezone(&Utc)
}

fn sydney_today() -> NaiveDate {
    Utc::now().with_timezone(&Sydney).date_naive()
}

async fn client(app: &TestApp, name: &str, tier: &str, status: &str) -> ClientId {
    let id = app.create_client(name).await;
    sqlx::query("UPDATE clients SET tier = $2, subscription_status = $3 WHERE id = $1")
        .bind(id.into_uuid())
        .bind(tier)
        .bind(status)
        .execute(&app.pool)
        .await
        .expect("client");
    id
}

async fn campaign(app: &TestApp, c: ClientId, name: &str, status: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO campaigns (client_id, name, status) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(c.into_uuid())
    .bind(name)
    .bind(status)
    .fetch_one(&app.pool)
    .await
    .expect("campaign")
}

async fn lead(app: &TestApp, c: ClientId, campaign: Option<Uuid>, created: DateTime<Utc>) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO leads (client_id, campaign_id, email, first_name, created_at)
         VALUES ($1, $2, $3, 'Jo', $4) RETURNING id",
    )
    .bind(c.into_uuid())
    .bind(campaign)
    .bind(format!("l-{}@example.com", Uuid::now_v7().simple()))
    .bind(created)
    .fetch_one(&app.pool)
    .await
    .expect("lead")
}

async fn activity(app: &TestApp, c: ClientId, lead: Uuid, action: &str, at: DateTime<Utc>) {
    sqlx::query(
        "INSERT INTO activities (client_id, lead_id, channel, action, subject, created_at)
         VALUES ($1, $2, 'email', $3, 'Hello', $4)",
    )
    .bind(c.into_uuid())
    .bind(lead)
    .bind(action)
    .bind(at)
    .execute(&app.pool)
    .await
    .expect("activity");
}

async fn snapshot(app: &TestApp, c: ClientId, day: NaiveDate, tier: &str, status: &str) {
    sqlx::query(
        "INSERT INTO client_daily_metrics (client_id, day, tier, subscription_status, leads, active_campaigns)
         VALUES ($1, $2, $3, $4, 0, 0)",
    )
    .bind(c.into_uuid())
    .bind(day)
    .bind(tier)
    .bind(status)
    .execute(&app.pool)
    .await
    .expect("snapshot");
}

async fn get(app: &TestApp, user: &TestUser, path: &str) -> Value {
    let res = app.send_as(user, Method::GET, path).await;
    let status = res.status();
    let body: Value = res.json().await.expect("json");
    assert_eq!(status, 200, "{path}: {body}");
    body
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(got: &Value, want: f64, what: &str) {
    assert!(
        (num(got) - want).abs() < 0.006,
        "{what}: got {got}, want {want}"
    );
}

struct Platform {
    admin: TestUser,
    clients: Vec<(ClientId, &'static str, &'static str, &'static str)>,
}

/// Four clients on different plans and billing states, campaigns, leads created today,
/// yesterday and earlier this month, and activities.
async fn seed(app: &TestApp) -> Platform {
    let admin = app.create_platform_admin().await;
    let mut clients = Vec::new();
    for (name, tier, status) in [
        ("Acme", "velocity", "active"),
        ("Bolt", "dominance", "past_due"),
        ("Cora", "ignition", "trialing"),
        ("Dune", "velocity", "cancelled"),
    ] {
        clients.push((client(app, name, tier, status).await, name, tier, status));
    }
    let today = sydney_today();
    let today_start = sydney_midnight(today);
    let acme = clients[0].0;
    let spring = campaign(app, acme, "Spring", "active").await;
    campaign(app, acme, "Draft", "draft").await;
    campaign(app, clients[1].0, "Bolt One", "paused").await;
    let mut acme_leads = Vec::new();
    for _ in 0..3 {
        acme_leads.push(lead(app, acme, Some(spring), today_start + Duration::minutes(5)).await);
    }
    lead(app, clients[1].0, None, today_start - Duration::hours(2)).await;
    lead(app, clients[2].0, None, today_start - Duration::hours(3)).await;
    let now = Utc::now();
    // Acme: 3 contacted, 1 replied in the last 30 days: 33% reply rate.
    for (i, l) in acme_leads.iter().enumerate() {
        activity(app, acme, *l, "sent", now - Duration::hours(30 - i as i64)).await;
    }
    activity(
        app,
        acme,
        acme_leads[0],
        "replied",
        now - Duration::hours(1),
    )
    .await;
    // Bolt: old activity only (20 days ago).
    let bolt_lead: Uuid = sqlx::query_scalar("SELECT id FROM leads WHERE client_id = $1")
        .bind(clients[1].0.into_uuid())
        .fetch_one(&app.pool)
        .await
        .expect("bolt lead");
    activity(
        app,
        clients[1].0,
        bolt_lead,
        "sent",
        now - Duration::days(20),
    )
    .await;
    Platform { admin, clients }
}

#[tokio::test]
async fn stats_match_the_rows() {
    let app = TestApp::spawn().await;
    let p = seed(&app).await;
    let today = sydney_today();
    let month = today.with_day(1).expect("month start");
    // Last month's snapshot (first of this month): Acme was on ignition, Dune active.
    snapshot(&app, p.clients[0].0, month, "ignition", "active").await;
    snapshot(&app, p.clients[3].0, month, "velocity", "active").await;
    // AI spend: two settled calls today, one earlier this month (unless today is the 1st), a
    // reservation in flight (not spend).
    let earlier = if today.day() == 1 { today } else { month };
    for (cost, day, status) in [
        ("0.40", today, "settled"),
        ("0.35", today, "settled"),
        ("1.25", earlier, "settled"),
        ("9.00", today, "reserved"),
    ] {
        sqlx::query(
            "INSERT INTO ai_usage (id, client_id, purpose, model, status, estimate_aud, cost_aud,
                                   usage_date, platform_date, at)
             VALUES (gen_random_uuid(), $1, 'classify_reply', 'claude-haiku-4-5', $4,
                     $2::numeric, $2::numeric, $3, $3, now())",
        )
        .bind(p.clients[0].0.into_uuid())
        .bind(cost)
        .bind(day)
        .bind(status)
        .execute(&app.pool)
        .await
        .expect("ai usage");
    }
    let body = get(&app, &p.admin, "/api/v1/admin/stats").await;

    let mrr: f64 = p
        .clients
        .iter()
        .filter(|c| paying(c.3))
        .map(|c| price(c.2))
        .sum();
    assert_eq!(mrr, 12_500.0);
    close(&body["mrr"], mrr, "mrr");
    let before = price("ignition") + price("velocity");
    close(
        &body["mrr_change"],
        (mrr - before) / before * 100.0,
        "mrr_change",
    );
    assert_eq!(body["total_clients"], 4);
    assert_eq!(body["active_clients"], 2, "active and trialing");
    assert_eq!(body["total_campaigns"], 3);
    assert_eq!(body["active_campaigns"], 1);
    assert_eq!(body["total_leads"], 5);
    assert_eq!(body["leads_today"], 3);
    // Yesterday (Sydney) had the two leads created just before today's midnight.
    close(
        &body["leads_change"],
        (3.0 - 2.0) / 2.0 * 100.0,
        "leads_change",
    );
    let this_month = if today.day() == 1 { 3 } else { 5 };
    assert_eq!(body["leads_this_month"], this_month);
    assert_eq!(body["new_clients_this_month"], 4);
    let today_spend = if today.day() == 1 { 2.0 } else { 0.75 };
    close(&body["ai_spend_today"], today_spend, "ai_spend_today");
    close(&body["ai_spend_month_aud"], 2.0, "ai_spend_month_aud");
    // The gate's documented default platform cap.
    close(&body["ai_spend_limit"], 500.0, "ai_spend_limit");
}

#[tokio::test]
async fn revenue_compares_with_the_snapshot_at_the_start() {
    let app = TestApp::spawn().await;
    let p = seed(&app).await;
    let start: NaiveDate = "2026-01-01".parse().expect("date");
    // On 2025-12-30 (the latest snapshot before the start): Acme, Dune and Cora were paying.
    let snap_day: NaiveDate = "2025-12-30".parse().expect("date");
    snapshot(&app, p.clients[0].0, snap_day, "velocity", "active").await;
    snapshot(&app, p.clients[2].0, snap_day, "ignition", "active").await;
    snapshot(&app, p.clients[3].0, snap_day, "dominance", "active").await;
    // An older snapshot that must not be used.
    snapshot(
        &app,
        p.clients[1].0,
        "2025-11-01".parse().expect("date"),
        "ignition",
        "active",
    )
    .await;
    let body = get(
        &app,
        &p.admin,
        &format!("/api/v1/admin/revenue?start_date={start}&end_date=2026-01-31"),
    )
    .await;
    let mrr = 12_500.0;
    let before = price("velocity") + price("ignition") + price("dominance");
    close(&body["mrr_aud"], mrr, "mrr");
    close(&body["arr_aud"], mrr * 12.0, "arr");
    close(
        &body["mrr_growth_percent"],
        (mrr - before) / before * 100.0,
        "growth",
    );
    // Paying then: Acme, Cora, Dune; not paying now: Cora (trialing), Dune (cancelled).
    close(&body["churn_rate_percent"], 2.0 / 3.0 * 100.0, "churn");
    assert_eq!(body["transactions"], serde_json::json!([]));
    assert_eq!(body["baseline_date"], "2025-12-30");

    // No snapshot at all before the start: growth and churn are 0.
    let body = get(
        &app,
        &p.admin,
        "/api/v1/admin/revenue?start_date=2025-01-01&end_date=2025-01-31",
    )
    .await;
    assert_eq!(num(&body["mrr_growth_percent"]), 0.0);
    assert_eq!(num(&body["churn_rate_percent"]), 0.0);
    assert!(body["baseline_date"].is_null());
}

/// The documented health score, written out here.
fn health(
    status: &str,
    days_since: Option<i64>,
    active_campaigns: i64,
    contacted: i64,
    replied: i64,
    credits: i64,
) -> i64 {
    let s = match status {
        "active" => 30,
        "trialing" => 20,
        "past_due" => 5,
        _ => 0,
    };
    let r = match days_since {
        Some(d) if d <= 7 => 25,
        Some(d) if d <= 30 => 10,
        _ => 0,
    };
    let c = if active_campaigns > 0 { 20 } else { 0 };
    let rate = if contacted == 0 {
        0.0
    } else {
        replied as f64 / contacted as f64
    };
    let rr = if rate >= 0.05 {
        15
    } else if rate > 0.0 {
        8
    } else {
        0
    };
    let k = if credits > 0 { 10 } else { 0 };
    s + r + c + rr + k
}

#[tokio::test]
async fn the_client_list_pages_filters_and_scores() {
    let app = TestApp::spawn().await;
    let p = seed(&app).await;
    let body = get(&app, &p.admin, "/api/v1/admin/clients?page=1&page_size=2").await;
    assert_eq!(body["total"], 4);
    assert_eq!(body["total_pages"], 2);
    let names: Vec<&str> = body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(names, ["Acme", "Bolt"], "by name");
    let acme = &body["items"][0];
    assert_eq!(acme["tier"], "velocity");
    assert_eq!(acme["subscription_status"], "active");
    close(&acme["mrr"], 5000.0, "acme mrr");
    assert_eq!(acme["campaigns_count"], 2);
    assert_eq!(acme["leads_count"], 3);
    assert!(
        acme["last_activity"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert_eq!(
        acme["health_score"],
        health("active", Some(0), 1, 3, 1, 1250)
    );
    let bolt = &body["items"][1];
    close(&bolt["mrr"], 7500.0, "bolt mrr (past due is billed)");
    assert_eq!(
        bolt["health_score"],
        health("past_due", Some(20), 0, 1, 0, 1250)
    );

    let page2 = get(&app, &p.admin, "/api/v1/admin/clients?page=2&page_size=2").await;
    let cora = &page2["items"][0];
    assert_eq!(cora["name"], "Cora");
    close(&cora["mrr"], 0.0, "trialing pays nothing");
    assert_eq!(
        cora["health_score"],
        health("trialing", None, 0, 0, 0, 1250)
    );
    assert!(cora["last_activity"].is_null());

    let found = get(&app, &p.admin, "/api/v1/admin/clients?search=un").await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["name"], "Dune");
    let found = get(&app, &p.admin, "/api/v1/admin/clients?status=past_due").await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["name"], "Bolt");
    let res = app
        .send_as(&p.admin, Method::GET, "/api/v1/admin/clients?status=gold")
        .await;
    assert_envelope(res, 422, "validation_failed").await;
}

#[tokio::test]
async fn a_clients_detail_has_campaigns_team_and_activity() {
    let app = TestApp::spawn().await;
    let p = seed(&app).await;
    let acme = p.clients[0].0;
    let owner = app.user_with_role(acme, Role::Owner).await;
    let body = get(&app, &p.admin, &format!("/api/v1/admin/clients/{acme}")).await;
    assert_eq!(body["id"], acme.to_string());
    assert_eq!(body["name"], "Acme");
    assert_eq!(body["credits_remaining"], 1250);
    assert_eq!(body["default_permission_mode"], "co_pilot");
    let campaigns: Vec<&str> = body["campaigns"]
        .as_array()
        .expect("campaigns")
        .iter()
        .map(|c| c["name"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(campaigns, ["Draft", "Spring"], "newest first");
    assert_eq!(body["campaigns"][1]["leads"], 3);
    let team = body["team_members"].as_array().expect("team");
    assert_eq!(team.len(), 1);
    assert_eq!(team[0]["email"], owner.email);
    assert_eq!(team[0]["role"], "owner");
    let recent = body["recent_activity"].as_array().expect("activity");
    assert_eq!(recent.len(), 4);
    assert_eq!(recent[0]["action"], "replied", "newest first");
    assert_eq!(recent[0]["client_name"], "Acme");
    let res = app
        .send_as(
            &p.admin,
            Method::GET,
            &format!("/api/v1/admin/clients/{}", Uuid::now_v7()),
        )
        .await;
    assert_envelope(res, 404, "not_found").await;
}

#[tokio::test]
async fn the_activity_feed_is_newest_first_across_clients() {
    let app = TestApp::spawn().await;
    let p = seed(&app).await;
    let all = get(&app, &p.admin, "/api/v1/admin/activity").await;
    let items = all.as_array().expect("bare array");
    assert_eq!(items.len(), 5);
    let times: Vec<DateTime<Utc>> = items
        .iter()
        .map(|i| {
            i["timestamp"]
                .as_str()
                .expect("ts")
                .parse()
                .expect("rfc3339")
        })
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    assert_eq!(items[4]["client_name"], "Bolt");
    assert_eq!(items[0]["channel"], "email");
    assert!(
        items[0]["details"]
            .as_str()
            .is_some_and(|d| d.contains("replied") && !d.contains("Spring") && d.contains("Hello")),
        "{}",
        items[0]
    );
    let two = get(&app, &p.admin, "/api/v1/admin/activity?limit=2").await;
    assert_eq!(two.as_array().map(Vec::len), Some(2));
    assert_eq!(two[0]["id"], items[0]["id"]);
}

async fn dead_job(app: &TestApp, name: &str) {
    let id = enqueue(
        &app.pool,
        &Probe {
            name: name.into(),
            ..Probe::default()
        },
        EnqueueOptions::default(),
    )
    .await
    .expect("enqueue");
    sqlx::query(
        "UPDATE apalis.jobs SET status = 'Killed', attempts = 1, done_at = now() WHERE id = $1",
    )
    .bind(&id)
    .execute(&app.pool)
    .await
    .expect("kill");
}

#[tokio::test]
async fn system_status_checks_services_and_raises_alerts_once() {
    let app = TestApp::spawn_with(|s| s.admin.dead_letter_threshold = 2).await;
    let admin = app.create_platform_admin().await;
    // Two pending probes due now, two dead ones, a scheduler tick three hours ago.
    for name in ["p1", "p2"] {
        enqueue(
            &app.pool,
            &Probe {
                name: name.into(),
                ..Probe::default()
            },
            EnqueueOptions::default(),
        )
        .await
        .expect("enqueue");
    }
    dead_job(&app, "d1").await;
    dead_job(&app, "d2").await;
    sqlx::query("INSERT INTO schedule_runs (schedule, tick, job_id, fired_by, fired_at) VALUES ('credit_reset', now() - interval '3 hours', 'j', 'test', now() - interval '3 hours')")
        .execute(&app.pool)
        .await
        .expect("tick");

    let body = get(&app, &admin, "/api/v1/admin/system/status").await;
    let services: HashMap<&str, &Value> = body["services"]
        .as_array()
        .expect("services")
        .iter()
        .map(|s| (s["name"].as_str().unwrap_or(""), s))
        .collect();
    for name in ["api", "database", "redis", "queue", "scheduler"] {
        let s = services
            .get(name)
            .unwrap_or_else(|| panic!("{name} in {body}"));
        assert!(s["latency_ms"].is_number());
        assert!(["healthy", "degraded", "down"].contains(&s["status"].as_str().unwrap_or("")));
    }
    assert_eq!(services["database"]["status"], "healthy");
    assert_eq!(
        services["queue"]["status"], "degraded",
        "dead letters at the threshold"
    );
    assert_eq!(services["queue"]["details"]["dead_letters"], 2);
    assert_eq!(
        services["queue"]["details"]["lanes"]["default"]["depth"], 2,
        "two probes waiting"
    );
    assert_eq!(services["scheduler"]["status"], "degraded");
    assert_eq!(body["overall"], "degraded");

    let alerts = get(&app, &admin, "/api/v1/admin/alerts").await;
    let list = alerts.as_array().expect("bare array");
    assert_eq!(
        list.len(),
        2,
        "one per condition, not one per check: {alerts}"
    );
    let dead = list
        .iter()
        .find(|a| a["kind"] == "dead_letters")
        .expect("dead letters alert");
    let silent = list
        .iter()
        .find(|a| a["kind"] == "scheduler_silent")
        .expect("silent alert");
    assert_eq!(dead["severity"], "warning");
    assert_eq!(silent["severity"], "critical");
    assert_eq!(dead["acknowledged"], false);
    assert_eq!(
        dead["occurrences"], 2,
        "raised by the status check and by the alert list"
    );

    let res = app
        .send_as(
            &admin,
            Method::POST,
            &format!(
                "/api/v1/admin/alerts/{}/acknowledge",
                dead["id"].as_str().unwrap_or("")
            ),
        )
        .await;
    assert_eq!(res.status(), 200);
    let acked: Value = res.json().await.expect("json");
    assert_eq!(acked["acknowledged"], true);
    assert_eq!(acked["id"], dead["id"]);
    let audit: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'alert.acknowledge' AND actor_id = $1",
    )
    .bind(admin.id)
    .fetch_one(&app.pool)
    .await
    .expect("audit");
    assert_eq!(audit, 1);
    // Still dead-lettered: the next check opens a new alert; the old one stays acknowledged.
    let alerts = get(&app, &admin, "/api/v1/admin/alerts").await;
    let dead_alerts: Vec<&Value> = alerts
        .as_array()
        .expect("list")
        .iter()
        .filter(|a| a["kind"] == "dead_letters")
        .collect();
    assert_eq!(dead_alerts.len(), 2);
    assert_eq!(dead_alerts[0]["acknowledged"], false, "open first");
    assert_eq!(dead_alerts[1]["acknowledged"], true);
    let res = app
        .send_as(
            &admin,
            Method::POST,
            &format!("/api/v1/admin/alerts/{}/acknowledge", Uuid::now_v7()),
        )
        .await;
    assert_envelope(res, 404, "not_found").await;
}

#[tokio::test]
async fn the_console_is_for_platform_admins_only() {
    let app = TestApp::spawn().await;
    let p = seed(&app).await;
    let owner = app.user_with_role(p.clients[0].0, Role::Owner).await;
    let alert: Uuid = sqlx::query_scalar("INSERT INTO alerts (kind, dedupe_key, severity, title, description) VALUES ('test', 'test', 'info', 'T', 'D') RETURNING id")
        .fetch_one(&app.pool)
        .await
        .expect("alert");
    let client = p.clients[0].0;
    let routes = [
        (Method::GET, "/api/v1/admin/stats".to_owned()),
        (Method::GET, "/api/v1/admin/system/status".to_owned()),
        (Method::GET, "/api/v1/admin/alerts".to_owned()),
        (
            Method::POST,
            format!("/api/v1/admin/alerts/{alert}/acknowledge"),
        ),
        (Method::GET, "/api/v1/admin/activity?limit=5".to_owned()),
        (Method::GET, "/api/v1/admin/clients".to_owned()),
        (Method::GET, format!("/api/v1/admin/clients/{client}")),
        (Method::GET, "/api/v1/admin/revenue".to_owned()),
    ];
    for (method, path) in &routes {
        let res = app.send_as(&owner, method.clone(), path).await;
        assert_envelope(res, 403, "forbidden").await;
        let res = app
            .request(method.clone(), path)
            .send()
            .await
            .expect("send");
        assert_eq!(res.status(), 401, "{path}");
    }
    let acked: Option<DateTime<Utc>> =
        sqlx::query_scalar("SELECT acknowledged_at FROM alerts WHERE id = $1")
            .bind(alert)
            .fetch_one(&app.pool)
            .await
            .expect("alert");
    assert!(acked.is_none(), "a refused acknowledge changes nothing");
    for (method, path) in &routes {
        let res = app.send_as(&p.admin, method.clone(), path).await;
        assert_eq!(res.status(), 200, "{method} {path} as platform admin");
    }
}

#[tokio::test]
async fn the_daily_metrics_job_snapshots_every_live_client_once_a_day() {
    let app = TestApp::spawn().await;
    let p = seed(&app).await;
    let gone = client(&app, "Gone", "ignition", "active").await;
    sqlx::query("UPDATE clients SET deleted_at = now() WHERE id = $1")
        .bind(gone.into_uuid())
        .execute(&app.pool)
        .await
        .expect("delete");
    let cache = std::sync::Arc::new(
        agency_cache::FallbackCache::new(None, app.pool.clone()).expect("cache"),
    );
    let ctx = || {
        agency_engine::jobs::JobContext::in_process(
            agency_engine::Services::with_sandbox_providers(app.pool.clone(), cache.clone()),
            agency_engine::jobs::JobKind::RefreshReport,
        )
    };
    // The 00:00 Sydney tick of 2026-03-10 (AEDT, UTC+11).
    let tick: DateTime<Utc> = "2026-03-09T13:00:00Z".parse().expect("tick");
    let job = agency_engine::jobs::payload::RefreshReport {
        client_id: None,
        tick: Some(tick),
    };
    agency_engine::admin::refresh_report(ctx(), job.clone())
        .await
        .expect("snapshot");
    // A second run the same day rewrites, it does not add.
    sqlx::query("UPDATE clients SET subscription_status = 'paused' WHERE id = $1")
        .bind(p.clients[0].0.into_uuid())
        .execute(&app.pool)
        .await
        .expect("pause");
    agency_engine::admin::refresh_report(ctx(), job)
        .await
        .expect("again");
    let rows: Vec<(Uuid, NaiveDate, String, String, i32, i32)> = sqlx::query_as(
        "SELECT client_id, day, tier, subscription_status, leads, active_campaigns
           FROM client_daily_metrics ORDER BY client_id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("rows");
    assert_eq!(rows.len(), 4, "live clients only, once each");
    let day: NaiveDate = "2026-03-10".parse().expect("day");
    assert!(rows.iter().all(|r| r.1 == day));
    let acme = rows
        .iter()
        .find(|r| r.0 == p.clients[0].0.into_uuid())
        .expect("acme");
    assert_eq!(
        (acme.2.as_str(), acme.3.as_str(), acme.4, acme.5),
        ("velocity", "paused", 3, 1)
    );
    assert!(
        agency_engine::jobs::handlers::registry()
            .handles(agency_engine::jobs::JobKind::RefreshReport)
    );
}

/// The published circuit of `provider`, once it reached `state` (the worker's publisher writes
/// from a task, so the test waits for it).
async fn circuit_in_state(app: &TestApp, provider: &str, state: &str) -> Value {
    for _ in 0..100 {
        let row: Option<(String, Option<String>)> =
            sqlx::query_as("SELECT state, last_error FROM provider_circuits WHERE provider = $1")
                .bind(provider)
                .fetch_optional(&app.pool)
                .await
                .expect("circuit");
        if let Some((s, last_error)) = row
            && s == state
        {
            return serde_json::json!({"state": s, "last_error": last_error});
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{provider} never published {state}");
}

fn open_alerts_of(alerts: &Value, kind: &str) -> Vec<Value> {
    alerts
        .as_array()
        .expect("alerts")
        .iter()
        .filter(|a| a["kind"] == kind && a["acknowledged"] == false)
        .cloned()
        .collect()
}

/// A real breaker (a provider client calling a local server that answers 503) opens, the
/// worker's publisher stores it, the status is degraded with the circuit shown, one
/// `provider_circuit_open` alert is raised and stays one while open; after a successful trial
/// the circuit is published closed and the status is healthy again.
#[tokio::test]
async fn an_open_provider_circuit_degrades_the_status_and_raises_one_alert() {
    use agency_providers::{
        Auth, BreakerSettings, CircuitWatch, HttpSettings, Provider, ProviderError, ProviderHttp,
        RetryPolicy,
    };
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    let app = TestApp::spawn().await;
    let admin = app.create_platform_admin().await;
    sqlx::query("INSERT INTO schedule_runs (schedule, tick, job_id, fired_by, fired_at) VALUES ('credit_reset', now(), 'j', 'test', now())")
        .execute(&app.pool)
        .await
        .expect("tick");
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/ping"))
        .respond_with(ResponseTemplate::new(503).set_body_string("down"))
        .mount(&server)
        .await;
    let publisher = agency_engine::admin::CircuitPublisher::start(app.pool.clone());
    let settings = HttpSettings {
        retry: RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        },
        breaker: BreakerSettings {
            failure_threshold: 2,
            cool_down: std::time::Duration::from_millis(300),
        },
        circuits: CircuitWatch::new(publisher),
        ..HttpSettings::default()
    };
    let http = ProviderHttp::new(Provider::Apollo, &server.uri(), &settings).expect("client");
    let url = http.endpoint("v1/ping").expect("url");
    let key: secrecy::SecretString = "k".to_owned().into();
    let call = || http.get_json_optional::<Value>(&url, Auth::Bearer(&key));
    for _ in 0..2 {
        let e = call().await.expect_err("503");
        assert!(matches!(e, ProviderError::Upstream { .. }), "{e:?}");
    }
    let refused = call().await.expect_err("open");
    assert!(
        matches!(refused, ProviderError::CircuitOpen { .. }),
        "{refused:?}"
    );
    let stored = circuit_in_state(&app, "apollo", "open").await;
    assert_eq!(stored["last_error"], "upstream");

    let body = get(&app, &admin, "/api/v1/admin/system/status").await;
    assert_eq!(body["overall"], "degraded", "{body}");
    let providers = body["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["name"] == "providers")
        .cloned()
        .expect("providers service");
    assert_eq!(providers["status"], "degraded");
    assert!(providers["latency_ms"].is_number());
    let circuits = providers["details"]["circuits"]
        .as_array()
        .expect("circuits");
    assert_eq!(circuits.len(), 1, "{circuits:?}");
    assert_eq!(circuits[0]["provider"], "apollo");
    assert_eq!(circuits[0]["state"], "open");
    assert_eq!(circuits[0]["last_error"], "upstream");
    assert!(circuits[0]["since"].is_string() && circuits[0]["retry_at"].is_string());
    // The other services are still there, unchanged in shape.
    for name in ["api", "database", "redis", "queue", "scheduler"] {
        assert!(
            body["services"]
                .as_array()
                .expect("services")
                .iter()
                .any(|s| s["name"] == name),
            "{name}"
        );
    }
    let alerts = get(&app, &admin, "/api/v1/admin/alerts").await;
    let open = open_alerts_of(&alerts, "provider_circuit_open");
    assert_eq!(open.len(), 1, "deduplicated while open: {alerts}");
    assert_eq!(open[0]["severity"], "warning");
    assert!(
        open[0]["occurrences"].as_i64().unwrap_or(0) >= 3,
        "raised on opening, by the status and by the list: {}",
        open[0]
    );

    // Recovery: the provider answers again, the trial call closes the circuit.
    server.reset().await;
    Mock::given(method("GET"))
        .and(path("/v1/ping"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
        .mount(&server)
        .await;
    tokio::time::sleep(std::time::Duration::from_millis(350)).await;
    call().await.expect("trial succeeds");
    circuit_in_state(&app, "apollo", "closed").await;
    let body = get(&app, &admin, "/api/v1/admin/system/status").await;
    let providers = body["services"]
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["name"] == "providers")
        .cloned()
        .expect("providers service");
    assert_eq!(providers["status"], "healthy", "{body}");
    assert_eq!(providers["details"]["circuits"][0]["state"], "closed");
    let alerts = get(&app, &admin, "/api/v1/admin/alerts").await;
    assert_eq!(
        open_alerts_of(&alerts, "provider_circuit_open").len(),
        1,
        "no new alert once closed"
    );
}

/// The periodic `check_alerts` job raises the system's alerts with nobody reading the status
/// page, deduplicates them across runs, queues one watchdog run ahead, and raises nothing
/// when all is well.
#[tokio::test]
async fn the_alert_checks_job_raises_and_deduplicates_alerts() {
    use agency_engine::admin::{AdminSettings, check_alerts_job, watchdog_slot};
    use agency_engine::jobs::payload::{CheckAlerts, ScheduledTick};
    use agency_engine::jobs::{JobContext, JobKind};
    use agency_engine::{Clock, EngineSettings, Services};

    let app = TestApp::spawn().await;
    dead_job(&app, "d1").await;
    dead_job(&app, "d2").await;
    sqlx::query("INSERT INTO schedule_runs (schedule, tick, job_id, fired_by, fired_at) VALUES ('credit_reset', now() - interval '3 hours', 'j', 'test', now() - interval '3 hours')")
        .execute(&app.pool)
        .await
        .expect("tick");
    agency_store::circuits::publish(
        &app.pool,
        &agency_store::circuits::CircuitRow {
            provider: "resend".into(),
            state: "open".into(),
            since: Utc::now(),
            retry_at: Some(Utc::now() + Duration::seconds(30)),
            last_error: Some("transport".into()),
        },
    )
    .await
    .expect("circuit");
    let now = Utc::now();
    let cache = std::sync::Arc::new(
        agency_cache::FallbackCache::new(None, app.pool.clone()).expect("cache"),
    );
    let ctx = || {
        let services = Services::with_sandbox_providers(app.pool.clone(), cache.clone())
            .with_clock(Clock::Fixed(now))
            .with_settings(EngineSettings {
                admin: AdminSettings {
                    dead_letter_threshold: 2,
                    ..AdminSettings::default()
                },
                ..EngineSettings::default()
            });
        JobContext::in_process(services, JobKind::CheckAlerts)
    };
    let job = CheckAlerts(ScheduledTick {
        schedule: "alert_checks".into(),
        tick: now,
    });
    let open_alerts = || async {
        let rows: Vec<(String, String, i32)> = sqlx::query_as(
            "SELECT kind, dedupe_key, occurrences FROM alerts WHERE acknowledged_at IS NULL
              ORDER BY kind",
        )
        .fetch_all(&app.pool)
        .await
        .expect("alerts");
        rows
    };
    check_alerts_job(ctx(), job.clone())
        .await
        .expect("first run");
    assert_eq!(
        open_alerts().await,
        vec![
            ("dead_letters".to_owned(), "dead_letters".to_owned(), 1),
            (
                "provider_circuit_open".to_owned(),
                "provider_circuit_open:resend".to_owned(),
                1
            ),
            (
                "scheduler_silent".to_owned(),
                "scheduler_silent".to_owned(),
                1
            ),
        ]
    );
    check_alerts_job(ctx(), job.clone())
        .await
        .expect("second run");
    let again = open_alerts().await;
    assert_eq!(again.len(), 3, "deduplicated: {again:?}");
    assert!(again.iter().all(|(_, _, n)| *n == 2), "{again:?}");
    // One watchdog run queued ahead, however many runs queued it.
    let watchdogs: Vec<(String, DateTime<Utc>)> =
        sqlx::query_as("SELECT status, run_at FROM apalis.jobs WHERE job_type = 'check_alerts'")
            .fetch_all(&app.pool)
            .await
            .expect("jobs");
    assert_eq!(watchdogs.len(), 1, "{watchdogs:?}");
    assert_eq!(watchdogs[0].1, watchdog_slot(now));
    assert!(watchdogs[0].1 >= now + Duration::minutes(5));

    // All well: nothing is raised.
    sqlx::query("UPDATE alerts SET acknowledged_at = now()")
        .execute(&app.pool)
        .await
        .expect("ack");
    sqlx::query("DELETE FROM apalis.jobs WHERE status = 'Killed'")
        .execute(&app.pool)
        .await
        .expect("undead");
    sqlx::query("INSERT INTO schedule_runs (schedule, tick, job_id, fired_by, fired_at) VALUES ('alert_checks', now(), 'k', 'test', now())")
        .execute(&app.pool)
        .await
        .expect("fresh tick");
    agency_store::circuits::publish(
        &app.pool,
        &agency_store::circuits::CircuitRow {
            provider: "resend".into(),
            state: "closed".into(),
            since: Utc::now(),
            retry_at: None,
            last_error: Some("transport".into()),
        },
    )
    .await
    .expect("closed");
    check_alerts_job(ctx(), job).await.expect("third run");
    assert!(open_alerts().await.is_empty(), "{:?}", open_alerts().await);
}

#[tokio::test]
async fn a_platform_admin_ends_a_trial_and_only_an_admin_can() {
    let app = TestApp::spawn().await;
    let admin = app.create_platform_admin().await;
    let c = client(&app, "Trial Co", "ignition", "trialing").await;
    let owner = app.user_with_role(c, Role::Owner).await;
    let path = format!("/api/v1/admin/clients/{c}");
    let body = serde_json::json!({"tier": "velocity", "subscription_status": "active"});

    // The client's own owner cannot change its plan (tiers are an operator's action).
    let res = app.send_json_as(&owner, Method::PATCH, &path, &body).await;
    assert_envelope(res, 403, "forbidden").await;
    // Nothing to change, or an unknown tier: 422.
    let res = app
        .send_json_as(&admin, Method::PATCH, &path, &serde_json::json!({}))
        .await;
    assert_envelope(res, 422, "validation_failed").await;
    let res = app
        .send_json_as(
            &admin,
            Method::PATCH,
            &path,
            &serde_json::json!({"tier": "platinum"}),
        )
        .await;
    assert_eq!(res.status(), 422);

    let res = app.send_json_as(&admin, Method::PATCH, &path, &body).await;
    assert_eq!(res.status(), 200);
    let detail: Value = res.json().await.unwrap();
    assert_eq!(detail["tier"], "velocity");
    assert_eq!(detail["subscription_status"], "active");
    assert_eq!(
        detail["credits_remaining"], 2250,
        "a trial that ends gets its tier's credits"
    );
    let (credits, audited): (i32, i64) = sqlx::query_as(
        "SELECT c.credits_remaining,
                (SELECT count(*) FROM audit_log a WHERE a.client_id = c.id
                   AND a.action = 'client.plan_changed' AND a.actor_id = $2)
           FROM clients c WHERE c.id = $1",
    )
    .bind(c.into_uuid())
    .bind(admin.id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((credits, audited), (2250, 1));

    // A later tier change alone grants nothing more; an unknown client is 404.
    let res = app
        .send_json_as(
            &admin,
            Method::PATCH,
            &path,
            &serde_json::json!({"tier": "dominance"}),
        )
        .await;
    let detail: Value = res.json().await.unwrap();
    assert_eq!(
        (
            detail["tier"].as_str(),
            detail["credits_remaining"].as_i64()
        ),
        (Some("dominance"), Some(2250))
    );
    let res = app
        .send_json_as(
            &admin,
            Method::PATCH,
            &format!("/api/v1/admin/clients/{}", Uuid::now_v7()),
            &body,
        )
        .await;
    assert_envelope(res, 404, "not_found").await;
}
