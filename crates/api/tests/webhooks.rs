//! Provider webhooks end to end over real HTTP: signatures checked on the raw bytes (Twilio
//! over PUBLIC_BASE_URL + path + sorted params, Resend's Svix scheme with its tolerance, Vapi's
//! HMAC or static secret); a bad or missing signature is 401 with nothing stored; a verified
//! but unreadable body is 400 and kept as `rejected`; a verified event is stored with its job
//! queued before the answer; a redelivery stores and queues nothing; processing applies once
//! (replies matched to the lead of the tenant owning the receiving number or domain, STOP
//! unsubscribes and suppresses, bounces and complaints suppress, delivery events become
//! activities); Vapi tool calls are answered synchronously; the admin inbox lists and replays.

use std::sync::Arc;

use agency_domain::{ClientId, Role};
use agency_engine::Services;
use agency_engine::inbound::process::process_webhook_event;
use agency_engine::inbound::receive::webhooks::svix::SvixSecret;
use agency_engine::inbound::receive::webhooks::{twilio, vapi};
use agency_engine::inbound::receive::{WebhookSecrets, WebhooksConfig};
use agency_engine::jobs::payload::ProcessWebhookEvent;
use agency_engine::jobs::{JobContext, JobKind};
use agency_testkit::{TestApp, assert_envelope};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};
use uuid::Uuid;

const TWILIO_TOKEN: &str = "twilio-test-token";
const RESEND_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const VAPI_SECRET: &str = "vapi-test-secret";
const PUBLIC: &str = "https://hooks.agency.example";

fn secrets() -> WebhookSecrets {
    WebhooksConfig {
        public_base_url: Some(PUBLIC.into()),
        twilio_auth_token: Some(SecretString::from(TWILIO_TOKEN)),
        resend_webhook_secret: Some(SecretString::from(RESEND_SECRET)),
        vapi_webhook_secret: Some(SecretString::from(VAPI_SECRET)),
    }
    .secrets()
    .expect("valid secrets")
}

async fn app() -> TestApp {
    TestApp::spawn_with(|s| s.webhooks = secrets()).await
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_owned()))
        .fetch_one(&app.pool)
        .await
        .expect(sql)
}

async fn jobs(app: &TestApp) -> i64 {
    count(
        app,
        "SELECT count(*) FROM apalis.jobs WHERE job_type = 'process_webhook_event'",
    )
    .await
}

/// Runs the processing job of every pending event `times` times (a redelivered job).
async fn process_all(app: &TestApp, times: u32) {
    let ids: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM webhook_events WHERE status = 'pending'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let cache = agency_cache::FallbackCache::new(None, app.pool.clone()).unwrap();
    let services = Services::with_sandbox_providers(app.pool.clone(), Arc::new(cache));
    let ctx = JobContext::in_process(services, JobKind::ProcessWebhookEvent);
    for _ in 0..times {
        for id in &ids {
            process_webhook_event(ctx.clone(), ProcessWebhookEvent { event_id: *id })
                .await
                .expect("processed");
        }
    }
}

fn form(params: &[(&str, &str)]) -> (String, Vec<(String, String)>) {
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    (body, owned)
}

async fn post_twilio(
    app: &TestApp,
    path: &str,
    params: &[(&str, &str)],
    sign_url: Option<&str>,
) -> reqwest::Response {
    let (body, owned) = form(params);
    let url = sign_url
        .map(str::to_owned)
        .unwrap_or_else(|| format!("{PUBLIC}{path}"));
    let sig = twilio::signature(TWILIO_TOKEN, &url, &owned);
    app.request(Method::POST, path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", sig)
        .body(body)
        .send()
        .await
        .unwrap()
}

async fn tenant_with_number(app: &TestApp, number: &str) -> ClientId {
    let client = app.create_client("Acme").await;
    sqlx::query(
        "INSERT INTO sending_resources (client_id, kind, value, verified_at) VALUES ($1, 'sms_number', $2, now())",
    )
    .bind(client.into_uuid())
    .bind(number)
    .execute(&app.pool)
    .await
    .unwrap();
    client
}

async fn lead(app: &TestApp, client: ClientId, email: &str, phone: Option<&str>) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO leads (client_id, email, phone, status, next_action_at)
         VALUES ($1, $2, $3, 'in_sequence', now() + interval '1 day') RETURNING id",
    )
    .bind(client.into_uuid())
    .bind(email)
    .bind(phone)
    .fetch_one(&app.pool)
    .await
    .unwrap()
}

