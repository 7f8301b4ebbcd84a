//! The schema: migrations apply to an empty database, run again as a no-op, and the
//! constraints SPEC.md names hold (allocation sums to 100, one live lead per address per
//! client compared case-insensitively, append-only activities).

use agency_store::{StoreError, migrate};
use sqlx::PgPool;
use uuid::Uuid;

#[sqlx::test(migrations = false)]
async fn migrations_apply_from_empty_and_rerun_as_a_no_op(pool: PgPool) {
    let before = migrate::status(&pool).await.unwrap();
    assert!(
        before
            .iter()
            .all(|s| s.applied == 0 && !s.pending.is_empty())
    );
    assert!(!migrate::is_current(&pool).await.unwrap());

    migrate::run(&pool).await.unwrap();
    assert!(migrate::is_current(&pool).await.unwrap());
    migrate::run(&pool).await.unwrap();
    let after = migrate::status(&pool).await.unwrap();
    for set in &after {
        assert_eq!(set.applied, set.known, "{set:?}");
        assert!(
            set.dirty.is_empty() && set.unknown_applied.is_empty(),
            "{set:?}"
        );
    }
    for table in [
        "clients",
        "users",
        "memberships",
        "campaigns",
        "leads",
        "global_suppression",
        "activities",
        "audit_log",
        "webhook_events",
        "apalis.jobs",
    ] {
        let found: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
            .bind(table)
            .fetch_one(&pool)
            .await
            .unwrap();
        assert!(found.is_some(), "table {table} missing");
    }
}

async fn client(pool: &PgPool) -> Uuid {
    sqlx::query_scalar("INSERT INTO clients (name) VALUES ('Acme') RETURNING id")
        .fetch_one(pool)
        .await
        .unwrap()
}

#[sqlx::test(migrations = "../../migrations")]
async fn campaign_allocation_must_sum_to_100(pool: PgPool) {
    let client = client(&pool).await;
    let ok = sqlx::query("INSERT INTO campaigns (client_id, name) VALUES ($1, 'defaults')")
        .bind(client)
        .execute(&pool)
        .await;
    assert!(ok.is_ok(), "defaults 40/30/20/5/5 sum to 100");
    let err: StoreError = sqlx::query(
        "INSERT INTO campaigns (client_id, name, allocation_email) VALUES ($1, 'bad', 50)",
    )
    .bind(client)
    .execute(&pool)
    .await
    .unwrap_err()
    .into();
    assert!(
        matches!(&err, StoreError::Constraint { constraint } if constraint == "campaigns_allocation_sums_to_100"),
        "{err:?}"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn one_live_lead_per_address_per_client(pool: PgPool) {
    let a = client(&pool).await;
    let b = client(&pool).await;
    let insert = |client: Uuid, email: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, Uuid>(
                "INSERT INTO leads (client_id, email) VALUES ($1, $2) RETURNING id",
            )
            .bind(client)
            .bind(email)
            .fetch_one(&pool)
            .await
            .map_err(StoreError::from)
        }
    };
    let first = insert(a, "jo@example.com").await.unwrap();
    assert!(
        insert(a, "jo@example.com")
            .await
            .unwrap_err()
            .is_conflict_on("leads_client_email_idx")
    );
    assert!(
        insert(b, "jo@example.com").await.is_ok(),
        "another client may hold the same address"
    );
    assert!(
        matches!(
            insert(a, "Jo@Example.com").await,
            Err(StoreError::Constraint { .. })
        ),
        "emails are stored lowercased"
    );
    sqlx::query("UPDATE leads SET deleted_at = now() WHERE id = $1")
        .bind(first)
        .execute(&pool)
        .await
        .unwrap();
    assert!(
        insert(a, "jo@example.com").await.is_ok(),
        "a soft-deleted lead frees its address"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn activities_are_append_only(pool: PgPool) {
    let client = client(&pool).await;
    let id: Uuid = sqlx::query_scalar("INSERT INTO activities (client_id, channel, action) VALUES ($1, 'email', 'sent') RETURNING id")
        .bind(client)
        .fetch_one(&pool)
        .await
        .unwrap();
    let update = sqlx::query("UPDATE activities SET action = 'opened' WHERE id = $1")
        .bind(id)
        .execute(&pool)
        .await;
    assert!(update.is_err());
    let delete = sqlx::query("DELETE FROM activities WHERE id = $1")
        .bind(id)
        .execute(&pool)
        .await;
    assert!(delete.is_err());
}
