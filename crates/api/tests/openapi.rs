//! The OpenAPI document: version 3.1, every documented operation is routed (never the
//! router's 404/405), every route of the contract table below is documented, and the docs
//! page is served. Route authors add their routes to `EXPECTED_ROUTES`.

use agency_testkit::TestApp;
use reqwest::Method;
use serde_json::Value;

/// Routes the API must serve (method, path template as documented).
const EXPECTED_ROUTES: &[(&str, &str)] = &[
    ("get", "/api/v1/clients/{client_id}/approvals"),
    ("put", "/api/v1/clients/{client_id}/approvals/{id}"),
    ("post", "/api/v1/clients/{client_id}/approvals/{id}/approve"),
    ("post", "/api/v1/clients/{client_id}/approvals/{id}/reject"),
    ("post", "/api/v1/clients/{client_id}/leads/{id}/send"),
    ("get", "/api/v1/clients/{client_id}/sandbox/messages"),
    ("get", "/u/{token}"),
    ("post", "/u/{token}"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/reports/clients/{client_id}/ai-spend"),
    ("get", "/api/v1/admin/costs/ai"),
    ("post", "/api/v1/clients"),
    ("get", "/api/v1/clients/{client_id}"),
    ("put", "/api/v1/clients/{client_id}"),
    ("get", "/api/v1/clients/{client_id}/icp"),
    ("put", "/api/v1/clients/{client_id}/icp"),
    ("get", "/api/v1/clients/{client_id}/members"),
    ("post", "/api/v1/clients/{client_id}/members"),
    ("put", "/api/v1/clients/{client_id}/members/{id}"),
    ("delete", "/api/v1/clients/{client_id}/members/{id}"),
    ("post", "/api/v1/memberships/{id}/accept"),
    ("get", "/api/v1/admin/suppression"),
    ("post", "/api/v1/admin/suppression"),
    ("delete", "/api/v1/admin/suppression/{id}"),
    ("get", "/api/v1/admin/jobs/dead"),
    // Admin console.
    ("get", "/api/v1/admin/stats"),
    ("get", "/api/v1/admin/system/status"),
    ("get", "/api/v1/admin/alerts"),
    ("post", "/api/v1/admin/alerts/{id}/acknowledge"),
    ("get", "/api/v1/admin/activity"),
    ("get", "/api/v1/admin/clients"),
    ("get", "/api/v1/admin/clients/{id}"),
    ("patch", "/api/v1/admin/clients/{id}"),
    ("get", "/api/v1/admin/revenue"),
    ("post", "/api/v1/admin/jobs/{id}/retry"),
    // Campaigns, leads and the CSV import.
    ("get", "/api/v1/clients/{client_id}/campaigns"),
    ("post", "/api/v1/clients/{client_id}/campaigns"),
    ("get", "/api/v1/clients/{client_id}/campaigns/{id}"),
    ("put", "/api/v1/clients/{client_id}/campaigns/{id}"),
    ("delete", "/api/v1/clients/{client_id}/campaigns/{id}"),
    ("patch", "/api/v1/clients/{client_id}/campaigns/{id}/status"),
    (
        "post",
        "/api/v1/clients/{client_id}/campaigns/{id}/activate",
    ),
    ("post", "/api/v1/clients/{client_id}/campaigns/{id}/pause"),
    ("post", "/api/v1/clients/{client_id}/campaigns/{id}/resume"),
    (
        "post",
        "/api/v1/clients/{client_id}/campaigns/{id}/complete",
    ),
    ("get", "/api/v1/clients/{client_id}/campaigns/{id}/leads"),
    (
        "get",
        "/api/v1/clients/{client_id}/campaigns/{id}/sequences",
    ),
    (
        "put",
        "/api/v1/clients/{client_id}/campaigns/{id}/sequences",
    ),
    (
        "post",
        "/api/v1/clients/{client_id}/campaigns/{id}/leads/import",
    ),
    ("get", "/api/v1/clients/{client_id}/leads"),
    ("post", "/api/v1/clients/{client_id}/leads"),
    ("post", "/api/v1/clients/{client_id}/leads/bulk"),
    ("get", "/api/v1/clients/{client_id}/leads/{id}"),
    ("put", "/api/v1/clients/{client_id}/leads/{id}"),
    ("delete", "/api/v1/clients/{client_id}/leads/{id}"),
    ("get", "/api/v1/clients/{client_id}/leads/{id}/activities"),
    // Lead pipeline.
    ("post", "/api/v1/clients/{client_id}/leads/{id}/rescore"),
    ("post", "/api/v1/clients/{client_id}/leads/{id}/enrich"),
    ("post", "/api/v1/clients/{client_id}/leads/bulk-enrich"),
    ("post", "/api/v1/clients/{client_id}/campaigns/{id}/rescore"),
    // Reports.
    ("get", "/api/v1/reports/clients/{client_id}"),
    ("get", "/api/v1/reports/leads/distribution"),
    ("get", "/api/v1/reports/activity/daily"),
    ("get", "/api/v1/reports/campaigns/{id}"),
    ("get", "/api/v1/reports/campaigns/{id}/daily"),
    ("get", "/api/v1/reports/leads/{lead_id}/engagement"),
    // Sending resources.
    ("get", "/api/v1/clients/{client_id}/resources"),
    ("post", "/api/v1/clients/{client_id}/resources"),
    ("delete", "/api/v1/clients/{client_id}/resources/{id}"),
    ("post", "/api/v1/clients/{client_id}/resources/{id}/verify"),
    ("get", "/api/v1/clients/{client_id}/twilio-account"),
    ("put", "/api/v1/clients/{client_id}/twilio-account"),
    ("delete", "/api/v1/clients/{client_id}/twilio-account"),
    // Onboarding and ICP analysis.
    ("post", "/api/v1/onboarding/analyze"),
    ("get", "/api/v1/onboarding/status/{job_id}"),
    ("get", "/api/v1/onboarding/result/{job_id}"),
    ("post", "/api/v1/onboarding/confirm"),
    ("post", "/api/v1/clients/{client_id}/icp/reanalyze"),
    // Replies and meetings.
    ("get", "/api/v1/clients/{client_id}/replies"),
    ("get", "/api/v1/clients/{client_id}/replies/{id}"),
    ("patch", "/api/v1/clients/{client_id}/replies/{id}/handled"),
    ("get", "/api/v1/clients/{client_id}/meetings"),
    ("post", "/api/v1/clients/{client_id}/meetings"),
    ("post", "/api/v1/clients/{client_id}/meetings/{id}/cancel"),
    // Outbound webhooks.
    ("get", "/api/v1/clients/{client_id}/webhook-endpoints"),
    ("post", "/api/v1/clients/{client_id}/webhook-endpoints"),
    ("put", "/api/v1/clients/{client_id}/webhook-endpoints/{id}"),
    (
        "delete",
        "/api/v1/clients/{client_id}/webhook-endpoints/{id}",
    ),
    (
        "get",
        "/api/v1/clients/{client_id}/webhook-endpoints/{id}/deliveries",
    ),
    (
        "post",
        "/api/v1/clients/{client_id}/webhook-endpoints/{id}/test",
    ),
    (
        "post",
        "/api/v1/clients/{client_id}/webhook-endpoints/{id}/rotate-secret",
    ),
    // The webhook inbox and the provider webhooks.
    ("get", "/api/v1/admin/webhook-events"),
    ("post", "/api/v1/admin/webhook-events/{id}/replay"),
    ("post", "/webhooks/twilio/sms"),
    ("post", "/webhooks/twilio/status"),
    ("post", "/webhooks/resend"),
    ("post", "/webhooks/vapi"),
];

fn operations(doc: &Value) -> Vec<(String, String)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                ops.push((method.to_owned(), path.clone()));
            }
        }
    }
    ops
}

