//! The daily retention clean-up (`cleanup` job) against a real PostgreSQL: done jobs after 7
//! days, processed webhook events after 30 days, finished outbound deliveries after 30 days (pending ones stay),
//! idempotency records and schedule runs after 90 days, raw call transcripts after each
//! client's own `transcript_retention_days` (the summary and outcome stay); everything younger
//! is untouched.

use std::sync::Arc;

use agency_cache::FallbackCache;
use agency_engine::Services;
use agency_engine::jobs::handlers::cleanup;
use agency_engine::jobs::payload::Cleanup;
use agency_engine::jobs::{JobContext, JobKind};
use agency_store::PgPool;
use uuid::Uuid;

async fn client(pool: &PgPool, transcript_days: i32) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO clients (name, transcript_retention_days) VALUES ('Acme', $1) RETURNING id",
    )
    .bind(transcript_days)
    .fetch_one(pool)
    .await
    .expect("client")
}

async fn call(pool: &PgPool, client: Uuid, days_ago: i32) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO activities (client_id, channel, action, metadata, created_at)
         VALUES ($1, 'voice', 'call_completed',
                 '{\"outcome\": \"other\", \"summary\": \"Asked for a meeting.\", \"transcript\": \"AI: Hi ...\"}',
                 now() - make_interval(days => $2)) RETURNING id",
    )
    .bind(client)
    .bind(days_ago)
    .fetch_one(pool)
    .await
    .expect("activity")
}

async fn delivery(
    pool: &PgPool,
    client: Uuid,
    endpoint: Uuid,
    status: &str,
    days_ago: i32,
) -> Uuid {
    sqlx::query_scalar(
        "INSERT INTO webhook_deliveries (client_id, endpoint_id, event_id, event_type, payload, status, created_at)
         VALUES ($1, $2, gen_random_uuid(), 'lead.replied', '{}', $3, now() - make_interval(days => $4))
         RETURNING id",
    )
    .bind(client)
    .bind(endpoint)
    .bind(status)
    .bind(days_ago)
    .fetch_one(pool)
    .await
    .expect("delivery")
}

async fn has_transcript(pool: &PgPool, id: Uuid) -> (bool, bool) {
    sqlx::query_as(
        "SELECT metadata ? 'transcript', metadata ? 'summary' FROM activities WHERE id = $1",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .expect("activity")
}

async fn exists(pool: &PgPool, table: &str, id: Uuid) -> bool {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT EXISTS (SELECT 1 FROM {table} WHERE id = $1)"
    )))
    .bind(id)
    .fetch_one(pool)
    .await
    .expect("exists")
}

/// An idempotency record (`job_effects`) and a schedule run named `key`, `days_ago` old.
async fn bookkeeping(pool: &PgPool, key: &str, days_ago: i32) {
    sqlx::query(
        "WITH effect AS (
             INSERT INTO job_effects (effect_key, job_id, kind, created_at)
             VALUES ($1, 'job', 'cleanup', now() - make_interval(days => $2)))
         INSERT INTO schedule_runs (schedule, tick, job_id, fired_by)
         VALUES ($1, now() - make_interval(days => $2), 'job', 'test')",
    )
    .bind(key)
    .bind(days_ago)
    .execute(pool)
    .await
    .expect("bookkeeping");
}

/// A job `id` that was done `days_ago`.
async fn done_job(pool: &PgPool, id: &str, days_ago: i32) {
    sqlx::query(
        "INSERT INTO apalis.jobs (id, job_type, job, status, attempts, max_attempts, run_at, priority, done_at)
         VALUES ($1, 'cleanup', '\\x00'::bytea, 'Done', 1, 3, now(), 0, now() - make_interval(days => $2))",
    )
    .bind(id)
    .bind(days_ago)
    .execute(pool)
    .await
    .expect("done job");
}

/// The keys of the idempotency records, of the schedule runs and of the jobs left, each sorted.
async fn bookkeeping_left(pool: &PgPool) -> (Vec<String>, Vec<String>, Vec<String>) {
    sqlx::query_as(
        "SELECT (SELECT coalesce(array_agg(effect_key ORDER BY effect_key), '{}') FROM job_effects),
                (SELECT coalesce(array_agg(schedule ORDER BY schedule), '{}') FROM schedule_runs),
                (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM apalis.jobs)",
    )
    .fetch_one(pool)
    .await
    .expect("bookkeeping left")
}

#[sqlx::test(migrations = "../../migrations")]
async fn old_logs_and_transcripts_go_and_everything_younger_stays(pool: PgPool) {
    agency_store::migrate::job_migrator()
        .run(&pool)
        .await
        .expect("apalis migrations");
    let strict = client(&pool, 30).await;
    let lenient = client(&pool, 60).await;
    let old_strict = call(&pool, strict, 40).await;
    let young_strict = call(&pool, strict, 10).await;
    let old_lenient = call(&pool, lenient, 40).await;
    let endpoint: Uuid = sqlx::query_scalar(
        "INSERT INTO webhook_endpoints (client_id, url, events, secret)
         VALUES ($1, 'https://hooks.acme.example/in', '{lead.replied}', 'whsec_dGVzdA==') RETURNING id",
    )
    .bind(strict)
    .fetch_one(&pool)
    .await
    .expect("endpoint");
    let old_delivered = delivery(&pool, strict, endpoint, "delivered", 40).await;
    let old_failed = delivery(&pool, strict, endpoint, "failed", 31).await;
    let old_pending = delivery(&pool, strict, endpoint, "pending", 40).await;
    let young_delivered = delivery(&pool, strict, endpoint, "delivered", 5).await;
    let old_event: Uuid = sqlx::query_scalar(
        "INSERT INTO webhook_events (provider, provider_event_id, raw_body, status, processed_at)
         VALUES ('resend', 'msg_old', '\\x7b7d', 'processed', now() - interval '31 days') RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .expect("event");

    bookkeeping(&pool, "old", 91).await;
    bookkeeping(&pool, "young", 89).await;
    done_job(&pool, "old", 8).await;
    done_job(&pool, "young", 6).await;

    let cache = Arc::new(FallbackCache::new(None, pool.clone()).expect("cache"));
    let services = Services::with_sandbox_providers(pool.clone(), cache);
    let ctx = JobContext::in_process(services, JobKind::Cleanup);
    cleanup(ctx.clone(), Cleanup::default())
        .await
        .expect("cleanup");

    assert_eq!(has_transcript(&pool, old_strict).await, (false, true));
    assert_eq!(has_transcript(&pool, young_strict).await, (true, true));
    assert_eq!(has_transcript(&pool, old_lenient).await, (true, true));
    assert!(!exists(&pool, "webhook_deliveries", old_delivered).await);
    assert!(!exists(&pool, "webhook_deliveries", old_failed).await);
    assert!(exists(&pool, "webhook_deliveries", old_pending).await);
    assert!(exists(&pool, "webhook_deliveries", young_delivered).await);
    assert!(!exists(&pool, "webhook_events", old_event).await);
    let young = vec!["young".to_owned()];
    assert_eq!(
        bookkeeping_left(&pool).await,
        (young.clone(), young.clone(), young)
    );
    // Activities stay append-only outside the clean-up's own transaction.
    let refused = sqlx::query("UPDATE activities SET metadata = '{}' WHERE id = $1")
        .bind(young_strict)
        .execute(&pool)
        .await;
    assert!(refused.is_err());
    // A second run finds nothing more to do.
    cleanup(ctx, Cleanup::default())
        .await
        .expect("cleanup again");
    assert_eq!(has_transcript(&pool, young_strict).await, (true, true));
}
