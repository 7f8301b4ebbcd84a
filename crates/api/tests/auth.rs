//! Authentication through real HTTP: missing, malformed, forged, wrong-audience and expired
//! tokens; the expiry leeway; the users row created on first sight; RS256 through a local
//! JWKS with a key rotation; HS256 refused when only a JWKS is configured.

use std::time::Duration;

use agency_testkit::jwks::RsaTestKey;
use agency_testkit::{JwksServer, TestApp, assert_envelope, claims_for, mint_hs256};
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

/// `GET /api/v1/me` with `token` as the bearer token.
async fn get_me(app: &TestApp, token: impl std::fmt::Display) -> reqwest::Response {
    app.request(Method::GET, "/api/v1/me")
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn missing_malformed_forged_wrong_audience_and_expired_tokens_are_401() {
    let app = TestApp::spawn().await;
    let res = app.request(Method::GET, "/api/v1/me").send().await.unwrap();
    assert_envelope(res, 401, "missing_token").await;

    let res = app
        .request(Method::GET, "/api/v1/me")
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_envelope(res, 401, "invalid_token").await;

    let sub = Uuid::now_v7();
    let forged = mint_hs256(
        "some-other-secret-0123456789abcdef",
        &claims_for(sub, None, 3600),
    );
    let res = get_me(&app, forged).await;
    assert_envelope(res, 401, "invalid_token").await;

    let mut claims = claims_for(sub, None, 3600);
    claims["aud"] = Value::from("anon");
    let res = get_me(&app, app.token_with_claims(&claims)).await;
    assert_envelope(res, 401, "token_wrong_audience").await;

    let expired = app.token_with_claims(&claims_for(sub, None, -120));
    let res = get_me(&app, expired).await;
    assert_envelope(res, 401, "token_expired").await;

    let mut no_exp = claims_for(sub, None, 3600);
    no_exp.as_object_mut().unwrap().remove("exp");
    let res = get_me(&app, app.token_with_claims(&no_exp)).await;
    assert_envelope(res, 401, "invalid_token").await;

    let res = get_me(&app, "not.a.jwt").await;
    assert_envelope(res, 401, "invalid_token").await;

    // Nothing was stored for refused tokens.
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(users, 0);
}

#[tokio::test]
async fn expiry_has_a_30_second_leeway_and_first_request_creates_the_user() {
    let app = TestApp::spawn().await;
    let sub = Uuid::now_v7();
    let token = app.token_with_claims(&claims_for(sub, Some("New.User@Example.com"), -10));
    let res = get_me(&app, &token).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["user"]["id"], sub.to_string());
    assert_eq!(body["user"]["email"], "new.user@example.com");
    assert_eq!(body["user"]["is_platform_admin"], false);
    assert_eq!(body["memberships"], serde_json::json!([]));
    let email: Option<String> = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(sub)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(email.as_deref(), Some("new.user@example.com"));
}

#[tokio::test]
async fn rs256_through_jwks_with_key_rotation() {
    let key1 = RsaTestKey::new(1, "key-1");
    let key2 = RsaTestKey::new(2, "key-2");
    let jwks = JwksServer::start(std::slice::from_ref(&key1)).await;
    let url = jwks.url.clone();
    let app = TestApp::spawn_with(|s| {
        s.auth.jwt_secret = None;
        s.auth.jwks_url = Some(url);
        s.auth.jwks_min_refresh_interval = Duration::from_millis(0);
    })
    .await;
    let sub = Uuid::now_v7();
    let claims = claims_for(sub, Some("rsa@example.com"), 3600);

    let res = get_me(&app, key1.sign(&claims)).await;
    assert_eq!(res.status(), 200);
    let res = get_me(&app, key1.sign(&claims)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(jwks.fetches(), 1, "keys are cached");

    // Rotation: the provider now publishes key 2 only; a token with the new kid triggers a refetch.
    jwks.set_keys(std::slice::from_ref(&key2)).await;
    let res = get_me(&app, key2.sign(&claims)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(jwks.fetches(), 2);

    // Key 1 is gone after the rotation.
    let res = get_me(&app, key1.sign(&claims)).await;
    assert_envelope(res, 401, "invalid_token").await;

    // Signed by key 1 but naming key 2's kid: the signature does not verify.
    let mut impostor = RsaTestKey::new(1, "key-2");
    let res = get_me(&app, impostor.sign(&claims)).await;
    assert_envelope(res, 401, "invalid_token").await;
    impostor.kid = "unknown".into();
    let res = get_me(&app, impostor.sign(&claims)).await;
    assert_envelope(res, 401, "invalid_token").await;

    // HS256 is refused when no secret is configured (no algorithm confusion).
    let hs = app.token(sub, None);
    let res = get_me(&app, hs).await;
    assert_envelope(res, 401, "invalid_token").await;
}

#[tokio::test]
async fn unknown_kid_refetches_are_throttled() {
    let key1 = RsaTestKey::new(1, "key-1");
    let jwks = JwksServer::start(std::slice::from_ref(&key1)).await;
    let url = jwks.url.clone();
    let app = TestApp::spawn_with(|s| {
        s.auth.jwt_secret = None;
        s.auth.jwks_url = Some(url);
        s.auth.jwks_min_refresh_interval = Duration::from_secs(60);
    })
    .await;
    let claims = claims_for(Uuid::now_v7(), None, 3600);
    for i in 0..5 {
        let stranger = RsaTestKey::new(2, &format!("random-{i}"));
        let res = get_me(&app, stranger.sign(&claims)).await;
        assert_eq!(res.status(), 401);
    }
    assert_eq!(
        jwks.fetches(),
        1,
        "unknown kids do not hammer the JWKS endpoint"
    );
}
