//! Outreach routes through real HTTP: the sandbox outbox after a real send through the job
//! path's engine function, co-pilot approvals (list, edit, approve, reject; roles; 409 once
//! decided; another tenant 404), the manual send (202 and its job), and the public one-click
//! unsubscribe (GET shows, POST applies, a forged link 404).

use agency_domain::{CampaignId, Channel, ClientId, LeadId, OutreachSendId, Role, SendOrigin};
use agency_engine::outreach::{OutreachEnv, SendOutcome, run_send};
use agency_store::outreach::{self as store, NewSend};
use agency_testkit::{TestApp, assert_envelope};
use chrono::Utc;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

struct World {
    client: ClientId,
    lead: LeadId,
    campaign: CampaignId,
}

async fn world(app: &TestApp, name: &str, mode: &str) -> World {
    let client = app.create_client(name).await;
    sqlx::query(
        "UPDATE clients SET subscription_status = 'active', postal_address = '1 George St, Sydney NSW 2000'
          WHERE id = $1",
    )
    .bind(client.into_uuid())
    .execute(&app.pool)
    .await
    .expect("client");
    let campaign: Uuid = sqlx::query_scalar(
        "INSERT INTO campaigns (client_id, name, status, permission_mode) VALUES ($1, 'Spring', 'active', $2)
         RETURNING id",
    )
    .bind(client.into_uuid())
    .bind(mode)
    .fetch_one(&app.pool)
    .await
    .expect("campaign");
    let lead: Uuid = sqlx::query_scalar(
        "INSERT INTO leads (client_id, campaign_id, email, first_name, company, status, als_score, als_tier,
                            als_channels)
         VALUES ($1, $2, $3, 'Jane', 'Harbour Plumbing', 'scored', 70, 'warm', '{email,voice}')
         RETURNING id",
    )
    .bind(client.into_uuid())
    .bind(campaign)
    .bind(format!("jane-{}@harbour.test", Uuid::now_v7().simple()))
    .fetch_one(&app.pool)
    .await
    .expect("lead");
    World {
        client,
        lead: LeadId::from_uuid(lead),
        campaign: CampaignId::from_uuid(campaign),
    }
}

fn env(app: &TestApp) -> OutreachEnv {
    OutreachEnv {
        links: app.settings.links.clone(),
        ..OutreachEnv::sandbox()
    }
}

async fn planned_email(app: &TestApp, w: &World) -> OutreachSendId {
    let new = NewSend {
        campaign_id: w.campaign,
        lead_id: w.lead,
        step_number: 1,
        channel: Channel::Email,
        origin: SendOrigin::Sequence,
        due_at: Utc::now(),
        resource_id: None,
    };
    store::plan(&app.pool, w.client, &new)
        .await
        .expect("plan")
        .expect("new")
}

async fn json_of(res: reqwest::Response, status: u16) -> Value {
    assert_eq!(res.status(), status);
    res.json().await.expect("json")
}

#[tokio::test]
async fn the_sandbox_outbox_lists_the_tenants_messages() {
    let app = TestApp::spawn().await;
    let w = world(&app, "Acme Digital", "autopilot").await;
    let other = world(&app, "Other", "autopilot").await;
    let id = planned_email(&app, &w).await;
    let outcome = run_send(
        &app.pool,
        app.services.cache.as_ref(),
        &env(&app),
        Utc::now(),
        w.client,
        id,
    )
    .await
    .expect("send");
    let SendOutcome::Sent {
        provider_message_id,
    } = outcome
    else {
        panic!("{outcome:?}");
    };
    let viewer = app.user_with_role(w.client, Role::Viewer).await;
    let path = format!("/api/v1/clients/{}/sandbox/messages", w.client);
    let page = json_of(app.send_as(&viewer, Method::GET, &path).await, 200).await;
    assert_eq!(page["total"], 1);
    let item = &page["items"][0];
    assert_eq!(item["send_id"], json!(id));
    assert_eq!(item["channel"], "email");
    assert_eq!(item["provider"], "resend");
    assert_eq!(item["provider_message_id"], provider_message_id);
    assert_eq!(item["subject"], "Quick question about Harbour Plumbing");
    let unsubscribe = app.settings.links.unsubscribe_url(w.lead);
    assert!(
        item["body"]
            .as_str()
            .unwrap_or_default()
            .contains(&unsubscribe)
    );
    assert_eq!(
        item["headers"]["List-Unsubscribe-Post"],
        "List-Unsubscribe=One-Click"
    );
    // The other tenant sees none of it, and not this path.
    let outsider = app.user_with_role(other.client, Role::Owner).await;
    let res = app.send_as(&outsider, Method::GET, &path).await;
    assert_envelope(res, 404, "not_found").await;
    let theirs = format!("/api/v1/clients/{}/sandbox/messages", other.client);
    let page = json_of(app.send_as(&outsider, Method::GET, &theirs).await, 200).await;
    assert_eq!(page["total"], 0);
    assert_eq!(page["items"], json!([]));
}

