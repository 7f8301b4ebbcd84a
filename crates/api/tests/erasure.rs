//! A person's erasure through the admin API against a real PostgreSQL: their address and
//! number appear in two tenants' leads, a reply, a call transcript, a stored webhook body, the
//! suppression list and its audit entry; after `POST /admin/erasure` no table holds either,
//! the erasure is audited with digests, and a lead created later with the same address is
//! suppressed at once. Only platform admins may erase; bad input is a 422.

use agency_domain::Role;
use agency_testkit::{TestApp, assert_envelope};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

const EMAIL: &str = "jane.citizen@victim.com.au";
const PHONE: &str = "+61412000111";

async fn lead(app: &TestApp, client: agency_domain::ClientId) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO leads (client_id, email, phone, first_name, last_name, title, status)
         VALUES ($1, $2, $3, 'Jane', 'Citizen', 'Owner', 'in_sequence') RETURNING id",
    )
    .bind(client.into_uuid())
    .bind(EMAIL)
    .bind(PHONE)
    .fetch_one(&app.pool)
    .await
    .expect("lead")
}

/// Rows of every public table whose text shows the address or the number (bytea bodies read
/// as UTF-8).
async fn mentions(app: &TestApp) -> Vec<String> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
          WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(&app.pool)
    .await
    .expect("tables");
    let mut found = Vec::new();
    for table in tables {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM public.{table} x
              WHERE x::text ILIKE '%' || $1 || '%' OR x::text LIKE '%' || $2 || '%'"
        )))
        .bind(EMAIL)
        .bind(&PHONE[1..])
        .fetch_one(&app.pool)
        .await
        .expect("search");
        if n > 0 {
            found.push(format!("{table}: {n}"));
        }
    }
    let bodies: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM webhook_events
          WHERE convert_from(raw_body, 'UTF8') ILIKE '%' || $1 || '%'
             OR convert_from(raw_body, 'UTF8') LIKE '%' || $2 || '%'",
    )
    .bind(EMAIL)
    .bind(&PHONE[1..])
    .fetch_one(&app.pool)
    .await
    .expect("bodies");
    if bodies > 0 {
        found.push(format!("webhook_events.raw_body: {bodies}"));
    }
    found
}

#[tokio::test]
async fn an_erased_person_is_nowhere_and_never_contacted_again() {
    let app = TestApp::spawn().await;
    let admin = app.create_platform_admin().await;
    let a = app.create_client("Acme").await;
    let b = app.create_client("Bravo").await;
    let owner = app.user_with_role(a, Role::Owner).await;
    let jane_a = lead(&app, a).await;
    lead(&app, b).await;
    sqlx::query(
        "INSERT INTO replies (client_id, lead_id, channel, from_address, content, subject)
         VALUES ($1, $2, 'email', $3, 'Call me on 0412 000 111', 'Re: hello')",
    )
    .bind(a.into_uuid())
    .bind(jane_a)
    .bind(EMAIL)
    .execute(&app.pool)
    .await
    .expect("reply");
    sqlx::query(
        "INSERT INTO activities (client_id, lead_id, channel, action, content_preview, metadata)
         VALUES ($1, $2, 'voice', 'call_completed', 'Jane Citizen picked up',
                 jsonb_build_object('transcript', 'AI: Hi Jane Citizen, is ' || $3 || ' still best?'))",
    )
    .bind(a.into_uuid())
    .bind(jane_a)
    .bind(EMAIL)
    .execute(&app.pool)
    .await
    .expect("activity");
    sqlx::query(
        "INSERT INTO webhook_events (provider, provider_event_id, event_type, raw_body, status)
         VALUES ('twilio', 'sms:SMerase', 'sms.received', convert_to('From=%2B61412000111&Body=STOP', 'UTF8'), 'processed')",
    )
    .execute(&app.pool)
    .await
    .expect("event");
    let res = app
        .send_json_as(
            &admin,
            Method::POST,
            "/api/v1/admin/suppression",
            &json!({"email": EMAIL, "reason": "manual"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert!(!mentions(&app).await.is_empty());

    // Only platform admins; bad input is a 422 naming the field.
    let res = app
        .send_json_as(
            &owner,
            Method::POST,
            "/api/v1/admin/erasure",
            &json!({"email": EMAIL}),
        )
        .await;
    assert_envelope(res, 403, "forbidden").await;
    let res = app
        .send_json_as(&admin, Method::POST, "/api/v1/admin/erasure", &json!({}))
        .await;
    let body = assert_envelope(res, 422, "validation_failed").await;
    assert_eq!(body["fields"][0]["path"], "email");
    let res = app
        .send_json_as(
            &admin,
            Method::POST,
            "/api/v1/admin/erasure",
            &json!({"phone": "not a phone"}),
        )
        .await;
    assert_envelope(res, 422, "validation_failed").await;

    let res = app
        .send_json_as(
            &admin,
            Method::POST,
            "/api/v1/admin/erasure",
            &json!({"email": "Jane.Citizen@Victim.com.au", "phone": "0412 000 111"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["erased"]["leads"], 2);
    assert_eq!(report["erased"]["replies"], 1);
    assert_eq!(report["erased"]["webhook_events"], 1);
    assert_eq!(report["erased"]["suppression"], 1);
    assert_eq!(report["email_digest"].as_str().map(str::len), Some(64));
    assert_eq!(mentions(&app).await, Vec::<String>::new());
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE action = 'person.erased' AND entity_id = $1",
    )
    .bind(Uuid::parse_str(report["erasure_id"].as_str().unwrap()).unwrap())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // Imported again later: suppressed at once, so no send can reach them.
    let campaign: Uuid = sqlx::query_scalar(
        "INSERT INTO campaigns (client_id, name) VALUES ($1, 'Again') RETURNING id",
    )
    .bind(a.into_uuid())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let res = app
        .send_json_as(
            &owner,
            Method::POST,
            &format!("/api/v1/clients/{a}/leads"),
            &json!({"email": EMAIL, "campaign_id": campaign}),
        )
        .await;
    let status = res.status();
    assert_eq!(status, 201, "{}", res.text().await.unwrap_or_default());
    let suppressed: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM global_suppression WHERE email = $1 AND reason = 'erasure'",
    )
    .bind(EMAIL)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(suppressed, 1);
}