async fn lead_state(app: &TestApp, id: Uuid) -> (String, Option<chrono::DateTime<chrono::Utc>>) {
    sqlx::query_as("SELECT status, next_action_at FROM leads WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn twilio_sms_is_verified_stored_once_and_becomes_a_matched_reply() {
    let app = app().await;
    let our_number = "+61480000001";
    let client = tenant_with_number(&app, our_number).await;
    let jane = lead(&app, client, "jane@acme.com.au", Some("+61412345678")).await;
    // The same sender in another tenant is never matched.
    let other = app.create_client("Other").await;
    let other_jane = lead(&app, other, "jane@acme.com.au", Some("+61412345678")).await;
    let sms = [
        ("MessageSid", "SM0001"),
        ("AccountSid", "AC123"),
        ("From", "+61412345678"),
        ("To", our_number),
        ("Body", "Sounds interesting, can we book a call next week?"),
        ("NumMedia", "0"),
    ];
    let res = post_twilio(&app, "/webhooks/twilio/sms", &sms, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/xml");
    assert_eq!(
        res.text().await.unwrap(),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>"
    );
    // Stored and queued before the answer.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM webhook_events WHERE status = 'pending'"
        )
        .await,
        1
    );
    assert_eq!(jobs(&app).await, 1);
    // Redelivery: 200, nothing new.
    let res = post_twilio(&app, "/webhooks/twilio/sms", &sms, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(count(&app, "SELECT count(*) FROM webhook_events").await, 1);
    assert_eq!(jobs(&app).await, 1);

    // Processing twice applies once.
    process_all(&app, 2).await;
    let (lead_id, channel, intent, content): (Option<Uuid>, String, String, String) =
        sqlx::query_as(
            "SELECT lead_id, channel, intent, content FROM replies WHERE client_id = $1",
        )
        .bind(client.into_uuid())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(lead_id, Some(jane));
    assert_eq!(
        (channel.as_str(), intent.as_str()),
        ("sms", "meeting_request")
    );
    assert_eq!(content, sms[4].1);
    assert_eq!(count(&app, "SELECT count(*) FROM replies").await, 1);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM activities WHERE action = 'replied'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM webhook_events WHERE status = 'processed' AND client_id IS NOT NULL").await,
        1
    );
    // The reply stopped Jane's sequence; the other tenant's Jane is untouched.
    assert_eq!(
        lead_state(&app, jane).await,
        ("in_sequence".to_owned(), None)
    );
    assert!(lead_state(&app, other_jane).await.1.is_some());

    // STOP: unsubscribed, the number suppressed everywhere, every planned send cancelled.
    sqlx::query(
        "WITH c AS (INSERT INTO campaigns (client_id, name, status) VALUES ($1, 'Spring', 'active') RETURNING id)
         INSERT INTO outreach_sends (client_id, campaign_id, lead_id, step_number, channel, due_at)
         SELECT $1, c.id, $2, s.n, s.ch, now() + interval '1 day'
           FROM c, (VALUES (2, 'email'), (3, 'sms'), (4, 'voice')) AS s(n, ch)",
    )
    .bind(client.into_uuid())
    .bind(jane)
    .execute(&app.pool)
    .await
    .unwrap();
    let stop = [
        ("MessageSid", "SM0002"),
        ("From", "+61412345678"),
        ("To", our_number),
        ("Body", "STOP"),
    ];
    assert_eq!(
        post_twilio(&app, "/webhooks/twilio/sms", &stop, None)
            .await
            .status(),
        200
    );
    process_all(&app, 1).await;
    assert_eq!(lead_state(&app, jane).await.0, "unsubscribed");
    assert_eq!(
        count(&app, "SELECT count(*) FROM global_suppression WHERE phone = '+61412345678' AND reason = 'unsubscribe'").await,
        1
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM outreach_sends WHERE status = 'cancelled' AND blocked_reason = 'unsubscribed'").await,
        3
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM outreach_sends WHERE status = 'scheduled'"
        )
        .await,
        0
    );
    // An unknown sender is stored unmatched; a number nobody owns is ignored.
    let stranger = [
        ("MessageSid", "SM0003"),
        ("From", "+61499999999"),
        ("To", our_number),
        ("Body", "who is this?"),
    ];
    let nobody = [
        ("MessageSid", "SM0004"),
        ("From", "+61499999999"),
        ("To", "+61480000999"),
        ("Body", "hi"),
    ];
    post_twilio(&app, "/webhooks/twilio/sms", &stranger, None).await;
    post_twilio(&app, "/webhooks/twilio/sms", &nobody, None).await;
    process_all(&app, 1).await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM replies WHERE lead_id IS NULL AND from_address = '+61499999999'"
        )
        .await,
        1
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM webhook_events WHERE status = 'ignored'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn twilio_signatures_are_required_and_checked_over_the_public_url() {
    let app = app().await;
    let params = [
        ("MessageSid", "SM1"),
        ("From", "+61412345678"),
        ("To", "+61480000001"),
        ("Body", "hi"),
    ];
    // Signed over the local address instead of PUBLIC_BASE_URL: refused.
    let local = format!("{}/webhooks/twilio/sms", app.base_url);
    let res = post_twilio(&app, "/webhooks/twilio/sms", &params, Some(&local)).await;
    assert_envelope(res, 401, "invalid_signature").await;
    // Tampered body after signing.
    let (_, owned) = form(&params);
    let sig = twilio::signature(
        TWILIO_TOKEN,
        &format!("{PUBLIC}/webhooks/twilio/sms"),
        &owned,
    );
    let (tampered, _) = form(&[
        ("MessageSid", "SM1"),
        ("From", "+61412345678"),
        ("To", "+61480000001"),
        ("Body", "HI"),
    ]);
    let res = app
        .request(Method::POST, "/webhooks/twilio/sms")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", sig)
        .body(tampered)
        .send()
        .await
        .unwrap();
    assert_envelope(res, 401, "invalid_signature").await;
    // No signature at all.
    let (body, _) = form(&params);
    let res = app
        .request(Method::POST, "/webhooks/twilio/status")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_envelope(res, 401, "invalid_signature").await;
    assert_eq!(count(&app, "SELECT count(*) FROM webhook_events").await, 0);
    // Verified but without MessageSid / MessageStatus: 400, kept as rejected, not queued.
    let res = post_twilio(
        &app,
        "/webhooks/twilio/status",
        &[("MessageSid", "SM9")],
        None,
    )
    .await;
    assert_envelope(res, 400, "unreadable_webhook").await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM webhook_events WHERE status = 'rejected'"
        )
        .await,
        1
    );
    assert_eq!(jobs(&app).await, 0);
    // Without a configured token every Twilio webhook is refused.
    let bare = TestApp::spawn().await;
    let res = post_twilio(&bare, "/webhooks/twilio/sms", &params, None).await;
    assert_envelope(res, 401, "invalid_signature").await;
}

