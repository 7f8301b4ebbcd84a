//! Statuses and kinds decode into the domain's enums at the store boundary: a stored value
//! this build does not know is a decode error, never a default (with the CHECK constraint
//! dropped, as a newer build's migration might).

use agency_domain::ClientId;
use agency_store::leads::scoring;
use agency_store::sending_resources;
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
    let lead: Uuid = sqlx::query_scalar(
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
