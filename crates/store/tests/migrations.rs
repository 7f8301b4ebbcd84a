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
    // The test-only probe kind's table is not part of the production schema.
    let probe_table: Option<String> =
        sqlx::query_scalar("SELECT to_regclass('job_probe_hits')::text")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(probe_table, None);
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

/// Asserts `sql` (binding `binds` in order) is refused by the tenant key `constraint`.
async fn refused_by(pool: &PgPool, sql: &str, binds: &[Uuid], constraint: &str) {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
    for b in binds {
        q = q.bind(*b);
    }
    let err = q.execute(pool).await.expect_err(constraint);
    let db = err.as_database_error().expect("a database error");
    assert_eq!(db.code().as_deref(), Some("23503"), "{sql}: {db}");
    assert_eq!(db.constraint(), Some(constraint), "{sql}: {db}");
}

#[sqlx::test(migrations = "../../migrations")]
async fn child_rows_cannot_point_into_another_tenant(pool: PgPool) {
    let (a, b) = (client(&pool).await, client(&pool).await);
    let campaign = |c: Uuid| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, Uuid>(
                "INSERT INTO campaigns (client_id, name) VALUES ($1, 'C') RETURNING id",
            )
            .bind(c)
            .fetch_one(&pool)
            .await
            .expect("campaign")
        }
    };
    let (camp_a, camp_b) = (campaign(a).await, campaign(b).await);
    let lead_b: Uuid = sqlx::query_scalar(
        "INSERT INTO leads (client_id, campaign_id, email) VALUES ($1, $2, 'b@b.example') RETURNING id",
    )
    .bind(b)
    .bind(camp_b)
    .fetch_one(&pool)
    .await
    .expect("lead in b");
    let resource_b: Uuid = sqlx::query_scalar(
        "INSERT INTO sending_resources (client_id, kind, value) VALUES ($1, 'linkedin_seat', 'Seat B')
         RETURNING id",
    )
    .bind(b)
    .fetch_one(&pool)
    .await
    .expect("resource in b");

    // Tenant A's rows naming tenant B's parents.
    refused_by(
        &pool,
        "INSERT INTO leads (client_id, campaign_id, email) VALUES ($1, $2, 'a@a.example')",
        &[a, camp_b],
        "leads_campaign_tenant_fkey",
    )
    .await;
    refused_by(
        &pool,
        "INSERT INTO campaign_sequence_steps (client_id, campaign_id, step_number, channel)
         VALUES ($1, $2, 1, 'email')",
        &[a, camp_b],
        "campaign_sequence_steps_campaign_tenant_fkey",
    )
    .await;
    refused_by(
        &pool,
        "INSERT INTO activities (client_id, lead_id, channel, action) VALUES ($1, $2, 'email', 'sent')",
        &[a, lead_b],
        "activities_lead_tenant_fkey",
    )
    .await;
    refused_by(
        &pool,
        "INSERT INTO voice_call_slots (client_id, lead_id, started_at, expires_at)
         VALUES ($1, $2, now(), now() + interval '30 minutes')",
        &[a, lead_b],
        "voice_call_slots_lead_tenant_fkey",
    )
    .await;
    let lead_a: Uuid = sqlx::query_scalar(
        "INSERT INTO leads (client_id, campaign_id, email) VALUES ($1, $2, 'a@a.example') RETURNING id",
    )
    .bind(a)
    .bind(camp_a)
    .fetch_one(&pool)
    .await
    .expect("lead in a");
    refused_by(
        &pool,
        "UPDATE leads SET allocated_resource_id = $2 WHERE id = $1",
        &[lead_a, resource_b],
        "leads_allocated_resource_tenant_fkey",
    )
    .await;
    refused_by(
        &pool,
        "UPDATE leads SET campaign_id = $2 WHERE id = $1",
        &[lead_a, camp_b],
        "leads_campaign_tenant_fkey",
    )
    .await;

    // The same rows within one tenant are fine, and every tenant key is validated.
    sqlx::query(
        "INSERT INTO activities (client_id, lead_id, campaign_id, channel, action)
         VALUES ($1, $2, $3, 'email', 'sent')",
    )
    .bind(b)
    .bind(lead_b)
    .bind(camp_b)
    .execute(&pool)
    .await
    .expect("same tenant");
    let unvalidated: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_constraint WHERE conname LIKE '%\\_tenant\\_fkey' AND NOT convalidated",
    )
    .fetch_one(&pool)
    .await
    .expect("constraints");
    assert_eq!(unvalidated, 0);
}

