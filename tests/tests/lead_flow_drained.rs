//! End to end with the queue drained in-process (deterministic, no polling): leads created
//! through the API are enriched, scored and allocated by the worker's own handlers, and the
//! dashboard's reads agree with what the jobs stored.

use agency_domain::{Role, Tier};
use agency_testkit::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

async fn ok_json(response: reqwest::Response, status: u16) -> Value {
    let code = response.status().as_u16();
    let body: Value = response.json().await.expect("json body");
    assert_eq!(code, status, "{body}");
    body
}

#[tokio::test]
async fn bulk_created_leads_are_scored_once_the_queue_is_drained() {
    let app = TestApp::spawn().await;
    let client = app.create_client("Drained Digital").await;
    let owner = app.user_with_role(client, Role::Owner).await;
    let base = format!("/api/v1/clients/{client}");
    let campaign = ok_json(
        app.send_json_as(
            &owner,
            Method::POST,
            &format!("{base}/campaigns"),
            &json!({"name": "Melbourne CTOs"}),
        )
        .await,
        201,
    )
    .await;
    let campaign_id = campaign["id"].as_str().expect("id").to_owned();
    let leads: Vec<Value> = ["ceo", "cto", "intern"]
        .iter()
        .map(|title| {
            json!({
                "email": format!("{title}@drained.example.com.au"),
                "campaign_id": campaign_id,
                "title": title.to_uppercase(),
                "company": "Drained Example",
                "domain": "drained.example.com.au",
            })
        })
        .collect();
    let created = ok_json(
        app.send_json_as(
            &owner,
            Method::POST,
            &format!("{base}/leads/bulk"),
            &json!({"leads": leads}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(created["created"], 3, "{created}");

    let report = app.drain().await;
    assert!(report.failed.is_empty(), "{report:?}");
    assert!(
        report.succeeded >= 2,
        "enrichment then scoring ran: {report:?}"
    );

    let page = ok_json(
        app.send_as(&owner, Method::GET, &format!("{base}/leads?page_size=100"))
            .await,
        200,
    )
    .await;
    let items = page["items"].as_array().expect("items");
    assert_eq!(items.len(), 3);
    for lead in items {
        let score = lead["als_score"].as_u64().expect("scored after the drain");
        assert_eq!(
            lead["als_tier"],
            Tier::from_score(u8::try_from(score).expect("0-100")).as_str(),
            "{lead}"
        );
    }
    let ceo = items
        .iter()
        .find(|l| l["title"] == "CEO")
        .expect("the CEO lead");
    let intern = items
        .iter()
        .find(|l| l["title"] == "INTERN")
        .expect("the intern lead");
    assert!(
        ceo["als_authority"].as_u64() > intern["als_authority"].as_u64(),
        "a CEO outranks an intern on authority: {ceo} {intern}"
    );
}
