//! Router assembly and the server loop with graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;

use agency_cache::FallbackCache;
use agency_runtime::Shutdown;
use agency_runtime::health::{self, Readiness};
use axum::Router;
use sqlx::PgPool;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The query pool.
    pub pool: PgPool,
    /// Cache, rate limits and counters.
    pub cache: Arc<FallbackCache>,
}

/// The full router: health endpoints and the `/api/v1` routes.
pub fn build_router(state: AppState) -> Router {
    let readiness = Readiness::new("agency-api", state.pool.clone(), state.cache.clone());
    Router::new().merge(health::router(readiness))
}

/// Binds `addr` and serves until `shutdown`, finishing in-flight requests. Returns the bound
/// address through `on_bound` (port 0 picks a free port).
pub async fn serve(
    addr: SocketAddr,
    state: AppState,
    shutdown: Shutdown,
    on_bound: impl FnOnce(SocketAddr),
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tracing::info!(addr = %bound, "api listening");
    on_bound(bound);
    axum::serve(listener, build_router(state))
        .with_graceful_shutdown(async move { shutdown.wait().await })
        .await?;
    tracing::info!("api stopped");
    Ok(())
}
