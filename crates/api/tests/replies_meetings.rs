//! Replies and meetings as the dashboard calls them (API_CONTRACT "Replies", "Meetings"): the
//! exact shapes, every filter against counts computed here from the fixtures, the handled
//! mark, `upcoming`/`limit`/`total`, booking (lead converted, `meeting_booked` activity
//! credited to the last touch), overlaps refused with 409 (also when booked concurrently),
//! cancelling, other tenants' ids 404 and the role rules (the tenancy matrix).

#[allow(dead_code)]
mod common;

use agency_domain::{ClientId, Role};
use agency_testkit::{MatrixCase, TestApp, assert_envelope, run_matrix};
use chrono::{DateTime, Duration, DurationRound, Utc};
use common::active_campaign;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

async fn lead(app: &TestApp, client: ClientId, campaign: Option<Uuid>, email: &str) -> Uuid {
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

#[allow(clippy::too_many_arguments)]
async fn reply(
    app: &TestApp,
    client: ClientId,
    lead: Option<Uuid>,
    campaign: Option<Uuid>,
    channel: &str,
    intent: &str,
    handled: bool,
    minutes_ago: i64,
) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO replies (client_id, lead_id, campaign_id, channel, from_address, subject, content,
                intent, intent_confidence, received_at, handled_at)
         VALUES ($1, $2, $3, $4, 'jane@acme.com.au', 'Re: hello', 'Sounds good, call me', $5, 0.8,
                 now() - make_interval(mins => $6::int), CASE WHEN $7 THEN now() END)
         RETURNING id",
    )
    .bind(client.into_uuid())
    .bind(lead)
    .bind(campaign)
    .bind(channel)
    .bind(intent)
    .bind(minutes_ago as i32)
    .bind(handled)
    .fetch_one(&app.pool)
    .await
    .expect("reply")
}

/// (lead, campaign, channel, intent, handled) of a reply fixture.
type Fixture<'a> = (Option<Uuid>, Option<Uuid>, &'a str, &'a str, bool);

fn replies_path(client: ClientId) -> String {
    format!("/api/v1/clients/{client}/replies")
}

fn meetings_path(client: ClientId) -> String {
    format!("/api/v1/clients/{client}/meetings")
}

async fn get_json(app: &TestApp, user: &agency_testkit::TestUser, path: &str) -> Value {
    let res = app.send_as(user, Method::GET, path).await;
    assert_eq!(res.status(), 200, "GET {path}");
    res.json().await.expect("json")
}

