//! Onboarding through the HTTP API: analyse a (local, realistic) agency website, follow the
//! eight steps, read the profile, confirm it onto the client (with and without AI: a fake
//! Anthropic server answers the extraction); re-analysis; failures a person can read; and who
//! may see what (other tenants get 404, viewers may not confirm). The
//! `analyze_website` job is run through the worker's registry with a real website reader
//! pointed at a local HTTP server (private addresses allowed only for that reader).

use std::sync::Arc;

use agency_domain::{ClientId, Role};
use agency_engine::ai::{AiGate, AiSettings};
use agency_engine::jobs::{JobContext, JobKind, Registry, handlers};
use agency_engine::{Providers, Services};
use agency_providers::website::{
    AddressPolicy, HttpWebsiteReader, ReaderLimits, SANDBOX_PAGES, WebsiteReader,
};
use agency_testkit::{MatrixCase, TestApp, TestUser, assert_envelope, run_matrix};
use chrono::{Datelike, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A local copy of the demo agency's site, with a robots.txt.
async fn agency_site() -> MockServer {
    let server = MockServer::start().await;
    for (p, _, html) in SANDBOX_PAGES {
        Mock::given(method("GET"))
            .and(path(*p))
            .respond_with(
                ResponseTemplate::new(200).set_body_raw(*html, "text/html; charset=utf-8"),
            )
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/robots.txt"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string("User-agent: *\nDisallow: /private/\n"),
        )
        .mount(&server)
        .await;
    server
}

fn reader(policy: AddressPolicy) -> Arc<dyn WebsiteReader> {
    Arc::new(HttpWebsiteReader::new(policy, ReaderLimits::default()).expect("reader"))
}

fn dev_reader() -> Arc<dyn WebsiteReader> {
    reader(AddressPolicy {
        allow_private: true,
    })
}

/// Runs every pending `analyze_website` job through the registry, as the worker would.
async fn run_analyses(app: &TestApp, reader: Arc<dyn WebsiteReader>) -> usize {
    run_analyses_with(app, reader, AiGate::sandbox()).await
}

/// The same, extracting through `ai`.
async fn run_analyses_with(app: &TestApp, reader: Arc<dyn WebsiteReader>, ai: AiGate) -> usize {
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT id, job FROM apalis.jobs WHERE job_type = 'analyze_website' AND status = 'Pending' ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("jobs");
    let registry: Registry = handlers::registry();
    let cache = Arc::new(agency_cache::FallbackCache::new(None, app.pool.clone()).expect("cache"));
    let services = Services::with_sandbox_providers(app.pool.clone(), cache);
    let services = Services {
        providers: Arc::new(
            Providers::sandbox(Utc::now())
                .with_website(reader)
                .with_ai(ai),
        ),
        ..services
    };
    for (id, payload) in &rows {
        let ctx = JobContext {
            services: services.clone(),
            job_id: id.clone(),
            kind: JobKind::AnalyzeWebsite,
            attempt: 1,
            max_attempts: 3,
        };
        registry
            .prepare(JobKind::AnalyzeWebsite, ctx, payload)
            .expect("registered")
            .future
            .await
            .expect("job ran");
        sqlx::query("UPDATE apalis.jobs SET status = 'Done' WHERE id = $1")
            .bind(id)
            .execute(&app.pool)
            .await
            .expect("done");
    }
    rows.len()
}

async fn owner(app: &TestApp) -> (ClientId, TestUser) {
    let client = app.create_client("Harbour Lane").await;
    let user = app.user_with_role(client, Role::Owner).await;
    (client, user)
}

async fn analyze(app: &TestApp, user: &TestUser, url: &str) -> Uuid {
    let res = app
        .send_json_as(
            user,
            Method::POST,
            "/api/v1/onboarding/analyze",
            &json!({"website_url": url}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 202);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["status"], "pending");
    body["job_id"]
        .as_str()
        .expect("job_id")
        .parse()
        .expect("uuid")
}

async fn get(app: &TestApp, user: &TestUser, path: &str) -> (u16, Value) {
    let res = app.send_as(user, Method::GET, path).await;
    let status = res.status().as_u16();
    (status, res.json().await.expect("json body"))
}

const LISTS: &[&str] = &[
    "services_offered",
    "primary_service_categories",
    "taglines",
    "differentiators",
    "portfolio_companies",
    "notable_brands",
    "icp_industries",
    "icp_company_sizes",
    "icp_revenue_ranges",
    "icp_locations",
    "icp_titles",
    "icp_pain_points",
    "icp_signals",
];

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}

