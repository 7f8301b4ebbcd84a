//! The lead-pipeline routes (rescore a lead, rescore a campaign) and the admin
//! dead-letter routes (list, retry): behaviour over HTTP. Their access rules (roles, other
//! tenants, platform admins) are in `matrix.rs`.

mod common;

use agency_domain::{ClientId, Role, Tier};
use agency_engine::jobs::test_kinds::Probe;
use agency_engine::jobs::{EnqueueOptions, enqueue};
use agency_testkit::{TestApp, assert_envelope};
use common::{active_campaign, dead_job};
use reqwest::Method;
use serde_json::Value;
use uuid::Uuid;

/// A lead with a verified email and a CEO title, no phone, no LinkedIn, no company facts.
async fn ceo_lead(app: &TestApp, client: ClientId, campaign: Option<Uuid>) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO leads (client_id, campaign_id, email, email_verified, title)
         VALUES ($1, $2, $3, true, 'CEO') RETURNING id",
    )
    .bind(client.into_uuid())
    .bind(campaign)
    .bind(format!("ceo-{}@acme.com.au", Uuid::now_v7().simple()))
    .fetch_one(&app.pool)
    .await
    .expect("lead")
}

#[tokio::test]
async fn a_rescored_lead_shows_its_als_breakdown() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let member = app.user_with_role(client, Role::Member).await;
    let camp = active_campaign(&app, client, "Spring").await;
    let lead = ceo_lead(&app, client, Some(camp)).await;

    // Before: unscored.
    let before: Option<i16> = sqlx::query_scalar("SELECT als_score FROM leads WHERE id = $1")
        .bind(lead)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(before, None);

    let res = app
        .send_as(
            &member,
            Method::POST,
            &format!("/api/v1/clients/{client}/leads/{lead}/rescore"),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["id"], lead.to_string());
    let part = |k: &str| body[k].as_i64().unwrap_or_else(|| panic!("{k} in {body}"));
    let (dq, auth, fit, timing, risk) = (
        part("als_data_quality"),
        part("als_authority"),
        part("als_company_fit"),
        part("als_timing"),
        part("als_risk"),
    );
    // Verified email 8, CEO 25, no company facts 0, no timing signals 0, no risk 15.
    assert_eq!((dq, auth, fit, timing, risk), (8, 25, 0, 0, 15), "{body}");
    let score = part("als_score");
    assert_eq!(score, dq + auth + fit + timing + risk);
    let tier = Tier::from_score(u8::try_from(score).unwrap());
    assert_eq!(body["als_tier"], tier.as_str());
    assert!(body["als_weights"].is_object(), "{body}");
    assert!(body["scored_at"].is_string(), "{body}");
    // Stored, not just answered.
    let stored: (Option<i16>, Option<String>) =
        sqlx::query_as("SELECT als_score, als_tier FROM leads WHERE id = $1")
            .bind(lead)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(stored, (Some(score as i16), Some(tier.as_str().to_owned())));

    // An unknown lead, and a lead of another client: 404.
    let unknown = Uuid::now_v7();
    let res = app
        .send_as(
            &member,
            Method::POST,
            &format!("/api/v1/clients/{client}/leads/{unknown}/rescore"),
        )
        .await;
    assert_envelope(res, 404, "not_found").await;
    let other = app.create_client("Other").await;
    let foreign = ceo_lead(&app, other, None).await;
    let res = app
        .send_as(
            &member,
            Method::POST,
            &format!("/api/v1/clients/{client}/leads/{foreign}/rescore"),
        )
        .await;
    assert_envelope(res, 404, "not_found").await;
    let foreign_score: Option<i16> =
        sqlx::query_scalar("SELECT als_score FROM leads WHERE id = $1")
            .bind(foreign)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(foreign_score, None);
}

#[tokio::test]
async fn a_campaign_rescore_is_queued_as_a_job() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let member = app.user_with_role(client, Role::Member).await;
    let camp = active_campaign(&app, client, "Spring").await;
    let res = app
        .send_as(
            &member,
            Method::POST,
            &format!("/api/v1/clients/{client}/campaigns/{camp}/rescore"),
        )
        .await;
    assert_eq!(res.status(), 202);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "queued");
    let job_id = body["job_id"].as_str().expect("job_id");
    let (kind, status, payload): (String, String, Vec<u8>) =
        sqlx::query_as("SELECT job_type, status, job FROM apalis.jobs WHERE id = $1")
            .bind(job_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (kind.as_str(), status.as_str()),
        ("rescore_campaign", "Pending")
    );
    let payload: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(payload["campaign_id"], camp.to_string());
    assert_eq!(payload["client_id"], client.to_string());

    let res = app
        .send_as(
            &member,
            Method::POST,
            &format!(
                "/api/v1/clients/{client}/campaigns/{}/rescore",
                Uuid::now_v7()
            ),
        )
        .await;
    assert_envelope(res, 404, "not_found").await;
}

#[tokio::test]
async fn a_dead_job_is_listed_then_retried_back_to_pending() {
    let app = TestApp::spawn().await;
    let admin = app.create_platform_admin().await;
    let dead = dead_job(&app, "dead-one").await;
    let pending = enqueue(
        &app.pool,
        &Probe {
            name: "alive".into(),
            ..Probe::default()
        },
        EnqueueOptions::default(),
    )
    .await
    .unwrap();

    let res = app
        .send_as(&admin, Method::GET, "/api/v1/admin/jobs/dead")
        .await;
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["total"], 1, "{page}");
    let item = &page["items"][0];
    assert_eq!(item["id"], dead);
    assert_eq!(item["kind"], "probe");
    assert_eq!(item["status"], "Killed");
    assert_eq!(item["last_error"], "probe failed for good");
    assert_eq!(item["payload"]["name"], "dead-one");

    let res = app
        .send_as(
            &admin,
            Method::POST,
            &format!("/api/v1/admin/jobs/{dead}/retry"),
        )
        .await;
    assert_eq!(res.status(), 202);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "Pending");
    assert_eq!(body["kind"], "probe");
    let (status, attempts): (String, i32) =
        sqlx::query_as("SELECT status, attempts FROM apalis.jobs WHERE id = $1")
            .bind(&dead)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), attempts), ("Pending", 0));
    let page: Value = app
        .send_as(&admin, Method::GET, "/api/v1/admin/jobs/dead")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 0);

    // Retrying a job that is not dead: 409; an unknown job: 404.
    let res = app
        .send_as(
            &admin,
            Method::POST,
            &format!("/api/v1/admin/jobs/{pending}/retry"),
        )
        .await;
    assert_envelope(res, 409, "job_not_dead").await;
    let res = app
        .send_as(
            &admin,
            Method::POST,
            &format!("/api/v1/admin/jobs/{}/retry", Uuid::now_v7()),
        )
        .await;
    assert_envelope(res, 404, "not_found").await;
}
