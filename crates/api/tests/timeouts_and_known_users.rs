//! Two per-request behaviours of the middleware and extractors:
//! - the CSV import route runs under `IMPORT_TIMEOUT_SECS`, not the global request timeout
//!   (a body that trickles in for longer than the global timeout still imports; the same body
//!   on a JSON route, or with a short import timeout, is cut with 503 `timeout`);
//! - a signed-in user's row is remembered for `USER_CACHE_TTL_SECS` (the upsert is skipped
//!   within it, and a platform-admin grant takes effect once it expires), while memberships are
//!   read on every request (a removed or demoted member is refused at once).

use std::time::{Duration, Instant};

use agency_domain::{Role, UserId};
use agency_testkit::{TestApp, assert_envelope};
use futures::StreamExt;
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

/// A body that sends `first`, waits `pause`, then sends `rest`.
fn trickle(first: &'static str, pause: Duration, rest: &'static str) -> reqwest::Body {
    let parts = vec![(Duration::ZERO, first), (pause, rest)];
    reqwest::Body::wrap_stream(
        futures::stream::iter(parts).then(|(wait, text)| async move {
            tokio::time::sleep(wait).await;
            Ok::<_, std::io::Error>(text)
        }),
    )
}

const CSV_HEAD: &str = "email,first name\nslow-one@example.com,One\n";
const CSV_TAIL: &str = "slow-two@example.com,Two\n";
const PAUSE: Duration = Duration::from_millis(1_500);

async fn campaign(app: &TestApp, client: agency_domain::ClientId) -> Uuid {
    sqlx::query_scalar("INSERT INTO campaigns (client_id, name) VALUES ($1, 'Slow') RETURNING id")
        .bind(client.into_uuid())
        .fetch_one(&app.pool)
        .await
        .expect("campaign")
}

async fn lead_count(app: &TestApp, campaign: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM leads WHERE campaign_id = $1")
        .bind(campaign)
        .fetch_one(&app.pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn the_import_is_not_cut_at_the_global_timeout() {
    let app = TestApp::spawn_with(|s| {
        s.request_timeout = Duration::from_secs(1);
        s.import_timeout = Duration::from_secs(60);
    })
    .await;
    let client = app.create_client("Acme").await;
    let member = app.user_with_role(client, Role::Member).await;
    let camp = campaign(&app, client).await;

    let started = Instant::now();
    let res = app
        .as_user(
            &member,
            Method::POST,
            &format!("/api/v1/clients/{client}/campaigns/{camp}/leads/import"),
        )
        .header("content-type", "text/csv")
        .body(trickle(CSV_HEAD, PAUSE, CSV_TAIL))
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() >= PAUSE);
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["created"], 2, "{report}");
    assert_eq!(lead_count(&app, camp).await, 2);

    // Any other route still answers 503 at the global timeout, with a body that slow.
    let res = app
        .as_user(
            &member,
            Method::POST,
            &format!("/api/v1/clients/{client}/leads"),
        )
        .header("content-type", "application/json")
        .body(trickle(
            "{\"email\": \"slow-three@example.com\", ",
            PAUSE,
            "\"campaign_id\": null}",
        ))
        .send()
        .await
        .unwrap();
    assert_envelope(res, 503, "timeout").await;
}

#[tokio::test]
async fn the_import_has_its_own_timeout() {
    let app = TestApp::spawn_with(|s| {
        s.request_timeout = Duration::from_secs(60);
        s.import_timeout = Duration::from_secs(1);
    })
    .await;
    let client = app.create_client("Acme").await;
    let member = app.user_with_role(client, Role::Member).await;
    let camp = campaign(&app, client).await;
    let res = app
        .as_user(
            &member,
            Method::POST,
            &format!("/api/v1/clients/{client}/campaigns/{camp}/leads/import"),
        )
        .header("content-type", "text/csv")
        .body(trickle(CSV_HEAD, PAUSE, CSV_TAIL))
        .send()
        .await
        .unwrap();
    assert_envelope(res, 503, "timeout").await;
    // All or nothing: the cut import left nothing behind.
    assert_eq!(lead_count(&app, camp).await, 0);
}