#[tokio::test]
async fn a_new_agency_analyses_its_website_follows_the_steps_and_confirms_its_profile() {
    let app = TestApp::spawn().await;
    let site = agency_site().await;
    let (client, user) = owner(&app).await;

    let job = analyze(&app, &user, &site.uri()).await;
    let stored_url: Option<String> =
        sqlx::query_scalar("SELECT website_url FROM clients WHERE id = $1")
            .bind(client.into_uuid())
            .fetch_one(&app.pool)
            .await
            .expect("client");
    assert_eq!(
        stored_url.as_deref(),
        Some(format!("{}/", site.uri()).as_str())
    );

    let (status, body) = get(&app, &user, &format!("/api/v1/onboarding/status/{job}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["job_id"], job.to_string());
    assert_eq!(body["status"], "pending");
    assert_eq!(body["completed_steps"], 0);
    assert_eq!(body["total_steps"], 8);
    assert_eq!(body["progress_percent"], 0.0);
    assert!(body["error_message"].is_null() && body["started_at"].is_null());
    assert_eq!(body["steps"].as_array().expect("steps").len(), 8);

    let (status, body) = get(&app, &user, &format!("/api/v1/onboarding/result/{job}")).await;
    assert_eq!(status, 202);
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("still running"))
    );

    assert_eq!(run_analyses(&app, dev_reader()).await, 1);

    let (status, body) = get(&app, &user, &format!("/api/v1/onboarding/status/{job}")).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "completed", "{body}");
    assert_eq!(body["completed_steps"], 8);
    assert_eq!(body["progress_percent"], 100.0);
    assert_eq!(body["current_step"], "calculating_als_weights");
    assert!(
        body["started_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    assert!(
        body["completed_at"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );
    let percents: Vec<f64> = body["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|s| s["percent"].as_f64().expect("percent"))
        .collect();
    let expected: Vec<f64> = (1..=8).map(|i| f64::from(i) * 100.0 / 8.0).collect();
    assert_eq!(percents, expected);

    // The reader asked for robots.txt, the home page and the four pages that matter, naming itself.
    let requests = site.received_requests().await.expect("recorded");
    let mut paths: Vec<String> = requests.iter().map(|r| r.url.path().to_owned()).collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/",
            "/about",
            "/case-studies",
            "/contact",
            "/robots.txt",
            "/services"
        ]
    );
    assert!(requests.iter().all(|r| {
        r.headers
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|ua| ua.starts_with("AgencyOS-SiteReader/"))
    }));

    let (status, profile) = get(&app, &user, &format!("/api/v1/onboarding/result/{job}")).await;
    assert_eq!(status, 200, "{profile}");
    for list in LISTS {
        assert!(profile[*list].is_array(), "{list} is an array in {profile}");
    }
    assert_eq!(profile["company_name"], "Harbour Lane Digital");
    assert_eq!(profile["website_url"], format!("{}/", site.uri()));
    assert_eq!(profile["team_size"], 18);
    assert_eq!(profile["size_range"], "11-50");
    assert_eq!(profile["years_in_business"], Utc::now().year() - 2014);
    let services = strings(&profile["services_offered"]);
    for s in [
        "Search engine optimisation (SEO)",
        "Google Ads and PPC",
        "Web design and development",
    ] {
        assert!(services.contains(&s.to_owned()), "{s} in {services:?}");
    }
    let industries = strings(&profile["icp_industries"]);
    for i in [
        "Healthcare and medical",
        "Legal services",
        "Construction and trades",
    ] {
        assert!(industries.contains(&i.to_owned()), "{i} in {industries:?}");
    }
    let locations = strings(&profile["icp_locations"]);
    for l in ["Surry Hills, NSW", "Sydney, NSW", "Newcastle", "Australia"] {
        assert!(locations.contains(&l.to_owned()), "{l} in {locations:?}");
    }
    let brands = strings(&profile["notable_brands"]);
    assert_eq!(
        brands,
        ["Bondi Smile Dental", "Keystone Lawyers", "Volt Electrical"]
    );
    assert!(strings(&profile["portfolio_companies"]).contains(&"Northside Physio".to_owned()));
    assert!(strings(&profile["icp_titles"]).contains(&"Practice Manager".to_owned()));
    let weights = profile["als_weights"].as_object().expect("weights");
    let sum: f64 = ["data_quality", "authority", "company_fit", "timing", "risk"]
        .iter()
        .map(|k| weights[*k].as_f64().expect("weight"))
        .sum();
    assert!((sum - 1.0).abs() < 1e-9, "weights sum to {sum}");
    let confidence = profile["confidence"].as_f64().expect("confidence");
    assert!(
        (0.0..=0.7).contains(&confidence) && confidence > 0.5,
        "{confidence}"
    );
    assert_eq!(profile["extraction_method"], "deterministic");
    assert!(profile["confirmed_at"].is_null());

    // Confirm with the agency's own titles.
    let res = app
        .send_json_as(
            &user,
            Method::POST,
            "/api/v1/onboarding/confirm",
            &json!({"job_id": job, "adjustments": {"icp_titles": ["Practice Manager", " Managing Partner ", ""]}}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["success"], true);
    assert_eq!(body["client_id"], client.to_string());
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));

    let confirmed: Option<chrono::DateTime<Utc>> =
        sqlx::query_scalar("SELECT icp_confirmed_at FROM clients WHERE id = $1")
            .bind(client.into_uuid())
            .fetch_one(&app.pool)
            .await
            .expect("client");
    assert!(confirmed.is_some());
    let (status, icp) = get(&app, &user, &format!("/api/v1/clients/{client}/icp")).await;
    assert_eq!(status, 200);
    assert_eq!(
        strings(&icp["target_job_titles"]),
        ["Practice Manager", "Managing Partner"]
    );
    assert_eq!(strings(&icp["target_industries"]), industries);
    assert_eq!(strings(&icp["target_locations"]), locations);
    assert_eq!(strings(&icp["keywords"]), services);
    assert_eq!(icp["extracted_from_website"], true);
    assert!(icp["last_extraction_at"].is_string());
    // The sizes 11-50 and 51-200 ("small and medium-sized") make $2M-$50M.
    assert_eq!(
        strings(&profile["icp_company_sizes"]),
        ["1-10", "11-50", "51-200"]
    );
    assert_eq!(icp["revenue_range_min"], 0.0);
    assert_eq!(icp["revenue_range_max"], 50_000_000.0);

    let (_, after) = get(&app, &user, &format!("/api/v1/onboarding/result/{job}")).await;
    assert!(after["confirmed_at"].is_string());
    assert_eq!(
        strings(&after["icp_titles"]),
        ["Practice Manager", "Managing Partner"]
    );
    let audits: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE client_id = $1 AND action IN ('onboarding.analysis_started', 'client.icp_confirmed')",
    )
    .bind(client.into_uuid())
    .fetch_one(&app.pool)
    .await
    .expect("audit");
    assert_eq!(audits, 2);

    // A redelivered job changes nothing.
    let completed_at: chrono::DateTime<Utc> =
        sqlx::query_scalar("SELECT completed_at FROM onboarding_jobs WHERE id = $1")
            .bind(job)
            .fetch_one(&app.pool)
            .await
            .expect("row");
    sqlx::query("UPDATE apalis.jobs SET status = 'Pending' WHERE job_type = 'analyze_website'")
        .execute(&app.pool)
        .await
        .expect("requeue");
    run_analyses(&app, dev_reader()).await;
    let again: chrono::DateTime<Utc> =
        sqlx::query_scalar("SELECT completed_at FROM onboarding_jobs WHERE id = $1")
            .bind(job)
            .fetch_one(&app.pool)
            .await
            .expect("row");
    assert_eq!(again, completed_at);
}