#[tokio::test]
async fn twilio_status_callbacks_record_delivery_and_mark_dead_numbers() {
    let app = app().await;
    let client = tenant_with_number(&app, "+61480000001").await;
    let jane = lead(&app, client, "jane@acme.com.au", Some("+61412345678")).await;
    let bob = lead(&app, client, "bob@acme.com.au", Some("+61298765432")).await;
    for (l, sid) in [(jane, "SMjane"), (bob, "SMbob")] {
        sqlx::query(
            "INSERT INTO activities (client_id, lead_id, channel, action, provider_message_id)
             VALUES ($1, $2, 'sms', 'sent', $3)",
        )
        .bind(client.into_uuid())
        .bind(l)
        .bind(sid)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    let callbacks: [&[(&str, &str)]; 4] = [
        &[("MessageSid", "SMjane"), ("MessageStatus", "sent")],
        &[("MessageSid", "SMjane"), ("MessageStatus", "delivered")],
        &[
            ("MessageSid", "SMbob"),
            ("MessageStatus", "undelivered"),
            ("ErrorCode", "30006"),
        ],
        &[
            ("MessageSid", "SMbob"),
            ("MessageStatus", "undelivered"),
            ("ErrorCode", "30006"),
        ],
    ];
    for params in callbacks {
        assert_eq!(
            post_twilio(&app, "/webhooks/twilio/status", params, None)
                .await
                .status(),
            200
        );
    }
    // The repeated callback (same sid and status) was stored once.
    assert_eq!(count(&app, "SELECT count(*) FROM webhook_events").await, 3);
    process_all(&app, 2).await;
    assert_eq!(
        count(&app, "SELECT count(*) FROM activities WHERE action = 'delivered' AND provider_message_id = 'SMjane'").await,
        1
    );
    assert_eq!(
        count(&app, "SELECT count(*) FROM activities WHERE action = 'failed' AND provider_message_id = 'SMbob'").await,
        1
    );
    let (reason,): (Option<String>,) =
        sqlx::query_as("SELECT phone_unusable_reason FROM leads WHERE id = $1")
            .bind(bob)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(reason.as_deref(), Some("30006"));
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM webhook_events WHERE status = 'ignored'"
        )
        .await,
        1
    );
}