#[tokio::test]
async fn replies_are_listed_filtered_and_marked_handled() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let viewer = app.user_with_role(client, Role::Viewer).await;
    let member = app.user_with_role(client, Role::Member).await;
    let c1 = active_campaign(&app, client, "Spring").await;
    let c2 = active_campaign(&app, client, "Autumn").await;
    let l1 = lead(&app, client, Some(c1), "jane@acme.com.au").await;
    let l2 = lead(&app, client, Some(c2), "bob@acme.com.au").await;
    // (lead, campaign, channel, intent, handled)
    let fixtures = [
        (Some(l1), Some(c1), "email", "interested", false),
        (Some(l1), Some(c1), "sms", "question", true),
        (Some(l2), Some(c2), "email", "interested", true),
        (Some(l2), Some(c2), "email", "not_interested", false),
        (None, None, "sms", "unsubscribe", false),
    ];
    let mut ids = Vec::new();
    for (i, (l, c, ch, intent, handled)) in fixtures.iter().enumerate() {
        ids.push(reply(&app, client, *l, *c, ch, intent, *handled, 100 - i as i64).await);
    }
    // Another tenant's reply never shows.
    let other = app.create_client("Other").await;
    let other_reply = reply(&app, other, None, None, "email", "interested", false, 1).await;

    let page = get_json(&app, &viewer, &replies_path(client)).await;
    assert_eq!(page["total"], 5);
    assert_eq!(page["page"], 1);
    assert_eq!(page["page_size"], 20);
    assert_eq!(page["total_pages"], 1);
    let listed: Vec<&str> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let newest_first: Vec<String> = ids.iter().rev().map(Uuid::to_string).collect();
    assert_eq!(listed, newest_first);

    // Each filter, counted independently from the fixture table.
    let count = |f: &dyn Fn(&Fixture) -> bool| fixtures.iter().filter(|x| f(x)).count() as u64;
    let checks: Vec<(String, u64)> = vec![
        ("intent=interested".into(), count(&|x| x.3 == "interested")),
        ("channel=sms".into(), count(&|x| x.2 == "sms")),
        ("handled=true".into(), count(&|x| x.4)),
        ("handled=false".into(), count(&|x| !x.4)),
        (format!("campaign_id={c1}"), count(&|x| x.1 == Some(c1))),
        (
            format!("campaign_id={c2}&intent=interested&handled=true"),
            count(&|x| x.1 == Some(c2) && x.3 == "interested" && x.4),
        ),
    ];
    for (query, expected) in checks {
        let page = get_json(&app, &viewer, &format!("{}?{query}", replies_path(client))).await;
        assert_eq!(page["total"].as_u64(), Some(expected), "{query}: {page}");
        assert_eq!(
            page["items"].as_array().unwrap().len() as u64,
            expected,
            "{query}"
        );
    }
    // Paging.
    let page = get_json(
        &app,
        &viewer,
        &format!("{}?page=2&page_size=2", replies_path(client)),
    )
    .await;
    assert_eq!(page["total_pages"], 3);
    assert_eq!(page["items"][0]["id"], newest_first[2].as_str());
    // Bad filters are 422 naming the field.
    for (query, field) in [
        ("intent=happy", "intent"),
        ("channel=fax", "channel"),
        ("handled=maybe", "handled"),
        ("campaign_id=nope", "campaign_id"),
    ] {
        let res = app
            .send_as(
                &viewer,
                Method::GET,
                &format!("{}?{query}", replies_path(client)),
            )
            .await;
        let body = assert_envelope(res, 422, "validation_failed").await;
        assert_eq!(body["fields"][0]["path"], field, "{body}");
    }

    // One reply: the exact shape.
    let one = get_json(
        &app,
        &viewer,
        &format!("{}/{}", replies_path(client), ids[0]),
    )
    .await;
    let keys: Vec<&str> = one
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected_keys = vec![
        "id",
        "lead_id",
        "lead",
        "campaign_id",
        "campaign_name",
        "channel",
        "intent",
        "intent_confidence",
        "content",
        "subject",
        "received_at",
        "handled",
        "handled_at",
    ];
    expected_keys.sort_unstable();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, expected_keys);
    assert_eq!(one["lead_id"], l1.to_string());
    assert_eq!(
        one["lead"],
        json!({"id": l1, "first_name": "Jane", "last_name": "Citizen", "email": "jane@acme.com.au", "company": "Acme Pty Ltd"})
    );
    assert_eq!(one["campaign_name"], "Spring");
    assert_eq!(one["intent_confidence"], 0.8);
    assert_eq!(one["handled"], false);
    assert!(one["handled_at"].is_null());
    assert!(one["received_at"].as_str().unwrap().ends_with('Z'));
    let unmatched = get_json(
        &app,
        &viewer,
        &format!("{}/{}", replies_path(client), ids[4]),
    )
    .await;
    assert!(unmatched["lead"].is_null() && unmatched["lead_id"].is_null());

    // Handled: viewer 403, member 200, and back.
    let path = format!("{}/{}/handled", replies_path(client), ids[0]);
    let res = app
        .send_json_as(&viewer, Method::PATCH, &path, &json!({"handled": true}))
        .await;
    assert_envelope(res, 403, "forbidden").await;
    let res = app
        .send_json_as(&member, Method::PATCH, &path, &json!({"handled": true}))
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["handled"], true);
    assert!(body["handled_at"].as_str().unwrap().ends_with('Z'));
    let res = app
        .send_json_as(&member, Method::PATCH, &path, &json!({"handled": "yes"}))
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .send_json_as(&member, Method::PATCH, &path, &json!({"handled": false}))
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["handled"].clone(), body["handled_at"].clone()),
        (json!(false), Value::Null)
    );
    let audits: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE client_id = $1 AND action = 'reply.handled'",
    )
    .bind(client.into_uuid())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audits, 2);

    // Another tenant's reply is 404, also for the handled mark.
    for (method, p) in [
        (
            Method::GET,
            format!("{}/{other_reply}", replies_path(client)),
        ),
        (
            Method::PATCH,
            format!("{}/{other_reply}/handled", replies_path(client)),
        ),
    ] {
        let res = app
            .send_json_as(&member, method, &p, &json!({"handled": true}))
            .await;
        assert_envelope(res, 404, "not_found").await;
    }
}