#[sqlx::test(migrations = false)]
async fn the_tenant_keys_migration_keeps_a_crossing_database_running(pool: PgPool) {
    // Every migration before the tenant keys, then a row crossing tenants, then the rest.
    let all = &migrate::MIGRATOR;
    let before = sqlx::migrate::Migrator {
        migrations: std::borrow::Cow::Owned(
            all.migrations
                .iter()
                .filter(|m| m.version < 20261204110200)
                .cloned()
                .collect(),
        ),
        ignore_missing: all.ignore_missing,
        locking: all.locking,
        no_tx: all.no_tx,
        table_name: all.table_name.clone(),
        create_schemas: all.create_schemas.clone(),
    };
    migrate::job_migrator()
        .run(&pool)
        .await
        .expect("job tables");
    before.run(&pool).await.expect("earlier migrations");
    let (a, b) = (client(&pool).await, client(&pool).await);
    let camp_b: Uuid =
        sqlx::query_scalar("INSERT INTO campaigns (client_id, name) VALUES ($1, 'C') RETURNING id")
            .bind(b)
            .fetch_one(&pool)
            .await
            .expect("campaign");
    sqlx::query("INSERT INTO leads (client_id, campaign_id, email) VALUES ($1, $2, 'x@a.example')")
        .bind(a)
        .bind(camp_b)
        .execute(&pool)
        .await
        .expect("a crossing row written before the keys existed");
    migrate::run(&pool)
        .await
        .expect("the migration still applies");
    let valid: bool = sqlx::query_scalar(
        "SELECT convalidated FROM pg_constraint WHERE conname = 'leads_campaign_tenant_fkey'",
    )
    .fetch_one(&pool)
    .await
    .expect("constraint");
    assert!(!valid, "left NOT VALID where existing rows cross");
    // New crossing rows are refused all the same.
    refused_by(
        &pool,
        "INSERT INTO leads (client_id, campaign_id, email) VALUES ($1, $2, 'y@a.example')",
        &[a, camp_b],
        "leads_campaign_tenant_fkey",
    )
    .await;
}

/// A statement queueing several due jobs wakes listening workers once (migration
/// 20261204131000 replaced apalis's notification per job row), and a job due later wakes
/// nobody.
#[sqlx::test(migrations = false)]
async fn queued_jobs_wake_listeners_once_per_statement(pool: PgPool) {
    use std::time::Duration;
    migrate::run(&pool).await.unwrap();
    let mut listener = sqlx::postgres::PgListener::connect_with(&pool)
        .await
        .unwrap();
    listener.listen("apalis::job::insert").await.unwrap();
    let queue = |suffix: &'static str, run_at: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at, priority)
                 SELECT 'job-' || g || '-{suffix}', 'probe', '\\x00'::bytea, 'Pending', 0, 3, {run_at}, 0
                   FROM generate_series(1, 3) g"
            )))
            .execute(&pool)
            .await
            .unwrap();
        }
    };
    let quiet = Duration::from_millis(500);

    queue("due", "now()").await;
    let woken = tokio::time::timeout(Duration::from_secs(5), listener.recv())
        .await
        .expect("a due batch wakes the listener")
        .unwrap();
    assert_eq!(woken.payload(), r#"{"job_type" : "probe"}"#);
    assert!(
        tokio::time::timeout(quiet, listener.recv()).await.is_err(),
        "three jobs in one statement wake once"
    );

    queue("later", "now() + interval '1 hour'").await;
    assert!(
        tokio::time::timeout(quiet, listener.recv()).await.is_err(),
        "jobs due later wake nobody"
    );
}

/// The hot job table keeps only the indexes our queue uses (migration 20261205100000,
/// ADR-010): no index or foreign key on `lock_by`, no duplicate of the primary key, a partial
/// idempotency index that still refuses a duplicate key and lets keyless jobs repeat, and a
/// dead-letter index only dead rows enter.
#[sqlx::test(migrations = false)]
async fn the_job_table_is_lean_and_still_refuses_duplicate_keys(pool: PgPool) {
    migrate::run(&pool).await.unwrap();
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "SELECT indexname, indexdef FROM pg_indexes
          WHERE schemaname = 'apalis' AND tablename = 'jobs' ORDER BY indexname",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let names: Vec<&str> = indexes.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "idx_apalis_jobs_fetch_partial",
            "idx_jobs_dead",
            "idx_jobs_idempotency_key",
            "jobs_pkey"
        ],
        "{indexes:#?}"
    );
    assert!(
        indexes.iter().all(|(_, def)| !def.contains("lock_by")),
        "nothing indexes lock_by: {indexes:#?}"
    );
    let foreign_keys: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_constraint
          WHERE conrelid = 'apalis.jobs'::regclass AND contype = 'f'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(foreign_keys, 0, "no foreign key checked on every claim");

    let insert = |id: &'static str, key: Option<&'static str>, status: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query(
                "INSERT INTO apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at, priority, idempotency_key)
                 VALUES ($1, 'probe', '\\x00'::bytea, $3, 0, 3, now(), 0, $2)",
            )
            .bind(id)
            .bind(key)
            .bind(status)
            .execute(&pool)
            .await
        }
    };
    insert("a", None, "Pending").await.expect("keyless");
    insert("b", None, "Pending").await.expect("keyless again");
    insert("c", Some("k"), "Pending").await.expect("keyed");
    let err = insert("d", Some("k"), "Pending")
        .await
        .expect_err("a duplicate key is refused");
    let constraint = err
        .as_database_error()
        .and_then(|e| e.constraint())
        .map(str::to_owned);
    assert_eq!(constraint.as_deref(), Some("idx_jobs_idempotency_key"));

    insert("dead", None, "Killed").await.expect("dead row");
    // The dead-letter condition the worker and the admin list use can be served by its index.
    let mut conn = pool.acquire().await.unwrap();
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut *conn)
        .await
        .unwrap();
    let dead_plan: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "EXPLAIN SELECT count(*) FROM apalis.jobs WHERE {}",
        agency_store::jobs::DEAD_CONDITION
    )))
    .fetch_all(&mut *conn)
    .await
    .unwrap();
    assert!(
        dead_plan.iter().any(|line| line.contains("idx_jobs_dead")),
        "{dead_plan:?}"
    );
}