#[tokio::test]
async fn only_members_see_an_analysis_and_only_admins_confirm_it() {
    let app = TestApp::spawn().await;
    let site = agency_site().await;
    let (client, user) = owner(&app).await;
    let job = analyze(&app, &user, &site.uri()).await;
    run_analyses(&app, dev_reader()).await;

    let other_client = app.create_client("Elsewhere").await;
    let stranger = app.user_with_role(other_client, Role::Owner).await;
    for p in [
        format!("/api/v1/onboarding/status/{job}"),
        format!("/api/v1/onboarding/result/{job}"),
    ] {
        assert_envelope(
            app.send_as(&stranger, Method::GET, &p).await,
            404,
            "not_found",
        )
        .await;
    }
    let res = app
        .send_json_as(
            &stranger,
            Method::POST,
            "/api/v1/onboarding/confirm",
            &json!({"job_id": job}),
        )
        .await;
    assert_envelope(res, 404, "not_found").await;
    let res = app
        .send_as(
            &stranger,
            Method::POST,
            &format!("/api/v1/clients/{client}/icp/reanalyze"),
        )
        .await;
    assert_envelope(res, 404, "not_found").await;
    let unknown = Uuid::now_v7();
    let res = app
        .send_as(
            &user,
            Method::GET,
            &format!("/api/v1/onboarding/status/{unknown}"),
        )
        .await;
    assert_envelope(res, 404, "not_found").await;

    let viewer = app.user_with_role(client, Role::Viewer).await;
    let (status, _) = get(&app, &viewer, &format!("/api/v1/onboarding/status/{job}")).await;
    assert_eq!(status, 200);
    let res = app
        .send_json_as(
            &viewer,
            Method::POST,
            "/api/v1/onboarding/confirm",
            &json!({"job_id": job}),
        )
        .await;
    assert_envelope(res, 403, "forbidden").await;
    let res = app
        .send_as(
            &viewer,
            Method::POST,
            &format!("/api/v1/clients/{client}/icp/reanalyze"),
        )
        .await;
    assert_envelope(res, 403, "forbidden").await;
    let confirmed: Option<chrono::DateTime<Utc>> =
        sqlx::query_scalar("SELECT icp_confirmed_at FROM clients WHERE id = $1")
            .bind(client.into_uuid())
            .fetch_one(&app.pool)
            .await
            .expect("client");
    assert!(confirmed.is_none());

    // Without any agency, or with an unusable address.
    let loner = app.create_user().await;
    let res = app
        .send_json_as(
            &loner,
            Method::POST,
            "/api/v1/onboarding/analyze",
            &json!({"website_url": "https://example.com.au"}),
        )
        .await;
    assert_envelope(res, 409, "no_client").await;
    let res = app
        .send_json_as(
            &user,
            Method::POST,
            "/api/v1/onboarding/analyze",
            &json!({"website_url": "ftp://example.com"}),
        )
        .await;
    let body = assert_envelope(res, 422, "validation_failed").await;
    assert_eq!(body["fields"][0]["path"], "website_url");
    let res = app
        .send_json_as(
            &user,
            Method::POST,
            "/api/v1/onboarding/analyze",
            &json!({"url": "x"}),
        )
        .await;
    assert!(res.status().is_client_error());
}

