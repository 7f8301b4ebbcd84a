//! The AI spend reports over HTTP: a client's spend per day, purpose and model (any member,
//! 404 across tenants, settled rows only, date range checks) and the platform's costs for
//! platform admins (403 for others). Ledger rows are written directly; every expected number
//! is summed here from the rows written.

use agency_domain::{ClientId, Role};
use agency_testkit::{TestApp, assert_envelope};
use chrono::{Datelike, Days, NaiveDate, Utc};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::{Value, json};
use uuid::Uuid;

/// A ledger row of `client` on `day` (client's and platform's day alike).
#[allow(clippy::too_many_arguments)]
async fn usage(
    app: &TestApp,
    client: ClientId,
    day: NaiveDate,
    purpose: &str,
    model: &str,
    status: &str,
    tokens: (i64, i64),
    cost: &str,
) {
    sqlx::query(
        "INSERT INTO ai_usage (id, client_id, purpose, model, status, estimate_aud, input_tokens,
                               output_tokens, cost_aud, usage_date, platform_date, at)
         VALUES ($1, $2, $3, $4, $5, 1, $6, $7, $8::numeric, $9, $9, now())",
    )
    .bind(Uuid::now_v7())
    .bind(client.into_uuid())
    .bind(purpose)
    .bind(model)
    .bind(status)
    .bind(tokens.0)
    .bind(tokens.1)
    .bind(cost)
    .bind(day)
    .execute(&app.pool)
    .await
    .expect("ai_usage row");
}

fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::Australia::Sydney)
        .date_naive()
}

