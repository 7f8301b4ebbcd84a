//! Every `/api/v1` route, registered with its OpenAPI description in one place: each module
//! exposes `router() -> OpenApiRouter<AppState>` built with `routes!(...)` over handlers
//! annotated with `#[utoipa::path(..., path = "/api/v1/...")]` (absolute paths), and is merged
//! here. A tenant route names its client parameter `{client_id}` (the `Tenant` extractor
//! reads it).

pub mod admin_console;
pub mod admin_erasure;
pub mod admin_jobs;
pub mod admin_suppression;
pub mod admin_webhooks;
pub mod ai_spend;
pub mod campaigns;
pub mod clients;
pub mod import;
pub mod leads;
pub mod me;
pub mod meetings;
pub mod members;
pub mod onboarding;
pub mod outreach;
pub mod pipeline;
pub mod replies;
pub mod reports;
pub mod resources;
pub mod twilio_account;
pub mod webhook_endpoints;
pub mod webhooks;

use axum::extract::DefaultBodyLimit;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::openapi::ApiDoc;
use crate::server::AppState;

/// All API routes with their OpenAPI document.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(me::router())
        .merge(clients::router())
        .merge(members::router())
        .merge(admin_erasure::router())
        .merge(admin_suppression::router())
        .merge(admin_jobs::router())
        .merge(admin_console::router())
        .merge(admin_webhooks::router())
        .merge(campaigns::router())
        .merge(leads::router())
        .merge(import::router())
        .merge(pipeline::router())
        .merge(resources::router())
        .merge(twilio_account::router())
        .merge(ai_spend::router())
        .merge(onboarding::router())
        .merge(reports::router())
        .merge(replies::router())
        .merge(meetings::router())
        .merge(outreach::router())
        .merge(webhook_endpoints::router())
}

/// Public routes outside `/api/v1` that take no access token (their own credential is in the
/// path): the one-click unsubscribe `/u/{token}`.
pub fn public_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().merge(outreach::public_router())
}

/// Lifts the JSON body limit (`MAX_BODY_BYTES`) for the routes of `router`, leaving only the
/// hard cap `IMPORT_MAX_BYTES`; for CSV imports.
pub fn with_import_body_limit<S: Clone + Send + Sync + 'static>(
    router: OpenApiRouter<S>,
) -> OpenApiRouter<S> {
    router.layer(DefaultBodyLimit::disable())
}
