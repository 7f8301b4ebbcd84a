//! Graceful shutdown of the real `agency-scheduler` binary: ready on `/readyz`, then SIGTERM
//! makes it exit with status 0 within a few seconds. Its start-up log names the schedules left
//! out because their work is not built.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
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

async fn wait_exit(child: &mut Child, limit: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if start.elapsed() > limit {
            child.kill().ok();
            child.wait().ok();
            panic!("agency-scheduler did not exit within {limit:?} of SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[sqlx::test(migrations = "../../migrations")]
async fn sigterm_stops_the_scheduler_with_status_zero(pool: PgPool) {
    agency_store::migrate::job_migrator()
        .run(&pool)
        .await
        .expect("apalis migrations");
    let db = pool
        .connect_options()
        .get_database()
        .expect("test database")
        .to_owned();
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_agency-scheduler"))
        .env(
            "DATABASE_URL",
            format!("postgres://postgres@127.0.0.1:5432/{db}"),
        )
        .env_remove("DATABASE_DIRECT_URL")
        .env_remove("REDIS_URL")
        .env("METRICS_PORT", port.to_string())
        .env("METRICS_HOST", "127.0.0.1")
        .env("SCHEDULER_CHECK_INTERVAL_MS", "100")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn agency-scheduler");

    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            panic!("agency-scheduler exited before it was ready: {status}");
        }
        if http_status(port, "/readyz").await == Some(200) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "agency-scheduler not ready within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Let it run a few checks, then stop it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let signalled = Instant::now();
    kill(
        Pid::from_raw(i32::try_from(child.id()).expect("pid")),
        Signal::SIGTERM,
    )
    .expect("SIGTERM");
    let status = wait_exit(&mut child, Duration::from_secs(5)).await;
    assert_eq!(status.code(), Some(0), "exit status {status}");
    assert!(signalled.elapsed() < Duration::from_secs(5));

    let mut logs = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut logs)
        .expect("read stdout");
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut logs)
        .expect("read stderr");
    let disabled: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("schedule disabled"))
        .collect();
    assert_eq!(disabled.len(), 5, "{logs}");
    for name in [
        "outreach",
        "reply_recovery",
        "daily_metrics",
        "pattern_learning",
        "pattern_backfill",
    ] {
        assert!(
            disabled
                .iter()
                .any(|l| l.contains(&format!("\"schedule\":\"{name}\""))),
            "{name} not logged as disabled: {logs}"
        );
    }
}