#[tokio::test]
async fn sites_that_cannot_be_read_fail_with_a_sentence_and_can_be_run_again() {
    let app = TestApp::spawn().await;
    let (_, user) = owner(&app).await;

    // A private address with the production guard: refused before any connection.
    let private = analyze(&app, &user, "http://10.1.2.3/").await;
    let metadata = analyze(&app, &user, "http://169.254.169.254/latest/meta-data/").await;
    let loopback = analyze(&app, &user, "http://localhost:9/").await;
    run_analyses(&app, reader(AddressPolicy::PUBLIC_ONLY)).await;
    for job in [private, metadata, loopback] {
        let (_, body) = get(&app, &user, &format!("/api/v1/onboarding/status/{job}")).await;
        assert_eq!(body["status"], "failed", "{body}");
        assert!(
            body["error_message"]
                .as_str()
                .is_some_and(|m| m.contains("private or internal network address")),
            "{body}"
        );
        assert!(body["completed_at"].is_string());
        let res = app
            .send_as(
                &user,
                Method::GET,
                &format!("/api/v1/onboarding/result/{job}"),
            )
            .await;
        let err = assert_envelope(res, 409, "analysis_failed").await;
        assert_eq!(err["detail"], body["error_message"]);
        let res = app
            .send_json_as(
                &user,
                Method::POST,
                "/api/v1/onboarding/confirm",
                &json!({"job_id": job}),
            )
            .await;
        assert_envelope(res, 409, "analysis_failed").await;
    }

    // A closed port (development reader): unreachable.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let unreachable = analyze(&app, &user, &format!("http://127.0.0.1:{closed}/")).await;
    run_analyses(&app, dev_reader()).await;
    let (_, body) = get(
        &app,
        &user,
        &format!("/api/v1/onboarding/status/{unreachable}"),
    )
    .await;
    assert_eq!(body["status"], "failed");
    assert!(
        body["error_message"]
            .as_str()
            .is_some_and(|m| m.starts_with("We could not reach 127.0.0.1")),
        "{body}"
    );

    // Run again once the site is up.
    let site = agency_site().await;
    let retry = analyze(&app, &user, &site.uri()).await;
    run_analyses(&app, dev_reader()).await;
    let (_, body) = get(&app, &user, &format!("/api/v1/onboarding/status/{retry}")).await;
    assert_eq!(body["status"], "completed");
}

