//! Issue 15 hardening through real HTTP: `nbf` and anonymous tokens, strict and verified token
//! emails on invites, trial clients and the daily creation cap, member limits on leads,
//! `linkedin_url` checks, and field-level 422s for NUL bytes and out-of-range numbers.

use agency_domain::Role;
use agency_testkit::{TestApp, assert_envelope, claims_for};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

async fn get_me(app: &TestApp, token: &str) -> reqwest::Response {
    app.request(Method::GET, "/api/v1/me")
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn nbf_is_enforced_with_the_exp_leeway() {
    let app = TestApp::spawn().await;
    let sub = Uuid::now_v7();
    let now = chrono::Utc::now().timestamp();
    let mut claims = claims_for(sub, None, 3600);
    // Valid a year from now: refused.
    claims["nbf"] = json!(now + 365 * 24 * 3600);
    let res = get_me(&app, &app.token_with_claims(&claims)).await;
    assert_envelope(res, 401, "invalid_token").await;
    // Two minutes ahead: beyond the 30 s leeway, refused.
    claims["nbf"] = json!(now + 120);
    let res = get_me(&app, &app.token_with_claims(&claims)).await;
    assert_envelope(res, 401, "invalid_token").await;
    // Ten seconds ahead (clock skew within the leeway), or in the past: accepted.
    claims["nbf"] = json!(now + 10);
    assert_eq!(
        get_me(&app, &app.token_with_claims(&claims)).await.status(),
        200
    );
    claims["nbf"] = json!(now - 60);
    assert_eq!(
        get_me(&app, &app.token_with_claims(&claims)).await.status(),
        200
    );
}

#[tokio::test]
async fn anonymous_sign_ins_are_refused_and_store_nothing() {
    let app = TestApp::spawn().await;
    let sub = Uuid::now_v7();
    let mut claims = claims_for(sub, None, 3600);
    claims["is_anonymous"] = json!(true);
    let res = get_me(&app, &app.token_with_claims(&claims)).await;
    assert_envelope(res, 401, "anonymous_token").await;
    let res = app
        .request(Method::POST, "/api/v1/clients")
        .bearer_auth(app.token_with_claims(&claims))
        .json(&json!({"name": "Squatter"}))
        .send()
        .await
        .unwrap();
    assert_envelope(res, 401, "anonymous_token").await;
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(users, 0);
    // `is_anonymous: false` is an ordinary user.
    claims["is_anonymous"] = json!(false);
    assert_eq!(
        get_me(&app, &app.token_with_claims(&claims)).await.status(),
        200
    );
}

/// Invites `email` as a member of a new client; returns the accept path.
async fn invite(app: &TestApp, email: &str) -> String {
    let client = app.create_client("C Corp").await;
    let admin = app.user_with_role(client, Role::Admin).await;
    let res = app
        .send_json_as(
            &admin,
            Method::POST,
            &format!("/api/v1/clients/{client}/members"),
            &json!({"email": email, "role": "member"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    format!(
        "/api/v1/memberships/{}/accept",
        body["id"].as_str().unwrap()
    )
}

async fn accept_with(app: &TestApp, path: &str, claims: &Value) -> reqwest::Response {
    app.request(Method::POST, path)
        .bearer_auth(app.token_with_claims(claims))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_look_alike_or_unverified_token_email_does_not_take_an_invite() {
    let app = TestApp::spawn().await;
    let accept = invite(&app, "kim@c-corp.com").await;

    // The Kelvin sign lowercases to `k` under Unicode rules; the strict parser refuses it.
    let kelvin = claims_for(Uuid::now_v7(), Some("\u{212A}im@c-corp.com"), 3600);
    assert_envelope(accept_with(&app, &accept, &kelvin).await, 404, "not_found").await;

    // The right address marked unverified (top level, or in user_metadata): not the invitee.
    let mut unverified = claims_for(Uuid::now_v7(), Some("kim@c-corp.com"), 3600);
    unverified["email_verified"] = json!(false);
    assert_envelope(
        accept_with(&app, &accept, &unverified).await,
        404,
        "not_found",
    )
    .await;
    let mut unverified_meta = claims_for(Uuid::now_v7(), Some("kim@c-corp.com"), 3600);
    unverified_meta["user_metadata"] = json!({"email_verified": false});
    assert_envelope(
        accept_with(&app, &accept, &unverified_meta).await,
        404,
        "not_found",
    )
    .await;

    // Verified, in another case: accepted.
    let mut kim = claims_for(Uuid::now_v7(), Some("Kim@C-Corp.com"), 3600);
    kim["email_verified"] = json!(true);
    let res = accept_with(&app, &accept, &kim).await;
    assert_eq!(res.status(), 200);
    // The look-alike user was stored without an email (it is not kim's address).
    let kelvin_sub: Uuid = kelvin["sub"].as_str().unwrap().parse().unwrap();
    let stored: Option<String> = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(kelvin_sub)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, None);
}