fn at(hours_from_now: i64) -> DateTime<Utc> {
    (Utc::now() + Duration::hours(hours_from_now))
        .duration_trunc(Duration::minutes(1))
        .unwrap()
}

async fn book(
    app: &TestApp,
    user: &agency_testkit::TestUser,
    client: ClientId,
    lead: Uuid,
    start: DateTime<Utc>,
    minutes: i64,
) -> reqwest::Response {
    app.send_json_as(
        user,
        Method::POST,
        &meetings_path(client),
        &json!({"lead_id": lead, "scheduled_at": start, "duration_minutes": minutes, "meeting_type": "demo"}),
    )
    .await
}

#[tokio::test]
async fn meetings_are_booked_listed_and_cancelled() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let member = app.user_with_role(client, Role::Member).await;
    let viewer = app.user_with_role(client, Role::Viewer).await;
    let campaign = active_campaign(&app, client, "Spring").await;
    let jane = lead(&app, client, Some(campaign), "jane@acme.com.au").await;
    // Jane was emailed: that touch gets the credit for the booking.
    let touch: Uuid = sqlx::query_scalar(
        "INSERT INTO activities (client_id, campaign_id, lead_id, channel, action)
         VALUES ($1, $2, $3, 'sms', 'sent') RETURNING id",
    )
    .bind(client.into_uuid())
    .bind(campaign)
    .bind(jane)
    .fetch_one(&app.pool)
    .await
    .unwrap();

    let res = book(&app, &viewer, client, jane, at(24), 30).await;
    assert_envelope(res, 403, "forbidden").await;

    let start = at(24);
    let res = book(&app, &member, client, jane, start, 45).await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let mut keys: Vec<&str> = created
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        vec![
            "calendar_link",
            "created_at",
            "duration_minutes",
            "id",
            "lead_company",
            "lead_id",
            "lead_name",
            "meeting_type",
            "scheduled_at",
            "status"
        ]
    );
    assert_eq!(created["lead_name"], "Jane Citizen");
    assert_eq!(created["lead_company"], "Acme Pty Ltd");
    assert_eq!(created["duration_minutes"], 45);
    assert_eq!(created["meeting_type"], "demo");
    assert_eq!(created["status"], "scheduled");
    assert_eq!(
        created["scheduled_at"]
            .as_str()
            .unwrap()
            .parse::<DateTime<Utc>>()
            .unwrap(),
        start
    );
    // The lead converted; the booking is credited to the touch.
    let status: String = sqlx::query_scalar("SELECT status FROM leads WHERE id = $1")
        .bind(jane)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(status, "converted");
    let (channel, led, meta): (String, bool, Value) = sqlx::query_as(
        "SELECT channel, led_to_booking, metadata FROM activities WHERE lead_id = $1 AND action = 'meeting_booked'",
    )
    .bind(jane)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((channel.as_str(), led), ("sms", true));
    assert_eq!(meta["converting_activity_id"], touch.to_string());
    assert_eq!(meta["meeting_id"], created["id"]);

    // Overlaps: a meeting starting inside, one covering, one ending inside: 409; touching ends: fine.
    let bob = lead(&app, client, None, "bob@acme.com.au").await;
    for (offset_min, minutes) in [(44, 30), (-30, 120), (-20, 21)] {
        let res = book(
            &app,
            &member,
            client,
            bob,
            start + Duration::minutes(offset_min),
            minutes,
        )
        .await;
        assert_envelope(res, 409, "meeting_overlap").await;
    }
    let res = book(
        &app,
        &member,
        client,
        bob,
        start + Duration::minutes(45),
        30,
    )
    .await;
    assert_eq!(res.status(), 201);
    let res = book(
        &app,
        &member,
        client,
        bob,
        start - Duration::minutes(30),
        30,
    )
    .await;
    assert_eq!(res.status(), 201);
    // Another client's calendar is separate.
    let other = app.create_client("Other").await;
    let other_owner = app.user_with_role(other, Role::Owner).await;
    let other_lead = lead(&app, other, None, "ann@other.com.au").await;
    let res = book(&app, &other_owner, other, other_lead, start, 45).await;
    assert_eq!(res.status(), 201);
    let other_meeting: Value = res.json().await.unwrap();
    // Another tenant's lead is 404; bad input is 422.
    let res = book(&app, &member, client, other_lead, at(100), 30).await;
    assert_envelope(res, 404, "not_found").await;
    let res = book(&app, &member, client, bob, at(100), 2).await;
    assert_envelope(res, 422, "validation_failed").await;
    let res = app
        .send_json_as(
            &member,
            Method::POST,
            &meetings_path(client),
            &json!({"lead_id": bob, "scheduled_at": at(100), "meeting_type": "lunch"}),
        )
        .await;
    assert_envelope(res, 422, "validation_failed").await;

    // A past meeting and a cancelled one.
    let past = book(&app, &member, client, bob, at(-48), 30).await;
    assert_eq!(past.status(), 201);
    // One instant for the slot (`at` reads the clock, and a minute may turn during the test).
    let later_at = at(72);
    let later: Value = book(&app, &member, client, bob, later_at, 30)
        .await
        .json()
        .await
        .unwrap();
    let cancel = format!(
        "{}/{}/cancel",
        meetings_path(client),
        later["id"].as_str().unwrap()
    );
    let res = app.send_as(&viewer, Method::POST, &cancel).await;
    assert_envelope(res, 403, "forbidden").await;
    let res = app.send_as(&member, Method::POST, &cancel).await;
    assert_eq!(res.status(), 200);
    let cancelled: Value = res.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    // Cancelling again answers the meeting as it is; its slot is free again.
    let again: Value = app
        .send_as(&member, Method::POST, &cancel)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["status"], "cancelled");
    assert_eq!(
        book(&app, &member, client, jane, later_at, 30)
            .await
            .status(),
        201
    );
    let res = app
        .send_as(
            &member,
            Method::POST,
            &format!(
                "{}/{}/cancel",
                meetings_path(client),
                other_meeting["id"].as_str().unwrap()
            ),
        )
        .await;
    assert_envelope(res, 404, "not_found").await;

    // The list: all 6 meetings of the client; upcoming = the 5 future scheduled ones minus the
    // cancelled one, soonest first; limit keeps total.
    let all = get_json(&app, &viewer, &meetings_path(client)).await;
    assert_eq!(all["total"], 6);
    assert_eq!(all["items"].as_array().unwrap().len(), 6);
    let upcoming = get_json(
        &app,
        &viewer,
        &format!("{}?upcoming=true", meetings_path(client)),
    )
    .await;
    let starts: Vec<DateTime<Utc>> = upcoming["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            assert_eq!(m["status"], "scheduled");
            m["scheduled_at"].as_str().unwrap().parse().unwrap()
        })
        .collect();
    let expected = vec![
        start - Duration::minutes(30),
        start,
        start + Duration::minutes(45),
        later_at,
    ];
    assert_eq!(starts, expected);
    assert_eq!(upcoming["total"], 4);
    let limited = get_json(
        &app,
        &viewer,
        &format!("{}?upcoming=true&limit=2", meetings_path(client)),
    )
    .await;
    assert_eq!(limited["items"].as_array().unwrap().len(), 2);
    assert_eq!(limited["total"], 4);
    for query in ["limit=0", "limit=101", "limit=x", "upcoming=soon"] {
        let res = app
            .send_as(
                &viewer,
                Method::GET,
                &format!("{}?{query}", meetings_path(client)),
            )
            .await;
        assert_envelope(res, 422, "validation_failed").await;
    }
}

