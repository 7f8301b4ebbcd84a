//! Fixtures shared by the API integration tests: an active campaign and a dead-letter job,
//! written straight to the test database.

use agency_domain::ClientId;
use agency_engine::jobs::test_kinds::Probe;
use agency_engine::jobs::{EnqueueOptions, enqueue};
use agency_testkit::TestApp;
use uuid::Uuid;

/// An active campaign of `client` called `name`, targeting Construction, all email.
pub async fn active_campaign(app: &TestApp, client: ClientId, name: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO campaigns (client_id, name, status, target_industries, allocation_email,
                allocation_linkedin, allocation_voice, allocation_sms, allocation_mail)
         VALUES ($1, $2, 'active', '{Construction}', 100, 0, 0, 0, 0) RETURNING id",
    )
    .bind(client.into_uuid())
    .bind(name)
    .fetch_one(&app.pool)
    .await
    .expect("campaign")
}

/// A probe job called `name` in the dead-letter state (killed after one attempt); its id.
pub async fn dead_job(app: &TestApp, name: &str) -> String {
    let id = enqueue(
        &app.pool,
        &Probe {
            name: name.into(),
            ..Probe::default()
        },
        EnqueueOptions::default(),
    )
    .await
    .expect("enqueue");
    sqlx::query(
        "UPDATE apalis.jobs SET status = 'Killed', attempts = 1, done_at = now(),
                last_result = '\"probe failed for good\"'::jsonb
          WHERE id = $1",
    )
    .bind(&id)
    .execute(&app.pool)
    .await
    .expect("kill");
    id
}
