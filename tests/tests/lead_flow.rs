//! End to end across the services: the dashboard creates a campaign and a lead through the
//! API; the worker (running beside it on the same database, sandbox providers) enriches,
//! scores and allocates the lead; the dashboard then reads the scored lead and the tier report.
//! Nothing is called directly: every step goes through HTTP or the queue.

use std::sync::Arc;
use std::time::{Duration, Instant};

use agency_domain::Role;
use agency_runtime::Shutdown;
use agency_testkit::TestApp;
use clap::Parser;
use reqwest::Method;
use serde_json::{Value, json};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Starts the real worker (`agency_worker::run`) in this process on the app's database.
fn start_worker(app: &TestApp, shutdown: &Shutdown) -> tokio::task::JoinHandle<()> {
    let port = free_port().to_string();
    let cfg = agency_worker::WorkerConfig::try_parse_from([
        "agency-worker",
        "--metrics-host",
        "127.0.0.1",
        "--metrics-port",
        &port,
        "--worker-poll-interval-ms",
        "50",
    ])
    .expect("worker config");
    let cache = Arc::new(agency_cache::FallbackCache::new(None, app.pool.clone()).expect("cache"));
    let services = agency_worker::build_services(&cfg, app.pool.clone(), cache).expect("services");
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        agency_worker::run(cfg, services, shutdown)
            .await
            .expect("worker runs");
    })
}

async fn json_of(response: reqwest::Response, status: u16) -> Value {
    let code = response.status().as_u16();
    let body: Value = response.json().await.expect("json body");
    assert_eq!(code, status, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_created_through_the_api_is_enriched_scored_and_allocated_by_the_worker() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Harbour Digital").await;
    let owner = app.user_with_role(client, Role::Owner).await;
    let base = format!("/api/v1/clients/{client}");

    let campaign = json_of(
        app.as_user(&owner, Method::POST, &format!("{base}/campaigns"))
            .json(&json!({"name": "Sydney founders", "target_industries": ["software"]}))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let campaign_id = campaign["id"].as_str().unwrap().to_owned();
    json_of(
        app.as_user(
            &owner,
            Method::POST,
            &format!("{base}/campaigns/{campaign_id}/activate"),
        )
        .send()
        .await
        .unwrap(),
        200,
    )
    .await;

    let lead = json_of(
        app.as_user(&owner, Method::POST, &format!("{base}/leads"))
            .json(&json!({
                "email": "Mia.Chen@Example.com.au",
                "campaign_id": campaign_id,
                "first_name": "Mia",
                "title": "Founder",
                "company": "Example Pty Ltd",
                "domain": "example.com.au",
                "phone": "0412 345 678"
            }))
            .send()
            .await
            .unwrap(),
        201,
    )
    .await;
    let lead_id = lead["id"].as_str().unwrap().to_owned();
    assert_eq!(lead["email"], "mia.chen@example.com.au");
    assert!(
        lead["als_score"].is_null(),
        "not scored before the worker runs"
    );

    // The create committed its pipeline job with the lead.
    let queued: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM apalis.jobs WHERE convert_from(job, 'UTF8')::jsonb ->> 'lead_id' = $1",
    )
    .bind(&lead_id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert!(queued >= 1, "an enrichment job was queued with the lead");

    let shutdown = Shutdown::new();
    let worker = start_worker(&app, &shutdown);

    let deadline = Instant::now() + Duration::from_secs(60);
    let scored = loop {
        let current = json_of(
            app.as_user(&owner, Method::GET, &format!("{base}/leads/{lead_id}"))
                .send()
                .await
                .unwrap(),
            200,
        )
        .await;
        if !current["als_score"].is_null() && !current["next_action_at"].is_null() {
            break current;
        }
        assert!(
            Instant::now() < deadline,
            "lead not scored and allocated in time: {current}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };

    let score = scored["als_score"].as_u64().unwrap();
    assert!(score <= 100);
    let tier = scored["als_tier"].as_str().unwrap();
    assert_eq!(tier, agency_domain::Tier::from_score(score as u8).as_str());
    let parts: u64 = [
        "als_data_quality",
        "als_authority",
        "als_company_fit",
        "als_timing",
        "als_risk",
    ]
    .iter()
    .map(|k| scored[*k].as_u64().unwrap())
    .sum();
    assert_eq!(
        parts.min(100),
        score,
        "default weights: the score is the plain sum"
    );
    assert_eq!(
        scored["als_authority"], 25,
        "a founder scores full authority"
    );
    assert!(!scored["als_channels"].as_array().unwrap().is_empty());
    assert!(scored["enrichment_source"].as_str().is_some());

    let credits: i32 = sqlx::query_scalar("SELECT credits_remaining FROM clients WHERE id = $1")
        .bind(client.into_uuid())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(credits, 1249, "one lead credit spent on the enrichment");

    let tiers = json_of(
        app.as_user(&owner, Method::GET, &format!("{base}/reports/tiers"))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    assert!(tiers.to_string().contains(tier), "{tiers}");

    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(15), worker)
        .await
        .expect("worker stops on shutdown")
        .unwrap();
}
