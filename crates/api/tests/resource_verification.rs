//! Proof of ownership of sending resources with `RESOURCE_VERIFICATION=required`, against a
//! local DNS-over-HTTPS server and a local Twilio speaking their real JSON: an email domain
//! verifies only when its TXT record carries its token, a number only when it is an incoming
//! number of the client's Twilio account (else the platform's); one client at most holds a
//! value verified, and a tenant trying another's value gets the same answer as a missing
//! proof; inbound routing only sees verified resources.

use std::sync::Arc;

use agency_domain::{ClientId, Role};
use agency_engine::resources::{ResourceVerification, ResourceVerifier};
use agency_engine::{EngineSettings, Providers};
use agency_providers::HttpSettings;
use agency_providers::dns::DohResolver;
use agency_providers::twilio::{ClientTwilioAccounts, Twilio};
use agency_testkit::{TestApp, TestUser, assert_envelope, test_credential_keys};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};
use wiremock::matchers::{basic_auth, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PLATFORM_SID: &str = "AC11111111111111111111111111111111";
const PLATFORM_TOKEN: &str = "platform-token-platform-token-00";

async fn app(dns: &MockServer, twilio: &MockServer) -> TestApp {
    let settings = HttpSettings::default();
    let verifier = ResourceVerifier {
        dns: Arc::new(
            DohResolver::new(&format!("{}/dns-query", dns.uri()), &settings).expect("doh"),
        ),
        platform_twilio: Some(Arc::new(
            Twilio::new(
                PLATFORM_SID,
                SecretString::from(PLATFORM_TOKEN),
                &twilio.uri(),
                &settings,
            )
            .expect("twilio"),
        )),
        client_twilio: Some(Arc::new(ClientTwilioAccounts::new(
            test_credential_keys(),
            &twilio.uri(),
            &settings,
        ))),
    };
    TestApp::spawn_with_services(
        |_| {},
        move |mut services| {
            services.providers =
                Arc::new(Providers::sandbox(chrono::Utc::now()).with_verification(verifier));
            services.with_settings(EngineSettings {
                resource_verification: ResourceVerification::Required,
                credentials: test_credential_keys(),
                ..EngineSettings::default()
            })
        },
    )
    .await
}

fn path_of(client: ClientId) -> String {
    format!("/api/v1/clients/{client}/resources")
}

async fn create(
    app: &TestApp,
    user: &TestUser,
    client: ClientId,
    kind: &str,
    value: &str,
) -> Value {
    let res = app
        .send_json_as(
            user,
            Method::POST,
            &path_of(client),
            &json!({"kind": kind, "value": value}),
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

async fn verify(app: &TestApp, user: &TestUser, client: ClientId, id: &Value) -> reqwest::Response {
    let id = id.as_str().unwrap();
    app.send_as(
        user,
        Method::POST,
        &format!("{}/{id}/verify", path_of(client)),
    )
    .await
}

/// A DoH answer carrying these TXT values (quoted, as resolvers send them).
fn txt_answer(name: &str, values: &[&str]) -> Value {
    json!({
        "Status": 0, "TC": false, "RD": true, "RA": true, "AD": false, "CD": false,
        "Question": [{"name": name, "type": 16}],
        "Answer": values.iter().map(|v| json!({"name": name, "type": 16, "TTL": 300, "data": format!("\"{v}\"")})).collect::<Vec<_>>()
    })
}

async fn publish(dns: &MockServer, name: &str, values: &[&str]) {
    dns.reset().await;
    Mock::given(method("GET"))
        .and(path("/dns-query"))
        .and(query_param("name", name))
        .and(query_param("type", "TXT"))
        .and(header("accept", "application/dns-json"))
        .respond_with(ResponseTemplate::new(200).set_body_json(txt_answer(name, values)))
        .mount(dns)
        .await;
}

#[tokio::test]
async fn an_email_domain_verifies_by_its_txt_token_and_only_for_one_client() {
    let (dns, twilio) = (MockServer::start().await, MockServer::start().await);
    let app = app(&dns, &twilio).await;
    let acme = app.create_client("Acme").await;
    let squatter = app.create_client("Squatter").await;
    let owner = app.user_with_role(acme, Role::Owner).await;
    let member = app.user_with_role(acme, Role::Member).await;
    let other = app.user_with_role(squatter, Role::Owner).await;
    let name = "_agency-os-verify.send.acme.com";

    let domain = create(&app, &owner, acme, "email_domain", "send.acme.com").await;
    assert_eq!(domain["verified"], false, "production needs proof");
    let token = domain["verification"]["record_value"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(domain["verification"]["record_name"], name);

    // Nothing published (NXDOMAIN): 409, still unverified.
    dns.reset().await;
    Mock::given(method("GET"))
        .and(path("/dns-query"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"Status": 3, "Question": [{"name": name, "type": 16}]})),
        )
        .mount(&dns)
        .await;
    let refused = assert_envelope(
        verify(&app, &owner, acme, &domain["id"]).await,
        409,
        "not_verified",
    )
    .await;
    // A member may not verify; another tenant does not see it.
    assert_envelope(
        verify(&app, &member, acme, &domain["id"]).await,
        403,
        "forbidden",
    )
    .await;
    assert_envelope(
        verify(&app, &other, acme, &domain["id"]).await,
        404,
        "not_found",
    )
    .await;

    // Another value published: still refused.
    publish(
        &dns,
        name,
        &["v=spf1 -all", "agency-os-verify=someone-else"],
    )
    .await;
    assert_envelope(
        verify(&app, &owner, acme, &domain["id"]).await,
        409,
        "not_verified",
    )
    .await;

    // The token published: verified, audited.
    publish(&dns, name, &[&token]).await;
    let res = verify(&app, &owner, acme, &domain["id"]).await;
    assert_eq!(res.status(), 200);
    let verified: Value = res.json().await.unwrap();
    assert_eq!(verified["verified"], true);
    assert!(verified["verification"].is_null());
    let audited: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM audit_log WHERE client_id = $1 AND action = 'resource.verified'",
    )
    .bind(acme.into_uuid())
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(audited, 1);

    // The squatter registers the same domain (201: no probing) and even gets its own token
    // published: it is Acme's, so the answer is the same refusal as a missing proof.
    let theirs = create(&app, &other, squatter, "email_domain", "send.acme.com").await;
    let their_token = theirs["verification"]["record_value"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(their_token, token);
    publish(&dns, name, &[&token, &their_token]).await;
    let res = assert_envelope(
        verify(&app, &other, squatter, &theirs["id"]).await,
        409,
        "not_verified",
    )
    .await;
    assert_eq!(
        res["detail"], refused["detail"],
        "the same sentence either way"
    );

    // Inbound routing sees only the verified owner.
    let owner_of: Option<(uuid::Uuid, uuid::Uuid)> =
        agency_store::sending_resources::resource_owner(
            &app.pool,
            "email_domain",
            "SEND.acme.com",
            None,
        )
        .await
        .unwrap();
    assert_eq!(owner_of.map(|(c, _)| c), Some(acme.into_uuid()));
}

#[tokio::test]
async fn a_number_verifies_when_it_is_in_the_clients_twilio_account() {
    let (dns, twilio) = (MockServer::start().await, MockServer::start().await);
    let app = app(&dns, &twilio).await;
    let acme = app.create_client("Acme").await;
    let owner = app.user_with_role(acme, Role::Owner).await;
    let numbers = |list: &[&str]| {
        json!({
            "first_page_uri": "/2010-04-01/Accounts/AC/IncomingPhoneNumbers.json?PageSize=50&Page=0",
            "incoming_phone_numbers": list.iter().map(|n| json!({"phone_number": n, "sid": "PN0001", "friendly_name": n})).collect::<Vec<_>>(),
            "page": 0, "page_size": 50
        })
    };
    Mock::given(method("GET"))
        .and(path(format!(
            "/2010-04-01/Accounts/{PLATFORM_SID}/IncomingPhoneNumbers.json"
        )))
        .and(query_param("PhoneNumber", "+61480000555"))
        .and(basic_auth(PLATFORM_SID, PLATFORM_TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(numbers(&["+61480000555"])))
        .mount(&twilio)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/2010-04-01/Accounts/{PLATFORM_SID}/IncomingPhoneNumbers.json"
        )))
        .and(query_param("PhoneNumber", "+61480000666"))
        .respond_with(ResponseTemplate::new(200).set_body_json(numbers(&[])))
        .mount(&twilio)
        .await;

    let ours = create(&app, &owner, acme, "sms_number", "0480 000 555").await;
    assert_eq!(ours["verification"]["method"], "twilio_number");
    let res = verify(&app, &owner, acme, &ours["id"]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["verified"], true);
    let not_ours = create(&app, &owner, acme, "sms_number", "0480 000 666").await;
    assert_envelope(
        verify(&app, &owner, acme, &not_ours["id"]).await,
        409,
        "not_verified",
    )
    .await;

    // With its own Twilio account, the client's numbers are checked there, never in the
    // platform's: +61480000555 is not in Acme's account, so a new registration of it fails.
    let client_sid = "AC22222222222222222222222222222222";
    let client_token = "clienttokenclienttokenclient0000";
    let res = app
        .send_json_as(
            &owner,
            Method::PUT,
            &format!("/api/v1/clients/{acme}/twilio-account"),
            &json!({"account_sid": client_sid, "auth_token": client_token}),
        )
        .await;
    assert_eq!(res.status(), 200);
    Mock::given(method("GET"))
        .and(path(format!(
            "/2010-04-01/Accounts/{client_sid}/IncomingPhoneNumbers.json"
        )))
        .and(basic_auth(client_sid, client_token))
        .and(query_param("PhoneNumber", "+61480000777"))
        .respond_with(ResponseTemplate::new(200).set_body_json(numbers(&["+61480000777"])))
        .mount(&twilio)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "/2010-04-01/Accounts/{client_sid}/IncomingPhoneNumbers.json"
        )))
        .and(query_param("PhoneNumber", "+61480000666"))
        .respond_with(ResponseTemplate::new(200).set_body_json(numbers(&[])))
        .mount(&twilio)
        .await;
    let own = create(&app, &owner, acme, "voice_number", "+61 480 000 777").await;
    let res = verify(&app, &owner, acme, &own["id"]).await;
    assert_eq!(res.status(), 200);
    assert_envelope(
        verify(&app, &owner, acme, &not_ours["id"]).await,
        409,
        "not_verified",
    )
    .await;
}
