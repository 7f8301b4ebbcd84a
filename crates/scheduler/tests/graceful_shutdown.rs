//! Graceful shutdown of the real `agency-scheduler` binary: ready on `/readyz`, then SIGTERM
//! makes it exit with status 0 within a few seconds. Its start-up log names the schedules left
//! out because their work is not built.

use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, Instant};

use agency_testkit::process::{ServiceProcess, database_url, free_port, service_command};
use sqlx::PgPool;

#[sqlx::test(migrations = "../../migrations")]
async fn sigterm_stops_the_scheduler_with_status_zero(pool: PgPool) {
    agency_store::migrate::job_migrator()
        .run(&pool)
        .await
        .expect("apalis migrations");
    let port = free_port();
    let mut scheduler = ServiceProcess::spawn_with(
        "agency-scheduler",
        service_command(env!("CARGO_BIN_EXE_agency-scheduler"), &database_url(&pool))
            .env("METRICS_PORT", port.to_string())
            .env("METRICS_HOST", "127.0.0.1")
            .env("SCHEDULER_CHECK_INTERVAL_MS", "100")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    scheduler.wait_ready(port).await;
    // Let it run a few checks, then stop it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Instant::now();
    scheduler.sigterm();
    let status = scheduler.wait_exit(Duration::from_secs(5)).await;
    assert_eq!(status.code(), Some(0), "exit status {status}");
    assert!(signalled.elapsed() < Duration::from_secs(5));

    let mut logs = String::new();
    scheduler
        .child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut logs)
        .expect("read stdout");
    scheduler
        .child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut logs)
        .expect("read stderr");
    let disabled: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("schedule disabled"))
        .collect();
    assert_eq!(disabled.len(), 3, "{logs}");
    for name in ["reply_recovery", "pattern_learning", "pattern_backfill"] {
        assert!(
            disabled
                .iter()
                .any(|l| l.contains(&format!("\"schedule\":\"{name}\""))),
            "{name} not logged as disabled: {logs}"
        );
    }
}