fn resend_headers(id: &str, ts: i64, body: &[u8]) -> Vec<(&'static str, String)> {
    let sig = SvixSecret::parse(RESEND_SECRET).unwrap().sign(id, ts, body);
    vec![
        ("svix-id", id.to_owned()),
        ("svix-timestamp", ts.to_string()),
        ("svix-signature", sig),
    ]
}

async fn post_resend(app: &TestApp, headers: &[(&str, String)], body: &[u8]) -> reqwest::Response {
    let mut req = app
        .request(Method::POST, "/webhooks/resend")
        .header("content-type", "application/json")
        .body(body.to_vec());
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn resend_events_are_verified_and_applied_once() {
    let app = app().await;
    let client = app.create_client("Acme").await;
    sqlx::query("INSERT INTO sending_resources (client_id, kind, value, verified_at) VALUES ($1, 'email_domain', 'mail.acme-agency.com', now())")
        .bind(client.into_uuid())
        .execute(&app.pool)
        .await
        .unwrap();
    let jane = lead(&app, client, "jane@example.com.au", None).await;
    sqlx::query(
        "INSERT INTO activities (client_id, lead_id, channel, action, provider_message_id)
         VALUES ($1, $2, 'email', 'sent', '4ef9a417-02e9-4d39-ad75-9611e0fcc33c')",
    )
    .bind(client.into_uuid())
    .bind(jane)
    .execute(&app.pool)
    .await
    .unwrap();
    let now = chrono::Utc::now().timestamp();
    let event = |kind: &str, extra: Value| {
        let mut data = json!({
            "email_id": "4ef9a417-02e9-4d39-ad75-9611e0fcc33c",
            "from": "Acme <hello@mail.acme-agency.com>",
            "to": ["jane@example.com.au"],
            "subject": "Quick question",
            "created_at": "2026-12-03T01:00:00.000Z",
        });
        if let (Some(d), Some(e)) = (data.as_object_mut(), extra.as_object()) {
            d.extend(e.clone());
        }
        serde_json::to_vec(
            &json!({"type": kind, "created_at": "2026-12-03T01:00:00.000Z", "data": data}),
        )
        .unwrap()
    };
    let delivered = event("email.delivered", json!({}));
    let res = post_resend(
        &app,
        &resend_headers("msg_delivered", now, &delivered),
        &delivered,
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"status": "stored"})
    );
    let res = post_resend(
        &app,
        &resend_headers("msg_delivered", now, &delivered),
        &delivered,
    )
    .await;
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"status": "duplicate"})
    );
    let clicked = event(
        "email.clicked",
        json!({"click": {"link": "https://acme.example/offer", "timestamp": "2026-12-03T01:05:00.000Z"}}),
    );
    post_resend(
        &app,
        &resend_headers("msg_clicked", now, &clicked),
        &clicked,
    )
    .await;
    let bounced = event(
        "email.bounced",
        json!({"bounce": {"message": "mailbox does not exist", "type": "Permanent", "subType": "General"}}),
    );
    post_resend(
        &app,
        &resend_headers("msg_bounced", now, &bounced),
        &bounced,
    )
    .await;
    assert_eq!(jobs(&app).await, 3);

    // Refused: stale (both directions), tampered, wrong secret, missing header.
    // Fresh clock and a margin: the test may have run for seconds since `now`.
    let fresh = chrono::Utc::now().timestamp();
    for ts in [fresh - 310, fresh + 310] {
        let res = post_resend(&app, &resend_headers("msg_x", ts, &delivered), &delivered).await;
        assert_envelope(res, 401, "invalid_signature").await;
    }
    let res = post_resend(&app, &resend_headers("msg_x", now, &delivered), &clicked).await;
    assert_envelope(res, 401, "invalid_signature").await;
    let wrong = SvixSecret::parse("whsec_c2VjcmV0LXRoYXQtaXMtbm90LWl0")
        .unwrap()
        .sign("msg_x", now, &delivered);
    let res = post_resend(
        &app,
        &[
            ("svix-id", "msg_x".into()),
            ("svix-timestamp", now.to_string()),
            ("svix-signature", wrong),
        ],
        &delivered,
    )
    .await;
    assert_envelope(res, 401, "invalid_signature").await;
    let mut missing = resend_headers("msg_x", now, &delivered);
    missing.remove(0);
    assert_envelope(
        post_resend(&app, &missing, &delivered).await,
        401,
        "invalid_signature",
    )
    .await;
    assert_eq!(count(&app, "SELECT count(*) FROM webhook_events").await, 3);
    // Signed but not an event: 400 and kept.
    let junk = b"not json at all";
    let res = post_resend(&app, &resend_headers("msg_junk", now, junk), junk).await;
    assert_envelope(res, 400, "unreadable_webhook").await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM webhook_events WHERE status = 'rejected'"
        )
        .await,
        1
    );

    process_all(&app, 2).await;
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM activities WHERE lead_id = $1 ORDER BY created_at, id",
    )
    .bind(jane)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(actions, vec!["sent", "delivered", "clicked", "bounced"]);
    let link: String =
        sqlx::query_scalar("SELECT metadata->>'link' FROM activities WHERE action = 'clicked'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(link, "https://acme.example/offer");
    assert_eq!(lead_state(&app, jane).await.0, "bounced");
    assert_eq!(
        count(&app, "SELECT count(*) FROM global_suppression WHERE email = 'jane@example.com.au' AND reason = 'bounce' AND source = 'resend'").await,
        1
    );

    // An admin replaying the delivery events records nothing twice.
    let processed: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM webhook_events WHERE status = 'processed'")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(processed.len(), 3);
    for id in &processed {
        agency_engine::inbound::process::replay(&app.pool, *id)
            .await
            .expect("replayed");
    }
    process_all(&app, 1).await;
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM webhook_events WHERE status = 'processed'"
        )
        .await,
        3
    );
    let again: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM activities WHERE lead_id = $1 ORDER BY created_at, id",
    )
    .bind(jane)
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(again, vec!["sent", "delivered", "clicked", "bounced"]);

    // An inbound email to the client's domain becomes a matched reply.
    let inbound = serde_json::to_vec(&json!({
        "type": "email.received",
        "created_at": "2026-12-03T02:00:00.000Z",
        "data": {
            "email_id": "56761188-7520-42d8-8898-ff6fc54ce618",
            "created_at": "2026-12-03T02:00:00.000Z",
            "from": "Jane Citizen <Jane@Example.com.au>",
            "to": ["hello@mail.acme-agency.com"],
            "subject": "Re: Quick question",
            "text": "I am out of the office until 15 January 2027.",
        }
    }))
    .unwrap();
    post_resend(
        &app,
        &resend_headers("msg_inbound", now, &inbound),
        &inbound,
    )
    .await;
    process_all(&app, 1).await;
    let (lead_id, intent, subject): (Option<Uuid>, String, Option<String>) =
        sqlx::query_as("SELECT lead_id, intent, subject FROM replies")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(lead_id, Some(jane));
    assert_eq!(intent, "out_of_office");
    assert_eq!(subject.as_deref(), Some("Re: Quick question"));
}