#[tokio::test]
async fn the_unsubscribe_link_shows_then_applies_in_one_click() {
    let app = TestApp::spawn().await;
    let w = world(&app, "Acme Digital", "autopilot").await;
    let token = app.settings.links.unsubscribe_token(w.lead);
    let path = format!("/u/{token}");
    let shown = app
        .request(Method::GET, &path)
        .header("accept", "application/json")
        .send()
        .await
        .expect("get");
    let shown = json_of(shown, 200).await;
    assert_eq!(shown["unsubscribed"], false);
    assert_eq!(shown["sender"], "Acme Digital");
    assert!(
        shown["email"]
            .as_str()
            .unwrap_or_default()
            .starts_with("j***@")
    );
    let html = app.request(Method::GET, &path).send().await.expect("get");
    assert_eq!(html.status(), 200);
    assert!(
        html.text()
            .await
            .unwrap_or_default()
            .contains("method=\"post\"")
    );

    // A mail client's RFC 8058 one-click POST.
    let done = app
        .request(Method::POST, &path)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .expect("post");
    assert_eq!(done.status(), 200);
    let (status, suppressed): (String, i64) = sqlx::query_as(
        "SELECT l.status, (SELECT count(*) FROM global_suppression s WHERE s.email = l.email)
           FROM leads l WHERE l.id = $1",
    )
    .bind(w.lead.into_uuid())
    .fetch_one(&app.pool)
    .await
    .expect("lead");
    assert_eq!((status.as_str(), suppressed), ("unsubscribed", 1));
    let again = app
        .request(Method::GET, &path)
        .header("accept", "application/json")
        .send()
        .await
        .expect("get");
    assert_eq!(json_of(again, 200).await["unsubscribed"], true);

    let mut forged = token.clone();
    let last = if forged.ends_with('A') { "B" } else { "A" };
    forged.replace_range(forged.len() - 1.., last);
    let res = app
        .request(Method::POST, &format!("/u/{forged}"))
        .send()
        .await
        .expect("post");
    assert_envelope(res, 404, "not_found").await;
}