#[tokio::test]
async fn reanalysis_writes_the_profile_to_the_client_without_confirming_it() {
    let app = TestApp::spawn().await;
    let site = agency_site().await;
    let (client, user) = owner(&app).await;

    let res = app
        .send_as(
            &user,
            Method::POST,
            &format!("/api/v1/clients/{client}/icp/reanalyze"),
        )
        .await;
    let body = assert_envelope(res, 422, "validation_failed").await;
    assert_eq!(body["fields"][0]["path"], "website_url");

    let res = app
        .send_json_as(
            &user,
            Method::PUT,
            &format!("/api/v1/clients/{client}"),
            &json!({"website_url": site.uri()}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let (_, icp) = get(&app, &user, &format!("/api/v1/clients/{client}/icp")).await;
    assert_eq!(icp["extracted_from_website"], false);
    assert!(icp["last_extraction_at"].is_null());

    let res = app
        .send_as(
            &user,
            Method::POST,
            &format!("/api/v1/clients/{client}/icp/reanalyze"),
        )
        .await;
    assert_eq!(res.status().as_u16(), 202);
    let body: Value = res.json().await.expect("json");
    let task: Uuid = body["task_id"]
        .as_str()
        .expect("task_id")
        .parse()
        .expect("uuid");
    assert_eq!(run_analyses(&app, dev_reader()).await, 1);

    let (_, status) = get(&app, &user, &format!("/api/v1/onboarding/status/{task}")).await;
    assert_eq!(status["status"], "completed");
    let (_, profile) = get(&app, &user, &format!("/api/v1/onboarding/result/{task}")).await;
    let (_, icp) = get(&app, &user, &format!("/api/v1/clients/{client}/icp")).await;
    assert_eq!(icp["extracted_from_website"], true);
    assert_eq!(icp["last_extraction_at"], profile["extracted_at"]);
    assert_eq!(icp["target_industries"], profile["icp_industries"]);
    assert_eq!(icp["target_job_titles"], profile["icp_titles"]);
    let confirmed: Option<chrono::DateTime<Utc>> =
        sqlx::query_scalar("SELECT icp_confirmed_at FROM clients WHERE id = $1")
            .bind(client.into_uuid())
            .fetch_one(&app.pool)
            .await
            .expect("client");
    assert!(confirmed.is_none());
}

fn with_website(app: &TestApp, client: ClientId) -> futures::future::BoxFuture<'_, Value> {
    Box::pin(async move {
        sqlx::query(
            "UPDATE clients SET website_url = 'https://harbourlane.example/' WHERE id = $1",
        )
        .bind(client.into_uuid())
        .execute(&app.pool)
        .await
        .expect("website");
        json!({})
    })
}

#[tokio::test]
async fn reanalysis_in_the_tenancy_and_role_matrix() {
    let app = TestApp::spawn().await;
    let cases = [MatrixCase {
        name: "reanalyze icp",
        method: Method::POST,
        path: "/api/v1/clients/{client_id}/icp/reanalyze",
        body: None,
        min_role: Role::Admin,
        success: 202,
        setup: Some(with_website),
    }];
    run_matrix(&app, &cases).await;
}

/// A fake Anthropic Messages API answering the ICP extraction tool.
async fn fake_claude() -> MockServer {
    let server = MockServer::start().await;
    let input = json!({
        "company_name": "Harbour Lane Digital",
        "company_description": "A Sydney digital marketing agency for clinics, law firms and trades.",
        "value_proposition": "More enquiries, less guesswork",
        "services_offered": ["Local SEO", "Google Ads management", "Web design"],
        "primary_service_categories": ["SEO", "Paid media", "Web design"],
        "taglines": ["More enquiries, less guesswork"],
        "differentiators": ["No lock-in contracts"],
        "team_size": 18,
        "years_in_business": 11,
        "portfolio_companies": ["Bondi Smile Dental", "Keystone Lawyers"],
        "notable_brands": ["Bondi Smile Dental"],
        "icp_industries": ["Dental clinics", "Family law firms"],
        "icp_company_sizes": ["11-50"],
        "icp_locations": ["Sydney, NSW"],
        "icp_titles": ["Practice Owner", "Managing Partner"],
        "icp_pain_points": ["Empty appointment slots"],
        "icp_signals": ["Opening a second location"],
        "als_weights": {"data_quality": 1, "authority": 3, "company_fit": 4, "timing": 1, "risk": 1},
        "pattern_description": "Owner-led clinics and law firms in Sydney with 11-50 staff.",
        "confidence": 0.8
    });
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [{"type": "tool_use", "id": "toolu_01", "name": "record_icp_profile", "input": input}],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 2900, "output_tokens": 410}
        })))
        .mount(&server)
        .await;
    server
}