async fn post_vapi(app: &TestApp, body: &Value, signed: bool) -> reqwest::Response {
    let bytes = serde_json::to_vec(body).unwrap();
    let mut req = app
        .request(Method::POST, "/webhooks/vapi")
        .header("content-type", "application/json");
    if signed {
        req = req.header("x-vapi-signature", vapi::signature(VAPI_SECRET, &bytes));
    }
    req.body(bytes).send().await.unwrap()
}

#[tokio::test]
async fn vapi_tool_calls_book_meetings_and_call_reports_are_recorded() {
    let app = app().await;
    let client = app.create_client("Acme").await;
    let jane = lead(&app, client, "jane@acme.com.au", Some("+61893334444")).await;
    let call = json!({"id": "call-123", "metadata": {"client_id": client, "lead_id": jane}});
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).date_naive();
    let availability = json!({"message": {
        "type": "tool-calls",
        "call": call,
        "toolCallList": [{"id": "tc-1", "type": "function", "function": {"name": "get_availability", "arguments": {"date": tomorrow.to_string()}}}],
    }});
    let res = post_vapi(&app, &availability, true).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["results"][0]["toolCallId"], "tc-1");
    let result: Value =
        serde_json::from_str(body["results"][0]["result"].as_str().unwrap()).unwrap();
    // A Perth number: the lead's timezone.
    assert_eq!(result["timezone"], "Australia/Perth");
    let slots = result["slots"].as_array().unwrap().clone();
    let weekday = agency_domain::calendar::is_weekday(tomorrow);
    assert_eq!(slots.is_empty(), !weekday);
    let start = if weekday {
        slots[0].as_str().unwrap().to_owned()
    } else {
        (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339()
    };
    let booking = |id: &str| {
        json!({"message": {
            "type": "tool-calls",
            "call": call,
            "toolCallList": [{"id": id, "type": "function", "function": {"name": "book_meeting", "arguments": format!("{{\"scheduled_at\": \"{start}\"}}")}}],
        }})
    };
    let res: Value = post_vapi(&app, &booking("tc-2"), true)
        .await
        .json()
        .await
        .unwrap();
    let booked: Value =
        serde_json::from_str(res["results"][0]["result"].as_str().unwrap()).unwrap();
    assert_eq!(booked["booked"], true, "{booked}");
    // Vapi retries the same tool call: still one meeting, the same answer.
    let res: Value = post_vapi(&app, &booking("tc-2"), true)
        .await
        .json()
        .await
        .unwrap();
    let again: Value = serde_json::from_str(res["results"][0]["result"].as_str().unwrap()).unwrap();
    assert_eq!(again["meeting_id"], booked["meeting_id"]);
    // Another tool call for the same time: refused with alternatives.
    let res: Value = post_vapi(&app, &booking("tc-3"), true)
        .await
        .json()
        .await
        .unwrap();
    let refused: Value =
        serde_json::from_str(res["results"][0]["result"].as_str().unwrap()).unwrap();
    assert_eq!(refused["booked"], false, "{refused}");
    assert!(refused["alternatives"].is_array());
    assert_eq!(
        count(&app, "SELECT count(*) FROM meetings WHERE source = 'voice'").await,
        1
    );
    assert_eq!(lead_state(&app, jane).await.0, "converted");

    // The end-of-call report: stored before the answer, applied once.
    let report = json!({"message": {
        "type": "end-of-call-report",
        "endedReason": "customer-ended-call",
        "call": call,
        "durationSeconds": 184,
        "analysis": {"summary": "Booked a discovery call.", "structuredData": {"outcome": "meeting_booked"}},
        "artifact": {"transcript": "AI: Hi Jane...\nUser: Sure, tomorrow works."},
    }});
    assert_eq!(post_vapi(&app, &report, true).await.status(), 200);
    assert_eq!(post_vapi(&app, &report, true).await.status(), 200);
    process_all(&app, 2).await;
    let (outcome, summary): (String, String) = sqlx::query_as(
        "SELECT metadata->>'outcome', metadata->>'summary' FROM activities WHERE action = 'call_completed'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        (outcome.as_str(), summary.as_str()),
        ("meeting_booked", "Booked a discovery call.")
    );
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM activities WHERE action = 'call_completed'"
        )
        .await,
        1
    );

    // Unsigned, wrongly signed, or with a wrong static secret: 401, nothing stored.
    let before = count(&app, "SELECT count(*) FROM webhook_events").await;
    assert_envelope(
        post_vapi(&app, &report, false).await,
        401,
        "invalid_signature",
    )
    .await;
    let res = app
        .request(Method::POST, "/webhooks/vapi")
        .header("x-vapi-secret", "not-it")
        .body(serde_json::to_vec(&report).unwrap())
        .send()
        .await
        .unwrap();
    assert_envelope(res, 401, "invalid_signature").await;
    assert_eq!(
        count(&app, "SELECT count(*) FROM webhook_events").await,
        before
    );
    // The static secret is accepted.
    let status =
        json!({"message": {"type": "status-update", "status": "in-progress", "call": call}});
    let res = app
        .request(Method::POST, "/webhooks/vapi")
        .header("x-vapi-secret", VAPI_SECRET)
        .body(serde_json::to_vec(&status).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn admins_list_and_replay_the_inbox() {
    let app = app().await;
    let client = tenant_with_number(&app, "+61480000001").await;
    let owner = app.user_with_role(client, Role::Owner).await;
    let admin = app.create_platform_admin().await;
    post_twilio(
        &app,
        "/webhooks/twilio/sms",
        &[
            ("MessageSid", "SMa"),
            ("From", "+61411111111"),
            ("To", "+61480000001"),
            ("Body", "hello"),
        ],
        None,
    )
    .await;
    post_twilio(
        &app,
        "/webhooks/twilio/status",
        &[("MessageSid", "SMb")],
        None,
    )
    .await;
    let res = app
        .send_as(&owner, Method::GET, "/api/v1/admin/webhook-events")
        .await;
    assert_envelope(res, 403, "forbidden").await;
    let page: Value = app
        .send_as(
            &admin,
            Method::GET,
            "/api/v1/admin/webhook-events?provider=twilio&status=pending",
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 1);
    let event = &page["items"][0];
    assert_eq!(event["provider_event_id"], "sms:SMa");
    assert!(event["body"].as_str().unwrap().contains("Body=hello"));
    let all: Value = app
        .send_as(&admin, Method::GET, "/api/v1/admin/webhook-events")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all["total"], 2);
    let res = app
        .send_as(
            &admin,
            Method::GET,
            "/api/v1/admin/webhook-events?status=lost",
        )
        .await;
    assert_envelope(res, 422, "validation_failed").await;

    process_all(&app, 1).await;
    assert_eq!(count(&app, "SELECT count(*) FROM replies").await, 1);
    let id = event["id"].as_str().unwrap();
    let replay = format!("/api/v1/admin/webhook-events/{id}/replay");
    let res = app.send_as(&owner, Method::POST, &replay).await;
    assert_envelope(res, 403, "forbidden").await;
    let res = app.send_as(&admin, Method::POST, &replay).await;
    assert_eq!(res.status(), 202);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "pending");
    assert_eq!(jobs(&app).await, 2);
    // Replaying applies the event again only where that is idempotent: still one reply.
    process_all(&app, 1).await;
    assert_eq!(count(&app, "SELECT count(*) FROM replies").await, 1);
    let rejected: String =
        sqlx::query_scalar("SELECT id::text FROM webhook_events WHERE status = 'rejected'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let res = app
        .send_as(
            &admin,
            Method::POST,
            &format!("/api/v1/admin/webhook-events/{rejected}/replay"),
        )
        .await;
    assert_envelope(res, 409, "webhook_event_rejected").await;
    let res = app
        .send_as(
            &admin,
            Method::POST,
            &format!("/api/v1/admin/webhook-events/{}/replay", Uuid::now_v7()),
        )
        .await;
    assert_envelope(res, 404, "not_found").await;
}