#[tokio::test]
async fn concurrent_bookings_of_one_slot_give_one_meeting() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let member = app.user_with_role(client, Role::Member).await;
    let mut leads = Vec::new();
    for i in 0..8 {
        leads.push(lead(&app, client, None, &format!("l{i}@acme.com.au")).await);
    }
    let start = at(30);
    let results = futures::future::join_all(leads.iter().enumerate().map(|(i, l)| {
        // Every request overlaps every other one (starts within 10 minutes, 30 minutes long).
        book(
            &app,
            &member,
            client,
            *l,
            start + Duration::minutes(i as i64),
            30,
        )
    }))
    .await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        7,
        "{statuses:?}"
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM meetings WHERE client_id = $1")
        .bind(client.into_uuid())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, 1);
    // Only the winner's lead converted.
    let converted: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM leads WHERE client_id = $1 AND status = 'converted'",
    )
    .bind(client.into_uuid())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(converted, 1);
}

fn fresh_reply(app: &TestApp, client: ClientId) -> futures::future::BoxFuture<'_, Value> {
    Box::pin(async move {
        json!({"id": reply(app, client, None, None, "email", "question", false, 5).await})
    })
}

fn fresh_meeting(app: &TestApp, client: ClientId) -> futures::future::BoxFuture<'_, Value> {
    Box::pin(async move {
        let l = lead(
            app,
            client,
            None,
            &format!("m-{}@example.com", Uuid::now_v7().simple()),
        )
        .await;
        // Far apart random slots: never overlapping.
        let slot = i64::from(rand_slot());
        let id: Uuid = sqlx::query_scalar(
            "INSERT INTO meetings (client_id, lead_id, scheduled_at, duration_minutes)
             VALUES ($1, $2, now() + make_interval(hours => $3::int), 30) RETURNING id",
        )
        .bind(client.into_uuid())
        .bind(l)
        .bind(slot as i32)
        .fetch_one(&app.pool)
        .await
        .expect("meeting");
        json!({"id": id})
    })
}

