//! Helpers for tests that run a real service binary as a child process: a free local port, the
//! URL of a test database, a minimal HTTP/1.1 probe, and [`ServiceProcess`] (spawn, wait for
//! `/readyz`, SIGTERM, wait for the exit with a time limit). Helpers panic on failure.

use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A TCP port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// The URL of `pool`'s database on the local server, for a child process to connect to.
pub fn database_url(pool: &PgPool) -> String {
    let db = pool
        .connect_options()
        .get_database()
        .expect("test database")
        .to_owned();
    format!("postgres://postgres@127.0.0.1:5432/{db}")
}

/// A command for the service binary at `program` on `database_url`, with no direct database
/// URL and no Redis (so the PostgreSQL fallback cache is used).
pub fn service_command(program: &str, database_url: &str) -> Command {
    let mut cmd = Command::new(program);
    cmd.env("DATABASE_URL", database_url)
        .env_remove("DATABASE_DIRECT_URL")
        .env_remove("REDIS_URL");
    cmd
}

/// The status line's code (0 when unreadable) and the body of a raw HTTP/1.1 response.
pub fn parse_response(raw: &[u8]) -> (u16, String) {
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

/// The status of `GET path` on 127.0.0.1:`port`, or `None` when nothing answers.
pub async fn http_status(port: u16, path: &str) -> Option<u16> {
    http_get(port, path).await.map(|(code, _)| code)
}

/// The status and body of `GET path` on 127.0.0.1:`port`, or `None` when nothing answers.
pub async fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.ok()?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.ok()?;
    match parse_response(&raw) {
        (0, _) => None,
        answer => Some(answer),
    }
}

/// A running service binary; killed (SIGKILL) when dropped while still running.
#[derive(Debug)]
pub struct ServiceProcess {
    name: String,
    /// The child process (take its piped stdout/stderr from here).
    pub child: Child,
}

impl ServiceProcess {
    /// Spawns `cmd` as the service called `name` (used in panic messages), its stdout to
    /// /dev/null and its stderr to the test's.
    pub fn spawn(name: &str, cmd: &mut Command) -> Self {
        Self::spawn_with(name, cmd.stdout(Stdio::null()).stderr(Stdio::inherit()))
    }

    /// Spawns `cmd` exactly as configured (e.g. with piped output).
    pub fn spawn_with(name: &str, cmd: &mut Command) -> Self {
        let child = cmd.spawn().unwrap_or_else(|e| panic!("spawn {name}: {e}"));
        Self {
            name: name.to_owned(),
            child,
        }
    }

    /// The exit status, if the process has exited.
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    /// Waits until `GET /readyz` on `port` answers 200 (at most 30 s); panics if the process
    /// exits first.
    pub async fn wait_ready(&mut self, port: u16) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.try_wait() {
                panic!("{} exited before it was ready: {status}", self.name);
            }
            if http_status(port, "/readyz").await == Some(200) {
                return;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{} not ready within 30 s",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        kill(
            Pid::from_raw(i32::try_from(self.child.id()).expect("pid")),
            Signal::SIGTERM,
        )
        .expect("SIGTERM");
    }

    /// Kills the process with SIGKILL and reaps it.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("wait");
    }

    /// Waits for the process to exit; after `limit` it is killed and the test panics.
    pub async fn wait_exit(&mut self, limit: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.try_wait() {
                return status;
            }
            if start.elapsed() > limit {
                self.child.kill().ok();
                self.child.wait().ok();
                panic!("{} did not exit within {limit:?} of SIGTERM", self.name);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.child.kill().ok();
            self.child.wait().ok();
        }
    }
}
