//! Behaviour of the tenancy routes: /me, clients, ICP, members and invites, suppression.

use agency_domain::Role;
use agency_testkit::{TestApp, assert_envelope};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

async fn audit_count(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM audit_log WHERE action = $1")
        .bind(action)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn create_client_makes_the_caller_owner_and_is_audited() {
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let res = app
        .send_json_as(
            &user, Method::POST, "/api/v1/clients",
            &json!({"name": "  Acme Marketing ", "tier": "velocity", "timezone": "Australia/Perth"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let client: Value = res.json().await.unwrap();
    assert_eq!(client["name"], "Acme Marketing");
    // A new client is a trial whatever tier the body asks for (issue 15).
    assert_eq!(client["tier"], "ignition");
    assert_eq!(client["subscription_status"], "trialing");
    assert_eq!(client["credits_remaining"], 50);
    assert_eq!(client["timezone"], "Australia/Perth");
    assert_eq!(client["daily_ai_budget_aud"], 100.0);
    let me: Value = app
        .send_as(&user, Method::GET, "/api/v1/me")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["memberships"][0]["client_id"], client["id"]);
    assert_eq!(me["memberships"][0]["role"], "owner");
    assert_eq!(me["memberships"][0]["client_name"], "Acme Marketing");
    assert_eq!(audit_count(&app, "client.created").await, 1);
}

#[tokio::test]
async fn settings_and_icp_round_trip_with_validation() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let admin = app.user_with_role(client, Role::Admin).await;
    let path = format!("/api/v1/clients/{client}");
    let res = app
        .send_json_as(
            &admin, Method::PUT, &path,
            &json!({"timezone": "Europe/London", "default_permission_mode": "autopilot", "daily_ai_budget_aud": 25.5,
                      "competitor_domains": ["https://www.Rival.com.au/x"], "website_url": "https://acme.com.au"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["timezone"], "Europe/London");
    assert_eq!(body["default_permission_mode"], "autopilot");
    assert_eq!(body["daily_ai_budget_aud"], 25.5);
    assert_eq!(body["competitor_domains"], json!(["rival.com.au"]));
    assert_eq!(body["name"], "Acme", "untouched fields are kept");
    let res = app
        .send_json_as(
            &admin,
            Method::PUT,
            &path,
            &json!({"daily_ai_budget_aud": -1}),
        )
        .await;
    let err = assert_envelope(res, 422, "validation_failed").await;
    assert_eq!(err["fields"][0]["path"], "daily_ai_budget_aud");
    let res = app
        .send_json_as(
            &admin,
            Method::PUT,
            &path,
            &json!({"default_permission_mode": "yolo"}),
        )
        .await;
    let err = assert_envelope(res, 422, "validation_failed").await;
    assert_eq!(err["fields"][0]["path"], "default_permission_mode");

    let icp_path = format!("/api/v1/clients/{client}/icp");
    let icp: Value = app
        .send_as(&admin, Method::GET, &icp_path)
        .await
        .json()
        .await
        .unwrap();
    for key in [
        "target_industries",
        "target_company_sizes",
        "target_job_titles",
        "target_locations",
        "keywords",
        "exclusions",
        "pain_points",
        "value_propositions",
    ] {
        assert!(icp[key].is_array(), "{key} is an array: {icp}");
    }
    assert_eq!(icp["client_id"], client.to_string());
    let res = app
        .send_json_as(
            &admin, Method::PUT, &icp_path,
            &json!({"target_industries": ["SaaS", " "], "revenue_range_min": 1000000, "revenue_range_max": 5000000, "value_propositions": ["Faster"]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let icp: Value = res.json().await.unwrap();
    assert_eq!(icp["target_industries"], json!(["SaaS"]));
    assert_eq!(icp["revenue_range_min"], 1000000.0);
    assert_eq!(icp["value_propositions"], json!(["Faster"]));
    let res = app
        .send_json_as(
            &admin,
            Method::PUT,
            &icp_path,
            &json!({"revenue_range_max": 10}),
        )
        .await;
    let err = assert_envelope(res, 422, "validation_failed").await;
    assert_eq!(err["fields"][0]["path"], "revenue_range_max");
    assert_eq!(audit_count(&app, "client.settings_updated").await, 1);
    assert_eq!(audit_count(&app, "client.icp_updated").await, 1);
}

#[tokio::test]
async fn invite_accept_and_owner_rules() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let owner = app.user_with_role(client, Role::Owner).await;
    let admin = app.user_with_role(client, Role::Admin).await;
    let members = format!("/api/v1/clients/{client}/members");

    // Only an owner may invite an owner.
    let res = app
        .send_json_as(
            &admin,
            Method::POST,
            &members,
            &json!({"email": "boss@example.com", "role": "owner"}),
        )
        .await;
    assert_envelope(res, 403, "forbidden").await;

    let invitee = app.create_user().await;
    let res = app
        .send_json_as(
            &admin,
            Method::POST,
            &members,
            &json!({"email": invitee.email.to_uppercase(), "role": "member"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let invite: Value = res.json().await.unwrap();
    assert_eq!(invite["status"], "pending");
    assert_eq!(invite["email"], invitee.email);
    let invite_id = invite["id"].as_str().unwrap().to_owned();
    // A second invite of the same email conflicts.
    let res = app
        .send_json_as(
            &admin,
            Method::POST,
            &members,
            &json!({"email": invitee.email, "role": "viewer"}),
        )
        .await;
    assert_envelope(res, 409, "already_invited").await;

    // Someone else cannot accept it; the invitee can, once.
    let stranger = app.create_user().await;
    let accept = format!("/api/v1/memberships/{invite_id}/accept");
    assert_envelope(
        app.send_as(&stranger, Method::POST, &accept).await,
        404,
        "not_found",
    )
    .await;
    let res = app.send_as(&invitee, Method::POST, &accept).await;
    assert_eq!(res.status(), 200);
    let accepted: Value = res.json().await.unwrap();
    assert_eq!(accepted["client_id"], client.to_string());
    assert_eq!(accepted["role"], "member");
    assert_envelope(
        app.send_as(&invitee, Method::POST, &accept).await,
        404,
        "not_found",
    )
    .await;
    // The new member can now read the client.
    assert_eq!(
        app.send_as(&invitee, Method::GET, &format!("/api/v1/clients/{client}"))
            .await
            .status(),
        200
    );
    // ...and is now a member, so inviting the email again conflicts.
    let res = app
        .send_json_as(
            &admin,
            Method::POST,
            &members,
            &json!({"email": invitee.email, "role": "viewer"}),
        )
        .await;
    assert_envelope(res, 409, "already_member").await;

    // The last owner can be neither demoted nor removed.
    let owner_membership: Uuid =
        sqlx::query_scalar("SELECT id FROM memberships WHERE user_id = $1")
            .bind(owner.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let owner_path = format!("{members}/{owner_membership}");
    let res = app
        .send_json_as(&owner, Method::PUT, &owner_path, &json!({"role": "admin"}))
        .await;
    assert_envelope(res, 409, "last_owner").await;
    assert_envelope(
        app.send_as(&owner, Method::DELETE, &owner_path).await,
        409,
        "last_owner",
    )
    .await;
    // An admin may not touch an owner at all.
    assert_envelope(
        app.send_as(&admin, Method::DELETE, &owner_path).await,
        403,
        "forbidden",
    )
    .await;
    // An admin may not promote to owner; the owner may, and then step down.
    let admin_membership: Uuid =
        sqlx::query_scalar("SELECT id FROM memberships WHERE user_id = $1")
            .bind(admin.id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let admin_path = format!("{members}/{admin_membership}");
    assert_envelope(
        app.send_json_as(&admin, Method::PUT, &admin_path, &json!({"role": "owner"}))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        app.send_json_as(&owner, Method::PUT, &admin_path, &json!({"role": "owner"}),)
            .await
            .status(),
        200
    );
    assert_eq!(
        app.send_json_as(&owner, Method::PUT, &owner_path, &json!({"role": "viewer"}),)
            .await
            .status(),
        200
    );
    let role: String = sqlx::query_scalar("SELECT role FROM memberships WHERE id = $1")
        .bind(owner_membership)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(role, "viewer");

    let list: Value = app
        .send_as(&admin, Method::GET, &members)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 3);
    assert_eq!(audit_count(&app, "member.invited").await, 1);
    assert_eq!(audit_count(&app, "member.accepted").await, 1);
    assert_eq!(audit_count(&app, "member.role_changed").await, 2);
}

#[tokio::test]
async fn removed_member_loses_access_and_other_tenants_are_404() {
    let app = TestApp::spawn().await;
    let a = app.create_client("A").await;
    let b = app.create_client("B").await;
    let owner_a = app.user_with_role(a, Role::Owner).await;
    let member = app.create_user().await;
    let membership = app.add_member(a, &member, Role::Member).await;
    app.user_with_role(b, Role::Owner).await;
    assert_eq!(
        app.send_as(&member, Method::GET, &format!("/api/v1/clients/{a}"))
            .await
            .status(),
        200
    );
    let res = app
        .send_as(
            &owner_a,
            Method::DELETE,
            &format!("/api/v1/clients/{a}/members/{membership}"),
        )
        .await;
    assert_eq!(res.status(), 204);
    // The lead list checks the membership inside its page statement: it refuses at once too,
    // in both its offset and keyset forms.
    for path in [
        format!("/api/v1/clients/{a}"),
        format!("/api/v1/clients/{a}/leads"),
        format!("/api/v1/clients/{a}/leads?cursor="),
    ] {
        assert_envelope(
            app.send_as(&member, Method::GET, &path).await,
            404,
            "not_found",
        )
        .await;
    }
    assert_eq!(
        app.send_as(&owner_a, Method::GET, &format!("/api/v1/clients/{a}/leads"))
            .await
            .status(),
        200
    );
    // Another client's id, a random id and a malformed id all look the same.
    for id in [
        b.to_string(),
        Uuid::now_v7().to_string(),
        "not-a-uuid".to_owned(),
    ] {
        for path in [
            format!("/api/v1/clients/{id}"),
            format!("/api/v1/clients/{id}/leads"),
        ] {
            assert_envelope(
                app.send_as(&owner_a, Method::GET, &path).await,
                404,
                "not_found",
            )
            .await;
        }
    }
    // A membership id of another client through my client: 404.
    let b_membership: Uuid = sqlx::query_scalar("SELECT id FROM memberships WHERE client_id = $1")
        .bind(b.into_uuid())
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let res = app
        .send_as(
            &owner_a,
            Method::DELETE,
            &format!("/api/v1/clients/{a}/members/{b_membership}"),
        )
        .await;
    assert_envelope(res, 404, "not_found").await;
}

#[tokio::test]
async fn suppression_admin_crud() {
    let app = TestApp::spawn().await;
    let admin = app.create_platform_admin().await;
    let path = "/api/v1/admin/suppression";
    let res = app
        .send_json_as(
            &admin,
            Method::POST,
            path,
            &json!({"email": " Jane@Example.COM ", "reason": "unsubscribe"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let row: Value = res.json().await.unwrap();
    assert_eq!(row["email"], "jane@example.com");
    assert_eq!(row["source"], "admin");
    let res = app
        .send_json_as(
            &admin,
            Method::POST,
            path,
            &json!({"email": "jane@example.com", "reason": "manual"}),
        )
        .await;
    assert_envelope(res, 409, "already_suppressed").await;
    let res = app
        .send_json_as(
            &admin,
            Method::POST,
            path,
            &json!({"phone": "0412 345 678", "reason": "dncr"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let phone_row: Value = res.json().await.unwrap();
    assert_eq!(phone_row["phone"], "+61412345678");
    for (body, field) in [
        (json!({"reason": "manual"}), "email"),
        (json!({"email": "nope", "reason": "manual"}), "email"),
        (json!({"phone": "12", "reason": "manual"}), "phone"),
        (json!({"email": "a@b.co", "reason": "because"}), "reason"),
    ] {
        let res = app.send_json_as(&admin, Method::POST, path, &body).await;
        let err = assert_envelope(res, 422, "validation_failed").await;
        assert_eq!(err["fields"][0]["path"], field, "{body}");
    }
    let list: Value = app
        .send_as(&admin, Method::GET, &format!("{path}?search=JANE"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
    assert_eq!(list["items"][0]["email"], "jane@example.com");
    let list: Value = app
        .send_as(&admin, Method::GET, &format!("{path}?page_size=1"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            list["total"].as_i64(),
            list["total_pages"].as_i64(),
            list["items"].as_array().map(Vec::len)
        ),
        (Some(2), Some(2), Some(1))
    );
    let id = row["id"].as_str().unwrap();
    assert_eq!(
        app.send_as(&admin, Method::DELETE, &format!("{path}/{id}"))
            .await
            .status(),
        204
    );
    assert_envelope(
        app.send_as(&admin, Method::DELETE, &format!("{path}/{id}"))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(audit_count(&app, "suppression.added").await, 2);
    assert_eq!(audit_count(&app, "suppression.removed").await, 1);
}

#[tokio::test]
async fn admin_routes_need_a_platform_admin() {
    let app = TestApp::spawn().await;
    let client = app.create_client("A").await;
    let owner = app.user_with_role(client, Role::Owner).await;
    let admin = app.create_platform_admin().await;
    let id = Uuid::now_v7();
    let cases: [(Method, String, Option<Value>, u16); 3] = [
        (Method::GET, "/api/v1/admin/suppression".into(), None, 200),
        (
            Method::POST,
            "/api/v1/admin/suppression".into(),
            Some(json!({"email": "x@example.com", "reason": "manual"})),
            201,
        ),
        (
            Method::DELETE,
            format!("/api/v1/admin/suppression/{id}"),
            None,
            404,
        ),
    ];
    for (method, path, body, admin_status) in cases {
        let with_body = |r: reqwest::RequestBuilder| match &body {
            Some(b) => r.json(b),
            None => r,
        };
        let res = with_body(app.as_user(&owner, method.clone(), &path))
            .send()
            .await
            .unwrap();
        assert_envelope(res, 403, "forbidden").await;
        let res = with_body(app.request(method.clone(), &path))
            .send()
            .await
            .unwrap();
        assert_envelope(res, 401, "missing_token").await;
        let res = with_body(app.as_user(&admin, method.clone(), &path))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), admin_status, "{method} {path}");
    }
    let rows: i64 = sqlx::query_scalar("SELECT count(*) FROM global_suppression")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(rows, 1, "only the platform admin's insert happened");
}
