//! A client's own Twilio account over real HTTP and PostgreSQL: admins and owners store it (the
//! token sealed at rest, never answered, never in the audit log), members only see it, other
//! tenants get 404, one account serves one client; and webhooks signed by that account's
//! token are accepted, attributed to that client only, and matched within it.

use agency_domain::{ClientId, Role};
use agency_engine::inbound::receive::webhooks::twilio;
use agency_engine::inbound::receive::{WebhookSecrets, WebhooksConfig};
use agency_testkit::{TestApp, assert_envelope};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};
use uuid::Uuid;

const PLATFORM_TOKEN: &str = "platform-twilio-token";
const PUBLIC: &str = "https://hooks.agency.example";
const CLIENT_SID: &str = "AC00112233445566778899aabbccddeeff";
const CLIENT_TOKEN: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";

fn secrets() -> WebhookSecrets {
    WebhooksConfig {
        public_base_url: Some(PUBLIC.into()),
        twilio_auth_token: Some(SecretString::from(PLATFORM_TOKEN)),
        ..WebhooksConfig::default()
    }
    .secrets()
    .expect("valid secrets")
}

fn path(client: ClientId) -> String {
    format!("/api/v1/clients/{client}/twilio-account")
}

async fn put(
    app: &TestApp,
    user: &agency_testkit::TestUser,
    client: ClientId,
    body: &Value,
) -> reqwest::Response {
    app.send_json_as(user, Method::PUT, &path(client), body)
        .await
}