#[tokio::test]
async fn client_spend_per_day_purpose_and_model() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Harbour Plumbing").await;
    let other = app.create_client("Rival").await;
    let viewer = app.user_with_role(client, Role::Viewer).await;
    let d1 = NaiveDate::from_ymd_opt(2027, 3, 1).expect("date");
    let d2 = NaiveDate::from_ymd_opt(2027, 3, 2).expect("date");
    usage(
        &app,
        client,
        d1,
        "classify_reply",
        "claude-haiku-4-5-20251001",
        "settled",
        (600, 80),
        "0.001550",
    )
    .await;
    usage(
        &app,
        client,
        d1,
        "classify_reply",
        "claude-haiku-4-5-20251001",
        "settled",
        (400, 20),
        "0.000775",
    )
    .await;
    usage(
        &app,
        client,
        d2,
        "write_message",
        "claude-sonnet-4-5",
        "settled",
        (2095, 503),
        "0.021437",
    )
    .await;
    // Not settled: not spend.
    usage(
        &app,
        client,
        d2,
        "write_message",
        "claude-sonnet-4-5",
        "reserved",
        (0, 0),
        "0",
    )
    .await;
    usage(
        &app,
        client,
        d2,
        "write_message",
        "claude-sonnet-4-5",
        "released",
        (0, 0),
        "0",
    )
    .await;
    // Outside the range, and another tenant's.
    usage(
        &app,
        client,
        d2 + Days::new(1),
        "extract_icp",
        "claude-sonnet-4-5",
        "settled",
        (1, 1),
        "9",
    )
    .await;
    usage(
        &app,
        other,
        d1,
        "classify_reply",
        "claude-haiku-4-5",
        "settled",
        (1, 1),
        "5",
    )
    .await;

    let path = format!(
        "/api/v1/reports/clients/{client}/ai-spend?start_date=2027-03-01&end_date=2027-03-02"
    );
    let res = app.send_as(&viewer, Method::GET, &path).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    let total = Decimal::new(1550, 6) + Decimal::new(775, 6) + Decimal::new(21437, 6);
    assert_eq!(
        body,
        json!({
            "client_id": client.to_string(),
            "start_date": "2027-03-01",
            "end_date": "2027-03-02",
            "total_aud": total.to_string().parse::<f64>().expect("f64"),
            "daily_budget_aud": 100.0,
            "rows": [
                {"date": "2027-03-01", "purpose": "classify_reply", "model": "claude-haiku-4-5-20251001",
                 "calls": 2, "input_tokens": 1000, "output_tokens": 100, "cost_aud": 0.002325},
                {"date": "2027-03-02", "purpose": "write_message", "model": "claude-sonnet-4-5",
                 "calls": 1, "input_tokens": 2095, "output_tokens": 503, "cost_aud": 0.021437}
            ]
        })
    );

    // Default range: the last 30 days up to today; nothing spent there.
    let res = app
        .send_as(
            &viewer,
            Method::GET,
            &format!("/api/v1/reports/clients/{client}/ai-spend"),
        )
        .await;
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["end_date"], today().to_string());
    assert_eq!(body["start_date"], (today() - Days::new(29)).to_string());
    assert_eq!(body["rows"], json!([]));
    assert_eq!(body["total_aud"], 0.0);

    // Start after end is a 422 naming the field.
    let res = app
        .send_as(
            &viewer,
            Method::GET,
            &path.replace("start_date=2027-03-01", "start_date=2027-03-05"),
        )
        .await;
    let err = assert_envelope(res, 422, "validation_failed").await;
    assert_eq!(err["fields"][0]["path"], "start_date");

    // Another tenant's member sees 404, a stranger too; no token is 401.
    let outsider = app.user_with_role(other, Role::Owner).await;
    assert_envelope(
        app.send_as(&outsider, Method::GET, &path).await,
        404,
        "not_found",
    )
    .await;
    let stranger = app.create_user().await;
    assert_envelope(
        app.send_as(&stranger, Method::GET, &path).await,
        404,
        "not_found",
    )
    .await;
    let res = app
        .request(Method::GET, &path)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn platform_costs_for_admins_only() {
    let app = TestApp::spawn().await;
    let a = app.create_client("Alpha Dental").await;
    let b = app.create_client("Bravo Law").await;
    let today = today();
    let first = today.with_day(1).expect("first of month");
    usage(
        &app,
        a,
        today,
        "classify_reply",
        "claude-haiku-4-5",
        "settled",
        (10, 10),
        "0.5",
    )
    .await;
    usage(
        &app,
        b,
        today,
        "write_message",
        "claude-sonnet-4-5",
        "settled",
        (10, 10),
        "1.25",
    )
    .await;
    usage(
        &app,
        b,
        first,
        "write_message",
        "claude-sonnet-4-5",
        "settled",
        (10, 10),
        "2",
    )
    .await;
    usage(
        &app,
        a,
        today,
        "extract_icp",
        "claude-sonnet-4-5",
        "expired",
        (0, 0),
        "0",
    )
    .await;
    // Last month: outside "month" and the default range.
    usage(
        &app,
        a,
        first - Days::new(1),
        "extract_icp",
        "claude-sonnet-4-5",
        "settled",
        (1, 1),
        "7",
    )
    .await;

    let admin = app.create_platform_admin().await;
    let res = app
        .send_as(&admin, Method::GET, "/api/v1/admin/costs/ai")
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    let today_total = if first == today { 3.75 } else { 1.75 };
    assert_eq!(
        body,
        json!({
            "today_aud": today_total,
            "month_aud": 3.75,
            "by_agent": {"classify_reply": 0.5, "write_message": 3.25},
            "by_client": {"Alpha Dental": 0.5, "Bravo Law": 3.25}
        })
    );

    let prev = first - Days::new(1);
    let res = app
        .send_as(
            &admin,
            Method::GET,
            &format!("/api/v1/admin/costs/ai?start_date={prev}&end_date={prev}"),
        )
        .await;
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["by_agent"], json!({"extract_icp": 7.0}));
    assert_eq!(body["by_client"], json!({"Alpha Dental": 7.0}));

    let member = app.user_with_role(a, Role::Owner).await;
    assert_envelope(
        app.send_as(&member, Method::GET, "/api/v1/admin/costs/ai")
            .await,
        403,
        "forbidden",
    )
    .await;
}