async fn user_rows(app: &TestApp, id: Uuid) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .expect("count")
}

#[tokio::test]
async fn a_remembered_user_skips_the_upsert_until_the_ttl_ends() {
    let ttl = Duration::from_secs(3);
    let app = TestApp::spawn_with(|s| s.user_cache_ttl = ttl).await;
    let sub = Uuid::now_v7();
    let token = app.token(sub, Some("remembered@example.com"));
    let me = |token: String| {
        let req = app.request(Method::GET, "/api/v1/me").bearer_auth(token);
        async move { req.send().await.unwrap() }
    };

    // First sight creates the row.
    let res = me(token.clone()).await;
    assert_eq!(res.status(), 200);
    let seen = Instant::now();
    assert_eq!(user_rows(&app, sub).await, 1);

    // Within the TTL the row is not looked up (nor re-created) again.
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(sub)
        .execute(&app.pool)
        .await
        .unwrap();
    let res = me(token.clone()).await;
    let answered = Instant::now();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["email"], "remembered@example.com");
    if answered.duration_since(seen) < ttl {
        assert_eq!(user_rows(&app, sub).await, 0);
    }

    // After the TTL the upsert runs again.
    tokio::time::sleep(
        (seen + ttl + Duration::from_millis(200)).saturating_duration_since(Instant::now()),
    )
    .await;
    assert_eq!(me(token).await.status(), 200);
    assert_eq!(user_rows(&app, sub).await, 1);
}

#[tokio::test]
async fn a_platform_admin_grant_takes_effect_within_the_ttl() {
    let ttl = Duration::from_secs(3);
    let app = TestApp::spawn_with(|s| s.user_cache_ttl = ttl).await;
    let user = app.create_user().await;
    let path = "/api/v1/admin/jobs/dead";
    let res = app.send_as(&user, Method::GET, path).await;
    let seen = Instant::now();
    assert_envelope(res, 403, "forbidden").await;

    agency_store::users::set_platform_admin(&app.pool, UserId::from_uuid(user.id), true)
        .await
        .unwrap();
    let res = app.send_as(&user, Method::GET, path).await;
    if Instant::now().duration_since(seen) < ttl {
        // Still the remembered row.
        assert_envelope(res, 403, "forbidden").await;
    }
    tokio::time::sleep(
        (seen + ttl + Duration::from_millis(200)).saturating_duration_since(Instant::now()),
    )
    .await;
    assert_eq!(app.send_as(&user, Method::GET, path).await.status(), 200);

    // With the memory off, a change is seen on the next request.
    let app = TestApp::spawn_with(|s| s.user_cache_ttl = Duration::ZERO).await;
    let user = app.create_user().await;
    assert_envelope(
        app.send_as(&user, Method::GET, path).await,
        403,
        "forbidden",
    )
    .await;
    agency_store::users::set_platform_admin(&app.pool, UserId::from_uuid(user.id), true)
        .await
        .unwrap();
    assert_eq!(app.send_as(&user, Method::GET, path).await.status(), 200);
}

#[tokio::test]
async fn memberships_are_read_on_every_request() {
    // The default TTL (60 s): the user is remembered, the membership is not.
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let member = app.user_with_role(client, Role::Member).await;
    let path = format!("/api/v1/clients/{client}/leads/bulk-enrich");
    let body = serde_json::json!({"lead_ids": []});
    let res = app
        .as_user(&member, Method::POST, &path)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);

    // Demoted: refused at once.
    sqlx::query("UPDATE memberships SET role = 'viewer' WHERE user_id = $1")
        .bind(member.id)
        .execute(&app.pool)
        .await
        .unwrap();
    let res = app
        .as_user(&member, Method::POST, &path)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_envelope(res, 403, "forbidden").await;
    let client_path = format!("/api/v1/clients/{client}");
    assert_eq!(
        app.send_as(&member, Method::GET, &client_path)
            .await
            .status(),
        200
    );

    // Removed: the client is gone for them at once.
    sqlx::query("UPDATE memberships SET deleted_at = now() WHERE user_id = $1")
        .bind(member.id)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_envelope(
        app.send_as(&member, Method::GET, &client_path).await,
        404,
        "not_found",
    )
    .await;
}
