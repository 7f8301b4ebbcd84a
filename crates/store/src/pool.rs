//! Connection pools. `DATABASE_URL` may point at a transaction pooler (PgBouncer, Supavisor on
//! port 6543): then no server-side prepared statements are cached and no session state is
//! relied on. Migrations and LISTEN use the direct (session) URL.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, PgPool};

/// A pooled connection idle for at least this long is pinged before it is handed out.
pub const PING_IF_IDLE_FOR: Duration = Duration::from_secs(10);

/// How the server behind a URL multiplexes sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PoolerMode {
    /// A real session (direct connection or a session pooler): prepared statements are cached.
    #[default]
    Session,
    /// A transaction pooler: every statement is unnamed, nothing session-scoped is used.
    Transaction,
}

/// Pool sizing and behaviour.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    /// Connections kept open.
    pub min_connections: u32,
    /// Upper bound (base size plus overflow).
    pub max_connections: u32,
    /// How long a caller waits for a free connection.
    pub acquire_timeout: Duration,
    /// The pooler in front of the server.
    pub pooler: PoolerMode,
    /// `application_name` reported to the server.
    pub application_name: String,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self {
            min_connections: 0,
            max_connections: 15,
            acquire_timeout: Duration::from_secs(5),
            pooler: PoolerMode::Session,
            application_name: "agency-os".into(),
        }
    }
}

fn options(
    url: &str,
    settings: &PoolSettings,
) -> Result<(PgPoolOptions, PgConnectOptions), sqlx::Error> {
    options_pinging_after(url, settings, PING_IF_IDLE_FOR)
}

fn options_pinging_after(
    url: &str,
    settings: &PoolSettings,
    ping_if_idle_for: Duration,
) -> Result<(PgPoolOptions, PgConnectOptions), sqlx::Error> {
    let mut connect: PgConnectOptions = url.parse()?;
    connect = connect
        .application_name(&settings.application_name)
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500));
    if settings.pooler == PoolerMode::Transaction {
        connect = connect.statement_cache_capacity(0);
    }
    let pool = PgPoolOptions::new()
        .min_connections(settings.min_connections)
        .max_connections(settings.max_connections.max(1))
        .acquire_timeout(settings.acquire_timeout)
        // sqlx already pings every connection when it is released to the pool; pinging it
        // again on every acquire (the default) costs one more round trip per query. Only a
        // connection idle for a while (the server or a pooler may have dropped it) is pinged.
        .test_before_acquire(false)
        .before_acquire(move |conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= ping_if_idle_for {
                    conn.ping().await?;
                }
                Ok(true)
            })
        });
    Ok((pool, connect))
}

/// Opens a pool and checks that the server answers.
pub async fn connect(url: &str, settings: &PoolSettings) -> Result<PgPool, sqlx::Error> {
    let (pool, connect) = options(url, settings)?;
    pool.connect_with(connect).await
}

/// Builds a pool that connects on first use (start-up does not fail while the database is down;
/// readiness reports it instead).
pub fn connect_lazy(url: &str, settings: &PoolSettings) -> Result<PgPool, sqlx::Error> {
    let (pool, connect) = options(url, settings)?;
    Ok(pool.connect_lazy_with(connect))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn database_url() -> String {
        std::env::var("DATABASE_URL").expect("DATABASE_URL must point at the test server")
    }

    /// A one-connection pool that pings connections idle for `ping_after`, whose only
    /// connection the server has just terminated; also returns that connection's backend pid.
    async fn pool_with_dropped_connection(ping_after: Duration) -> (PgPool, i32) {
        let settings = PoolSettings {
            max_connections: 1,
            ..PoolSettings::default()
        };
        let (pool, connect) =
            options_pinging_after(&database_url(), &settings, ping_after).expect("options");
        let pool = pool.connect_with(connect).await.expect("pool");
        let first: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&pool)
            .await
            .expect("first query");
        // The server drops the pooled connection while it sits idle.
        let mut admin = sqlx::PgConnection::connect(&database_url())
            .await
            .expect("admin connection");
        let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
            .bind(first)
            .fetch_one(&mut admin)
            .await
            .expect("terminate");
        assert!(killed);
        tokio::time::sleep(Duration::from_millis(200)).await;
        (pool, first)
    }

    #[tokio::test]
    async fn a_connection_dropped_while_idle_is_replaced_not_returned() {
        let (pool, first) = pool_with_dropped_connection(Duration::from_millis(50)).await;
        // Idle past the threshold: pinged on acquire, found dead, replaced.
        let second: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&pool)
            .await
            .expect("the pool hands out a live connection");
        assert_ne!(first, second);
        pool.close().await;
    }

    #[tokio::test]
    async fn a_connection_released_moments_ago_is_not_pinged_again() {
        let (pool, first) = pool_with_dropped_connection(Duration::from_secs(3600)).await;
        // Within the threshold no ping runs, so the query meets the dropped connection (the
        // price of skipping the per-acquire ping); the broken connection is then discarded.
        let failed = sqlx::query_scalar::<_, i32>("SELECT pg_backend_pid()")
            .fetch_one(&pool)
            .await;
        assert!(failed.is_err(), "{failed:?}");
        let second: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&pool)
            .await
            .expect("a fresh connection");
        assert_ne!(first, second);
        pool.close().await;
    }
}