#[tokio::test]
async fn document_matches_the_router() {
    let app = TestApp::spawn().await;
    let res = app
        .request(Method::GET, "/api/v1/openapi.json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let ops = operations(&doc);
    // Every contract route is documented.
    for (method, path) in EXPECTED_ROUTES {
        assert!(
            ops.iter().any(|(m, p)| m == method && p == path),
            "{method} {path} is not in the OpenAPI document"
        );
    }
    // Every documented operation is routed: without a token a real route answers 401, never
    // the router's 404 (`route_not_found`) or 405.
    let sample = uuid::Uuid::now_v7().to_string();
    for (method, path) in &ops {
        let concrete = path
            .split('/')
            .map(|seg| {
                if seg.starts_with('{') {
                    sample.as_str()
                } else {
                    seg
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let res = app.request(m, &concrete).send().await.unwrap();
        if path.starts_with("/u/") {
            // The public unsubscribe takes no token: an unknown link is its own 404.
            assert_eq!(res.status(), 404, "{method} {path}");
            let body: Value = res.json().await.unwrap();
            assert!(
                body["detail"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("unsubscribe"),
                "{method} {path} is documented but not routed: {body}"
            );
            continue;
        }
        assert_eq!(
            res.status(),
            401,
            "{method} {path} is documented but not routed (got {})",
            res.status()
        );
    }
    // The served document is the one generated from the code.
    let generated: Value =
        serde_json::from_str(&agency_api::openapi::document().to_json().unwrap()).unwrap();
    assert_eq!(generated, doc);
}

#[tokio::test]
async fn docs_page_is_served_without_auth() {
    let app = TestApp::spawn().await;
    let res = app
        .request(Method::GET, "/api/v1/docs")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    assert!(html.contains("/api/v1/openapi.json"));
}
