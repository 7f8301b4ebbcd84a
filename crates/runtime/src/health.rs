//! Liveness and readiness. `/healthz` answers while the process runs; `/readyz` checks the
//! database (reachable, migrations current) and the cache (Redis, or the PostgreSQL fallback
//! in degraded mode) and answers 503 only when the service cannot do its work. `/metrics`
//! renders the Prometheus recorder.

use std::sync::Arc;
use std::time::{Duration, Instant};

use agency_cache::FallbackCache;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use sqlx::PgPool;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    /// Working.
    Ok,
    /// Working on a fallback.
    Degraded,
    /// Not working.
    Down,
}

/// One component's check.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Its status.
    pub status: CheckStatus,
    /// How long the check took.
    pub latency_ms: u64,
    /// What is wrong or what is in use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The readiness answer.
#[derive(Debug, Clone, Serialize)]
pub struct ReadinessReport {
    /// `ready`, `degraded` (serving, on a fallback) or `not_ready`.
    pub status: &'static str,
    /// The service answering.
    pub service: &'static str,
    /// Database reachability.
    pub database: Check,
    /// Our migrations and the job tables fully applied.
    pub migrations: Check,
    /// Redis, or the PostgreSQL fallback.
    pub cache: Check,
}

/// What readiness checks.
#[derive(Clone)]
pub struct Readiness {
    service: &'static str,
    pool: PgPool,
    cache: Arc<FallbackCache>,
}

const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

impl Readiness {
    /// Readiness for `service` over its pool and cache.
    pub fn new(service: &'static str, pool: PgPool, cache: Arc<FallbackCache>) -> Self {
        Self {
            service,
            pool,
            cache,
        }
    }

    /// Runs every check.
    pub async fn report(&self) -> ReadinessReport {
        let database = timed(async {
            agency_store::health::ping(&self.pool)
                .await
                .map(|()| (CheckStatus::Ok, None))
                .unwrap_or_else(|e| (CheckStatus::Down, Some(e.to_string())))
        })
        .await;
        let migrations = if database.status == CheckStatus::Ok {
            timed(async {
                match agency_store::migrate::is_current(&self.pool).await {
                    Ok(true) => (CheckStatus::Ok, None),
                    Ok(false) => (
                        CheckStatus::Down,
                        Some("migrations pending: run `agencyctl migrate run`".into()),
                    ),
                    Err(e) => (CheckStatus::Down, Some(e.to_string())),
                }
            })
            .await
        } else {
            Check {
                status: CheckStatus::Down,
                latency_ms: 0,
                detail: Some("database unreachable".into()),
            }
        };
        let cache = timed(async {
            match self.cache.check().await {
                Ok(status) if status.degraded => (CheckStatus::Degraded, Some(status.detail)),
                Ok(status) => (CheckStatus::Ok, Some(status.detail)),
                Err(e) => (CheckStatus::Down, Some(e.to_string())),
            }
        })
        .await;
        let status =
            if database.status == CheckStatus::Down || migrations.status == CheckStatus::Down {
                "not_ready"
            } else if cache.status != CheckStatus::Ok {
                "degraded"
            } else {
                "ready"
            };
        ReadinessReport {
            status,
            service: self.service,
            database,
            migrations,
            cache,
        }
    }
}

async fn timed(check: impl Future<Output = (CheckStatus, Option<String>)>) -> Check {
    let started = Instant::now();
    let (status, detail) = match tokio::time::timeout(CHECK_TIMEOUT, check).await {
        Ok(outcome) => outcome,
        Err(_) => (
            CheckStatus::Down,
            Some(format!("no answer within {CHECK_TIMEOUT:?}")),
        ),
    };
    Check {
        status,
        latency_ms: started.elapsed().as_millis() as u64,
        detail,
    }
}

async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn readyz(State(readiness): State<Readiness>) -> impl IntoResponse {
    let report = readiness.report().await;
    let code = if report.status == "not_ready" {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, Json(report))
}

/// `/readyz` for a port the public can reach: the status words only. What is wrong (backend
/// error texts, host names) goes to the log, never into the answer.
async fn readyz_public(State(readiness): State<Readiness>) -> impl IntoResponse {
    let mut report = readiness.report().await;
    for (name, check) in [
        ("database", &mut report.database),
        ("migrations", &mut report.migrations),
        ("cache", &mut report.cache),
    ] {
        if let Some(detail) = check.detail.take()
            && check.status != CheckStatus::Ok
        {
            tracing::warn!(check = name, status = ?check.status, %detail, "readiness check not ok");
        }
    }
    let code = if report.status == "not_ready" {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (code, Json(report))
}

async fn metrics() -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        crate::metrics::recorder().render(),
    )
}

/// `/healthz`, `/readyz` and `/metrics`, for any service.
pub fn router(readiness: Readiness) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .with_state(readiness)
}

/// `/healthz`, `/readyz` with status words only, and `/metrics`: for the API, whose port is
/// public (the details are logged; the worker and scheduler answer them on `METRICS_PORT`).
pub fn public_router(readiness: Readiness) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz_public))
        .route("/metrics", get(metrics))
        .with_state(readiness)
}

/// Serves the health router on `addr` until shutdown (the worker and scheduler use this on
/// `METRICS_PORT`).
pub async fn serve(
    addr: std::net::SocketAddr,
    readiness: Readiness,
    shutdown: crate::Shutdown,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(%addr, "health and metrics listening");
    axum::serve(listener, router(readiness))
        .with_graceful_shutdown(async move { shutdown.wait().await })
        .await?;
    Ok(())
}
