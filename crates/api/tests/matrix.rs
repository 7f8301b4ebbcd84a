//! The tenancy/role matrix over every tenant route. Each row is run as viewer, member, admin
//! and owner of client A, as the owner of client B (404, A unchanged) and without a token
//! (401). Route authors add rows here (or call `run_matrix` from their own test file).
//! Platform-admin routes (`/api/v1/admin/...`) are checked separately: a normal user (even a
//! client owner) gets 403 and changes nothing, a platform admin succeeds.

mod common;

use agency_domain::{ClientId, Role};
use agency_testkit::{MatrixCase, TestApp, run_matrix};
use common::{active_campaign, dead_job};
use reqwest::Method;
use serde_json::{Value, json};

fn unique_email() -> Value {
    json!({"email": format!("invitee-{}@example.com", uuid::Uuid::now_v7().simple()), "role": "viewer"})
}

fn fresh_viewer(app: &TestApp, client: ClientId) -> futures::future::BoxFuture<'_, Value> {
    Box::pin(async move {
        let user = app.create_user().await;
        json!({"id": app.add_member(client, &user, Role::Viewer).await})
    })
}

fn fresh_campaign(app: &TestApp, client: ClientId) -> futures::future::BoxFuture<'_, Value> {
    Box::pin(async move { json!({"id": active_campaign(app, client, "Matrix").await}) })
}

fn fresh_lead(app: &TestApp, client: ClientId) -> futures::future::BoxFuture<'_, Value> {
    Box::pin(async move {
        let campaign = active_campaign(app, client, "Matrix").await;
        let lead: uuid::Uuid = sqlx::query_scalar(
            "INSERT INTO leads (client_id, campaign_id, email, email_verified, title)
             VALUES ($1, $2, $3, true, 'CEO') RETURNING id",
        )
        .bind(client.into_uuid())
        .bind(campaign)
        .bind(format!(
            "matrix-{}@example.com",
            uuid::Uuid::now_v7().simple()
        ))
        .fetch_one(&app.pool)
        .await
        .expect("lead");
        json!({"id": lead})
    })
}

