//! Graceful shutdown of the real `agency-api` binary against a fresh migrated database: once
//! `/readyz` answers 200, SIGTERM arrives while a request is in flight (its body still being
//! uploaded); that request is still answered (201), then the process exits with status 0.

use std::time::{Duration, Instant};

use agency_testkit::process::{
    ServiceProcess, database_url, free_port, parse_response, service_command,
};
use agency_testkit::{TEST_JWT_SECRET, TestApp};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn sigterm_answers_the_in_flight_request_then_exits_zero() {
    // The fresh, migrated database (dropped when `app` drops); the in-process server is unused.
    let app = TestApp::spawn().await;
    let user = app.create_user().await;
    let port = free_port();
    let mut api = ServiceProcess::spawn(
        "agency-api",
        service_command(env!("CARGO_BIN_EXE_agency-api"), &database_url(&app.pool))
            .env_remove("SUPABASE_JWKS_URL")
            .env("SUPABASE_JWT_SECRET", TEST_JWT_SECRET)
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("RATE_LIMIT_PER_MINUTE", "0")
            .env("LOG_FORMAT", "pretty")
            .env("RUST_LOG", "warn"),
    );
    api.wait_ready(port).await;

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
    api.sigterm();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        api.try_wait().is_none(),
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

    let status = api.wait_exit(Duration::from_secs(5)).await;
    assert_eq!(status.code(), Some(0), "exit status {status}");
    assert!(signalled.elapsed() < Duration::from_secs(8));
    let stored: i64 =
        sqlx::query_scalar("SELECT count(*) FROM clients WHERE name = 'Created During Shutdown'")
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(stored, 1);
}