/// Services whose email sender is Resend and whose AI gate is Claude, both at `server`.
fn services_at(app: &TestApp, server: &wiremock::MockServer) -> Services {
    use agency_engine::ai::{AiGate, AiSettings};
    use agency_engine::outreach::{Links, OutreachEnv};
    use agency_providers::{Anthropic, HttpSettings, OutreachProviders, Resend};
    let http = HttpSettings::default();
    let resend = Resend::new(SecretString::from("re_test"), &server.uri(), &http).unwrap();
    let claude = Anthropic::new(SecretString::from("sk-ant-test"), &server.uri(), &http).unwrap();
    let mut senders = OutreachProviders::sandbox();
    senders.email = Arc::new(resend);
    let providers = agency_engine::Providers::sandbox(chrono::Utc::now())
        .with_ai(AiGate::new(Arc::new(claude), AiSettings::default()))
        .with_outreach(OutreachEnv {
            providers: senders,
            links: Links::configured("http://localhost:8080", None),
        });
    let cache = agency_cache::FallbackCache::new(None, app.pool.clone()).unwrap();
    Services::new(
        app.pool.clone(),
        Arc::new(cache),
        providers,
        agency_engine::EngineSettings::default(),
    )
}

#[tokio::test]
async fn a_received_email_without_text_is_fetched_from_resend_and_classified_by_claude() {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(
            "/emails/receiving/56761188-7520-42d8-8898-ff6fc54ce618",
        ))
        .and(header("authorization", "Bearer re_test"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "object": "email",
            "id": "56761188-7520-42d8-8898-ff6fc54ce618",
            "to": ["hello@mail.acme-agency.com"],
            "from": "Jane Citizen <jane@example.com.au>",
            "created_at": "2026-12-03T02:00:00.000Z",
            "subject": "Re: Quick question",
            "html": "<p>Happy to chat. Does next Wednesday at 10am suit?</p>",
            "text": null,
            "headers": {}, "bcc": [], "cc": [], "reply_to": [],
            "message_id": "<CAF=1@mail.gmail.com>",
            "attachments": []
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .and(header("x-api-key", "sk-ant-test"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "msg_01", "type": "message", "role": "assistant",
            "model": "claude-haiku-4-5-20251001",
            "content": [{"type": "tool_use", "id": "toolu_01", "name": "record_reply_intent",
                "input": {"intent": "meeting_request", "confidence": 0.91,
                          "proposed_times": [], "return_date": null, "question": null}}],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 410, "output_tokens": 52}
        })))
        .expect(1)
        .mount(&server)
        .await;

    let app = app().await;
    let client = app.create_client("Acme").await;
    sqlx::query("INSERT INTO sending_resources (client_id, kind, value, verified_at) VALUES ($1, 'email_domain', 'mail.acme-agency.com', now())")
        .bind(client.into_uuid())
        .execute(&app.pool)
        .await
        .unwrap();
    let jane = lead(&app, client, "jane@example.com.au", None).await;
    let inbound = serde_json::to_vec(&json!({
        "type": "email.received",
        "created_at": "2026-12-03T02:00:00.000Z",
        "data": {
            "email_id": "56761188-7520-42d8-8898-ff6fc54ce618",
            "created_at": "2026-12-03T02:00:00.000Z",
            "from": "Jane Citizen <jane@example.com.au>",
            "to": ["hello@mail.acme-agency.com"],
            "subject": "Re: Quick question",
        }
    }))
    .unwrap();
    let now = chrono::Utc::now().timestamp();
    let res = post_resend(&app, &resend_headers("msg_rcv", now, &inbound), &inbound).await;
    assert_eq!(res.status(), 200);

    let ctx = JobContext::in_process(services_at(&app, &server), JobKind::ProcessWebhookEvent);
    let id: Uuid = sqlx::query_scalar("SELECT id FROM webhook_events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    for _ in 0..2 {
        process_webhook_event(ctx.clone(), ProcessWebhookEvent { event_id: id })
            .await
            .expect("processed");
    }
    let (lead_id, intent, content, classifier): (Option<Uuid>, String, String, String) =
        sqlx::query_as("SELECT lead_id, intent, content, extracted->>'classifier' FROM replies")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(lead_id, Some(jane));
    assert_eq!(content, "Happy to chat. Does next Wednesday at 10am suit?");
    assert_eq!(intent, "meeting_request");
    assert_eq!(classifier, "ai");
    // The call was billed to the tenant once, and the second run did nothing.
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM ai_usage WHERE purpose = 'classify_reply' AND status = 'settled'"
        )
        .await,
        1
    );
    assert_eq!(count(&app, "SELECT count(*) FROM replies").await, 1);
}

