//! Graceful shutdown of the real `agency-api` binary against a fresh migrated database: once
//! `/readyz` answers 200, SIGTERM arrives while a request is in flight (its body still being
//! uploaded); that request is still answered (201), then the process exits with status 0.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use agency_testkit::{TEST_JWT_SECRET, TestApp};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// The status line's code and the body of a raw HTTP/1.1 response.
fn parse_response(raw: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(raw).into_owned();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (code, body)
}

async fn get_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.ok()?;
    Some(parse_response(&raw).0)
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
            panic!("agency-api did not exit within {limit:?} of SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn sigterm_answers_the_in_flight_request_then_exits_zero() {
    // The fresh, migrated database (dropped when `app` drops); the in-process server is unused.
    let app = TestApp::spawn().await;
    let db = app
        .pool
        .connect_options()
        .get_database()
        .expect("database")
        .to_owned();
    let user = app.create_user().await;
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_agency-api"))
        .env(
            "DATABASE_URL",
            format!("postgres://postgres@127.0.0.1:5432/{db}"),
        )
        .env_remove("DATABASE_DIRECT_URL")
        .env_remove("REDIS_URL")
        .env_remove("SUPABASE_JWKS_URL")
        .env("SUPABASE_JWT_SECRET", TEST_JWT_SECRET)
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("RATE_LIMIT_PER_MINUTE", "0")
        .env("LOG_FORMAT", "pretty")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn agency-api");

    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            panic!("agency-api exited before it was ready: {status}");
        }
        if get_status(port, "/readyz").await == Some(200) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "agency-api not ready within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A request whose body arrives slowly: headers and half the body now, the rest after
    // SIGTERM.
    let body = br#"{"name": "Created During Shutdown"}"#;
    let (first, rest) = body.split_at(body.len() / 2);
    let head = format!(
        "POST /api/v1/clients HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        user.token,
        body.len()
    );
    let mut stream = TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(first).await.expect("first half");
    stream.flush().await.expect("flush");
    tokio::time::sleep(Duration::from_millis(300)).await;

    let signalled = Instant::now();
    kill(
        Pid::from_raw(i32::try_from(child.id()).expect("pid")),
        Signal::SIGTERM,
    )
    .expect("SIGTERM");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "agency-api exited with a request in flight"
    );

    stream.write_all(rest).await.expect("second half");
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut raw))
        .await
        .expect("response within 10 s")
        .expect("read response");
    let (code, answer) = parse_response(&raw);
    assert_eq!(code, 201, "{answer}");
    assert!(answer.contains("Created During Shutdown"), "{answer}");

    let status = wait_exit(&mut child, Duration::from_secs(5)).await;
    assert_eq!(status.code(), Some(0), "exit status {status}");
    assert!(signalled.elapsed() < Duration::from_secs(8));
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM clients WHERE name = 'Created During Shutdown'")
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(stored, 1);
}
