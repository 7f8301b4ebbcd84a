//! Issue 15 hardening through real HTTP: `nbf` and anonymous tokens, strict and verified token
//! emails on invites, trial clients and the daily creation cap, member limits on leads,
//! `linkedin_url` checks, and field-level 422s for NUL bytes and out-of-range numbers.

#[allow(dead_code)]
mod common;

use agency_domain::Role;
use agency_testkit::{TestApp, assert_envelope, claims_for};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

async fn get_me(app: &TestApp, token: &str) -> reqwest::Response {
    app.request(Method::GET, "/api/v1/me")
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn nbf_is_enforced_with_the_exp_leeway() {
    let app = TestApp::spawn().await;
    let sub = Uuid::now_v7();
    let now = chrono::Utc::now().timestamp();
    let mut claims = claims_for(sub, None, 3600);
    // Valid a year from now: refused.
    claims["nbf"] = json!(now + 365 * 24 * 3600);
    let res = get_me(&app, &app.token_with_claims(&claims)).await;
    assert_envelope(res, 401, "invalid_token").await;
    // Two minutes ahead: beyond the 30 s leeway, refused.
    claims["nbf"] = json!(now + 120);
    let res = get_me(&app, &app.token_with_claims(&claims)).await;
    assert_envelope(res, 401, "invalid_token").await;
    // Ten seconds ahead (clock skew within the leeway), or in the past: accepted.
    claims["nbf"] = json!(now + 10);
    assert_eq!(
        get_me(&app, &app.token_with_claims(&claims)).await.status(),
        200
    );
    claims["nbf"] = json!(now - 60);
    assert_eq!(
        get_me(&app, &app.token_with_claims(&claims)).await.status(),
        200
    );
}

#[tokio::test]
async fn anonymous_sign_ins_are_refused_and_store_nothing() {
    let app = TestApp::spawn().await;
    let sub = Uuid::now_v7();
    let mut claims = claims_for(sub, None, 3600);
    claims["is_anonymous"] = json!(true);
    let res = get_me(&app, &app.token_with_claims(&claims)).await;
    assert_envelope(res, 401, "anonymous_token").await;
    let res = app
        .request(Method::POST, "/api/v1/clients")
        .bearer_auth(app.token_with_claims(&claims))
        .json(&json!({"name": "Squatter"}))
        .send()
        .await
        .unwrap();
    assert_envelope(res, 401, "anonymous_token").await;
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(users, 0);
    // `is_anonymous: false` is an ordinary user.
    claims["is_anonymous"] = json!(false);
    assert_eq!(
        get_me(&app, &app.token_with_claims(&claims)).await.status(),
        200
    );
}

/// Invites `email` as a member of a new client; returns the accept path.
async fn invite(app: &TestApp, email: &str) -> String {
    let client = app.create_client("C Corp").await;
    let admin = app.user_with_role(client, Role::Admin).await;
    let res = app
        .send_json_as(
            &admin,
            Method::POST,
            &format!("/api/v1/clients/{client}/members"),
            &json!({"email": email, "role": "member"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    format!(
        "/api/v1/memberships/{}/accept",
        body["id"].as_str().unwrap()
    )
}

async fn accept_with(app: &TestApp, path: &str, claims: &Value) -> reqwest::Response {
    app.request(Method::POST, path)
        .bearer_auth(app.token_with_claims(claims))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_look_alike_or_unverified_token_email_does_not_take_an_invite() {
    let app = TestApp::spawn().await;
    let accept = invite(&app, "kim@c-corp.com").await;

    // The Kelvin sign lowercases to `k` under Unicode rules; the strict parser refuses it.
    let kelvin = claims_for(Uuid::now_v7(), Some("\u{212A}im@c-corp.com"), 3600);
    assert_envelope(accept_with(&app, &accept, &kelvin).await, 404, "not_found").await;

    // The right address marked unverified (top level, or in user_metadata): not the invitee.
    let mut unverified = claims_for(Uuid::now_v7(), Some("kim@c-corp.com"), 3600);
    unverified["email_verified"] = json!(false);
    assert_envelope(
        accept_with(&app, &accept, &unverified).await,
        404,
        "not_found",
    )
    .await;
    let mut unverified_meta = claims_for(Uuid::now_v7(), Some("kim@c-corp.com"), 3600);
    unverified_meta["user_metadata"] = json!({"email_verified": false});
    assert_envelope(
        accept_with(&app, &accept, &unverified_meta).await,
        404,
        "not_found",
    )
    .await;

    // Verified, in another case: accepted.
    let mut kim = claims_for(Uuid::now_v7(), Some("Kim@C-Corp.com"), 3600);
    kim["email_verified"] = json!(true);
    let res = accept_with(&app, &accept, &kim).await;
    assert_eq!(res.status(), 200);
    // The look-alike user was stored without an email (it is not kim's address).
    let kelvin_sub: Uuid = kelvin["sub"].as_str().unwrap().parse().unwrap();
    let stored: Option<String> = sqlx::query_scalar("SELECT email FROM users WHERE id = $1")
        .bind(kelvin_sub)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(stored, None);
}

#[tokio::test]
async fn a_new_client_is_a_trial_and_creation_is_capped_per_user_per_day() {
    let app = TestApp::spawn_with(|s| {
        s.new_clients.trial_credits = 25;
        s.new_clients.per_user_per_day = 2;
    })
    .await;
    let user = app.create_user().await;
    let mut ids = Vec::new();
    for (name, tier) in [("One", "dominance"), ("Two", "velocity")] {
        let res = app
            .send_json_as(
                &user,
                Method::POST,
                "/api/v1/clients",
                &json!({"name": name, "tier": tier}),
            )
            .await;
        assert_eq!(res.status(), 201);
        let client: Value = res.json().await.unwrap();
        assert_eq!(client["tier"], "ignition", "the body's tier is not granted");
        assert_eq!(client["subscription_status"], "trialing");
        assert_eq!(client["credits_remaining"], 25);
        ids.push(client["id"].as_str().unwrap().parse::<Uuid>().unwrap());
    }
    // credits_reset_at is set on create, a month ahead.
    let reset: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("SELECT credits_reset_at FROM clients WHERE id = $1")
            .bind(ids[0])
            .fetch_one(&app.pool)
            .await
            .unwrap();
    let days = (reset.expect("credits_reset_at set") - chrono::Utc::now()).num_days();
    assert!((27..=31).contains(&days), "{days} days ahead");

    // The third in 24 hours is refused, in the contract's envelope, and nothing is written.
    let res = app
        .send_json_as(
            &user,
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Three"}),
        )
        .await;
    assert!(res.headers().contains_key("retry-after"));
    let err = assert_envelope(res, 429, "client_limit_reached").await;
    assert!(
        err["detail"]
            .as_str()
            .unwrap()
            .contains("at most 2 clients"),
        "{err}"
    );
    let clients: i64 = sqlx::query_scalar("SELECT count(*) FROM clients")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(clients, 2);
    // Another user is not affected by the first one's cap.
    let other = app.create_user().await;
    let res = app
        .send_json_as(
            &other,
            Method::POST,
            "/api/v1/clients",
            &json!({"name": "Other"}),
        )
        .await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn linkedin_url_takes_only_https_linkedin_profiles_in_json_and_csv() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let member = app.user_with_role(client, Role::Member).await;
    let campaign = common::active_campaign(&app, client, "Links").await;
    let leads = format!("/api/v1/clients/{client}/leads");
    for (i, bad) in [
        "javascript:alert(document.cookie)",
        "=HYPERLINK(\"https://evil.example\",\"Jane\")",
        "+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(A1:A2)",
        "http://www.linkedin.com/in/jane",
        "https://evil.example/in/jane",
    ]
    .iter()
    .enumerate()
    {
        let res = app
            .send_json_as(
                &member,
                Method::POST,
                &leads,
                &json!({"email": format!("bad{i}@acme.com.au"), "campaign_id": campaign, "linkedin_url": bad}),
            )
            .await;
        let err = assert_envelope(res, 422, "validation_failed").await;
        assert_eq!(err["fields"][0]["path"], "linkedin_url", "{bad}: {err}");
    }
    let res = app
        .send_json_as(
            &member,
            Method::POST,
            &leads,
            &json!({"email": "jane@acme.com.au", "campaign_id": campaign,
                    "linkedin_url": "https://au.linkedin.com/in/jane-smith/?trk=x"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let lead: Value = res.json().await.unwrap();
    assert_eq!(
        lead["linkedin_url"],
        "https://au.linkedin.com/in/jane-smith"
    );
    // Editing it to a script is refused too; a stored provider URL does not block other edits.
    let one = format!("{leads}/{}", lead["id"].as_str().unwrap());
    let res = app
        .send_json_as(
            &member,
            Method::PUT,
            &one,
            &json!({"linkedin_url": "javascript:x"}),
        )
        .await;
    let err = assert_envelope(res, 422, "validation_failed").await;
    assert_eq!(err["fields"][0]["path"], "linkedin_url");
    sqlx::query("UPDATE leads SET linkedin_url = 'http://www.linkedin.com/in/jane' WHERE id = $1")
        .bind(lead["id"].as_str().unwrap().parse::<Uuid>().unwrap())
        .execute(&app.pool)
        .await
        .unwrap();
    let res = app
        .send_json_as(&member, Method::PUT, &one, &json!({"title": "CEO"}))
        .await;
    assert_eq!(res.status(), 200);

    // CSV: the bad rows are invalid with the column named, the good one is imported.
    let file = "email,first_name,linkedin_url\n\
        a@acme.com.au,A,javascript:alert(1)\n\
        b@acme.com.au,B,\"=HYPERLINK(\"\"https://evil.example\"\")\"\n\
        c@acme.com.au,C,https://www.linkedin.com/company/acme\n";
    let res = app
        .as_user(
            &member,
            Method::POST,
            &format!("/api/v1/clients/{client}/campaigns/{campaign}/leads/import"),
        )
        .header("content-type", "text/csv")
        .body(file)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(report["created"], 1, "{report}");
    assert_eq!(report["invalid"], 2, "{report}");
    for row in 0..2 {
        assert_eq!(report["rows"][row]["status"], "invalid");
        assert!(
            report["rows"][row]["reason"]
                .as_str()
                .unwrap()
                .starts_with("linkedin_url:"),
            "{report}"
        );
    }
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT linkedin_url FROM leads WHERE client_id = $1 AND linkedin_url IS NOT NULL",
    )
    .bind(client.into_uuid())
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(
        stored
            .iter()
            .all(|u| !u.contains("javascript") && !u.starts_with('=')),
        "{stored:?}"
    );
}

#[tokio::test]
async fn nul_bytes_and_numbers_too_large_for_their_columns_are_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let admin = app.user_with_role(client, Role::Admin).await;
    let campaign = common::active_campaign(&app, client, "Nul").await;
    let leads = format!("/api/v1/clients/{client}/leads");

    // JSON: a NUL anywhere is a 422 on that field, nothing is written.
    let res = app
        .send_json_as(
            &admin,
            Method::POST,
            &leads,
            &json!({"email": "n@acme.com.au", "campaign_id": campaign, "first_name": "Ann\u{0}e"}),
        )
        .await;
    let err = assert_envelope(res, 422, "validation_failed").await;
    assert_eq!(err["fields"][0]["path"], "first_name");
    let res = app
        .send_json_as(
            &admin,
            Method::POST,
            &format!("{leads}/bulk"),
            &json!({"leads": [{"email": "ok@acme.com.au", "campaign_id": campaign},
                              {"email": "x@acme.com.au", "campaign_id": campaign, "company": "\u{0}"}]}),
        )
        .await;
    let err = assert_envelope(res, 422, "validation_failed").await;
    assert_eq!(err["fields"][0]["path"], "leads[1].company");
    let res = app
        .send_json_as(
            &admin,
            Method::PUT,
            &format!("/api/v1/clients/{client}"),
            &json!({"company_description": "we\u{0}do"}),
        )
        .await;
    let err = assert_envelope(res, 422, "validation_failed").await;
    assert_eq!(err["fields"][0]["path"], "company_description");
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM leads")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(count, 0);

    // CSV: the row with a NUL is rejected naming the column; the rest is imported.
    let file = "email,first_name,company\n\
        a@acme.com.au,A,Acme\n\
        b@acme.com.au,B\u{0}ob,Acme\n\
        c@acme.com.au,C,Acme\n";
    let res = app
        .as_user(
            &admin,
            Method::POST,
            &format!("/api/v1/clients/{client}/campaigns/{campaign}/leads/import"),
        )
        .header("content-type", "text/csv")
        .body(file)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let report: Value = res.json().await.unwrap();
    assert_eq!(
        (report["created"].as_i64(), report["invalid"].as_i64()),
        (Some(2), Some(1)),
        "{report}"
    );
    assert_eq!(report["rows"][1]["status"], "invalid");
    assert!(
        report["rows"][1]["reason"]
            .as_str()
            .unwrap()
            .starts_with("first_name:"),
        "{report}"
    );

    // Numbers beyond their columns: 422 on the field, not a database error.
    let path = format!("/api/v1/clients/{client}");
    for budget in [json!(100_000_000), json!(99_999_999.999)] {
        let res = app
            .send_json_as(
                &admin,
                Method::PUT,
                &path,
                &json!({"daily_ai_budget_aud": budget}),
            )
            .await;
        let err = assert_envelope(res, 422, "validation_failed").await;
        assert_eq!(err["fields"][0]["path"], "daily_ai_budget_aud", "{err}");
    }
    let res = app
        .send_json_as(
            &admin,
            Method::PUT,
            &path,
            &json!({"daily_ai_budget_aud": 99_999_999.99}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let icp = format!("/api/v1/clients/{client}/icp");
    for field in ["revenue_range_min", "revenue_range_max"] {
        let res = app
            .send_json_as(&admin, Method::PUT, &icp, &json!({field: 1e13}))
            .await;
        let err = assert_envelope(res, 422, "validation_failed").await;
        assert_eq!(err["fields"][0]["path"], field, "{err}");
    }
    let res = app
        .send_json_as(
            &admin,
            Method::PUT,
            &icp,
            &json!({"revenue_range_min": 1e6, "revenue_range_max": 999_999_999_999.0}),
        )
        .await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn bulk_enrich_twice_while_jobs_are_pending_spends_one_credit_per_lead() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Acme").await;
    let member = app.user_with_role(client, Role::Member).await;
    let campaign = common::active_campaign(&app, client, "Enrich").await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let id: Uuid = sqlx::query_scalar(
            "INSERT INTO leads (client_id, campaign_id, email) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(client.into_uuid())
        .bind(campaign)
        .bind(format!("person{i}@builder{i}.com.au"))
        .fetch_one(&app.pool)
        .await
        .unwrap();
        ids.push(id);
    }
    let credits = || async {
        sqlx::query_scalar::<_, i32>("SELECT credits_remaining FROM clients WHERE id = $1")
            .bind(client.into_uuid())
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    let before = credits().await;
    let path = format!("/api/v1/clients/{client}/leads/bulk-enrich");
    let mut queued = Vec::new();
    for _ in 0..2 {
        let res = app
            .send_json_as(&member, Method::POST, &path, &json!({"lead_ids": ids}))
            .await;
        assert_eq!(res.status(), 202);
        queued.push(res.json::<Value>().await.unwrap()["queued"].clone());
    }
    // The same lead's single-lead route also finds its job open.
    let res = app
        .send_as(
            &member,
            Method::POST,
            &format!("/api/v1/clients/{client}/leads/{}/enrich", ids[0]),
        )
        .await;
    assert_eq!(res.status(), 202);
    assert_eq!(queued, [json!(6), json!(0)]);
    let open: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM apalis.jobs WHERE job_type = 'enrich_lead' AND status = 'Pending'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(open, 6, "one live job per lead");

    app.drain().await;
    assert_eq!(before - credits().await, 6, "exactly one credit per lead");
    let enriched: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM leads WHERE client_id = $1 AND enriched_at IS NOT NULL
            AND enrichment_claimed_by IS NULL",
    )
    .bind(client.into_uuid())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(enriched, 6, "enriched, and every claim released");

    // Finished jobs release their keys: the leads can be queued again, and since they are
    // enriched the new jobs spend nothing.
    let res = app
        .send_json_as(&member, Method::POST, &path, &json!({"lead_ids": ids}))
        .await;
    assert_eq!(res.json::<Value>().await.unwrap()["queued"], json!(6));
    app.drain().await;
    assert_eq!(before - credits().await, 6);
}
