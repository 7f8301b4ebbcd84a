//! Outbound webhooks end to end: endpoints created and managed over HTTP, events caused
//! through the real routes and engine functions, jobs drained, and a local axum receiver
//! checking every request's Standard Webhooks signature; retries on a 5xx, 410 Gone and the
//! 5-day rule disabling an endpoint with an alert, secret rotation sending both signatures,
//! the tenancy/role matrix of every route, and the SSRF guard refusing loopback addresses
//! (by IP and by name, at connect time) outside development.

#[allow(dead_code)]
mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use agency_domain::{Channel, ClientId, Role};
use agency_engine::ai::classify::keyword_classification;
use agency_engine::inbound::replies::{InboundReply, Sender, record_inbound};
use agency_engine::outbound::endpoints::{self, EndpointCreate};
use agency_engine::{EngineSettings, Providers, Services, TenantContext};
use agency_providers::outbound_webhooks::HttpWebhookSender;
use agency_providers::standard_webhooks::verify;
use agency_providers::website::AddressPolicy;
use agency_testkit::{MatrixCase, TestApp, TestUser, assert_envelope, run_matrix};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::{DurationRound, Utc};
use common::active_campaign;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

/// One request the receiver got.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: i64,
    signature: String,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// A local endpoint: records every request and answers the queued statuses (then 200).
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

async fn receive(
    State(r): State<Receiver>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, String) {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    r.got.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp").parse().unwrap_or_default(),
        signature: header("webhook-signature"),
        body: body.to_vec(),
    });
    let status = r.answers.lock().unwrap().pop_front().unwrap_or(200);
    let text = if status == 500 {
        "x".repeat(5_000)
    } else {
        format!("answered {status}")
    };
    (StatusCode::from_u16(status).unwrap(), text)
}

impl Receiver {
    async fn start() -> (Receiver, u16) {
        let r = Receiver::default();
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (r, port)
    }