#[tokio::test]
async fn resend_down_retries_the_event_and_stores_nothing_half_done() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let app = app().await;
    let client = app.create_client("Acme").await;
    sqlx::query("INSERT INTO sending_resources (client_id, kind, value, verified_at) VALUES ($1, 'email_domain', 'mail.acme-agency.com', now())")
        .bind(client.into_uuid())
        .execute(&app.pool)
        .await
        .unwrap();
    let inbound = serde_json::to_vec(&json!({
        "type": "email.received",
        "created_at": "2026-12-03T02:00:00.000Z",
        "data": {"email_id": "0b1e7c1a-4d7e-4a47-9d36-2f5f0e2b8a11",
                 "from": "someone@elsewhere.com.au", "to": ["hello@mail.acme-agency.com"]}
    }))
    .unwrap();
    let now = chrono::Utc::now().timestamp();
    post_resend(&app, &resend_headers("msg_rcv2", now, &inbound), &inbound).await;
    let id: Uuid = sqlx::query_scalar("SELECT id FROM webhook_events")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let ctx = JobContext::in_process(services_at(&app, &server), JobKind::ProcessWebhookEvent);
    let err = process_webhook_event(ctx, ProcessWebhookEvent { event_id: id })
        .await
        .expect_err("Resend is down");
    assert!(err.to_string().contains("fetching received email"), "{err}");
    assert_eq!(count(&app, "SELECT count(*) FROM replies").await, 0);
    assert_eq!(
        count(
            &app,
            "SELECT count(*) FROM webhook_events WHERE status = 'pending'"
        )
        .await,
        1
    );
}
