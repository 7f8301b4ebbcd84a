//! The sending-resource routes: values normalised per kind (422 naming the field otherwise),
//! one live registration per domain/number per client (409; other clients may register it, unverified), soft delete (gone from the list, row kept,
//! value free again), another tenant's id 404 with nothing changed, today's cap and use in
//! the list, and an audit row per write. Access rules are in `matrix.rs`.

use agency_cache::{Cache, FallbackCache};
use agency_domain::{ClientId, Role};
use agency_testkit::{TestApp, TestUser, assert_envelope};
use chrono::Utc;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

fn path(client: ClientId) -> String {
    format!("/api/v1/clients/{client}/resources")
}

async fn create(
    app: &TestApp,
    user: &TestUser,
    client: ClientId,
    kind: &str,
    value: &str,
) -> reqwest::Response {
    app.send_json_as(
        user,
        Method::POST,
        &path(client),
        &json!({"kind": kind, "value": value}),
    )
    .await
}

async fn list(app: &TestApp, user: &TestUser, client: ClientId) -> Value {
    let res = app.send_as(user, Method::GET, &path(client)).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn audit_actions(app: &TestApp, client: ClientId) -> Vec<(String, Option<Uuid>)> {
    sqlx::query_as(
        "SELECT action, entity_id FROM audit_log WHERE client_id = $1 ORDER BY created_at, id",
    )
    .bind(client.into_uuid())
    .fetch_all(&app.pool)
    .await
    .expect("audit")
}

async fn client_today(app: &TestApp, client: ClientId) -> (chrono_tz::Tz, String) {
    let tz: String = sqlx::query_scalar("SELECT timezone FROM clients WHERE id = $1")
        .bind(client.into_uuid())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let tz: chrono_tz::Tz = tz.parse().unwrap();
    (tz, Utc::now().with_timezone(&tz).date_naive().to_string())
}

#[tokio::test]
async fn values_are_normalised_and_listed_with_caps() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let admin = app.user_with_role(client, Role::Admin).await;
    let viewer = app.user_with_role(client, Role::Viewer).await;
    let (tz, today) = client_today(&app, client).await;

    let cases = [
        (
            "email_domain",
            " https://WWW.Send.Acme.com.au/path ",
            "send.acme.com.au",
            10,
        ),
        ("sms_number", "0412 345 678", "+61412345678", 100),
        ("voice_number", "+61 2 9374 4000", "+61293744000", 50),
        (
            "linkedin_seat",
            "au.linkedin.com/in/Jane-Smith/?trk=x",
            "https://www.linkedin.com/in/jane-smith",
            17,
        ),
        ("linkedin_seat", "  Sales   Seat 2 ", "Sales Seat 2", 17),
    ];
    let mut ids = Vec::new();
    for (kind, input, want, cap) in cases {
        let res = create(&app, &admin, client, kind, input).await;
        assert_eq!(res.status(), 201, "{kind} {input}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["kind"], kind);
        assert_eq!(body["value"], want);
        assert_eq!(body["client_id"], client.to_string());
        assert_eq!(body["active"], true);
        assert_eq!(body["daily_cap"], cap, "{kind}");
        assert_eq!(body["used_today"], 0);
        if kind == "email_domain" {
            // A new domain starts warming up today: day one, 10 sends.
            assert_eq!(body["warmup_started_on"], today.as_str());
            assert_eq!(body["warmup_day"], 1);
        } else {
            assert_eq!(body["warmup_started_on"], Value::Null);
        }
        ids.push(body["id"].as_str().unwrap().parse::<Uuid>().unwrap());
    }
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT value FROM sending_resources WHERE client_id = $1 ORDER BY created_at, id",
    )
    .bind(client.into_uuid())
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert_eq!(
        stored,
        cases.iter().map(|c| c.2.to_owned()).collect::<Vec<_>>()
    );

    // Today's use comes from the resource's daily counter in the client's timezone.
    let redis = std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty());
    let cache = FallbackCache::new(redis.as_deref(), app.pool.clone()).expect("cache");
    cache
        .incr_daily(
            &format!("ratelimit:sms_number:{}", ids[1]),
            7,
            tz,
            Utc::now(),
        )
        .await
        .unwrap();

    // Any member lists them, oldest first.
    let page = list(&app, &viewer, client).await;
    assert_eq!(page["total"], 5);
    let items = page["items"].as_array().unwrap();
    let listed: Vec<&str> = items.iter().map(|i| i["value"].as_str().unwrap()).collect();
    assert_eq!(listed, cases.iter().map(|c| c.2).collect::<Vec<_>>());
    assert_eq!(items[1]["used_today"], 7);
    assert_eq!(items[1]["daily_cap"], 100);
    assert_eq!(items[0]["used_today"], 0);
    assert_eq!(items[0]["daily_cap"], 10);

    // Paged like every list.
    let res = app
        .send_as(
            &viewer,
            Method::GET,
            &format!("{}?page=2&page_size=2", path(client)),
        )
        .await;
    let second: Value = res.json().await.unwrap();
    assert_eq!(second["total"], 5);
    assert_eq!(second["total_pages"], 3);
    assert_eq!(second["items"][0]["id"], ids[2].to_string());

    // One audit row per creation, naming the resource.
    let audit = audit_actions(&app, client).await;
    let created: Vec<Uuid> = audit
        .iter()
        .filter(|(a, _)| a == "resource.created")
        .filter_map(|(_, id)| *id)
        .collect();
    assert_eq!(created, ids);
}

