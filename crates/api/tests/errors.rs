//! The error envelope on every kind of failure (router, layers, rejections, handlers), the
//! request id, CORS preflights, the body limit and the rate limit, through real HTTP.

use std::time::Duration;

use agency_api::layers;
use agency_domain::Role;
use agency_testkit::{TestApp, assert_envelope, test_settings};
use axum::Router;
use axum::routing::get;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn router_errors_are_envelopes_with_the_request_id() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    // Unknown route.
    let res = app.send_as(&user, Method::GET, "/api/v1/nope").await;
    assert_envelope(res, 404, "route_not_found").await;
    // Wrong method on a known route keeps its Allow header.
    let res = app.send_as(&user, Method::DELETE, "/api/v1/me").await;
    assert!(res.headers().get("allow").is_some());
    assert_envelope(res, 405, "method_not_allowed").await;
    // A caller's request id is kept and echoed.
    let res = app
        .as_user(&user, Method::GET, "/api/v1/nope")
        .header("x-request-id", "caller-chosen-id-123")
        .send()
        .await
        .unwrap();
    let body = assert_envelope(res, 404, "route_not_found").await;
    assert_eq!(body["request_id"], "caller-chosen-id-123");
    // Successes carry a (v7) request id too.
    let res = app.send_as(&user, Method::GET, "/api/v1/me").await;
    let id = res
        .headers()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);
}