/// The account as `user` sees it (200).
async fn get(app: &TestApp, user: &agency_testkit::TestUser, client: ClientId) -> Value {
    let res = app.send_as(user, Method::GET, &path(client)).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn admins_store_a_sealed_account_members_only_see_it_and_tenants_are_apart() {
    let app = TestApp::spawn_with(|s| s.webhooks = secrets()).await;
    let acme = app.create_client("Acme").await;
    let other = app.create_client("Other").await;
    let owner = app.user_with_role(acme, Role::Owner).await;
    let member = app.user_with_role(acme, Role::Member).await;
    let stranger = app.user_with_role(other, Role::Owner).await;
    let body = json!({"account_sid": CLIENT_SID, "auth_token": CLIENT_TOKEN});

    // Nothing yet.
    let view = get(&app, &member, acme).await;
    assert_eq!(view["configured"], false);
    assert!(view["account_sid"].is_null());

    // A member cannot store it; bad values are 422 naming the fields.
    assert_envelope(put(&app, &member, acme, &body).await, 403, "forbidden").await;
    let bad = assert_envelope(
        put(
            &app,
            &owner,
            acme,
            &json!({"account_sid": "AC12", "auth_token": "x"}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let paths: Vec<&str> = bad["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, vec!["account_sid", "auth_token"]);

    // The owner stores it: the answer names the SID and never the token.
    let res = put(&app, &owner, acme, &body).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(!text.contains(CLIENT_TOKEN), "{text}");
    let view: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(view["configured"], true);
    assert_eq!(view["account_sid"], CLIENT_SID);

    // At rest: sealed (no clear token in the row or the audit log), and it opens.
    let (sealed, sealed_key): (Vec<u8>, String) = sqlx::query_as(
        "SELECT token_sealed, key_id FROM client_twilio_accounts WHERE client_id = $1",
    )
    .bind(acme.into_uuid())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(sealed_key, "test1");
    assert!(
        !sealed
            .windows(CLIENT_TOKEN.len())
            .any(|w| w == CLIENT_TOKEN.as_bytes())
    );
    let audit: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE client_id = $1 AND action = 'twilio_account.set'
            AND after::text NOT LIKE '%' || $2 || '%'",
    )
    .bind(acme.into_uuid())
    .bind(CLIENT_TOKEN)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audit, 1);

    // Members see it; another tenant's owner gets 404 on every verb.
    let view = get(&app, &member, acme).await;
    assert_eq!(view["account_sid"], CLIENT_SID);
    assert_envelope(
        app.send_as(&stranger, Method::GET, &path(acme)).await,
        404,
        "not_found",
    )
    .await;
    assert_envelope(put(&app, &stranger, acme, &body).await, 404, "not_found").await;
    assert_envelope(
        app.send_as(&stranger, Method::DELETE, &path(acme)).await,
        404,
        "not_found",
    )
    .await;

    // One account serves one client: the other tenant cannot claim it (a generic 409).
    let res = put(&app, &stranger, other, &body).await;
    assert_envelope(res, 409, "twilio_account_unavailable").await;

    // Removed: 204, then not configured, then 404 on a second delete.
    let res = app.send_as(&owner, Method::DELETE, &path(acme)).await;
    assert_eq!(res.status(), 204);
    let view = get(&app, &owner, acme).await;
    assert_eq!(view["configured"], false);
    assert_envelope(
        app.send_as(&owner, Method::DELETE, &path(acme)).await,
        404,
        "not_found",
    )
    .await;
}

async fn post_sms(app: &TestApp, params: &[(&str, &str)], token: &str) -> reqwest::Response {
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let sig = twilio::signature(token, &format!("{PUBLIC}/webhooks/twilio/sms"), &owned);
    app.request(Method::POST, "/webhooks/twilio/sms")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", sig)
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn webhooks_signed_by_a_clients_own_account_are_verified_with_its_token() {
    let app = TestApp::spawn_with(|s| s.webhooks = secrets()).await;
    let acme = app.create_client("Acme").await;
    let owner = app.user_with_role(acme, Role::Owner).await;
    let number = "+61480000777";
    sqlx::query(
        "INSERT INTO sending_resources (client_id, kind, value, verified_at) VALUES ($1, 'sms_number', $2, now())",
    )
    .bind(acme.into_uuid())
    .bind(number)
    .execute(&app.pool)
    .await
    .unwrap();
    let jane: Uuid = sqlx::query_scalar(
        "INSERT INTO leads (client_id, email, phone, status) VALUES ($1, 'jane@acme.com.au', '+61412345678', 'in_sequence') RETURNING id",
    )
    .bind(acme.into_uuid())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let sms = |sid: &'static str| {
        [
            ("MessageSid", sid),
            ("AccountSid", CLIENT_SID),
            ("From", "+61412345678"),
            ("To", number),
            ("Body", "Sounds good, call me Thursday"),
        ]
    };

    // Before the client stores its account, its token proves nothing.
    let res = post_sms(&app, &sms("SM100"), CLIENT_TOKEN).await;
    assert_envelope(res, 401, "invalid_signature").await;

    let res = put(
        &app,
        &owner,
        acme,
        &json!({"account_sid": CLIENT_SID, "auth_token": CLIENT_TOKEN}),
    )
    .await;
    assert_eq!(res.status(), 200);

    // Signed with the client's token: accepted and attributed to the client.
    let res = post_sms(&app, &sms("SM101"), CLIENT_TOKEN).await;
    assert_eq!(res.status(), 200);
    let owner_of_event: Option<Uuid> = sqlx::query_scalar(
        "SELECT client_id FROM webhook_events WHERE provider_event_id = 'sms:SM101'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(owner_of_event, Some(acme.into_uuid()));
    // A wrong token is refused, and so is the client's token for another AccountSid.
    let res = post_sms(&app, &sms("SM102"), "not-the-token-of-anyone-at-all0").await;
    assert_envelope(res, 401, "invalid_signature").await;
    let mut foreign = sms("SM103");
    foreign[1] = ("AccountSid", "AC99999999999999999999999999999999");
    let res = post_sms(&app, &foreign, CLIENT_TOKEN).await;
    assert_envelope(res, 401, "invalid_signature").await;
    // The platform's token still verifies (its events carry no tenant until matched).
    let res = post_sms(&app, &sms("SM104"), PLATFORM_TOKEN).await;
    assert_eq!(res.status(), 200);

    // Processed: the client's reply is matched to its lead.
    app.drain().await;
    let matched: i64 =
        sqlx::query_scalar("SELECT count(*) FROM replies WHERE client_id = $1 AND lead_id = $2")
            .bind(acme.into_uuid())
            .bind(jane)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(matched, 2);
}

#[tokio::test]
async fn a_key_rotation_reseals_every_token_under_the_new_key() {
    use agency_engine::twilio_accounts::{self, CredentialKeys};
    use secrecy::ExposeSecret;
    let app = TestApp::spawn().await;
    let acme = app.create_client("Acme").await;
    let owner = app.user_with_role(acme, Role::Owner).await;
    let res = put(
        &app,
        &owner,
        acme,
        &json!({"account_sid": CLIENT_SID, "auth_token": CLIENT_TOKEN}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let new_key = CredentialKeys::ephemeral("next");
    let entry = new_key.export_current().expect("entry");
    let rotated = CredentialKeys::parse(&format!(
        "{entry},{}",
        agency_testkit::TEST_CREDENTIALS_KEYS
    ))
    .expect("rotated keys");
    let report = twilio_accounts::reseal_all(&app.pool, &rotated)
        .await
        .expect("reseal");
    assert_eq!((report.resealed, report.unreadable), (1, 0));
    // Now the new key alone opens it; a second run has nothing to do.
    let row = agency_store::twilio_accounts::get(&app.pool, acme)
        .await
        .expect("read")
        .expect("row");
    assert_eq!(row.key_id, "next");
    let only_new = CredentialKeys::parse(&entry).expect("new key");
    let token = twilio_accounts::open_token(&only_new, &row).expect("opens");
    assert_eq!(token.expose_secret(), CLIENT_TOKEN);
    let again = twilio_accounts::reseal_all(&app.pool, &rotated)
        .await
        .expect("reseal");
    assert_eq!(again.resealed, 0);
}
