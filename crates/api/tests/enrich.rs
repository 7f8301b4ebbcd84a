//! The enrichment routes: `POST .../leads/{id}/enrich` (202 with the lead as it is, one
//! `enrich_lead` job queued) and `POST .../leads/bulk-enrich` (202 `{queued}`; only live
//! leads of the client count, at most 1,000 ids). Access rules are in `matrix.rs`.

use agency_domain::{ClientId, Role};
use agency_testkit::{TestApp, assert_envelope};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

/// A lead of `client` (no campaign).
async fn lead(app: &TestApp, client: ClientId) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO leads (client_id, email, title) VALUES ($1, $2, 'CEO') RETURNING id",
    )
    .bind(client.into_uuid())
    .bind(format!("enrich-{}@example.com", Uuid::now_v7().simple()))
    .fetch_one(&app.pool)
    .await
    .expect("lead")
}

/// The (client_id, lead_id) of every queued `enrich_lead` job, sorted.
async fn enrich_jobs(app: &TestApp) -> Vec<(String, String)> {
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT status, job FROM apalis.jobs WHERE job_type = 'enrich_lead' ORDER BY id",
    )
    .fetch_all(&app.pool)
    .await
    .expect("jobs");
    let mut jobs: Vec<(String, String)> = rows
        .into_iter()
        .map(|(status, payload)| {
            assert_eq!(status, "Pending");
            let payload: Value = serde_json::from_slice(&payload).expect("payload");
            (
                payload["client_id"].as_str().expect("client_id").to_owned(),
                payload["lead_id"].as_str().expect("lead_id").to_owned(),
            )
        })
        .collect();
    jobs.sort();
    jobs
}

/// The client's audit rows with `action`: (entity_id, after), oldest first.
async fn audit_rows(
    app: &TestApp,
    client: ClientId,
    action: &str,
) -> Vec<(Option<Uuid>, Option<Value>)> {
    sqlx::query_as(
        "SELECT entity_id, after FROM audit_log WHERE client_id = $1 AND action = $2
          ORDER BY created_at, id",
    )
    .bind(client.into_uuid())
    .bind(action)
    .fetch_all(&app.pool)
    .await
    .expect("audit")
}

#[tokio::test]
async fn enriching_a_lead_answers_it_and_queues_its_job() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let other = app.create_client("Other").await;
    let member = app.user_with_role(client, Role::Member).await;
    let id = lead(&app, client).await;

    let res = app
        .send_as(
            &member,
            Method::POST,
            &format!("/api/v1/clients/{client}/leads/{id}/enrich"),
        )
        .await;
    assert_eq!(res.status(), 202);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["id"], id.to_string());
    assert_eq!(body["client_id"], client.to_string());
    assert_eq!(body["status"], "new");
    assert_eq!(
        enrich_jobs(&app).await,
        vec![(client.to_string(), id.to_string())]
    );

    // Another client's lead, a deleted lead and an unknown id are 404 and queue nothing.
    let foreign = lead(&app, other).await;
    let deleted = lead(&app, client).await;
    sqlx::query("UPDATE leads SET deleted_at = now() WHERE id = $1")
        .bind(deleted)
        .execute(&app.pool)
        .await
        .unwrap();
    for missing in [foreign, deleted, Uuid::now_v7()] {
        let res = app
            .send_as(
                &member,
                Method::POST,
                &format!("/api/v1/clients/{client}/leads/{missing}/enrich"),
            )
            .await;
        assert_envelope(res, 404, "not_found").await;
    }
    assert_eq!(enrich_jobs(&app).await.len(), 1);
    // One audit row for the accepted request, naming the lead; none for the refused ones.
    assert_eq!(
        audit_rows(&app, client, "lead.enrich").await,
        vec![(Some(id), None)]
    );
    assert!(audit_rows(&app, other, "lead.enrich").await.is_empty());
}

#[tokio::test]
async fn bulk_enrich_queues_only_this_clients_live_leads() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let other = app.create_client("Other").await;
    let member = app.user_with_role(client, Role::Member).await;
    let (a, b) = (lead(&app, client).await, lead(&app, client).await);
    let deleted = lead(&app, client).await;
    sqlx::query("UPDATE leads SET deleted_at = now() WHERE id = $1")
        .bind(deleted)
        .execute(&app.pool)
        .await
        .unwrap();
    let foreign = lead(&app, other).await;
    let path = format!("/api/v1/clients/{client}/leads/bulk-enrich");

    let res = app
        .as_user(&member, Method::POST, &path)
        .json(&json!({"lead_ids": [a, foreign, b, a, deleted, Uuid::now_v7()]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"queued": 2}));
    let mut want = vec![
        (client.to_string(), a.to_string()),
        (client.to_string(), b.to_string()),
    ];
    want.sort();
    assert_eq!(enrich_jobs(&app).await, want);
    let mut queued_ids = vec![a, b];
    queued_ids.sort();
    assert_eq!(
        audit_rows(&app, client, "lead.bulk_enrich").await,
        vec![(
            None,
            Some(json!({"requested": 6, "queued": 2, "lead_ids": queued_ids}))
        )]
    );

    // An empty list queues nothing.
    let res = app
        .as_user(&member, Method::POST, &path)
        .json(&json!({"lead_ids": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"queued": 0}));

    // 1,000 ids are accepted; 1,001 are refused on `lead_ids` and queue nothing.
    let mut many: Vec<Uuid> = (0..999).map(|_| Uuid::now_v7()).collect();
    many.push(a);
    let res = app
        .as_user(&member, Method::POST, &path)
        .json(&json!({ "lead_ids": many }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    // `a` already has an open enrichment job: one live job per lead (issue 15).
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"queued": 0}));
    assert_eq!(enrich_jobs(&app).await.len(), 2);
    many.push(b);
    let res = app
        .as_user(&member, Method::POST, &path)
        .json(&json!({ "lead_ids": many }))
        .send()
        .await
        .unwrap();
    let body = assert_envelope(res, 422, "validation_failed").await;
    assert_eq!(body["fields"][0]["path"], "lead_ids");
    assert_eq!(enrich_jobs(&app).await.len(), 2);
    // One audit row per accepted request (three), none for the refused one.
    let audited = audit_rows(&app, client, "lead.bulk_enrich").await;
    let queued: Vec<&Value> = audited
        .iter()
        .map(|(_, after)| &after.as_ref().expect("after")["queued"])
        .collect();
    assert_eq!(queued, [&json!(2), &json!(0), &json!(0)]);

    // A body without `lead_ids` is 422 too.
    let res = app
        .as_user(&member, Method::POST, &path)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_envelope(res, 422, "validation_failed").await;
}
