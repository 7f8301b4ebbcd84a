//! Graceful shutdown of the real `agency-worker` binary: SIGTERM while a job runs lets the job
//! finish, then the process exits with status 0. Also the start-up refusal of sandbox
//! providers in production without `ALLOW_SANDBOX_IN_PRODUCTION`.

mod common;

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use agency_engine::jobs::payload::Probe;
use agency_engine::jobs::{EnqueueOptions, enqueue};
use common::*;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn database_url(pool: &PgPool) -> String {
    let db = pool
        .connect_options()
        .get_database()
        .expect("test database")
        .to_owned();
    format!("postgres://postgres@127.0.0.1:5432/{db}")
}

fn worker_command(database_url: &str, port: u16) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_agency-worker"));
    cmd.env("DATABASE_URL", database_url)
        .env_remove("DATABASE_DIRECT_URL")
        .env_remove("REDIS_URL")
        .env("METRICS_PORT", port.to_string())
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

/// The status of `GET path` on 127.0.0.1:`port`, or `None` when nothing answers.
async fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace().nth(1)?.parse().ok()
}

async fn wait_ready(child: &mut Child, port: u16) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            panic!("agency-worker exited before it was ready: {status}");
        }
        if http_status(port, "/readyz").await == Some(200) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "agency-worker not ready within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn sigterm(child: &Child) {
    kill(
        Pid::from_raw(i32::try_from(child.id()).expect("pid")),
        Signal::SIGTERM,
    )
    .expect("SIGTERM");
}

async fn wait_exit(child: &mut Child, limit: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if start.elapsed() > limit {
            child.kill().ok();
            child.wait().ok();
            panic!("agency-worker did not exit within {limit:?} of SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn sigterm_lets_the_running_job_finish_then_exits_zero(pool: PgPool) {
    job_tables(&pool).await;
    let port = free_port();
    let mut child = worker_command(&database_url(&pool), port)
        .env("WORKER_NAME", "graceful")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn agency-worker");
    wait_ready(&mut child, port).await;

    let job = Probe {
        name: "graceful".into(),
        sleep_ms: 2_500,
        ..Probe::default()
    };
    let id = enqueue(&pool, &job, EnqueueOptions::default())
        .await
        .unwrap();
    wait_status(&pool, &id, "Running", Duration::from_secs(20)).await;

    let signalled = Instant::now();
    sigterm(&child);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "the worker exited while its job was still running"
    );
    assert_eq!(
        hits(&pool, "graceful").await,
        0,
        "the job is still sleeping"
    );

    let status = wait_exit(&mut child, Duration::from_secs(15)).await;
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
    let mut child = worker_command(&database_url(&pool), port)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn agency-worker");
    wait_ready(&mut child, port).await;
    let signalled = Instant::now();
    sigterm(&child);
    let status = wait_exit(&mut child, Duration::from_secs(5)).await;
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

    // With the opt-in it starts (and stops cleanly).
    let port = free_port();
    let mut child = worker_command(&url, port)
        .env("AGENCY_ENV", "production")
        .env("ALLOW_SANDBOX_IN_PRODUCTION", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn agency-worker");
    wait_ready(&mut child, port).await;
    sigterm(&child);
    let status = wait_exit(&mut child, Duration::from_secs(5)).await;
    assert_eq!(status.code(), Some(0), "exit status {status}");
}