    fn answer(&self, statuses: &[u16]) {
        self.answers.lock().unwrap().extend(statuses);
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

fn endpoints_path(client: ClientId) -> String {
    format!("/api/v1/clients/{client}/webhook-endpoints")
}

async fn create_endpoint(
    app: &TestApp,
    user: &TestUser,
    client: ClientId,
    url: &str,
    events: &[&str],
) -> Value {
    let res = app
        .send_json_as(
            user,
            Method::POST,
            &endpoints_path(client),
            &json!({"url": url, "events": events}),
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn deliveries(app: &TestApp, user: &TestUser, client: ClientId, endpoint: &str) -> Value {
    let res = app
        .send_as(
            user,
            Method::GET,
            &format!("{}/{endpoint}/deliveries", endpoints_path(client)),
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn lead(app: &TestApp, client: ClientId, campaign: Uuid, email: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO leads (client_id, campaign_id, email, first_name, last_name, company, status)
         VALUES ($1, $2, $3, 'Jane', 'Citizen', 'Acme Pty Ltd', 'in_sequence') RETURNING id",
    )
    .bind(client.into_uuid())
    .bind(campaign)
    .bind(email)
    .fetch_one(&app.pool)
    .await
    .expect("lead")
}

/// Makes every waiting delivery attempt due now (the retry delays are real time).
async fn make_retries_due(app: &TestApp) {
    sqlx::query(
        "UPDATE apalis.jobs SET run_at = now() WHERE job_type = 'deliver_webhook' AND status = 'Pending'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    sqlx::query("UPDATE webhook_deliveries SET next_attempt_at = now() WHERE status = 'pending'")
        .execute(&app.pool)
        .await
        .unwrap();
}

fn assert_signed(r: &Received, secret: &str) {
    assert!(r.id.starts_with("msg_"), "{r:?}");
    assert!((Utc::now().timestamp() - r.timestamp).abs() < 120, "{r:?}");
    assert!(r.signature.starts_with("v1,"), "{r:?}");
    assert!(
        verify(secret, &r.id, r.timestamp, &r.body, &r.signature),
        "the signature does not verify: {r:?}"
    );
}

#[tokio::test]
async fn endpoints_are_created_validated_listed_changed_and_deleted() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let admin = app.user_with_role(client, Role::Admin).await;
    let viewer = app.user_with_role(client, Role::Viewer).await;
    let path = endpoints_path(client);

    let res = app
        .send_json_as(
            &admin,
            Method::POST,
            &path,
            &json!({"url": "ftp://x.example.com/", "events": ["lead.replied", "lead.created"]}),
        )
        .await;
    let body = assert_envelope(res, 422, "validation_failed").await;
    let fields: Vec<&str> = body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["url", "events[1]"], "{body}");
    let res = app
        .send_json_as(
            &admin,
            Method::POST,
            &path,
            &json!({"url": "https://x.example.com/", "events": []}),
        )
        .await;
    assert_envelope(res, 422, "validation_failed").await;
    let res = app
        .send_json_as(
            &viewer,
            Method::POST,
            &path,
            &json!({"url": "https://x.example.com/", "events": ["lead.replied"]}),
        )
        .await;
    assert_envelope(res, 403, "forbidden").await;

    let created = create_endpoint(
        &app,
        &admin,
        client,
        "https://hooks.example.com/agency#ignored",
        &["lead.replied", "meeting.booked", "lead.replied"],
    )
    .await;
    let secret = created["secret"].as_str().unwrap();
    assert!(
        secret.starts_with("whsec_") && secret.len() > 40,
        "{created}"
    );
    assert_eq!(created["url"], "https://hooks.example.com/agency");
    assert_eq!(created["events"], json!(["lead.replied", "meeting.booked"]));
    assert_eq!(created["status"], "active");
    let id = created["id"].as_str().unwrap().to_owned();

    // Listed to any member, never with the secret.
    let res = app.send_as(&viewer, Method::GET, &path).await;
    assert_eq!(res.status(), 200);
    let list: Value = res.json().await.unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["id"], id.as_str());
    assert!(list["items"][0].get("secret").is_none(), "{list}");
    assert!(!list.to_string().contains(secret));

    let res = app
        .send_json_as(
            &admin,
            Method::PUT,
            &format!("{path}/{id}"),
            &json!({"events": ["call.completed"], "status": "disabled"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let changed: Value = res.json().await.unwrap();
    assert_eq!(changed["events"], json!(["call.completed"]));
    assert_eq!(changed["status"], "disabled");
    assert!(changed["disabled_reason"].as_str().is_some());
    assert!(changed.get("secret").is_none());
    let res = app
        .send_json_as(
            &admin,
            Method::PUT,
            &format!("{path}/{id}"),
            &json!({"status": "active"}),
        )
        .await;
    let changed: Value = res.json().await.unwrap();
    assert_eq!(changed["status"], "active");
    assert_eq!(changed["disabled_reason"], Value::Null);
    // The audit log never holds the secret.
    let audit: Vec<String> = sqlx::query_scalar(
        "SELECT coalesce(before::text, '') || coalesce(after::text, '') FROM audit_log WHERE client_id = $1",
    )
    .bind(client.into_uuid())
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(audit.len() >= 3 && audit.iter().all(|a| !a.contains(secret)));

    let res = app
        .send_as(&admin, Method::DELETE, &format!("{path}/{id}"))
        .await;
    assert_eq!(res.status(), 204);
    let res = app
        .send_as(&admin, Method::DELETE, &format!("{path}/{id}"))
        .await;
    assert_envelope(res, 404, "not_found").await;
    let list: Value = app
        .send_as(&viewer, Method::GET, &path)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
}

#[tokio::test]
async fn a_booked_and_cancelled_meeting_reach_the_receiver_signed() {
    let app = TestApp::spawn().await;
    let (receiver, port) = Receiver::start().await;
    let client = app.create_client("Acme").await;
    let owner = app.user_with_role(client, Role::Owner).await;
    let campaign = active_campaign(&app, client, "Spring").await;
    let jane = lead(&app, client, campaign, "jane@acme.com.au").await;
    let url = format!("http://127.0.0.1:{port}/hook");
    let endpoint = create_endpoint(
        &app,
        &owner,
        client,
        &url,
        &["meeting.booked", "meeting.cancelled"],
    )
    .await;
    let secret = endpoint["secret"].as_str().unwrap().to_owned();
    // Subscribed to something else: gets nothing.
    create_endpoint(&app, &owner, client, &url, &["call.completed"]).await;

    let start = (Utc::now() + chrono::Duration::hours(30))
        .duration_trunc(chrono::Duration::minutes(1))
        .unwrap();
    let res = app
        .send_json_as(
            &owner,
            Method::POST,
            &format!("/api/v1/clients/{client}/meetings"),
            &json!({"lead_id": jane, "scheduled_at": start, "duration_minutes": 30}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let meeting: Value = res.json().await.unwrap();
    let report = app.drain().await;
    assert!(report.failed.is_empty(), "{report:?}");

    let got = receiver.got();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_signed(&got[0], &secret);
    let body = got[0].json();
    assert_eq!(body["type"], "meeting.booked");
    assert!(body["timestamp"].as_str().unwrap().ends_with('Z'));
    assert_eq!(body["data"]["meeting_id"], meeting["id"]);
    assert_eq!(body["data"]["lead_id"], jane.to_string());
    assert_eq!(body.as_object().unwrap().len(), 3, "{body}");

    let res = app
        .send_as(
            &owner,
            Method::POST,
            &format!(
                "/api/v1/clients/{client}/meetings/{}/cancel",
                meeting["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_eq!(res.status(), 200);
    app.drain().await;
    let got = receiver.got();
    assert_eq!(got.len(), 2);
    assert_signed(&got[1], &secret);
    assert_eq!(got[1].json()["type"], "meeting.cancelled");
    assert_ne!(got[0].id, got[1].id);

    let log = deliveries(&app, &owner, client, endpoint["id"].as_str().unwrap()).await;
    assert_eq!(log["total"], 2);
    let newest = &log["items"][0];
    assert_eq!(newest["event_type"], "meeting.cancelled");
    assert_eq!(newest["status"], "delivered");
    assert_eq!(newest["attempts"], 1);
    assert_eq!(newest["last_status_code"], 200);
    assert_eq!(newest["last_response_excerpt"], "answered 200");
    assert_eq!(newest["attempt_log"].as_array().unwrap().len(), 1);
    assert!(newest["attempt_log"][0]["latency_ms"].as_i64().is_some());
    assert_eq!(
        format!(
            "msg_{}",
            newest["event_id"].as_str().unwrap().replace('-', "")
        ),
        got[1].id
    );
}

#[tokio::test]
async fn a_reply_and_an_unsubscribe_are_emitted_in_the_replys_transaction() {
    let app = TestApp::spawn().await;
    let (receiver, port) = Receiver::start().await;
    let client = app.create_client("Acme").await;
    let owner = app.user_with_role(client, Role::Owner).await;
    let campaign = active_campaign(&app, client, "Spring").await;
    let jane = lead(&app, client, campaign, "jane@acme.com.au").await;
    let endpoint = create_endpoint(
        &app,
        &owner,
        client,
        &format!("http://127.0.0.1:{port}/hook"),
        &["lead.replied", "lead.unsubscribed"],
    )
    .await;
    let secret = endpoint["secret"].as_str().unwrap().to_owned();
    let message = |event_id| InboundReply {
        event_id,
        client_id: client,
        channel: Channel::Email,
        sender: Sender::Email("jane@acme.com.au".into()),
        to: "hello@acme-agency.com.au".into(),
        subject: Some("Re: hello".into()),
        content: "Please unsubscribe me from this list.".into(),
        provider_message_id: None,
        received_at: Utc::now(),
    };
    let class = keyword_classification(
        "Please unsubscribe me from this list.",
        Utc::now().date_naive(),
    );
    let tz = chrono_tz::Australia::Sydney;
    // A rolled-back reply emits nothing.
    let mut tx = app.pool.begin().await.unwrap();
    record_inbound(&mut tx, &message(Uuid::now_v7()), &class, tz, Utc::now())
        .await
        .unwrap();
    tx.rollback().await.unwrap();
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM webhook_deliveries")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(queued, 0);

    let mut tx = app.pool.begin().await.unwrap();
    record_inbound(&mut tx, &message(Uuid::now_v7()), &class, tz, Utc::now())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    app.drain().await;
    let got = receiver.got();
    let mut types: Vec<String> = got
        .iter()
        .map(|r| {
            assert_signed(r, &secret);
            r.json()["type"].as_str().unwrap().to_owned()
        })
        .collect();
    types.sort();
    assert_eq!(types, ["lead.replied", "lead.unsubscribed"]);
    let replied = got
        .iter()
        .find(|r| r.json()["type"] == "lead.replied")
        .unwrap()
        .json();
    assert_eq!(replied["data"]["intent"], "unsubscribe");
    assert_eq!(replied["data"]["lead"]["lead_id"], jane.to_string());
    assert_eq!(replied["data"]["channel"], "email");
}

#[tokio::test]
async fn a_failed_attempt_is_retried_on_the_schedule_then_delivered() {
    let app = TestApp::spawn().await;
    let (receiver, port) = Receiver::start().await;
    let client = app.create_client("Acme").await;
    let admin = app.user_with_role(client, Role::Admin).await;
    let endpoint = create_endpoint(
        &app,
        &admin,
        client,
        &format!("http://127.0.0.1:{port}/hook"),
        &["lead.replied"],
    )
    .await;
    let id = endpoint["id"].as_str().unwrap();
    let secret = endpoint["secret"].as_str().unwrap();
    receiver.answer(&[500]);

    let res = app
        .send_as(
            &admin,
            Method::POST,
            &format!("{}/{id}/test", endpoints_path(client)),
        )
        .await;
    assert_eq!(res.status(), 202);
    let queued: Value = res.json().await.unwrap();
    assert_eq!(queued["event_type"], "webhook.test");
    assert_eq!(queued["status"], "pending");
    let before = Utc::now();
    app.drain().await;

    let log = deliveries(&app, &admin, client, id).await;
    let d = &log["items"][0];
    assert_eq!(d["status"], "pending", "{d}");
    assert_eq!(d["attempts"], 1);
    assert_eq!(d["last_status_code"], 500);
    assert_eq!(d["last_response_excerpt"].as_str().unwrap().len(), 1024);
    assert!(d["last_error"].as_str().unwrap().contains("500"));
    let next: chrono::DateTime<Utc> = d["next_attempt_at"].as_str().unwrap().parse().unwrap();
    let wait = (next - before).num_seconds();
    assert!(
        (3..=7).contains(&wait),
        "first retry after about 5 s, got {wait} s"
    );
    let failing: Value = app
        .send_as(&admin, Method::GET, &endpoints_path(client))
        .await
        .json()
        .await
        .unwrap();
    assert!(failing["items"][0]["failing_since"].as_str().is_some());
    // The retry is not due within the same drain.
    assert_eq!(receiver.got().len(), 1);

    make_retries_due(&app).await;
    app.drain().await;
    let got = receiver.got();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].id, got[1].id, "webhook-id is stable across attempts");
    assert_eq!(got[0].body, got[1].body);
    for r in &got {
        assert_signed(r, secret);
        assert_eq!(r.json()["type"], "webhook.test");
    }
    let log = deliveries(&app, &admin, client, id).await;
    let d = &log["items"][0];
    assert_eq!(d["status"], "delivered", "{d}");
    assert_eq!(d["attempts"], 2);
    let attempts = d["attempt_log"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["status_code"], 500);
    assert_eq!(attempts[1]["status_code"], 200);
    assert_eq!(d["next_attempt_at"], Value::Null);
    let healthy: Value = app
        .send_as(&admin, Method::GET, &endpoints_path(client))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(healthy["items"][0]["failing_since"], Value::Null);
    assert!(healthy["items"][0]["last_success_at"].as_str().is_some());
}

async fn alerts_for(app: &TestApp, client: ClientId) -> Vec<(String, String)> {
    sqlx::query_as(
        "SELECT kind, description FROM alerts WHERE client_id = $1 AND acknowledged_at IS NULL",
    )
    .bind(client.into_uuid())
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn gone_disables_the_endpoint_at_once_and_raises_an_alert() {
    let app = TestApp::spawn().await;
    let (receiver, port) = Receiver::start().await;
    let client = app.create_client("Acme").await;
    let admin = app.user_with_role(client, Role::Admin).await;
    let endpoint = create_endpoint(
        &app,
        &admin,
        client,
        &format!("http://127.0.0.1:{port}/hook"),
        &["campaign.completed"],
    )
    .await;
    let id = endpoint["id"].as_str().unwrap();
    receiver.answer(&[410]);
    let test = format!("{}/{id}/test", endpoints_path(client));
    assert_eq!(app.send_as(&admin, Method::POST, &test).await.status(), 202);
    app.drain().await;

    let d = &deliveries(&app, &admin, client, id).await["items"][0];
    assert_eq!(d["status"], "failed", "{d}");
    assert_eq!(d["attempts"], 1);
    let list: Value = app
        .send_as(&admin, Method::GET, &endpoints_path(client))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["status"], "disabled");
    assert!(
        list["items"][0]["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("410")
    );
    let alerts = alerts_for(&app, client).await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0].0, "webhook_endpoint_disabled");

    // Nothing more is sent: a completed campaign emits no delivery, a test is refused.
    let campaign = active_campaign(&app, client, "Spring").await;
    let res = app
        .send_as(
            &admin,
            Method::POST,
            &format!("/api/v1/clients/{client}/campaigns/{campaign}/complete"),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_envelope(
        app.send_as(&admin, Method::POST, &test).await,
        409,
        "webhook_endpoint_disabled",
    )
    .await;
    app.drain().await;
    assert_eq!(deliveries(&app, &admin, client, id).await["total"], 1);
    assert_eq!(receiver.got().len(), 1);

    // Re-enabled, the next completed campaign is delivered.
    let res = app
        .send_json_as(
            &admin,
            Method::PUT,
            &format!("{}/{id}", endpoints_path(client)),
            &json!({"status": "active"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let campaign = active_campaign(&app, client, "Autumn").await;
    app.send_as(
        &admin,
        Method::POST,
        &format!("/api/v1/clients/{client}/campaigns/{campaign}/complete"),
    )
    .await;
    app.drain().await;
    let got = receiver.got();
    assert_eq!(got.len(), 2);
    let body = got[1].json();
    assert_eq!(body["type"], "campaign.completed");
    assert_eq!(body["data"]["campaign_id"], campaign.to_string());
    assert_eq!(body["data"]["name"], "Autumn");
}

#[tokio::test]
async fn an_endpoint_failing_for_five_days_is_disabled_and_pending_deliveries_stop() {
    let app = TestApp::spawn().await;
    let (receiver, port) = Receiver::start().await;
    let client = app.create_client("Acme").await;
    let admin = app.user_with_role(client, Role::Admin).await;
    let endpoint = create_endpoint(
        &app,
        &admin,
        client,
        &format!("http://127.0.0.1:{port}/hook"),
        &["lead.replied"],
    )
    .await;
    let id = endpoint["id"].as_str().unwrap();
    let test = format!("{}/{id}/test", endpoints_path(client));

    // Failing for 4 days: retried.
    sqlx::query("UPDATE webhook_endpoints SET failing_since = now() - interval '4 days'")
        .execute(&app.pool)
        .await
        .unwrap();
    receiver.answer(&[503, 503]);
    app.send_as(&admin, Method::POST, &test).await;
    app.drain().await;
    assert_eq!(
        deliveries(&app, &admin, client, id).await["items"][0]["status"],
        "pending"
    );
    // A second event queued behind it.
    app.send_as(&admin, Method::POST, &test).await;

    // Failing for 5 days and more: disabled on the next failure.
    sqlx::query("UPDATE webhook_endpoints SET failing_since = now() - interval '5 days 1 minute'")
        .execute(&app.pool)
        .await
        .unwrap();
    make_retries_due(&app).await;
    app.drain().await;
    let list: Value = app
        .send_as(&admin, Method::GET, &endpoints_path(client))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["status"], "disabled");
    assert!(
        list["items"][0]["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("5 days")
    );
    let log = deliveries(&app, &admin, client, id).await;
    let statuses: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failed", "failed"], "{log}");
    // Two requests were made (the 4-day failure, then the failure that disabled it); the
    // remaining attempt was given up without a request.
    assert_eq!(receiver.got().len(), 2);
    let given_up = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["last_error"]
                .as_str()
                .unwrap_or_default()
                .contains("is disabled, so the event was not sent")
        })
        .count();
    assert_eq!(given_up, 1, "{log}");
    let alerts = alerts_for(&app, client).await;
    assert_eq!(alerts.len(), 1);
    assert!(alerts[0].1.contains("5 days"), "{alerts:?}");
}

#[tokio::test]
async fn a_rotated_secret_signs_alongside_the_previous_one() {
    let app = TestApp::spawn().await;
    let (receiver, port) = Receiver::start().await;
    let client = app.create_client("Acme").await;
    let owner = app.user_with_role(client, Role::Owner).await;
    let endpoint = create_endpoint(
        &app,
        &owner,
        client,
        &format!("http://127.0.0.1:{port}/hook"),
        &["lead.replied"],
    )
    .await;
    let id = endpoint["id"].as_str().unwrap();
    let old = endpoint["secret"].as_str().unwrap();
    let res = app
        .send_as(
            &owner,
            Method::POST,
            &format!("{}/{id}/rotate-secret", endpoints_path(client)),
        )
        .await;
    assert_eq!(res.status(), 200);
    let rotated: Value = res.json().await.unwrap();
    let new = rotated["secret"].as_str().unwrap();
    assert!(new.starts_with("whsec_") && new != old);
    let until: chrono::DateTime<Utc> = rotated["previous_secret_expires_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (until - Utc::now() - chrono::Duration::hours(24))
            .num_seconds()
            .abs()
            < 60
    );

    app.send_as(
        &owner,
        Method::POST,
        &format!("{}/{id}/test", endpoints_path(client)),
    )
    .await;
    app.drain().await;
    let got = receiver.got();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].signature.split(' ').count(), 2, "{:?}", got[0]);
    assert_signed(&got[0], new);
    assert_signed(&got[0], old);

    // After the overlap only the new secret signs.
    sqlx::query(
        "UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 second'",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    app.send_as(
        &owner,
        Method::POST,
        &format!("{}/{id}/test", endpoints_path(client)),
    )
    .await;
    app.drain().await;
    let got = receiver.got();
    assert_eq!(got[1].signature.split(' ').count(), 1);
    assert_signed(&got[1], new);
    assert!(!verify(
        old,
        &got[1].id,
        got[1].timestamp,
        &got[1].body,
        &got[1].signature
    ));
}

fn services_with(app: &TestApp, policy: AddressPolicy, production: bool) -> Services {
    let sender = HttpWebhookSender::new(policy, Duration::from_secs(5)).unwrap();
    let mut services = app.services.clone();
    services.providers = Arc::new(Providers::sandbox(Utc::now()).with_webhooks(Arc::new(sender)));
    services.with_settings(EngineSettings {
        production,
        ..EngineSettings::default()
    })
}

#[tokio::test]
async fn outside_development_private_addresses_are_refused_at_connect_time() {
    let app = TestApp::spawn().await;
    let (receiver, port) = Receiver::start().await;
    let client = app.create_client("Acme").await;
    let admin = app.user_with_role(client, Role::Admin).await;
    // Development accepts plain http to a local receiver; the worker here guards like
    // production: by IP literal, and by a name that resolves to loopback (checked on the
    // resolved address when connecting).
    let by_ip = create_endpoint(
        &app,
        &admin,
        client,
        &format!("http://127.0.0.1:{port}/hook"),
        &["lead.replied"],
    )
    .await;
    let by_name = create_endpoint(
        &app,
        &admin,
        client,
        &format!("http://localhost:{port}/hook"),
        &["lead.replied"],
    )
    .await;
    for e in [&by_ip, &by_name] {
        let id = e["id"].as_str().unwrap();
        app.send_as(
            &admin,
            Method::POST,
            &format!("{}/{id}/test", endpoints_path(client)),
        )
        .await;
    }
    let guarded = services_with(&app, AddressPolicy::PUBLIC_ONLY, true);
    let report = agency_engine::jobs::drain(&guarded, &agency_engine::jobs::handlers::registry())
        .await
        .unwrap();
    assert!(report.failed.is_empty(), "{report:?}");
    assert!(receiver.got().is_empty(), "a private address was called");
    for e in [&by_ip, &by_name] {
        let d = &deliveries(&app, &admin, client, e["id"].as_str().unwrap()).await["items"][0];
        assert_eq!(d["status"], "pending", "{d}");
        assert_eq!(d["last_status_code"], Value::Null);
        assert!(
            d["last_error"]
                .as_str()
                .unwrap()
                .contains("not a public address"),
            "{d}"
        );
    }

    // In production the API refuses plain http and private IP literals up front.
    let prod = services_with(&app, AddressPolicy::PUBLIC_ONLY, true);
    let tenant = TenantContext {
        client_id: client,
        user_id: agency_domain::UserId::from_uuid(admin.id),
        role: Role::Admin,
        request_id: None,
    };
    for (url, message) in [
        ("http://hooks.example.com/x".to_owned(), "https"),
        (format!("https://127.0.0.1:{port}/hook"), "private"),
        ("https://[::1]/hook".to_owned(), "private"),
        ("https://169.254.169.254/latest".to_owned(), "private"),
    ] {
        let input = EndpointCreate {
            url,
            events: vec!["lead.replied".into()],
        };
        let err = endpoints::create(&prod, &tenant, &input).await.unwrap_err();
        assert!(err.to_string().contains(message), "{err}");
    }
    let ok = EndpointCreate {
        url: "https://hooks.example.com/x".into(),
        events: vec!["lead.replied".into()],
    };
    endpoints::create(&prod, &tenant, &ok).await.unwrap();
}

fn fresh_endpoint(app: &TestApp, client: ClientId) -> futures::future::BoxFuture<'_, Value> {
    Box::pin(async move {
        let id: Uuid = sqlx::query_scalar(
            "INSERT INTO webhook_endpoints (client_id, url, events, secret)
             VALUES ($1, 'https://hooks.example.com/in', '{lead.replied}', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')
             RETURNING id",
        )
        .bind(client.into_uuid())
        .fetch_one(&app.pool)
        .await
        .expect("endpoint");
        json!({"id": id})
    })
}

fn new_endpoint() -> Value {
    json!({"url": "https://hooks.example.com/in", "events": ["meeting.booked"]})
}

fn change() -> Value {
    json!({"events": ["call.completed"]})
}

#[tokio::test]
async fn tenancy_and_role_matrix_of_the_webhook_routes() {
    let app = TestApp::spawn().await;
    let case = |name, method, path, body, min_role, success, setup| MatrixCase {
        name,
        method,
        path,
        body,
        min_role,
        success,
        setup,
    };
    let setup: Option<agency_testkit::matrix::Setup> = Some(fresh_endpoint);
    run_matrix(
        &app,
        &[
            case(
                "list endpoints",
                Method::GET,
                "/api/v1/clients/{client_id}/webhook-endpoints",
                None,
                Role::Viewer,
                200,
                None,
            ),
            case(
                "create endpoint",
                Method::POST,
                "/api/v1/clients/{client_id}/webhook-endpoints",
                Some(new_endpoint as fn() -> Value),
                Role::Admin,
                201,
                None,
            ),
            case(
                "update endpoint",
                Method::PUT,
                "/api/v1/clients/{client_id}/webhook-endpoints/{id}",
                Some(change as fn() -> Value),
                Role::Admin,
                200,
                setup,
            ),
            case(
                "delete endpoint",
                Method::DELETE,
                "/api/v1/clients/{client_id}/webhook-endpoints/{id}",
                None,
                Role::Admin,
                204,
                setup,
            ),
            case(
                "endpoint deliveries",
                Method::GET,
                "/api/v1/clients/{client_id}/webhook-endpoints/{id}/deliveries",
                None,
                Role::Viewer,
                200,
                setup,
            ),
            case(
                "test endpoint",
                Method::POST,
                "/api/v1/clients/{client_id}/webhook-endpoints/{id}/test",
                None,
                Role::Admin,
                202,
                setup,
            ),
            case(
                "rotate secret",
                Method::POST,
                "/api/v1/clients/{client_id}/webhook-endpoints/{id}/rotate-secret",
                None,
                Role::Admin,
                200,
                setup,
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn another_clients_endpoint_is_not_found_under_ones_own_client() {
    let app = TestApp::spawn().await;
    let a = app.create_client("Acme").await;
    let b = app.create_client("Bravo").await;
    let owner_b = app.user_with_role(b, Role::Owner).await;
    let a_endpoint = fresh_endpoint(&app, a).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let before = app.tenant_fingerprint(a).await;
    let base = format!("{}/{a_endpoint}", endpoints_path(b));
    for (method, path) in [
        (Method::PUT, base.clone()),
        (Method::DELETE, base.clone()),
        (Method::GET, format!("{base}/deliveries")),
        (Method::POST, format!("{base}/test")),
        (Method::POST, format!("{base}/rotate-secret")),
    ] {
        let res = app
            .send_json_as(
                &owner_b,
                method.clone(),
                &path,
                &json!({"status": "disabled"}),
            )
            .await;
        assert_envelope(res, 404, "not_found").await;
    }
    let list: Value = app
        .send_as(&owner_b, Method::GET, &endpoints_path(b))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 0);
    assert_eq!(app.tenant_fingerprint(a).await, before);
}

#[tokio::test]
async fn a_call_report_and_an_unsubscribe_link_are_emitted() {
    const VAPI_SECRET: &str = "vapi-test-secret";
    let app = TestApp::spawn_with(|s| {
        s.webhooks = agency_engine::inbound::receive::WebhooksConfig {
            vapi_webhook_secret: Some(secrecy::SecretString::from(VAPI_SECRET)),
            ..Default::default()
        }
        .secrets()
        .expect("webhook secrets")
    })
    .await;
    let (receiver, port) = Receiver::start().await;
    let client = app.create_client("Acme").await;
    let owner = app.user_with_role(client, Role::Owner).await;
    let campaign = active_campaign(&app, client, "Spring").await;
    let jane = lead(&app, client, campaign, "jane@acme.com.au").await;
    let endpoint = create_endpoint(
        &app,
        &owner,
        client,
        &format!("http://127.0.0.1:{port}/hook"),
        &["call.completed", "lead.unsubscribed"],
    )
    .await;
    let secret = endpoint["secret"].as_str().unwrap().to_owned();

    // Vapi's end-of-call report, delivered twice: applied once, one event.
    let report = json!({"message": {
        "type": "end-of-call-report",
        "endedReason": "customer-ended-call",
        "call": {"id": "call-9", "metadata": {"client_id": client, "lead_id": jane}},
        "durationSeconds": 95,
        "analysis": {"summary": "Asked for a callback.", "structuredData": {"outcome": "callback_requested"}},
    }});
    let bytes = serde_json::to_vec(&report).unwrap();
    for _ in 0..2 {
        let res = app
            .request(Method::POST, "/webhooks/vapi")
            .header("content-type", "application/json")
            .header(
                "x-vapi-signature",
                agency_engine::inbound::receive::webhooks::vapi::signature(VAPI_SECRET, &bytes),
            )
            .body(bytes.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let report = app.drain().await;
    assert!(report.failed.is_empty(), "{report:?}");
    let got = receiver.got();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_signed(&got[0], &secret);
    let body = got[0].json();
    assert_eq!(body["type"], "call.completed");
    assert_eq!(body["data"]["call_id"], "call-9");
    assert_eq!(body["data"]["outcome"], "callback_requested");
    assert_eq!(body["data"]["summary"], "Asked for a callback.");

    // The one-click unsubscribe link, applied twice: one event.
    let token = app
        .settings
        .links
        .unsubscribe_token(agency_domain::LeadId::from_uuid(jane));
    for _ in 0..2 {
        let res = app
            .request(Method::POST, &format!("/u/{token}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    app.drain().await;
    let got = receiver.got();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_signed(&got[1], &secret);
    let body = got[1].json();
    assert_eq!(body["type"], "lead.unsubscribed");
    assert_eq!(body["data"]["source"], "unsubscribe_link");
    assert_eq!(body["data"]["lead"]["lead_id"], jane.to_string());
}