#[tokio::test]
async fn invalid_values_are_422_on_the_field_and_store_nothing() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let owner = app.user_with_role(client, Role::Owner).await;
    for (kind, value) in [
        ("email_domain", "localhost"),
        ("email_domain", "   "),
        ("sms_number", "call me maybe"),
        ("voice_number", "123"),
        ("linkedin_seat", "  "),
        ("linkedin_seat", "https://example.com/in/jane"),
        ("linkedin_seat", "https://www.linkedin.com/company/acme"),
    ] {
        let res = create(&app, &owner, client, kind, value).await;
        let body = assert_envelope(res, 422, "validation_failed").await;
        assert_eq!(body["fields"][0]["path"], "value", "{kind} {value:?}");
    }
    let bad_kind = app
        .send_json_as(
            &owner,
            Method::POST,
            &path(client),
            &json!({"kind": "fax", "value": "x"}),
        )
        .await;
    let body = assert_envelope(bad_kind, 422, "validation_failed").await;
    assert_eq!(body["fields"][0]["path"], "kind");
    let missing = app
        .send_json_as(
            &owner,
            Method::POST,
            &path(client),
            &json!({"kind": "sms_number"}),
        )
        .await;
    assert_envelope(missing, 422, "validation_failed").await;

    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM sending_resources")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);
    assert!(audit_actions(&app, client).await.is_empty());
}

