//! Statuses and kinds decode into the domain's enums at the store boundary: a stored value
//! this build does not know is a decode error, never a default (with the CHECK constraint
//! dropped, as a newer build's migration might).

use agency_domain::{AiUsageStatus, ClientId, ClientTier, LeadId, SubscriptionStatus};
use agency_store::leads::scoring;
use agency_store::{clients, sending_resources};
use sqlx::PgPool;
use uuid::Uuid;

async fn client(pool: &PgPool) -> Uuid {
    sqlx::query_scalar("INSERT INTO clients (name) VALUES ('Acme') RETURNING id")
        .fetch_one(pool)
        .await
        .expect("client")
}

async fn execute(pool: &PgPool, sql: &'static str, client: Uuid) {
    sqlx::query(sql)
        .bind(client)
        .execute(pool)
        .await
        .expect(sql);
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_unknown_lead_status_is_a_decode_error(pool: PgPool) {
    let client = client(&pool).await;
    execute(
        &pool,
        "ALTER TABLE leads DROP CONSTRAINT leads_status_check",
        client,
    )
    .await;
    let lead: LeadId = sqlx::query_scalar(
        "INSERT INTO leads (client_id, email, status) VALUES ($1, 'ada@acme.com.au', 'archived')
         RETURNING id",
    )
    .bind(client)
    .fetch_one(&pool)
    .await
    .expect("lead");

    let err = scoring::scoring_rows(&pool, ClientId::from_uuid(client), &[lead])
        .await
        .expect_err("an unknown status must not decode");
    assert!(format!("{err:?}").contains("archived"), "{err:?}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_unknown_resource_kind_is_a_decode_error(pool: PgPool) {
    let client = client(&pool).await;
    execute(
        &pool,
        "ALTER TABLE sending_resources DROP CONSTRAINT sending_resources_kind_check",
        client,
    )
    .await;
    execute(
        &pool,
        "INSERT INTO sending_resources (client_id, kind, value) VALUES ($1, 'fax_number', '+61200000000')",
        client,
    )
    .await;

    let err = sending_resources::resources(&pool, ClientId::from_uuid(client))
        .await
        .expect_err("an unknown kind must not decode");
    assert!(format!("{err:?}").contains("fax_number"), "{err:?}");
}

/// The statuses the `ai_usage.status` CHECK constraint allows, as PostgreSQL prints it.
async fn ai_usage_checked_statuses(pool: &PgPool) -> Vec<String> {
    let check: String = sqlx::query_scalar(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'ai_usage_status_check'",
    )
    .fetch_one(pool)
    .await
    .expect("the status CHECK");
    // CHECK ((status = ANY (ARRAY['reserved'::text, ...]))): every quoted literal.
    check
        .split('\'')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

async fn insert_ai_usage(pool: &PgPool, client: Uuid, status: &str) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO ai_usage (id, client_id, purpose, model, status, estimate_aud, usage_date,
                               platform_date, at)
         VALUES (gen_random_uuid(), $1, 'classify_reply', 'claude-haiku', $2, 0.01, current_date,
                 current_date, now())
         RETURNING id",
    )
    .bind(client)
    .bind(status)
    .fetch_one(pool)
    .await
    .expect("ai_usage row")
}

async fn ai_usage_status(pool: &PgPool, id: Uuid) -> Result<AiUsageStatus, sqlx::Error> {
    sqlx::query_scalar("SELECT status FROM ai_usage WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
}

#[sqlx::test(migrations = "../../migrations")]
async fn ai_usage_statuses_are_the_checked_ones_and_an_unknown_one_is_a_decode_error(pool: PgPool) {
    let client = client(&pool).await;
    let mut names = AiUsageStatus::NAMES.to_vec();
    names.sort_unstable();
    let mut checked = ai_usage_checked_statuses(&pool).await;
    checked.sort_unstable();
    assert_eq!(names, checked, "the enum spells exactly the CHECK's values");
    for &status in AiUsageStatus::ALL {
        let id = insert_ai_usage(&pool, client, status.as_str()).await;
        assert_eq!(ai_usage_status(&pool, id).await.ok(), Some(status));
    }

    execute(
        &pool,
        "ALTER TABLE ai_usage DROP CONSTRAINT ai_usage_status_check",
        client,
    )
    .await;
    let id = insert_ai_usage(&pool, client, "refunded").await;
    let err = ai_usage_status(&pool, id)
        .await
        .expect_err("an unknown status must not decode");
    assert!(format!("{err:?}").contains("refunded"), "{err:?}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_plan_reads_its_tier_and_an_unknown_tier_is_a_decode_error(pool: PgPool) {
    let client = client(&pool).await;
    let mut conn = pool.acquire().await.expect("connection");
    let plan = clients::lock_plan(&mut conn, ClientId::from_uuid(client))
        .await
        .expect("plan");
    assert_eq!(
        plan,
        Some(clients::ClientPlan {
            tier: ClientTier::Ignition,
            subscription_status: SubscriptionStatus::Trialing,
        })
    );

    execute(
        &pool,
        "ALTER TABLE clients DROP CONSTRAINT clients_tier_check",
        client,
    )
    .await;
    execute(
        &pool,
        "UPDATE clients SET tier = 'platinum' WHERE id = $1",
        client,
    )
    .await;
    let err = clients::lock_plan(&mut conn, ClientId::from_uuid(client))
        .await
        .expect_err("an unknown tier must not decode");
    assert!(format!("{err:?}").contains("platinum"), "{err:?}");
}