/// A lead that unsubscribed (or, with `status`, bounced).
fn unsubscribed_lead(app: &TestApp, client: ClientId) -> futures::future::BoxFuture<'_, Value> {
    Box::pin(async move {
        let vars = fresh_lead(app, client).await;
        sqlx::query("UPDATE leads SET status = 'unsubscribed' WHERE id = $1")
            .bind(vars["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap())
            .execute(&app.pool)
            .await
            .expect("unsubscribe");
        vars
    })
}

fn bounced_lead(app: &TestApp, client: ClientId) -> futures::future::BoxFuture<'_, Value> {
    Box::pin(async move {
        let vars = fresh_lead(app, client).await;
        sqlx::query("UPDATE leads SET status = 'bounced' WHERE id = $1")
            .bind(vars["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap())
            .execute(&app.pool)
            .await
            .expect("bounce");
        vars
    })
}

fn fresh_resource(app: &TestApp, client: ClientId) -> futures::future::BoxFuture<'_, Value> {
    Box::pin(async move {
        let id: uuid::Uuid = sqlx::query_scalar(
            "INSERT INTO sending_resources (client_id, kind, value, verified_at) VALUES ($1, 'linkedin_seat', $2, now())
             RETURNING id",
        )
        .bind(client.into_uuid())
        .bind(format!("Seat {}", uuid::Uuid::now_v7().simple()))
        .fetch_one(&app.pool)
        .await
        .expect("resource");
        json!({"id": id})
    })
}

fn unique_domain() -> Value {
    json!({"kind": "email_domain", "value": format!("m{}.example.com", uuid::Uuid::now_v7().simple())})
}

fn cases() -> Vec<MatrixCase> {
    vec![
        MatrixCase {
            name: "get client",
            method: Method::GET,
            path: "/api/v1/clients/{client_id}",
            body: None,
            min_role: Role::Viewer,
            success: 200,
            setup: None,
        },
        MatrixCase {
            name: "update client",
            method: Method::PUT,
            path: "/api/v1/clients/{client_id}",
            body: Some(|| json!({"name": "Renamed"})),
            min_role: Role::Admin,
            success: 200,
            setup: None,
        },
        MatrixCase {
            name: "get icp",
            method: Method::GET,
            path: "/api/v1/clients/{client_id}/icp",
            body: None,
            min_role: Role::Viewer,
            success: 200,
            setup: None,
        },
        MatrixCase {
            name: "update icp",
            method: Method::PUT,
            path: "/api/v1/clients/{client_id}/icp",
            body: Some(|| json!({"keywords": ["crm"]})),
            min_role: Role::Admin,
            success: 200,
            setup: None,
        },
        MatrixCase {
            name: "list members",
            method: Method::GET,
            path: "/api/v1/clients/{client_id}/members",
            body: None,
            min_role: Role::Viewer,
            success: 200,
            setup: None,
        },
        MatrixCase {
            name: "invite member",
            method: Method::POST,
            path: "/api/v1/clients/{client_id}/members",
            body: Some(unique_email),
            min_role: Role::Admin,
            success: 201,
            setup: None,
        },
        MatrixCase {
            name: "change role",
            method: Method::PUT,
            path: "/api/v1/clients/{client_id}/members/{id}",
            body: Some(|| json!({"role": "member"})),
            min_role: Role::Admin,
            success: 200,
            setup: Some(fresh_viewer),
        },
        MatrixCase {
            name: "remove member",
            method: Method::DELETE,
            path: "/api/v1/clients/{client_id}/members/{id}",
            body: None,
            min_role: Role::Admin,
            success: 204,
            setup: Some(fresh_viewer),
        },
        // Leads: deleting is an admin's (SPEC), so is reopening a lead that opted out or bounced.
        MatrixCase {
            name: "delete lead",
            method: Method::DELETE,
            path: "/api/v1/clients/{client_id}/leads/{id}",
            body: None,
            min_role: Role::Admin,
            success: 204,
            setup: Some(fresh_lead),
        },
        MatrixCase {
            name: "edit lead",
            method: Method::PUT,
            path: "/api/v1/clients/{client_id}/leads/{id}",
            body: Some(|| json!({"title": "Founder", "status": "enriched"})),
            min_role: Role::Member,
            success: 200,
            setup: Some(fresh_lead),
        },
        MatrixCase {
            name: "reopen an unsubscribed lead",
            method: Method::PUT,
            path: "/api/v1/clients/{client_id}/leads/{id}",
            body: Some(|| json!({"status": "new"})),
            min_role: Role::Admin,
            success: 200,
            setup: Some(unsubscribed_lead),
        },
        MatrixCase {
            name: "reopen a bounced lead",
            method: Method::PUT,
            path: "/api/v1/clients/{client_id}/leads/{id}",
            body: Some(|| json!({"status": "in_sequence"})),
            min_role: Role::Admin,
            success: 200,
            setup: Some(bounced_lead),
        },
        MatrixCase {
            name: "edit an unsubscribed lead's title",
            method: Method::PUT,
            path: "/api/v1/clients/{client_id}/leads/{id}",
            body: Some(|| json!({"title": "Founder"})),
            min_role: Role::Member,
            success: 200,
            setup: Some(unsubscribed_lead),
        },
        // Lead pipeline.
        MatrixCase {
            name: "rescore lead",
            method: Method::POST,
            path: "/api/v1/clients/{client_id}/leads/{id}/rescore",
            body: None,
            min_role: Role::Member,
            success: 200,
            setup: Some(fresh_lead),
        },
        MatrixCase {
            name: "enrich lead",
            method: Method::POST,
            path: "/api/v1/clients/{client_id}/leads/{id}/enrich",
            body: None,
            min_role: Role::Member,
            success: 202,
            setup: Some(fresh_lead),
        },
        MatrixCase {
            name: "bulk enrich",
            method: Method::POST,
            path: "/api/v1/clients/{client_id}/leads/bulk-enrich",
            body: Some(|| json!({"lead_ids": [uuid::Uuid::now_v7()]})),
            min_role: Role::Member,
            success: 202,
            setup: None,
        },
        MatrixCase {
            name: "rescore campaign",
            method: Method::POST,
            path: "/api/v1/clients/{client_id}/campaigns/{id}/rescore",
            body: None,
            min_role: Role::Member,
            success: 202,
            setup: Some(fresh_campaign),
        },
        // Reports (the client named in the path or the query).
        MatrixCase {
            name: "client report",
            method: Method::GET,
            path: "/api/v1/reports/clients/{client_id}",
            body: None,
            min_role: Role::Viewer,
            success: 200,
            setup: None,
        },
        MatrixCase {
            name: "tier distribution",
            method: Method::GET,
            path: "/api/v1/reports/leads/distribution?client_id={client_id}",
            body: None,
            min_role: Role::Viewer,
            success: 200,
            setup: None,
        },
        MatrixCase {
            name: "daily activity",
            method: Method::GET,
            path: "/api/v1/reports/activity/daily?client_id={client_id}",
            body: None,
            min_role: Role::Viewer,
            success: 200,
            setup: None,
        },
        MatrixCase {
            name: "campaign report",
            method: Method::GET,
            path: "/api/v1/reports/campaigns/{id}",
            body: None,
            min_role: Role::Viewer,
            success: 200,
            setup: Some(fresh_campaign),
        },
        // Sending resources.
        MatrixCase {
            name: "list resources",
            method: Method::GET,
            path: "/api/v1/clients/{client_id}/resources",
            body: None,
            min_role: Role::Viewer,
            success: 200,
            setup: None,
        },
        MatrixCase {
            name: "create resource",
            method: Method::POST,
            path: "/api/v1/clients/{client_id}/resources",
            body: Some(unique_domain),
            min_role: Role::Admin,
            success: 201,
            setup: None,
        },
        MatrixCase {
            name: "delete resource",
            method: Method::DELETE,
            path: "/api/v1/clients/{client_id}/resources/{id}",
            body: None,
            min_role: Role::Admin,
            success: 204,
            setup: Some(fresh_resource),
        },
    ]
}

#[tokio::test]
async fn tenancy_and_role_matrix() {
    let app = TestApp::spawn().await;
    run_matrix(&app, &cases()).await;
}

async fn job_status(app: &TestApp, id: &str) -> String {
    sqlx::query_scalar("SELECT status FROM apalis.jobs WHERE id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .expect("status")
}

#[tokio::test]
async fn admin_job_routes_need_a_platform_admin() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let mut normal_users = Vec::new();
    for role in Role::ALL {
        normal_users.push(app.user_with_role(client, *role).await);
    }
    normal_users.push(app.create_user().await);
    let admin = app.create_platform_admin().await;
    let dead = dead_job(&app, "matrix").await;
    let retry = format!("/api/v1/admin/jobs/{dead}/retry");
    let routes = [
        (Method::GET, "/api/v1/admin/jobs/dead".to_owned(), 200),
        (Method::POST, retry, 202),
    ];
    let mut failures = Vec::new();
    for (method, path, success) in &routes {
        for user in &normal_users {
            let res = app.send_as(user, method.clone(), path).await;
            let status = res.status().as_u16();
            let code = res.json::<Value>().await.unwrap_or(Value::Null)["code"].clone();
            if status != 403 || code != "forbidden" {
                failures.push(format!(
                    "{method} {path} as {}: {status} {code}",
                    user.email
                ));
            }
        }
        let res = app.request(method.clone(), path).send().await.unwrap();
        if res.status() != 401 {
            failures.push(format!("{method} {path} without a token: {}", res.status()));
        }
        // Nothing a refused caller did changed the job.
        if job_status(&app, &dead).await != "Killed" {
            failures.push(format!("{method} {path}: a refused call changed the job"));
        }
        let res = app.send_as(&admin, method.clone(), path).await;
        if res.status().as_u16() != *success {
            failures.push(format!(
                "{method} {path} as platform admin: {} expected {success}",
                res.status()
            ));
        }
    }
    assert_eq!(job_status(&app, &dead).await, "Pending");
    assert!(
        failures.is_empty(),
        "admin access failures:\n{}",
        failures.join("\n")
    );
}