#[tokio::test]
async fn co_pilot_drafts_are_listed_edited_and_approved_by_members() {
    let app = TestApp::spawn().await;
    let w = world(&app, "Acme Digital", "co_pilot").await;
    let other = world(&app, "Other", "co_pilot").await;
    let id = planned_email(&app, &w).await;
    let drafted = run_send(
        &app.pool,
        app.services.cache.as_ref(),
        &env(&app),
        Utc::now(),
        w.client,
        id,
    )
    .await
    .expect("draft");
    assert_eq!(drafted, SendOutcome::Drafted);

    let viewer = app.user_with_role(w.client, Role::Viewer).await;
    let member = app.user_with_role(w.client, Role::Member).await;
    let base = format!("/api/v1/clients/{}/approvals", w.client);
    let page = json_of(app.send_as(&viewer, Method::GET, &base).await, 200).await;
    assert_eq!(page["total"], 1);
    assert_eq!(page["items"][0]["id"], json!(id));
    assert_eq!(page["items"][0]["status"], "awaiting_approval");
    assert_eq!(page["items"][0]["lead_name"], "Jane");

    let item = format!("{base}/{id}");
    let edit = json!({"body": "Hi Jane, edited by a human."});
    let res = app.send_json_as(&viewer, Method::PUT, &item, &edit).await;
    assert_envelope(res, 403, "forbidden").await;
    let edited = json_of(
        app.send_json_as(&member, Method::PUT, &item, &edit).await,
        200,
    )
    .await;
    assert_eq!(edited["body"], "Hi Jane, edited by a human.");
    let res = app
        .send_json_as(&member, Method::PUT, &item, &json!({"body": "  "}))
        .await;
    assert_envelope(res, 422, "validation_failed").await;

    let outsider = app.user_with_role(other.client, Role::Owner).await;
    let foreign = format!("/api/v1/clients/{}/approvals/{id}/approve", other.client);
    let res = app.send_as(&outsider, Method::POST, &foreign).await;
    assert_envelope(res, 404, "not_found").await;

    let approved = json_of(
        app.send_as(&member, Method::POST, &format!("{item}/approve"))
            .await,
        200,
    )
    .await;
    assert_eq!(approved["status"], "approved");
    let res = app
        .send_as(&member, Method::POST, &format!("{item}/reject"))
        .await;
    assert_envelope(res, 409, "not_awaiting_approval").await;
    let jobs: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM apalis.jobs WHERE job_type = 'send_outreach'
            AND convert_from(job, 'UTF8')::jsonb->>'send_id' = $1::text",
    )
    .bind(id.into_uuid())
    .fetch_one(&app.pool)
    .await
    .expect("jobs");
    assert_eq!(jobs, 1);
    let audit: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE entity_id = $1 AND action IN ('outreach.draft_edited', 'outreach.approved')",
    )
    .bind(id.into_uuid())
    .fetch_one(&app.pool)
    .await
    .expect("audit");
    assert_eq!(audit, 2);

    // The approved draft goes out with the edited words.
    let sent = run_send(
        &app.pool,
        app.services.cache.as_ref(),
        &env(&app),
        Utc::now(),
        w.client,
        id,
    )
    .await
    .expect("send");
    assert!(matches!(sent, SendOutcome::Sent { .. }), "{sent:?}");
    let body: String = sqlx::query_scalar("SELECT body FROM sandbox_messages WHERE send_id = $1")
        .bind(id.into_uuid())
        .fetch_one(&app.pool)
        .await
        .expect("outbox");
    assert!(body.starts_with("Hi Jane, edited by a human."), "{body}");
}

#[tokio::test]
async fn a_manual_send_is_planned_and_queued_for_members_only() {
    let app = TestApp::spawn().await;
    let w = world(&app, "Acme Digital", "manual").await;
    let other = world(&app, "Other", "manual").await;
    let viewer = app.user_with_role(w.client, Role::Viewer).await;
    let member = app.user_with_role(w.client, Role::Member).await;
    let path = format!("/api/v1/clients/{}/leads/{}/send", w.client, w.lead);
    let body = json!({"channel": "email"});
    let res = app.send_json_as(&viewer, Method::POST, &path, &body).await;
    assert_envelope(res, 403, "forbidden").await;
    let res = app
        .send_json_as(&member, Method::POST, &path, &json!({"channel": "fax"}))
        .await;
    assert_envelope(res, 422, "validation_failed").await;
    let outsider = app.user_with_role(other.client, Role::Owner).await;
    let foreign = format!("/api/v1/clients/{}/leads/{}/send", other.client, w.lead);
    let res = app
        .send_json_as(&outsider, Method::POST, &foreign, &body)
        .await;
    assert_envelope(res, 404, "not_found").await;

    let planned = json_of(
        app.send_json_as(&member, Method::POST, &path, &body).await,
        202,
    )
    .await;
    assert_eq!(planned["channel"], "email");
    assert_eq!(planned["status"], "scheduled");
    assert_eq!(planned["lead_id"], json!(w.lead));
    let id: Uuid = serde_json::from_value(planned["id"].clone()).expect("id");
    let jobs: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM apalis.jobs WHERE job_type = 'send_outreach'
            AND convert_from(job, 'UTF8')::jsonb->>'send_id' = $1::text",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .expect("jobs");
    assert_eq!(jobs, 1);
    // A manual campaign still sends what a member triggered.
    let sent = run_send(
        &app.pool,
        app.services.cache.as_ref(),
        &env(&app),
        Utc::now(),
        w.client,
        OutreachSendId::from_uuid(id),
    )
    .await
    .expect("send");
    assert!(matches!(sent, SendOutcome::Sent { .. }), "{sent:?}");
}