#[tokio::test]
async fn duplicates_are_409_until_deleted() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let other = app.create_client("Other").await;
    let admin = app.user_with_role(client, Role::Admin).await;
    let other_owner = app.user_with_role(other, Role::Owner).await;

    let res = create(&app, &admin, client, "email_domain", "send.acme.com").await;
    assert_eq!(res.status(), 201);
    let domain: Value = res.json().await.unwrap();
    assert_eq!(
        create(&app, &admin, client, "sms_number", "0412345678")
            .await
            .status(),
        201
    );

    // The same value in another spelling is the same resource.
    for (kind, value) in [
        ("email_domain", "https://www.SEND.acme.com/"),
        ("sms_number", "+61 412 345 678"),
    ] {
        let res = create(&app, &admin, client, kind, value).await;
        let body = assert_envelope(res, 409, "duplicate_resource").await;
        assert!(
            body["detail"]
                .as_str()
                .unwrap()
                .contains("This client already has")
        );
    }
    // Another tenant may register it (no squatting, no probing: 201 either way), but it stays
    // unverified while this client holds it verified: it never sends or receives replies.
    let res = create(&app, &other_owner, other, "email_domain", "send.acme.com").await;
    assert_eq!(res.status(), 201);
    let theirs: Value = res.json().await.unwrap();
    assert_eq!(theirs["verified"], false);
    assert_eq!(theirs["verification"]["method"], "dns_txt");
    assert_eq!(
        theirs["verification"]["record_name"],
        "_agency-os-verify.send.acme.com"
    );
    assert_eq!(domain["verified"], true, "development verifies at once");
    assert!(domain["verification"].is_null());
    // The same number as another kind is a different resource.
    assert_eq!(
        create(&app, &admin, client, "voice_number", "0412345678")
            .await
            .status(),
        201
    );

    // Once deleted, the value can be registered again.
    let id = domain["id"].as_str().unwrap();
    let res = app
        .send_as(&admin, Method::DELETE, &format!("{}/{id}", path(client)))
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        create(&app, &admin, client, "email_domain", "send.acme.com")
            .await
            .status(),
        201
    );
    let created = audit_actions(&app, client)
        .await
        .iter()
        .filter(|(a, _)| a == "resource.created")
        .count();
    assert_eq!(created, 4, "refused creations are not audited");
}

#[tokio::test]
async fn delete_soft_deletes_and_leaves_it_out_of_the_list() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let owner = app.user_with_role(client, Role::Owner).await;
    let keep: Value = create(&app, &owner, client, "linkedin_seat", "Seat A")
        .await
        .json()
        .await
        .unwrap();
    let gone: Value = create(&app, &owner, client, "linkedin_seat", "Seat B")
        .await
        .json()
        .await
        .unwrap();
    let gone_id: Uuid = gone["id"].as_str().unwrap().parse().unwrap();

    let res = app
        .send_as(
            &owner,
            Method::DELETE,
            &format!("{}/{gone_id}", path(client)),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_eq!(res.text().await.unwrap(), "");

    let page = list(&app, &owner, client).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["id"], keep["id"]);

    // The row stays (allocation history), deactivated and marked deleted.
    let (active, deleted): (bool, bool) = sqlx::query_as(
        "SELECT active, deleted_at IS NOT NULL FROM sending_resources WHERE id = $1",
    )
    .bind(gone_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(!active && deleted);
    let audit = audit_actions(&app, client).await;
    assert_eq!(
        audit.last().unwrap(),
        &("resource.deleted".to_owned(), Some(gone_id))
    );

    // Deleting it again, or an unknown id, is 404.
    for id in [gone_id, Uuid::now_v7()] {
        let res = app
            .send_as(&owner, Method::DELETE, &format!("{}/{id}", path(client)))
            .await;
        assert_envelope(res, 404, "not_found").await;
    }
    assert_eq!(audit_actions(&app, client).await.len(), audit.len());
}

#[tokio::test]
async fn another_tenants_resource_is_404_and_unchanged() {
    let app = TestApp::spawn().await;
    let a = app.create_client("A").await;
    let b = app.create_client("B").await;
    let a_owner = app.user_with_role(a, Role::Owner).await;
    let b_owner = app.user_with_role(b, Role::Owner).await;
    let theirs: Value = create(&app, &b_owner, b, "sms_number", "0412345678")
        .await
        .json()
        .await
        .unwrap();
    let id = theirs["id"].as_str().unwrap();
    let before = app.tenant_fingerprint(b).await;

    // Through A's path with B's resource id.
    let res = app
        .send_as(&a_owner, Method::DELETE, &format!("{}/{id}", path(a)))
        .await;
    assert_envelope(res, 404, "not_found").await;
    // Through B's path as a non-member of B.
    let res = app
        .send_as(&a_owner, Method::DELETE, &format!("{}/{id}", path(b)))
        .await;
    assert_envelope(res, 404, "not_found").await;

    assert_eq!(app.tenant_fingerprint(b).await, before);
    assert_eq!(list(&app, &a_owner, a).await["total"], 0);
    assert_eq!(list(&app, &b_owner, b).await["items"][0]["id"], id);
}