fn rand_slot() -> u16 {
    // Hours from now, from the low bits of a fresh v4 UUID.
    (Uuid::new_v4().as_u128() % 60_000) as u16 + 1
}

#[tokio::test]
async fn reply_and_meeting_routes_follow_the_tenancy_matrix() {
    let app = TestApp::spawn().await;
    let cases = vec![
        MatrixCase {
            name: "list replies",
            method: Method::GET,
            path: "/api/v1/clients/{client_id}/replies",
            body: None,
            min_role: Role::Viewer,
            success: 200,
            setup: None,
        },
        MatrixCase {
            name: "get reply",
            method: Method::GET,
            path: "/api/v1/clients/{client_id}/replies/{id}",
            body: None,
            min_role: Role::Viewer,
            success: 200,
            setup: Some(fresh_reply),
        },
        MatrixCase {
            name: "reply handled",
            method: Method::PATCH,
            path: "/api/v1/clients/{client_id}/replies/{id}/handled",
            body: Some(|| json!({"handled": true})),
            min_role: Role::Member,
            success: 200,
            setup: Some(fresh_reply),
        },
        MatrixCase {
            name: "list meetings",
            method: Method::GET,
            path: "/api/v1/clients/{client_id}/meetings",
            body: None,
            min_role: Role::Viewer,
            success: 200,
            setup: None,
        },
        MatrixCase {
            name: "cancel meeting",
            method: Method::POST,
            path: "/api/v1/clients/{client_id}/meetings/{id}/cancel",
            body: None,
            min_role: Role::Member,
            success: 200,
            setup: Some(fresh_meeting),
        },
    ];
    run_matrix(&app, &cases).await;
}
