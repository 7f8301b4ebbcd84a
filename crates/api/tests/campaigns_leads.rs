//! Campaign, lead and CSV import routes through real HTTP (TestApp: a fresh database and the
//! full router): shapes, validation envelopes, conflicts, pagination and cursors, filters,
//! imports, and the tenancy/role matrix for every route.

use agency_domain::{ClientId, Role};
use agency_testkit::{MatrixCase, TestApp, TestUser, assert_envelope, run_matrix};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

async fn make_campaign(app: &TestApp, client: ClientId, status: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO campaigns (client_id, name, status) VALUES ($1, 'Seeded', $2) RETURNING id",
    )
    .bind(client.into_uuid())
    .bind(status)
    .fetch_one(&app.pool)
    .await
    .expect("campaign")
}

async fn make_lead(app: &TestApp, client: ClientId) -> Uuid {
    let campaign = make_campaign(app, client, "draft").await;
    sqlx::query_scalar(
        "INSERT INTO leads (client_id, campaign_id, email) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(client.into_uuid())
    .bind(campaign)
    .bind(format!("{}@example.com", Uuid::now_v7().simple()))
    .fetch_one(&app.pool)
    .await
    .expect("lead")
}

async fn send(
    app: &TestApp,
    user: &TestUser,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = app.as_user(user, method, path);
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.expect("send")
}

async fn ok_json(res: reqwest::Response, status: u16) -> Value {
    let got = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    assert_eq!(got, status, "{body}");
    body
}

async fn csv(app: &TestApp, user: &TestUser, path: &str, body: String) -> reqwest::Response {
    app.as_user(user, Method::POST, path)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .expect("send csv")
}

const CAMPAIGN_FIELDS: &[&str] = &[
    "id",
    "client_id",
    "name",
    "description",
    "status",
    "permission_mode",
    "allocation_email",
    "allocation_sms",
    "allocation_linkedin",
    "allocation_voice",
    "allocation_mail",
    "daily_limit",
    "start_date",
    "end_date",
    "target_industries",
    "target_titles",
    "target_company_sizes",
    "target_locations",
    "total_leads",
    "leads_contacted",
    "leads_replied",
    "leads_converted",
    "reply_rate",
    "conversion_rate",
    "created_at",
    "updated_at",
];

const LEAD_FIELDS: &[&str] = &[
    "id",
    "client_id",
    "campaign_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "title",
    "company",
    "linkedin_url",
    "domain",
    "als_score",
    "als_tier",
    "als_data_quality",
    "als_authority",
    "als_company_fit",
    "als_timing",
    "als_risk",
    "als_weights",
    "als_channels",
    "scored_at",
    "organization_industry",
    "organization_employee_count",
    "organization_country",
    "status",
    "enrichment_source",
    "enrichment_confidence",
    "dncr_checked",
    "next_action_at",
    "created_at",
    "updated_at",
];

#[tokio::test]
async fn campaign_lifecycle_over_http() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let member = app.user_with_role(client, Role::Member).await;
    let base = format!("/api/v1/clients/{client}/campaigns");

    let created = ok_json(
        send(
            &app,
            &member,
            Method::POST,
            &base,
            Some(json!({"name": "Launch"})),
        )
        .await,
        201,
    )
    .await;
    for field in CAMPAIGN_FIELDS {
        assert!(
            created.get(*field).is_some(),
            "campaign lacks {field}: {created}"
        );
    }
    assert_eq!(created["status"], "draft");
    assert_eq!(created["allocation_email"], 40);
    assert_eq!(created["reply_rate"], 0.0);
    assert!(
        created["created_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let id = created["id"].as_str().expect("id").to_owned();

    let bad = json!({"name": "X", "allocation_email": 10});
    let body = assert_envelope(
        send(&app, &member, Method::POST, &base, Some(bad)).await,
        422,
        "validation_failed",
    )
    .await;
    let paths: Vec<&str> = body["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert!(
        paths.contains(&"allocation_email") && paths.contains(&"allocation_mail"),
        "{body}"
    );
    let typo = json!({"name": "X", "alocation_email": 10});
    assert_envelope(
        send(&app, &member, Method::POST, &base, Some(typo)).await,
        422,
        "validation_failed",
    )
    .await;

    let one = format!("{base}/{id}");
    let updated = ok_json(
        send(
            &app,
            &member,
            Method::PUT,
            &one,
            Some(json!({"daily_limit": 75})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (updated["daily_limit"].as_i64(), updated["name"].as_str()),
        (Some(75), Some("Launch"))
    );

    let res = send(&app, &member, Method::POST, &format!("{one}/pause"), None).await;
    assert_envelope(res, 409, "illegal_transition").await;
    let res = send(&app, &member, Method::POST, &format!("{one}/resume"), None).await;
    assert_envelope(res, 409, "illegal_transition").await;
    let active = ok_json(
        send(
            &app,
            &member,
            Method::POST,
            &format!("{one}/activate"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(active["status"], "active");
    let paused = ok_json(
        send(&app, &member, Method::POST, &format!("{one}/pause"), None).await,
        200,
    )
    .await;
    assert_eq!(paused["status"], "paused");
    let resumed = ok_json(
        send(&app, &member, Method::POST, &format!("{one}/resume"), None).await,
        200,
    )
    .await;
    assert_eq!(resumed["status"], "active");
    let res = send(
        &app,
        &member,
        Method::PATCH,
        &format!("{one}/status"),
        Some(json!({"status": "draft"})),
    )
    .await;
    assert_envelope(res, 409, "illegal_transition").await;
    let res = send(
        &app,
        &member,
        Method::PATCH,
        &format!("{one}/status"),
        Some(json!({"status": "gone"})),
    )
    .await;
    assert_envelope(res, 422, "validation_failed").await;
    let done = send(
        &app,
        &member,
        Method::PATCH,
        &format!("{one}/status"),
        Some(json!({"status": "completed"})),
    )
    .await;
    assert_eq!(ok_json(done, 200).await["status"], "completed");
    let res = send(
        &app,
        &member,
        Method::PUT,
        &one,
        Some(json!({"name": "Again"})),
    )
    .await;
    assert_envelope(res, 409, "campaign_read_only").await;

    let seq = json!([{"channel": "email", "subject_template": "Hi", "body_template": "Body"}, {"channel": "sms", "delay_days": 2}]);
    let draft = ok_json(
        send(
            &app,
            &member,
            Method::POST,
            &base,
            Some(json!({"name": "Seq"})),
        )
        .await,
        201,
    )
    .await;
    let seq_path = format!("{base}/{}/sequences", draft["id"].as_str().expect("id"));
    let saved = ok_json(
        send(&app, &member, Method::PUT, &seq_path, Some(seq)).await,
        200,
    )
    .await;
    assert_eq!(saved.as_array().map(Vec::len), Some(2));
    assert_eq!(saved[1]["step_number"], 2);
    let read = ok_json(send(&app, &member, Method::GET, &seq_path, None).await, 200).await;
    assert_eq!(read, saved);

    let page = ok_json(
        send(
            &app,
            &member,
            Method::GET,
            &format!("{base}?status=completed"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (page["total"].as_i64(), page["items"][0]["id"].as_str()),
        (Some(1), Some(id.as_str()))
    );
    let page = ok_json(
        send(
            &app,
            &member,
            Method::GET,
            &format!("{base}?search=SEQ&page_size=1"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (page["total"].as_i64(), page["total_pages"].as_i64()),
        (Some(1), Some(1))
    );
    let audit: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE client_id = $1 AND entity_type = 'campaign'",
    )
    .bind(client.into_uuid())
    .fetch_one(&app.pool)
    .await
    .expect("audit");
    assert!(audit >= 8, "every write is audited, got {audit}");
}

#[tokio::test]
async fn leads_over_http() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let member = app.user_with_role(client, Role::Member).await;
    let campaign = make_campaign(&app, client, "draft").await;
    let base = format!("/api/v1/clients/{client}/leads");

    let body =
        json!({"email": " Ann@Example.COM ", "campaign_id": campaign, "phone": "0412 345 678"});
    let lead = ok_json(
        send(&app, &member, Method::POST, &base, Some(body)).await,
        201,
    )
    .await;
    for field in LEAD_FIELDS {
        assert!(lead.get(*field).is_some(), "lead lacks {field}: {lead}");
    }
    assert_eq!(
        (lead["email"].as_str(), lead["phone"].as_str()),
        (Some("ann@example.com"), Some("+61412345678"))
    );
    assert_eq!(
        (lead["status"].as_str(), lead["als_score"].is_null()),
        (Some("new"), true)
    );

    let dup = json!({"email": "ANN@example.com", "campaign_id": campaign});
    assert_envelope(
        send(&app, &member, Method::POST, &base, Some(dup)).await,
        409,
        "duplicate_email",
    )
    .await;
    let bad = json!({"email": "nope", "campaign_id": campaign});
    let body = assert_envelope(
        send(&app, &member, Method::POST, &base, Some(bad)).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(body["fields"][0]["path"], "email");
    sqlx::query("INSERT INTO global_suppression (email, reason) VALUES ('blocked@example.com', 'unsubscribe')")
        .execute(&app.pool)
        .await
        .expect("suppress");
    let blocked = json!({"email": "Blocked@example.com", "campaign_id": campaign});
    let body = assert_envelope(
        send(&app, &member, Method::POST, &base, Some(blocked)).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("suppression")),
        "{body}"
    );

    let other = app.create_client("Other").await;
    let foreign_lead = make_lead(&app, other).await;
    assert_envelope(
        send(
            &app,
            &member,
            Method::GET,
            &format!("{base}/{foreign_lead}"),
            None,
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let foreign_campaign = make_campaign(&app, other, "draft").await;
    let body = json!({"email": "x@example.com", "campaign_id": foreign_campaign});
    let res = send(&app, &member, Method::POST, &base, Some(body)).await;
    assert_eq!(
        assert_envelope(res, 422, "validation_failed").await["fields"][0]["path"],
        "campaign_id"
    );

    let id = lead["id"].as_str().expect("id");
    let upd = json!({"status": "paused", "title": "CEO", "phone": null});
    let got = ok_json(
        send(
            &app,
            &member,
            Method::PUT,
            &format!("{base}/{id}"),
            Some(upd),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (
            got["status"].as_str(),
            got["title"].as_str(),
            got["phone"].is_null()
        ),
        (Some("paused"), Some("CEO"), true)
    );
    sqlx::query("INSERT INTO activities (client_id, campaign_id, lead_id, channel, action) VALUES ($1, $2, $3, 'email', 'sent')")
        .bind(client.into_uuid())
        .bind(campaign)
        .bind(Uuid::parse_str(id).expect("uuid"))
        .execute(&app.pool)
        .await
        .expect("activity");
    let acts = ok_json(
        send(
            &app,
            &member,
            Method::GET,
            &format!("{base}/{id}/activities?limit=5"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(
        (acts.as_array().map(Vec::len), acts[0]["action"].as_str()),
        (Some(1), Some("sent"))
    );

    let bulk = json!({"leads": (0..60).map(|i| json!({"email": format!("b{i}@example.com"), "campaign_id": campaign}))
        .chain([json!({"email": "ann@example.com", "campaign_id": campaign})]).collect::<Vec<_>>()});
    let res = ok_json(
        send(
            &app,
            &member,
            Method::POST,
            &format!("{base}/bulk"),
            Some(bulk),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(res, json!({"created": 60, "skipped": 1, "total": 61}));

    // Offset pages: no duplicates, no gaps.
    let mut seen = Vec::new();
    for page in 1..=4 {
        let body = ok_json(
            send(
                &app,
                &member,
                Method::GET,
                &format!("{base}?page={page}&page_size=20"),
                None,
            )
            .await,
            200,
        )
        .await;
        assert_eq!(body["total"], 61);
        assert_eq!(body["total_pages"], 4);
        seen.extend(
            body["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|l| l["id"].as_str().unwrap_or_default().to_owned()),
        );
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((seen.len(), unique.len()), (61, 61));
    // Keyset pages give the same order.
    let mut keyed = Vec::new();
    let mut cursor = String::new();
    loop {
        let body = ok_json(
            send(
                &app,
                &member,
                Method::GET,
                &format!("{base}?cursor={cursor}&limit=25"),
                None,
            )
            .await,
            200,
        )
        .await;
        assert!(
            body.get("total").is_none(),
            "cursor mode answers items and next_cursor only"
        );
        keyed.extend(
            body["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|l| l["id"].as_str().unwrap_or_default().to_owned()),
        );
        match body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(keyed, seen);
    assert_envelope(
        send(
            &app,
            &member,
            Method::GET,
            &format!("{base}?cursor=garbage"),
            None,
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_envelope(
        send(
            &app,
            &member,
            Method::GET,
            &format!("{base}?sort=name"),
            None,
        )
        .await,
        422,
        "validation_failed",
    )
    .await;

    let body = ok_json(
        send(
            &app,
            &member,
            Method::GET,
            &format!("{base}?search=B1&status=new"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(body["total"], 11, "b1 and b10..b19");
    let body = ok_json(
        send(
            &app,
            &member,
            Method::GET,
            &format!("{base}?status=paused"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(body["total"], 1);
    let body = ok_json(
        send(
            &app,
            &member,
            Method::GET,
            &format!("{base}?campaign_id={foreign_campaign}"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(body["total"], 0);
    let camp_leads = format!("/api/v1/clients/{client}/campaigns/{campaign}/leads?page_size=5");
    let body = ok_json(
        send(&app, &member, Method::GET, &camp_leads, None).await,
        200,
    )
    .await;
    assert_eq!(
        (
            body["total"].as_i64(),
            body["items"].as_array().map(Vec::len)
        ),
        (Some(61), Some(5))
    );

    // Deleting is an admin's (SPEC): the member is refused, an admin deletes.
    let res = send(&app, &member, Method::DELETE, &format!("{base}/{id}"), None).await;
    assert_envelope(res, 403, "forbidden").await;
    let admin = app.user_with_role(client, Role::Admin).await;
    let res = send(&app, &admin, Method::DELETE, &format!("{base}/{id}"), None).await;
    assert_eq!(res.status().as_u16(), 204);
    assert_envelope(
        send(&app, &member, Method::GET, &format!("{base}/{id}"), None).await,
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn csv_import_over_http() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let member = app.user_with_role(client, Role::Member).await;
    let viewer = app.user_with_role(client, Role::Viewer).await;
    let campaign = make_campaign(&app, client, "draft").await;
    let path = format!("/api/v1/clients/{client}/campaigns/{campaign}/leads/import");
    let file = "Email,Given Name,Last Name,Mobile,Company Name,Website\n\
        one@example.com,One,A,0412 345 678,Acme,https://www.acme.com.au\n\
        ONE@example.com,Dup,,,,\n\
        broken,,,,,\n"
        .to_owned();
    let report = ok_json(csv(&app, &member, &path, file.clone()).await, 200).await;
    assert_eq!(
        (
            report["created"].as_i64(),
            report["duplicates"].as_i64(),
            report["invalid"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(report["rows"][0]["status"], "created");
    assert!(report["rows"][0]["lead_id"].as_str().is_some());
    assert!(report["rows"][0].get("reason").is_none());
    assert_eq!(report["rows"][1]["status"], "duplicate");
    assert_eq!(report["rows"][2]["status"], "invalid");
    assert!(
        report["rows"][2]["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    let again = ok_json(csv(&app, &member, &path, file.clone()).await, 200).await;
    assert_eq!(
        (again["created"].as_i64(), again["duplicates"].as_i64()),
        (Some(0), Some(2))
    );

    assert_eq!(
        csv(&app, &viewer, &path, file.clone())
            .await
            .status()
            .as_u16(),
        403
    );
    let other = app.create_client("Other").await;
    let outsider = app.user_with_role(other, Role::Owner).await;
    let before = app.tenant_fingerprint(client).await;
    assert_eq!(
        csv(&app, &outsider, &path, file.clone())
            .await
            .status()
            .as_u16(),
        404
    );
    let foreign = format!("/api/v1/clients/{other}/campaigns/{campaign}/leads/import");
    assert_envelope(csv(&app, &outsider, &foreign, file).await, 404, "not_found").await;
    assert_eq!(app.tenant_fingerprint(client).await, before);

    let res = csv(&app, &member, &path, "name,company\nx,y\n".to_owned()).await;
    assert_envelope(res, 422, "validation_failed").await;

    // 100,000 rows end to end, then one more row than allowed.
    let mut big = String::from("email,first_name,last_name,company,phone\n");
    for i in 0..100_000 {
        big.push_str(&format!(
            "lead{i}@bulk-example.com,First{i},Last{i},Company {},\n",
            i % 997
        ));
    }
    let started = std::time::Instant::now();
    let res = csv(&app, &member, &path, big.clone()).await;
    let took = started.elapsed();
    let report = ok_json(res, 200).await;
    eprintln!(
        "HTTP import of 100000 rows ({} bytes) took {took:?}",
        big.len()
    );
    assert_eq!(report["created"], 100_000);
    assert_eq!(report["rows"].as_array().map(Vec::len), Some(100_000));
    big.push_str("extra@bulk-example.com,,,,\n");
    let res = csv(&app, &member, &path, big).await;
    assert_envelope(res, 413, "payload_too_large").await;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM leads WHERE client_id = $1")
        .bind(client.into_uuid())
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(count, 100_001, "the refused import added nothing");
}

#[tokio::test]
async fn lead_create_by_role_and_tenant() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let campaign = make_campaign(&app, client, "draft").await;
    let path = format!("/api/v1/clients/{client}/leads");
    for role in Role::ALL {
        let user = app.user_with_role(client, *role).await;
        let body = json!({"email": format!("{role}@example.com"), "campaign_id": campaign});
        let expected = if role.at_least(Role::Member) {
            201
        } else {
            403
        };
        assert_eq!(
            send(&app, &user, Method::POST, &path, Some(body))
                .await
                .status()
                .as_u16(),
            expected,
            "{role}"
        );
    }
    let other = app.create_client("Other").await;
    let outsider = app.user_with_role(other, Role::Owner).await;
    let before = app.tenant_fingerprint(client).await;
    let body = json!({"email": "outsider@example.com", "campaign_id": campaign});
    assert_eq!(
        send(&app, &outsider, Method::POST, &path, Some(body))
            .await
            .status()
            .as_u16(),
        404
    );
    assert_eq!(app.tenant_fingerprint(client).await, before);
}

#[tokio::test]
async fn openapi_documents_campaign_and_lead_routes() {
    let app = TestApp::spawn().await;
    let doc: Value = app
        .request(Method::GET, "/api/v1/openapi.json")
        .send()
        .await
        .expect("doc")
        .json()
        .await
        .expect("json");
    let paths = &doc["paths"];
    for (path, method) in [
        ("/api/v1/clients/{client_id}/campaigns", "get"),
        ("/api/v1/clients/{client_id}/campaigns", "post"),
        ("/api/v1/clients/{client_id}/campaigns/{id}", "put"),
        ("/api/v1/clients/{client_id}/campaigns/{id}", "delete"),
        ("/api/v1/clients/{client_id}/campaigns/{id}/status", "patch"),
        (
            "/api/v1/clients/{client_id}/campaigns/{id}/activate",
            "post",
        ),
        ("/api/v1/clients/{client_id}/campaigns/{id}/resume", "post"),
        (
            "/api/v1/clients/{client_id}/campaigns/{id}/sequences",
            "put",
        ),
        ("/api/v1/clients/{client_id}/campaigns/{id}/leads", "get"),
        (
            "/api/v1/clients/{client_id}/campaigns/{id}/leads/import",
            "post",
        ),
        ("/api/v1/clients/{client_id}/leads", "get"),
        ("/api/v1/clients/{client_id}/leads/bulk", "post"),
        ("/api/v1/clients/{client_id}/leads/{id}", "put"),
        ("/api/v1/clients/{client_id}/leads/{id}/activities", "get"),
    ] {
        assert!(
            paths[path][method].is_object(),
            "{method} {path} is not documented"
        );
    }
}

fn campaign_setup(app: &TestApp, client: ClientId) -> futures::future::BoxFuture<'_, Value> {
    Box::pin(async move { json!({"id": make_campaign(app, client, "draft").await}) })
}
fn active_setup(app: &TestApp, client: ClientId) -> futures::future::BoxFuture<'_, Value> {
    Box::pin(async move { json!({"id": make_campaign(app, client, "active").await}) })
}
fn paused_setup(app: &TestApp, client: ClientId) -> futures::future::BoxFuture<'_, Value> {
    Box::pin(async move { json!({"id": make_campaign(app, client, "paused").await}) })
}
fn lead_setup(app: &TestApp, client: ClientId) -> futures::future::BoxFuture<'_, Value> {
    Box::pin(async move { json!({"id": make_lead(app, client).await}) })
}

fn case(
    name: &'static str,
    method: Method,
    path: &'static str,
    body: Option<fn() -> Value>,
    min_role: Role,
    success: u16,
    setup: Option<agency_testkit::matrix::Setup>,
) -> MatrixCase {
    MatrixCase {
        name,
        method,
        path,
        body,
        min_role,
        success,
        setup,
    }
}

#[tokio::test]
async fn tenancy_and_role_matrix() {
    let app = TestApp::spawn().await;
    let c = "/api/v1/clients/{client_id}/campaigns";
    let _ = c;
    let cases = [
        case(
            "list campaigns",
            Method::GET,
            "/api/v1/clients/{client_id}/campaigns",
            None,
            Role::Viewer,
            200,
            None,
        ),
        case(
            "create campaign",
            Method::POST,
            "/api/v1/clients/{client_id}/campaigns",
            Some(|| json!({"name": "x"})),
            Role::Member,
            201,
            None,
        ),
        case(
            "get campaign",
            Method::GET,
            "/api/v1/clients/{client_id}/campaigns/{id}",
            None,
            Role::Viewer,
            200,
            Some(campaign_setup),
        ),
        case(
            "update campaign",
            Method::PUT,
            "/api/v1/clients/{client_id}/campaigns/{id}",
            Some(|| json!({"name": "y"})),
            Role::Member,
            200,
            Some(campaign_setup),
        ),
        case(
            "delete campaign",
            Method::DELETE,
            "/api/v1/clients/{client_id}/campaigns/{id}",
            None,
            Role::Admin,
            204,
            Some(campaign_setup),
        ),
        case(
            "patch status",
            Method::PATCH,
            "/api/v1/clients/{client_id}/campaigns/{id}/status",
            Some(|| json!({"status": "active"})),
            Role::Member,
            200,
            Some(campaign_setup),
        ),
        case(
            "activate",
            Method::POST,
            "/api/v1/clients/{client_id}/campaigns/{id}/activate",
            None,
            Role::Member,
            200,
            Some(campaign_setup),
        ),
        case(
            "pause",
            Method::POST,
            "/api/v1/clients/{client_id}/campaigns/{id}/pause",
            None,
            Role::Member,
            200,
            Some(active_setup),
        ),
        case(
            "resume",
            Method::POST,
            "/api/v1/clients/{client_id}/campaigns/{id}/resume",
            None,
            Role::Member,
            200,
            Some(paused_setup),
        ),
        case(
            "complete",
            Method::POST,
            "/api/v1/clients/{client_id}/campaigns/{id}/complete",
            None,
            Role::Member,
            200,
            Some(active_setup),
        ),
        case(
            "campaign leads",
            Method::GET,
            "/api/v1/clients/{client_id}/campaigns/{id}/leads",
            None,
            Role::Viewer,
            200,
            Some(campaign_setup),
        ),
        case(
            "get sequence",
            Method::GET,
            "/api/v1/clients/{client_id}/campaigns/{id}/sequences",
            None,
            Role::Viewer,
            200,
            Some(campaign_setup),
        ),
        case(
            "put sequence",
            Method::PUT,
            "/api/v1/clients/{client_id}/campaigns/{id}/sequences",
            Some(|| json!([{"channel": "email"}])),
            Role::Member,
            200,
            Some(campaign_setup),
        ),
        case(
            "list leads",
            Method::GET,
            "/api/v1/clients/{client_id}/leads",
            None,
            Role::Viewer,
            200,
            None,
        ),
        case(
            "bulk leads",
            Method::POST,
            "/api/v1/clients/{client_id}/leads/bulk",
            Some(|| json!({"leads": []})),
            Role::Member,
            201,
            None,
        ),
        case(
            "get lead",
            Method::GET,
            "/api/v1/clients/{client_id}/leads/{id}",
            None,
            Role::Viewer,
            200,
            Some(lead_setup),
        ),
        case(
            "update lead",
            Method::PUT,
            "/api/v1/clients/{client_id}/leads/{id}",
            Some(|| json!({"title": "CEO"})),
            Role::Member,
            200,
            Some(lead_setup),
        ),
        case(
            "delete lead",
            Method::DELETE,
            "/api/v1/clients/{client_id}/leads/{id}",
            None,
            Role::Admin,
            204,
            Some(lead_setup),
        ),
        case(
            "lead activities",
            Method::GET,
            "/api/v1/clients/{client_id}/leads/{id}/activities",
            None,
            Role::Viewer,
            200,
            Some(lead_setup),
        ),
    ];
    run_matrix(&app, &cases).await;
}

/// A sentence a user can read: a capital first, a full stop last.
fn is_sentence(s: &str) -> bool {
    s.starts_with(|c: char| c.is_uppercase()) && s.ends_with(['.', '!', '?'])
}

#[tokio::test]
async fn conflict_and_validation_details_are_sentences_and_unscored_channels_are_empty() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let member = app.user_with_role(client, Role::Member).await;
    let base = format!("/api/v1/clients/{client}/campaigns");

    let active = make_campaign(&app, client, "active").await;
    let res = send(
        &app,
        &member,
        Method::POST,
        &format!("{base}/{active}/activate"),
        None,
    )
    .await;
    let body = assert_envelope(res, 409, "illegal_transition").await;
    assert_eq!(body["detail"], "This campaign is already active.");
    let draft = make_campaign(&app, client, "draft").await;
    let res = send(
        &app,
        &member,
        Method::POST,
        &format!("{base}/{draft}/pause"),
        None,
    )
    .await;
    let body = assert_envelope(res, 409, "illegal_transition").await;
    assert_eq!(
        body["detail"],
        "This campaign has not started yet, so it cannot be paused. Activate it first."
    );
    let done = make_campaign(&app, client, "completed").await;
    let res = send(
        &app,
        &member,
        Method::PUT,
        &format!("{base}/{done}"),
        Some(json!({"name": "Renamed"})),
    )
    .await;
    let body = assert_envelope(res, 409, "campaign_read_only").await;
    assert_eq!(
        body["detail"],
        "This campaign is completed, so it can no longer be changed."
    );

    // 422: the detail is a sentence, the field keeps its own message.
    let res = send(
        &app,
        &member,
        Method::PUT,
        &format!("{base}/{draft}"),
        Some(json!({"daily_limit": -5})),
    )
    .await;
    let body = assert_envelope(res, 422, "validation_failed").await;
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(is_sentence(detail), "{detail}");
    assert_eq!(body["fields"][0]["path"], "daily_limit");
    let leads = format!("/api/v1/clients/{client}/leads");
    let lead = json!({"email": "sam@harbour.example", "campaign_id": draft});
    ok_json(
        send(&app, &member, Method::POST, &leads, Some(lead.clone())).await,
        201,
    )
    .await;
    let res = send(&app, &member, Method::POST, &leads, Some(lead)).await;
    let body = assert_envelope(res, 409, "duplicate_email").await;
    assert_eq!(
        body["detail"],
        "A lead with the email sam@harbour.example already exists in this agency."
    );

    // An unscored lead's channels are [] in the list and the detail, never null.
    let unscored = make_lead(&app, client).await;
    let list = ok_json(send(&app, &member, Method::GET, &leads, None).await, 200).await;
    let items = list["items"].as_array().expect("items");
    assert!(!items.is_empty());
    for item in items {
        assert_eq!(item["als_channels"], json!([]), "{item}");
        assert!(item["als_score"].is_null());
    }
    let one = ok_json(
        send(
            &app,
            &member,
            Method::GET,
            &format!("{leads}/{unscored}"),
            None,
        )
        .await,
        200,
    )
    .await;
    assert_eq!(one["als_channels"], json!([]));
    let page = ok_json(
        send(
            &app,
            &member,
            Method::GET,
            &format!("{leads}?cursor="),
            None,
        )
        .await,
        200,
    )
    .await;
    assert!(
        page["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|l| l["als_channels"] == json!([]))
    );
}
