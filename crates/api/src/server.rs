//! Application state, router assembly and the server loop with graceful shutdown.

use agency_engine::inbound::inbox::WebhookInbox;
use std::net::SocketAddr;
use std::sync::Arc;

use agency_engine::Services;
use agency_runtime::Shutdown;
use agency_runtime::health::{self, Readiness};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::serve::ListenerExt;

use crate::auth::{self, JwtVerifier, KnownUsers, known_users};
use crate::config::ApiSettings;
use crate::error::{self, ApiError};
use crate::{layers, openapi, routes};

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The engine's dependencies (pool, cache, providers, clock, settings); the same value
    /// the worker's jobs get.
    pub services: Services,
    /// Validated settings.
    pub settings: Arc<ApiSettings>,
    /// Access-token verification (with its JWKS cache).
    pub auth: Arc<JwtVerifier>,
    /// Users whose row was recently ensured (skips the per-request upsert).
    pub known_users: Arc<KnownUsers>,
    /// Where verified provider webhooks are stored before they are answered (group commit).
    pub inbox: Arc<WebhookInbox>,
}

impl AppState {
    /// State over `services` with `settings`.
    pub fn new(services: Services, settings: ApiSettings) -> Self {
        let auth = Arc::new(JwtVerifier::new(&settings.auth));
        let known_users = Arc::new(KnownUsers::new(
            settings.user_cache_ttl,
            known_users::DEFAULT_CAPACITY,
        ));
        let inbox = Arc::new(if settings.webhook_group_commit {
            WebhookInbox::batching(services.pool.clone(), settings.webhook_writers)
        } else {
            WebhookInbox::direct(services.pool.clone())
        });
        Self {
            services,
            settings: Arc::new(settings),
            auth,
            known_users,
            inbox,
        }
    }
}

/// The full router: health endpoints, the OpenAPI document and docs page, and the
/// authenticated `/api/v1` routes, inside the middleware stack of [`layers`].
pub fn build_router(state: AppState) -> Router {
    let settings = state.settings.clone();
    let readiness = Readiness::new(
        "agency-api",
        state.services.pool.clone(),
        state.services.cache.clone(),
    );
    let (api, mut document) = routes::router().split_for_parts();
    let (public, public_document) = routes::public_router().split_for_parts();
    document.merge(public_document);
    // Provider webhooks: outside the bearer authentication (each checks its signature).
    let (hooks, hooks_document) = routes::webhooks::router().split_for_parts();
    document.merge(hooks_document);
    let hooks = hooks.layer(DefaultBodyLimit::max(settings.max_body_bytes));
    let api = api
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(DefaultBodyLimit::max(settings.max_body_bytes));
    let public = public.layer(DefaultBodyLimit::max(settings.max_body_bytes));
    let app = Router::new()
        .merge(api)
        .merge(public)
        .merge(hooks)
        .merge(openapi::router(document))
        .fallback(route_not_found)
        .with_state(state)
        .merge(health::public_router(readiness));
    layers::apply(app, &settings)
}

async fn route_not_found() -> ApiError {
    error::for_status(axum::http::StatusCode::NOT_FOUND)
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
    // Answers leave at once: with Nagle's algorithm a response written in more than one
    // segment would wait for the client's delayed ACK (about 40 ms on Linux). hyper writes
    // today's answers in one piece, so this measured no change; it guards streamed answers
    // (the webhook stall of ADR-009 was the same trap on the database side).
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY not set on an accepted connection");
        }
    });
    tracing::info!(addr = %bound, "api listening");
    on_bound(bound);
    axum::serve(
        listener,
        build_router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.wait().await })
    .await?;
    tracing::info!("api stopped");
    Ok(())
}
