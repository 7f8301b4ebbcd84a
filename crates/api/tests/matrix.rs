//! The tenancy/role matrix over every tenant route. Each row is run as viewer, member, admin
//! and owner of client A, as the owner of client B (404, A unchanged) and without a token
//! (401). Route authors add rows here (or call `run_matrix` from their own test file).

use agency_domain::{ClientId, Role};
use agency_testkit::{MatrixCase, TestApp, run_matrix};
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
    ]
}

#[tokio::test]
async fn tenancy_and_role_matrix() {
    let app = TestApp::spawn().await;
    run_matrix(&app, &cases()).await;
}
