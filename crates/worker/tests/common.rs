//! Shared set-up of the worker's integration tests: job tables, runners, waiting.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use agency_cache::FallbackCache;
use agency_engine::Services;
use agency_engine::jobs::{EnqueueOptions, JobPayload, Lane, enqueue_batch, handlers, test_kinds};
use agency_runtime::Shutdown;
use agency_worker::{Runner, RunnerSettings};
use sqlx::PgPool;

/// Applies the apalis job tables (our migrations come from `sqlx::test`) and the test-only
/// `job_probe_hits` table of the `probe` kind.
pub async fn job_tables(pool: &PgPool) {
    agency_store::migrate::job_migrator()
        .run(pool)
        .await
        .expect("apalis migrations");
    test_kinds::create_probe_table(pool)
        .await
        .expect("probe table");
}

/// Fast test settings: lanes (critical, default, bulk) with the given task counts.
pub fn settings(name: &str, critical: u32, default: u32, bulk: u32) -> RunnerSettings {
    RunnerSettings {
        worker_name: format!("{name}-{}", uuid::Uuid::new_v4().simple()),
        lanes: vec![
            (Lane::Critical, critical, 1),
            (Lane::Default, default, 1),
            (Lane::Bulk, bulk, 10),
        ],
        poll_interval: Duration::from_millis(25),
        heartbeat: Duration::from_millis(500),
        lease: Duration::from_secs(3),
        sample_interval: Duration::from_millis(200),
        listen_url: None,
    }
}

/// Starts a runner in the background; trigger the returned shutdown to stop it.
pub fn start(pool: &PgPool, settings: RunnerSettings) -> (Shutdown, tokio::task::JoinHandle<()>) {
    let cache = Arc::new(FallbackCache::new(None, pool.clone()).expect("cache"));
    let runner = Runner::new(
        Services::with_sandbox_providers(pool.clone(), cache),
        handlers::registry(),
        settings,
    );
    let shutdown = Shutdown::new();
    let stop = shutdown.clone();
    let handle = tokio::spawn(async move {
        runner.run(stop).await.expect("runner");
    });
    (shutdown, handle)
}

/// The job's status.
pub async fn status(pool: &PgPool, id: &str) -> String {
    sqlx::query_scalar("SELECT status FROM apalis.jobs WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await
        .expect("job row")
}

/// Waits until the job has `want` status, or panics after `limit`.
pub async fn wait_status(pool: &PgPool, id: &str, want: &str, limit: Duration) {
    let start = Instant::now();
    loop {
        let now = status(pool, id).await;
        if now == want {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "job {id} is {now}, wanted {want} within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Hits recorded by probes named `name`.
pub async fn hits(pool: &PgPool, name: &str) -> i32 {
    sqlx::query_scalar("SELECT coalesce((SELECT hits FROM job_probe_hits WHERE name = $1), 0)")
        .bind(name)
        .fetch_one(pool)
        .await
        .expect("hits")
}

/// Enqueues `jobs` on the bulk lane in one statement.
pub async fn enqueue_bulk<J: JobPayload>(pool: &PgPool, jobs: &[J]) {
    let mut conn = pool.acquire().await.expect("connection");
    enqueue_batch(
        &mut conn,
        jobs,
        EnqueueOptions {
            lane: Some(Lane::Bulk),
            ..EnqueueOptions::default()
        },
    )
    .await
    .expect("enqueue");
}

/// Waits until the count `sql` returns is `want`, or panics after `limit`.
pub async fn wait_count(pool: &PgPool, sql: &'static str, want: i64, limit: Duration) {
    let start = Instant::now();
    loop {
        let now: i64 = sqlx::query_scalar(sql)
            .fetch_one(pool)
            .await
            .expect("count");
        if now == want {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "{sql} is {now}, wanted {want} within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
