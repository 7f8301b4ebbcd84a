//! Crash safety with real processes: a worker killed with SIGKILL mid-job loses nothing; a
//! second worker process picks the job up after the lease expires and it completes once.

mod common;

use std::time::{Duration, Instant};

use agency_engine::jobs::test_kinds::Probe;
use agency_engine::jobs::{EnqueueOptions, enqueue};
use agency_testkit::process::{ServiceProcess, database_url, service_command};
use common::*;
use sqlx::PgPool;

fn spawn_worker(database_url: &str, name: &str) -> ServiceProcess {
    ServiceProcess::spawn(
        "agency-worker",
        service_command(env!("CARGO_BIN_EXE_agency-worker"), database_url)
            .env("METRICS_PORT", "0")
            .env("METRICS_HOST", "127.0.0.1")
            .env("WORKER_NAME", name)
            .env("WORKER_LEASE_SECS", "2")
            .env("WORKER_HEARTBEAT_SECS", "1")
            .env("WORKER_POLL_INTERVAL_MS", "50")
            .env("LOG_FORMAT", "pretty")
            .env("RUST_LOG", "warn"),
    )
}

#[sqlx::test(migrations = "../../migrations")]
async fn a_worker_killed_mid_job_loses_nothing_and_the_job_runs_once(pool: PgPool) {
    job_tables(&pool).await;
    let url = database_url(&pool);
    let job = Probe {
        name: "crash".into(),
        sleep_ms: 3_000,
        ..Probe::default()
    };
    let id = enqueue(&pool, &job, EnqueueOptions::default())
        .await
        .unwrap();

    let mut first = spawn_worker(&url, "crash-first");
    wait_status(&pool, &id, "Running", Duration::from_secs(20)).await;
    let lock_by: Option<String> =
        sqlx::query_scalar("SELECT lock_by FROM apalis.jobs WHERE id = $1")
            .bind(&id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(lock_by.as_deref(), Some("crash-first"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    first.kill(); // SIGKILL, then reaped
    assert_eq!(hits(&pool, "crash").await, 0, "killed before the effect");
    assert_eq!(
        status(&pool, &id).await,
        "Running",
        "still held by the dead worker"
    );

    let started = Instant::now();
    let mut second = spawn_worker(&url, "crash-second");
    wait_status(&pool, &id, "Done", Duration::from_secs(30)).await;
    let took = started.elapsed();
    second.kill();

    let (attempts, lock_by): (i32, Option<String>) =
        sqlx::query_as("SELECT attempts, lock_by FROM apalis.jobs WHERE id = $1")
            .bind(&id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(attempts, 2, "one killed attempt, one complete");
    assert_eq!(lock_by.as_deref(), Some("crash-second"));
    assert_eq!(
        hits(&pool, "crash").await,
        1,
        "the effect happened exactly once"
    );
    let effects: i64 = sqlx::query_scalar("SELECT count(*) FROM job_effects WHERE job_id = $1")
        .bind(&id)
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(effects, 1);
    assert!(took < Duration::from_secs(15), "recovered in {took:?}");
}