fn claude_gate(server: &MockServer) -> AiGate {
    let model = agency_providers::Anthropic::new(
        secrecy::SecretString::from("sk-ant-test"),
        &server.uri(),
        &agency_providers::HttpSettings::default(),
    )
    .expect("adapter");
    AiGate::new(Arc::new(model), AiSettings::default())
}

#[tokio::test]
async fn with_ai_the_profile_is_the_models_and_confirm_keeps_the_agencys_weights() {
    let app = TestApp::spawn().await;
    let site = agency_site().await;
    let claude = fake_claude().await;
    let (client, user) = owner(&app).await;

    let job = analyze(&app, &user, &site.uri()).await;
    assert_eq!(
        run_analyses_with(&app, dev_reader(), claude_gate(&claude)).await,
        1
    );
    let (_, status) = get(&app, &user, &format!("/api/v1/onboarding/status/{job}")).await;
    assert_eq!(status["status"], "completed", "{status}");
    assert_eq!(status["completed_steps"], 8);
    let (code, profile) = get(&app, &user, &format!("/api/v1/onboarding/result/{job}")).await;
    assert_eq!(code, 200, "{profile}");
    for list in LISTS {
        assert!(profile[*list].is_array(), "{list} is an array in {profile}");
    }
    assert_eq!(profile["extraction_method"], "ai");
    assert_eq!(profile["confidence"], 0.91);
    assert_eq!(
        strings(&profile["icp_industries"]),
        ["Dental clinics", "Family law firms"]
    );
    assert_eq!(strings(&profile["icp_revenue_ranges"]), ["$2M-$10M"]);
    assert_eq!(
        profile["als_weights"],
        json!({"data_quality": 0.1, "authority": 0.3, "company_fit": 0.4, "timing": 0.1, "risk": 0.1})
    );
    // The model saw the pages the reader fetched, marked as data.
    let asked = claude.received_requests().await.expect("recorded");
    assert_eq!(asked.len(), 1);
    let body: Value = serde_json::from_slice(&asked[0].body).expect("json");
    let user_turn = body["messages"][0]["content"].as_str().expect("text");
    assert!(user_turn.contains(&format!("<page url=\"{}/services\"", site.uri())));
    let spent: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM ai_usage WHERE client_id = $1 AND purpose = 'extract_icp' AND status = 'settled'",
    )
    .bind(client.into_uuid())
    .fetch_one(&app.pool)
    .await
    .expect("ledger");
    assert_eq!(spent, 1);

    // Weights that cannot be normalised are a 422 with a sentence.
    let res = app
        .send_json_as(
            &user,
            Method::POST,
            "/api/v1/onboarding/confirm",
            &json!({"job_id": job, "adjustments": {"als_weights":
                {"data_quality": 0, "authority": 0, "company_fit": 0, "timing": 0, "risk": 0}}}),
        )
        .await;
    let err = assert_envelope(res, 422, "validation_failed").await;
    assert_eq!(err["detail"], "At least one weight must be above zero.");
    assert_eq!(err["fields"][0]["path"], "adjustments.als_weights");

    // The agency's own weights, in percent, are normalised and kept on the client.
    let res = app
        .send_json_as(
            &user,
            Method::POST,
            "/api/v1/onboarding/confirm",
            &json!({"job_id": job, "adjustments": {"icp_company_sizes": ["51-200"], "als_weights":
                {"data_quality": 20, "authority": 30, "company_fit": 30, "timing": 10, "risk": 10}}}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 200);
    let (kept, learned): (Option<Value>, Option<Value>) =
        sqlx::query_as("SELECT icp_als_weights, als_weights FROM clients WHERE id = $1")
            .bind(client.into_uuid())
            .fetch_one(&app.pool)
            .await
            .expect("client");
    assert_eq!(
        kept,
        Some(
            json!({"data_quality": 0.2, "authority": 0.3, "company_fit": 0.3, "timing": 0.1, "risk": 0.1})
        )
    );
    // Scoring's weights stay the learned ones only (SPEC 3.1): none yet.
    assert_eq!(learned, None);
    let (_, after) = get(&app, &user, &format!("/api/v1/onboarding/result/{job}")).await;
    assert_eq!(after["als_weights"]["authority"], 0.3);
    // Changed sizes change the revenue ranges shown and stored.
    assert_eq!(strings(&after["icp_revenue_ranges"]), ["$10M-$50M"]);
    assert!(after["confirmed_at"].is_string());
    let (_, icp) = get(&app, &user, &format!("/api/v1/clients/{client}/icp")).await;
    assert_eq!(
        strings(&icp["target_industries"]),
        ["Dental clinics", "Family law firms"]
    );
    assert_eq!(
        strings(&icp["target_job_titles"]),
        ["Practice Owner", "Managing Partner"]
    );
    assert_eq!(icp["revenue_range_min"], 10_000_000.0);
    assert_eq!(icp["revenue_range_max"], 50_000_000.0);
}