#[tokio::test]
async fn json_bodies_400_for_syntax_422_with_path_for_shape_413_for_size() {
    let app = TestApp::spawn_with(|s| s.max_body_bytes = 2048).await;
    let user = app.create_user().await;
    let post = |body: &'static str| {
        let request = app
            .as_user(&user, Method::POST, "/api/v1/clients")
            .header("content-type", "application/json")
            .body(body);
        async move { request.send().await.unwrap() }
    };
    assert_envelope(post("{\"name\": ").await, 400, "malformed_json").await;
    // A missing field is named at its own path, and the detail is a sentence.
    let body = assert_envelope(post("{}").await, 422, "validation_failed").await;
    assert_eq!(body["fields"][0]["path"], "name");
    assert_eq!(body["detail"], "Name is required.");
    assert_envelope(post("").await, 400, "malformed_json").await;
    let body = assert_envelope(
        post(r#"{"name":"Acme","colour":"red"}"#).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["fields"][0]["path"], "colour");
    assert!(
        body["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("unknown field")
    );
    let body = assert_envelope(
        post(r#"{"name":"Acme","tier":"gold"}"#).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["fields"][0]["path"], "tier");
    let body = assert_envelope(post(r#"{"name":42}"#).await, 422, "validation_failed").await;
    assert_eq!(body["fields"][0]["path"], "name");
    let body = assert_envelope(
        post(r#"{"name":"Acme","timezone":"Mars/Olympus"}"#).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["fields"][0]["path"], "timezone");
    // Over the JSON limit.
    let big = json!({"name": "x".repeat(4096)});
    let res = app
        .send_json_as(&user, Method::POST, "/api/v1/clients", &big)
        .await;
    assert_envelope(res, 413, "payload_too_large").await;
    // Not JSON at all.
    let res = app
        .as_user(&user, Method::POST, "/api/v1/clients")
        .header("content-type", "text/plain")
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_envelope(res, 400, "unsupported_content_type").await;
    // Nothing was created by the refused requests.
    let clients: i64 = sqlx::query_scalar("SELECT count(*) FROM clients")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(clients, 0);
}

#[tokio::test]
async fn hard_body_cap_answers_413_before_the_handler() {
    let app = TestApp::spawn_with(|s| {
        s.max_body_bytes = 1024;
        s.import_max_bytes = 1024;
    })
    .await;
    let user = app.create_user().await;
    let res = app
        .as_user(&user, Method::POST, "/api/v1/clients")
        .header("content-type", "application/json")
        .body(vec![b' '; 10_000])
        .send()
        .await
        .unwrap();
    assert_envelope(res, 413, "payload_too_large").await;
}

#[tokio::test]
async fn json_content_type_is_accepted_on_get_and_bodyless_post() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let res = app
        .as_user(&user, Method::GET, "/api/v1/me")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // A body-less POST with the JSON content type reaches the handler (404: no such invite).
    let res = app
        .as_user(
            &user,
            Method::POST,
            &format!("/api/v1/memberships/{}/accept", uuid::Uuid::now_v7()),
        )
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_envelope(res, 404, "not_found").await;
}

#[tokio::test]
async fn query_validation_is_422_with_the_parameter() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let owner = app.user_with_role(client, Role::Owner).await;
    for (q, path) in [
        ("page_size=101", "page_size"),
        ("page_size=0", "page_size"),
        ("page=0", "page"),
        ("page=abc", "page"),
    ] {
        let res = app
            .send_as(
                &owner,
                Method::GET,
                &format!("/api/v1/clients/{client}/members?{q}"),
            )
            .await;
        let body = assert_envelope(res, 422, "validation_failed").await;
        assert_eq!(body["fields"][0]["path"], path, "{q}");
    }
    let res = app
        .send_as(
            &owner,
            Method::GET,
            &format!("/api/v1/clients/{client}/members?page=1&page_size=100"),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (
            body["page"].as_i64(),
            body["page_size"].as_i64(),
            body["total"].as_i64(),
            body["total_pages"].as_i64()
        ),
        (Some(1), Some(100), Some(1), Some(1))
    );
}

#[tokio::test]
async fn cors_preflight_is_answered_for_configured_origins() {
    let app = TestApp::spawn_with(|s| {
        s.cors = agency_api::CorsOrigins::List(vec!["https://dash.example.com".into()]);
    })
    .await;
    let res = app
        .request(Method::OPTIONS, "/api/v1/clients")
        .header("origin", "https://dash.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers();
    assert_eq!(h["access-control-allow-origin"], "https://dash.example.com");
    let methods = h["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .to_ascii_uppercase();
    for m in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
        assert!(methods.contains(m), "{methods}");
    }
    let headers = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_ascii_lowercase();
    assert!(
        headers.contains("authorization") && headers.contains("content-type"),
        "{headers}"
    );
    assert!(h.get("access-control-allow-credentials").is_none());
    // Another origin gets no CORS headers.
    let res = app
        .request(Method::OPTIONS, "/api/v1/clients")
        .header("origin", "https://evil.example.com")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    // `*` allows any origin, also on error responses.
    let app = TestApp::spawn().await;
    let res = app
        .request(Method::GET, "/api/v1/me")
        .header("origin", "https://x.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    assert_envelope(res, 401, "missing_token").await;
}

#[tokio::test]
async fn rate_limit_is_per_user_with_retry_after() {
    let app = TestApp::spawn_with(|s| s.rate_limit_per_minute = 3).await;
    let a = app.create_user().await;
    let b = app.create_user().await;
    for _ in 0..3 {
        assert_eq!(
            app.send_as(&a, Method::GET, "/api/v1/me").await.status(),
            200
        );
    }
    let res = app.send_as(&a, Method::GET, "/api/v1/me").await;
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_envelope(res, 429, "rate_limited").await;
    // Another user has their own window.
    assert_eq!(
        app.send_as(&b, Method::GET, "/api/v1/me").await.status(),
        200
    );
}

#[tokio::test]
async fn panics_and_timeouts_become_envelopes() {
    let mut settings = test_settings();
    settings.request_timeout = Duration::from_millis(200);
    let router = Router::new()
        .route(
            "/panic",
            get(|| async {
                if true {
                    panic!("boom")
                }
            }),
        )
        .route(
            "/slow",
            get(|| async { tokio::time::sleep(Duration::from_secs(5)).await }),
        );
    let app = layers::apply(router, &settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let http = reqwest::Client::new();
    let res = http
        .get(format!("http://{addr}/panic"))
        .send()
        .await
        .unwrap();
    let body = assert_envelope(res, 500, "internal_error").await;
    assert!(
        !body["detail"].as_str().unwrap().contains("boom"),
        "internals leak: {body}"
    );
    let res = http
        .get(format!("http://{addr}/slow"))
        .send()
        .await
        .unwrap();
    assert_envelope(res, 503, "timeout").await;
}

#[tokio::test]
async fn values_the_database_refuses_are_422_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let owner = app.user_with_role(client, Role::Owner).await;
    let campaign: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO campaigns (client_id, name) VALUES ($1, 'Spring') RETURNING id",
    )
    .bind(client.into_uuid())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let path = format!("/api/v1/clients/{client}/leads");
    // A NUL character is valid JSON but not PostgreSQL text.
    let res = app
        .as_user(&owner, Method::POST, &path)
        .header("content-type", "application/json")
        .body(format!(
            r#"{{"email":"nul@example.com.au","campaign_id":"{campaign}","first_name":"Ja\u0000ne"}}"#
        ))
        .send()
        .await
        .unwrap();
    // Refused at the edge, naming the field (issue 15), before any database work.
    let body = assert_envelope(res, 422, "validation_failed").await;
    assert_eq!(body["fields"][0]["path"], "first_name", "{body}");
    let leads: i64 = sqlx::query_scalar("SELECT count(*) FROM leads WHERE client_id = $1")
        .bind(client.into_uuid())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(leads, 0);

    // The last resort for a value no check caught: the database's SQLSTATE 22xxx is a 422
    // `invalid_value`, never a 500.
    let nul = sqlx::query_scalar::<_, String>("SELECT $1::text")
        .bind("Ja\u{0}ne")
        .fetch_one(&app.pool)
        .await
        .expect_err("NUL refused");
    let overflow = sqlx::query_scalar::<_, String>("SELECT 100000000::numeric(10, 2)::text")
        .fetch_one(&app.pool)
        .await
        .expect_err("overflow refused");
    for (err, sqlstate) in [(nul, "22021"), (overflow, "22003")] {
        let store = agency_store::StoreError::from(err);
        assert!(
            matches!(&store, agency_store::StoreError::InvalidValue { sqlstate: s, .. } if s == sqlstate),
            "{store:?}"
        );
        let api = agency_api::ApiError::from(store);
        assert_eq!(
            (api.status.as_u16(), api.code.as_ref()),
            (422, "invalid_value")
        );
    }
}

#[tokio::test]
async fn a_callers_request_id_is_kept_only_when_short_and_safe() {
    let app = TestApp::spawn().await;
    let id_for = |sent: String| {
        let request = app
            .request(Method::GET, "/api/v1/nowhere")
            .header("x-request-id", sent);
        async move {
            let res = request.send().await.unwrap();
            res.headers()["x-request-id"].to_str().unwrap().to_owned()
        }
    };
    assert_eq!(
        id_for("trace-01:abc.DEF_9".into()).await,
        "trace-01:abc.DEF_9"
    );
    for bad in [
        "x".repeat(129),
        "has space".into(),
        "quote\"".into(),
        "<script>".into(),
    ] {
        let got = id_for(bad.clone()).await;
        assert_ne!(got, bad);
        assert!(uuid::Uuid::parse_str(&got).is_ok(), "{bad:?} -> {got}");
    }
}
