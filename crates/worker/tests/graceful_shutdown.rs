//! Graceful shutdown of the real `agency-worker` binary: SIGTERM while a job runs lets the job
//! finish, then the process exits with status 0. Also the start-up refusal of sandbox
//! providers in production without `ALLOW_SANDBOX_IN_PRODUCTION`.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use agency_engine::jobs::test_kinds::Probe;
use agency_engine::jobs::{EnqueueOptions, enqueue};
use agency_testkit::process::{ServiceProcess, database_url, free_port, http_get, service_command};
use common::*;
use sqlx::PgPool;

const PROVIDER_VARS: &[&str] = &[
    "APOLLO_API_KEY",
    "APIFY_API_TOKEN",
    "APIFY_ACTOR_ID",
    "CLAY_API_KEY",
    "DATAFORSEO_LOGIN",
    "DATAFORSEO_PASSWORD",
    "PROVIDERS_SANDBOX",
    "ALLOW_SANDBOX_IN_PRODUCTION",
    "AGENCY_ENV",
];

fn worker_command(database_url: &str, port: u16) -> Command {
    let mut cmd = service_command(env!("CARGO_BIN_EXE_agency-worker"), database_url);
    cmd.env("METRICS_PORT", port.to_string())
        .env("METRICS_HOST", "127.0.0.1")
        .env("WORKER_POLL_INTERVAL_MS", "50")
        .env("WORKER_HEARTBEAT_SECS", "1")
        .env("LOG_FORMAT", "pretty")
        .env("RUST_LOG", "warn");
    for var in PROVIDER_VARS {
        cmd.env_remove(var);
    }
    cmd
}

#[sqlx::test(migrations = "../../migrations")]
async fn sigterm_lets_the_running_job_finish_then_exits_zero(pool: PgPool) {
    job_tables(&pool).await;
    let port = free_port();
    let mut worker = ServiceProcess::spawn(
        "agency-worker",
        worker_command(&database_url(&pool), port).env("WORKER_NAME", "graceful"),
    );
    worker.wait_ready(port).await;

    let job = Probe {
        name: "graceful".into(),
        sleep_ms: 2_500,
        ..Probe::default()
    };
    let id = enqueue(&pool, &job, EnqueueOptions::default())
        .await
        .unwrap();
    wait_status(&pool, &id, "Running", Duration::from_secs(20)).await;
    // "Running" in the table only means claimed (a claimed job may still wait in the lane's
    // local buffer, and a stopping worker gives those back); wait until a task started it.
    wait_started(port, "probe", Duration::from_secs(20)).await;

    let signalled = Instant::now();
    worker.sigterm();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        worker.try_wait().is_none(),
        "the worker exited while its job was still running"
    );
    assert_eq!(
        hits(&pool, "graceful").await,
        0,
        "the job is still sleeping"
    );

    let status = worker.wait_exit(Duration::from_secs(15)).await;
    let took = signalled.elapsed();
    assert!(status.success(), "exit status {status}");
    assert_eq!(status.code(), Some(0));
    let (state, attempts): (String, i32) =
        sqlx::query_as("SELECT status, attempts FROM apalis.jobs WHERE id = $1")
            .bind(&id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (state.as_str(), attempts),
        ("Done", 1),
        "finished and acknowledged before exit"
    );
    assert_eq!(hits(&pool, "graceful").await, 1);
    assert!(
        took < Duration::from_secs(10),
        "exited {took:?} after SIGTERM"
    );
}

#[sqlx::test(migrations = "../../migrations")]
async fn an_idle_worker_exits_zero_at_once_on_sigterm(pool: PgPool) {
    job_tables(&pool).await;
    let port = free_port();
    let mut worker = ServiceProcess::spawn(
        "agency-worker",
        &mut worker_command(&database_url(&pool), port),
    );
    worker.wait_ready(port).await;
    let signalled = Instant::now();
    worker.sigterm();
    let status = worker.wait_exit(Duration::from_secs(5)).await;
    assert_eq!(status.code(), Some(0), "exit status {status}");
    assert!(signalled.elapsed() < Duration::from_secs(5));
}

#[sqlx::test(migrations = "../../migrations")]
async fn production_refuses_sandbox_providers_without_the_opt_in(pool: PgPool) {
    job_tables(&pool).await;
    let url = database_url(&pool);
    let output = worker_command(&url, free_port())
        .env("AGENCY_ENV", "production")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run agency-worker");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("ALLOW_SANDBOX_IN_PRODUCTION"), "{stderr}");
    assert!(stderr.contains("APOLLO_API_KEY"), "{stderr}");

    // With the opt-in (and the unsubscribe key production requires) it starts and stops
    // cleanly.
    let port = free_port();
    let mut worker = ServiceProcess::spawn(
        "agency-worker",
        worker_command(&url, port)
            .env("AGENCY_ENV", "production")
            .env("ALLOW_SANDBOX_IN_PRODUCTION", "true")
            .env(
                "UNSUBSCRIBE_SECRET",
                "graceful-shutdown-test-unsubscribe-key-0123456789",
            ),
    );
    worker.wait_ready(port).await;
    worker.sigterm();
    let status = worker.wait_exit(Duration::from_secs(5)).await;
    assert_eq!(status.code(), Some(0), "exit status {status}");
}

/// Waits until the worker's metrics count a started job of `kind`.
async fn wait_started(port: u16, kind: &str, limit: Duration) {
    let label = format!("kind=\"{kind}\"");
    let deadline = Instant::now() + limit;
    loop {
        if let Some((200, body)) = http_get(port, "/metrics").await
            && body.lines().any(|line| {
                line.starts_with("jobs_started_total{")
                    && line.contains(&label)
                    && !line.ends_with(" 0")
            })
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no {kind} job started in {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
